# The engine answering the kubelet from the cache at once, while libcurl still loads on its own thread:
# exit must not run OpenSSL's clean-up under that thread (before the fix, SIGSEGV about once in 100 runs).
# Sourced by run.sh after Tests/Integration/lib.sh and acr.sh, inside Scripts/with-keyring.sh.
ENGINE_EXIT_RUNS=${ENGINE_EXIT_RUNS:-500}

engine_exit_suite() {
  local s="[engine exit]" request i
  emulator_start >/dev/null
  export DOCKER_CREDENTIAL_ACR_STORE=file
  printf '%s' "$REG" | acr_env "${SP[@]}" -- "$HELPER" get >/dev/null
  request='{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"'"$REG"'/team/app:1"}'
  : >"$WORK/engine-exit.failures"
  for ((i = 0; i < ENGINE_EXIT_RUNS; i++)); do
    printf '%s' "$request" | acr_env "${SP[@]}" -- "$HELPER" kubelet >"$WORK/engine-exit.out" 2>&1 ||
      echo "run $i: exit $?" >>"$WORK/engine-exit.failures"
  done
  check "$s $ENGINE_EXIT_RUNS kubelet answers from the cache, every one exit 0" storm_show "$WORK/engine-exit.failures"
  check "$s ... and a cache hit: no request reached the emulator" test "$(emu_stat acr_exchange)" = 1
  kill "$EMU_PID"; wait "$EMU_PID" 2>/dev/null
  unset DOCKER_CREDENTIAL_ACR_STORE
}
