#!/usr/bin/env bash
# Integration tests of the built helper: every protocol action on the real keyring and on the file store,
# the keyring items, the store choice, bad input, concurrency, the real Docker CLI, skopeo and podman
# against a real registry, the ACR token engine against the Azure emulator (every identity source, CI
# runners' and Azure hosts' included), a person's sign-in, and `diagnose`. Run inside Scripts/with-keyring.sh; `make test` does:
#
#   Scripts/with-keyring.sh Tests/Integration/run.sh PATH/TO/docker-credential-acr
set -uo pipefail
HELPER=$(readlink -f "${1:?usage: run.sh PATH/TO/docker-credential-acr}")
export HELPER
[ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || { echo "run.sh: no session bus; run it inside Scripts/with-keyring.sh" >&2; exit 1; }
here=$(dirname "$(readlink -f "$0")")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/docker-credential-acr-it.XXXXXX")
trap 'kill "${EMU_PID:-}" 2>/dev/null; rm -rf "$WORK"' EXIT
export WORK
export XDG_STATE_HOME="$WORK/state"
# Docker, skopeo and the tests find the helper under test as `docker-credential-acr` on PATH.
mkdir -p "$WORK/bin"; ln -s "$HELPER" "$WORK/bin/docker-credential-acr"
export PATH="$WORK/bin:$PATH"
# The file store of these tests lives in the private keyring folder, never in the user's.
export XDG_DATA_HOME="${XDG_DATA_HOME:?}"
TESTDATA="$WORK/testdata"; mkdir -p "$TESTDATA"

for part in lib protocol badinput concurrency docker acr kubelet faults locks trust proxy hosts reference signin chain hygiene diagnose; do source "$here/$part.sh"; done
source "$here/../../Scripts/test-image.sh"
make_test_image "$TESTDATA/image"

# Docker's one-line answer, then the commit the binary was built from (`make test` builds it first).
VERSION_TEXT="docker-credential-acr (docker-credential-acr) 0.3.0
commit $(git -C "$here" describe --always --dirty --abbrev=12 --exclude='*' 2>/dev/null || echo unknown) ($(git -C "$here" log -1 --format=%cs 2>/dev/null || echo unknown)), release build, Linux $(uname -m)"
expect "version: Docker's line, then the commit built from" 0 "$VERSION_TEXT" "$HELPER" version
for store in secretservice file; do
  protocol_suite "$store"
  bad_input_matrix_suite "$store"
  concurrency_suite "$store"
done
keyring_contents_suite
keyring_index_suite
store_choice_suite
docker_suite
podman_suite
emulator_start
for store in secretservice file; do acr_suite "$store"; done
acr_two_binaries_suite
acr_kubelet_suite
acr_failures_suite
for store in file secretservice; do
  azure_faults_suite "$store"
  locks_suite "$store"
  trust_suite "$store"
  proxy_suite "$store"
done
acr_identities_suite
hosts_ci_suite
hosts_managed_identity_suite
hosts_certificates_suite
reference_clients_suite
hosts_arc_suite
acr_exposed_tokens_suite
acr_clients_suite
for store in secretservice file; do signin_suite "$store"; done
chain_suite
diagnose_suite
secrets_hygiene_suite
keyring_faults_suite
# Last: locking the collection cannot be undone here without a prompt.
locked_keyring_suite
locked_keyring_diagnose

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
