#!/usr/bin/env bash
# Writes Sources/docker-credential-acr/hot-functions.order: the functions of docker-credential-acr that
# Docker's everyday calls run (get from the cache or a stored credential, store, erase, list, on both
# stores), as callgrind saw them. The linker (lld, --symbol-ordering-file) lays them out side by side, so
# that a call pages in a few hundred KiB of the binary instead of pieces all over its 14 MB: the kernel
# maps 64 KiB around every page a process touches. Functions missing from the list still work; they only
# cost pages. Run it after changing what those calls run (make bench shows the peak memory):
#
#   Scripts/with-keyring.sh Scripts/hot-functions.sh PATH/TO/docker-credential-acr
set -euo pipefail
BUILT=$(readlink -f "${1:?usage: hot-functions.sh PATH/TO/docker-credential-acr}")
root=$(dirname "$(dirname "$(readlink -f "$0")")")
out="$root/Sources/docker-credential-acr/hot-functions.order"
command -v valgrind >/dev/null || { apt-get install -y -qq --no-install-recommends valgrind >/dev/null; }
[ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || { echo "hot-functions: run it inside Scripts/with-keyring.sh" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/docker-credential-acr-hot.XXXXXX")
export WORK
trap 'kill "${EMU_PID:-}" 2>/dev/null; rm -rf "$WORK"' EXIT
export XDG_DATA_HOME="$WORK/data" XDG_CONFIG_HOME="$WORK/config" XDG_STATE_HOME="$WORK/state"
mkdir -p "$WORK/bin" "$XDG_DATA_HOME"
cp "$BUILT" "$(dirname "$BUILT")/docker-credential-acr-engine" "$WORK/bin/"
HELPER="$WORK/bin/docker-credential-acr"
# valgrind 3.19 gives up on the DWARF of these binaries ("Possibly corrupted debuginfo file"); the
# function names come from the symbol table, which stays.
strip --strip-debug "$HELPER"
here="$root/Tests/Integration"
source "$here/lib.sh"
source "$here/acr.sh"
emulator_start >&2

# profile STORE ACTION INPUT [NAME=VALUE…] : ACTION under callgrind, its function list appended to WORK/functions
n=0
profile() {
  local store=$1 action=$2 input=$3; shift 3
  n=$((n + 1))
  printf '%s' "$input" | acr_env DOCKER_CREDENTIAL_ACR_STORE="$store" "$@" -- \
    valgrind --tool=callgrind --demangle=no --callgrind-out-file="$WORK/cg.$n" "$HELPER" "$action" >/dev/null 2>&1 || true
  callgrind_annotate --threshold=100 "$WORK/cg.$n" 2>/dev/null | grep -F "[$HELPER]" |
    sed -E 's/^ *[0-9,]+ \([^)]*\) *//; s/ \[[^]]*\]$//; s/^[^:]*://' >>"$WORK/functions"
}

for store in secretservice file; do
  printf '{"ServerURL":"stored.example.com","Username":"u","Secret":"s"}' | DOCKER_CREDENTIAL_ACR_STORE=$store "$HELPER" store
  printf '%s' "$REG" | acr_env DOCKER_CREDENTIAL_ACR_STORE=$store "${SP[@]}" -- "$HELPER" get >/dev/null  # a cached ACR token
  profile $store get stored.example.com
  profile $store get "$REG" "${SP[@]}"
  profile $store get missing.example.com
  profile $store list ""
  profile $store store '{"ServerURL":"new.example.com","Username":"u","Secret":"s"}'
  profile $store erase new.example.com
done
profile file version ""

# Every function once, in the order first seen; only names the binary defines.
nm --defined-only "$HELPER" | awk '{ print $3 }' | sort -u >"$WORK/defined"
awk '!seen[$0]++' "$WORK/functions" | grep -Fxf "$WORK/defined" >"$out.tmp"
[ "$(wc -l <"$out.tmp")" -gt 100 ] || { echo "hot-functions: only $(wc -l <"$out.tmp") functions seen; is valgrind working?" >&2; exit 1; }
mv "$out.tmp" "$out"
echo "hot-functions: $(wc -l <"$out") functions in ${out#"$root"/}" >&2
# The list is no input SwiftPM tracks: the next build links the binary again only if it is gone.
rm -f "$BUILT"
