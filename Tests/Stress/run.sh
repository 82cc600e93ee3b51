#!/usr/bin/env bash
# The heavy tests that `make stress` runs (CI too): the concurrency storm on both stores and writers killed
# mid-write (storm.sh), a burst of short-lived keyring clients (keyring-clients.sh), engines that exit
# while libcurl loads (engine-exit.sh). Run inside
# Scripts/with-keyring.sh:
#
#   Scripts/with-keyring.sh Tests/Stress/run.sh PATH/TO/docker-credential-acr
set -uo pipefail
HELPER=$(readlink -f "${1:?usage: run.sh PATH/TO/docker-credential-acr}")
export HELPER
[ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || { echo "run.sh: no session bus; run it inside Scripts/with-keyring.sh" >&2; exit 1; }
here=$(dirname "$(readlink -f "$0")")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/docker-credential-acr-stress.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export WORK XDG_STATE_HOME="$WORK/state" XDG_DATA_HOME="${XDG_DATA_HOME:?}"
mkdir -p "$WORK/bin"; ln -s "$HELPER" "$WORK/bin/docker-credential-acr"
export PATH="$WORK/bin:$PATH"

source "$here/../Integration/lib.sh"
source "$here/storm.sh"
source "$here/keyring-clients.sh"
source "$here/../Integration/acr.sh"
source "$here/engine-exit.sh"
storm_suite secretservice
keyring_clients_suite
storm_suite file
kill_writer_suite
engine_exit_suite

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
