# Local waits have deadlines: a stopped (SIGSTOP) holder of a registry's renewal lock or of a store's
# writer lock is named by its pid when a waiter gives up, and a cached token due for renewal is still
# served; the waiters of a renewal that failed report its cause without asking Azure again.
# Needs acr.sh (the emulator) and faults.sh (faults_reset, faults_get and their checks).

locks_suite() {
  local s="[locks]" run="$WORK/locks-run"
  export DOCKER_CREDENTIAL_ACR_STORE=file
  mkdir -p "$run"; chmod 700 "$run"
  local lock="$run/docker-credential-acr/exchange-$REG.lock"
  # A renewal held up at Azure AD, then stopped while it holds the lock.
  faults_reset
  emu_post faults '{"endpoint": "aad_token", "kind": "slow", "delay_ms": 3000, "count": 1}'
  acr_get "$REG" "${SP[@]}" XDG_RUNTIME_DIR="$run" DOCKER_CREDENTIAL_ACR_CONFIG="$FAULTS_ROOMY" >/dev/null 2>&1 &
  local holder=$!
  for _ in $(seq 250); do [ -s "$lock" ] && break; sleep 0.02; done
  local pid; pid=$(tr -dc 0-9 <"$lock")
  kill -STOP "$pid" 2>/dev/null
  faults_get "$FAULTS_TIGHT" "${SP[@]}" XDG_RUNTIME_DIR="$run"
  check "$s a stopped renewal: the waiter gives up within its budget" faults_within 1
  check "$s ... naming the holder's pid and what to do" grep -qF \
    "another docker-credential-acr (pid $pid) held $lock for longer than the time allowed; try again; if that process is stuck (stopped with Ctrl-Z, or hung), end it: kill $pid" \
    "$FAULT_OUT"
  kill -CONT "$pid" 2>/dev/null; wait "$holder" 2>/dev/null

  # The same with a cached token due for renewal: it is served.
  faults_get "$FAULTS_ROOMY" "${SP[@]}" XDG_RUNTIME_DIR="$run"
  local due; due=$(cat "$FAULT_OUT")
  emu_post faults '{"endpoint": "aad_token", "kind": "slow", "delay_ms": 3000, "count": 1}'
  rm -f "$lock"
  acr_get "$REG" "${SP[@]}" XDG_RUNTIME_DIR="$run" DOCKER_CREDENTIAL_ACR_CONFIG="$FAULTS_ROOMY" >/dev/null 2>&1 &
  holder=$!
  for _ in $(seq 250); do [ -s "$lock" ] && break; sleep 0.02; done
  pid=$(tr -dc 0-9 <"$lock"); kill -STOP "$pid" 2>/dev/null
  faults_get "$FAULTS_TIGHT" "${SP[@]}" XDG_RUNTIME_DIR="$run"
  check "$s a stopped renewal, a cached token due for renewal: served" faults_served "$due"
  kill -CONT "$pid" 2>/dev/null; wait "$holder" 2>/dev/null

  # Eight cold gets while Azure AD refuses: one asks, the others take its answer.
  faults_reset
  emu_post faults '{"endpoint": "aad_token", "status": 400, "delay_ms": 500, "count": -1}'
  local pids=() i
  for i in $(seq 8); do
    ( acr_get "$REG" "${SP[@]}" XDG_RUNTIME_DIR="$run" DOCKER_CREDENTIAL_ACR_CONFIG="$FAULTS_ROOMY" >"$WORK/locks.$i" 2>/dev/null ) & pids+=($!)
  done
  wait "${pids[@]}"
  check "$s 8 gets while Azure AD refuses: it is asked once" test "$(faults_stat aad_token)" = 1
  check "$s ... and every get names its cause" bash -c "[ \$(cat '$WORK'/locks.* | grep -c 'AADSTS90033') = 8 ]"
  check "$s ... the waiters say another process just tried" bash -c "[ \$(cat '$WORK'/locks.* | grep -c 'another docker-credential-acr just tried') = 7 ]"

  # A store's writer lock held by someone else: the writer waits its 10 s, then says so.
  local store_lock="$XDG_DATA_HOME/docker-credential-acr/credentials.lock"
  flock "$store_lock" sleep 15 &
  local blocker=$!
  sleep 0.2
  local t0=$SECONDS
  expect "$s a store whose lock another process holds: said so, after a bounded wait" 1 \
    "another docker-credential-acr held $store_lock for longer than the time allowed; try again; if that process is stuck (stopped with Ctrl-Z, or hung), end it" \
    helper store "$(cred locked-store.example.com u s)"
  check "$s ... within 10 s and a little" test $((SECONDS - t0)) -le 12
  kill "$blocker" 2>/dev/null; wait "$blocker" 2>/dev/null
  emu_post reset '{}'; forget_tokens
  unset DOCKER_CREDENTIAL_ACR_STORE
}
