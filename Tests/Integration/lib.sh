# Assertions for the integration tests, sourced by run.sh. Each check prints PASS/FAIL with its name;
# run.sh ends with the line "N passed, N failed".
PASSED=0
FAILED=0

pass() { PASSED=$((PASSED + 1)); echo "PASS: $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $1"; shift; for line in "$@"; do echo "    $line"; done; }

# expect NAME EXPECTED_STATUS EXPECTED_STDOUT COMMAND… : runs COMMAND, compares exit status and stdout exactly.
expect() {
  local name=$1 status=$2 stdout=$3; shift 3
  local out rc=0
  out=$("$@" 2>"$WORK/stderr") || rc=$?
  if [ "$rc" = "$status" ] && [ "$out" = "$stdout" ]; then pass "$name"
  else fail "$name" "status: $rc (wanted $status)" "stdout: $(printf %q "${out:0:300}")" "wanted: $(printf %q "$stdout")" "stderr: $(head -c 400 "$WORK/stderr")"; fi
}

# check NAME COMMAND… : passes when COMMAND exits 0.
check() {
  local name=$1; shift
  if "$@" >"$WORK/check.out" 2>&1; then pass "$name"; else fail "$name" "$(tail -n 8 "$WORK/check.out")"; fi
}

# helper ACTION [STDIN] : runs the helper under test with STDIN (a string) as its input; its status is the
# helper's own, even under pipefail when the helper does not read its input (list, version).
helper() { "$HELPER" "$1" < <(printf '%s' "${2-}"); }

# cred SERVER USER SECRET : the JSON Docker sends to `store`.
cred() { printf '{"ServerURL":"%s","Username":"%s","Secret":"%s"}' "$1" "$2" "$3"; }

# snapshot : everything the stores hold, to compare before and after an action that must change nothing.
snapshot() {
  { secret-tool search --all docker_cli 1 2>&1 | grep -v -E '^(created|modified) = ' | sort
    for f in "$XDG_DATA_HOME"/docker-credential-acr/*; do [ -e "$f" ] && { echo "$f"; cat "$f"; }; done; } 2>/dev/null
}

not_in_file_store() { # not_in_file_store TEXT : the file store does not mention TEXT
  ! grep -qF "$1" "$XDG_DATA_HOME/docker-credential-acr/credentials.json" 2>/dev/null
}

wait_for_http() { # wait_for_http URL : until something answers there (5 s at most)
  for _ in $(seq 250); do curl -s -o /dev/null "$1" && return 0; sleep 0.02; done
  return 1
}


# in_namespace LABEL "UNSHARE-FLAGS" SCRIPT ARG… : SCRIPT run in namespaces of its own (unshare FLAGS
# --fork), its PASS/FAIL lines counted here as if its checks had run in this shell
in_namespace() {
  local label=$1 flags=$2 script=$3; shift 3
  local out; out=$(mktemp "$WORK/namespace.XXXXXX")
  # shellcheck disable=SC2086 # the flags are words
  unshare $flags --fork bash "$script" "$@" >"$out" 2>&1
  local rc=$? line
  while IFS= read -r line; do
    case $line in
      PASS:*) PASSED=$((PASSED + 1)); echo "$line" ;;
      FAIL:*) FAILED=$((FAILED + 1)); echo "$line" ;;
      "    "*) echo "$line" ;;
    esac
  done <"$out"
  [ "$rc" = 0 ] || fail "$label the namespace's run ended with status $rc" "$(tail -n 5 "$out")"
}
