# Local waits have deadlines: a stopped (SIGSTOP) holder of a registry's renewal lock or of a store's
# writer lock is named by its pid when a waiter gives up, and a cached token due for renewal is still
# served; the waiters of a renewal that failed report its cause without asking Azure again; a store's
# writer lock held elsewhere costs a get its cache entry, not its answer or its budget. On both stores.
# Needs acr.sh (the emulator) and faults.sh (faults_reset, faults_get and their checks).

# writer_lock STORE RUNTIME-DIR : the lock file of STORE's writers (tokens and credentials)
writer_lock() {
  case $1 in
    secretservice) echo "$2/docker-credential-acr/keyring.lock" ;;
    file) echo "$XDG_DATA_HOME/docker-credential-acr/${3:-credentials}.lock" ;;
  esac
}

locks_suite() { # locks_suite STORE
  local s="[locks $1]" run="$WORK/locks-run"
  export DOCKER_CREDENTIAL_ACR_STORE=$1
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

  # A get whose token cannot be cached because the store's writers are held up: the token, in its budget.
  faults_reset
  local token_lock; token_lock=$(writer_lock "$1" "$run" tokens)
  mkdir -p -m 700 "$(dirname "$token_lock")"
  flock "$token_lock" sleep 15 &
  local blocker=$!
  sleep 0.2
  faults_get "$FAULTS_TIGHT" "${SP[@]}" XDG_RUNTIME_DIR="$run"
  check "$s a get whose store is locked by another writer: the token all the same" faults_derived
  check "$s ... within timeoutSeconds (1 s) and a little" faults_within 1
  if [ "$1" = file ]; then
    check "$s ... and the log says it was not cached" grep -q "token not cached.*held $token_lock" "$XDG_STATE_HOME/docker-credential-acr/log"
  else
    check "$s ... and cached all the same: the keyring's token items are written without that lock" faults_answer_cached
  fi
  kill "$blocker" 2>/dev/null; wait "$blocker" 2>/dev/null

  # A store's writer lock held by someone else: `store` waits its 10 s, then says so.
  local store_lock; store_lock=$(writer_lock "$1" "$XDG_RUNTIME_DIR")
  mkdir -p -m 700 "$(dirname "$store_lock")"
  flock "$store_lock" sleep 15 &
  blocker=$!
  sleep 0.2
  local t0; t0=$(date +%s%N)
  expect "$s a store whose lock another process holds: said so, after a bounded wait" 1 \
    "another docker-credential-acr held $store_lock for longer than the time allowed; try again; if that process is stuck (stopped with Ctrl-Z, or hung), end it" \
    helper store "$(cred locked-store.example.com u s)"
  check "$s ... within its 10 s and a little" test $(( ($(date +%s%N) - t0) / 1000000 )) -le 11000
  kill "$blocker" 2>/dev/null; wait "$blocker" 2>/dev/null
  emu_post reset '{}'; forget_tokens
  unset DOCKER_CREDENTIAL_ACR_STORE
}
