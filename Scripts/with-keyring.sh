#!/usr/bin/env bash
# Runs COMMAND inside a private D-Bus session whose Secret Service is a fresh, unlocked gnome-keyring,
# so that nothing touches the user's real keyring. The keyring lives in a temporary folder that is
# removed afterwards; XDG_DATA_HOME and XDG_RUNTIME_DIR point into it while COMMAND runs.
#
#   Scripts/with-keyring.sh COMMAND [ARG…]
#   KEYRING_PASSWORD=…   the password of the private keyring (default: a fixed test value)
set -euo pipefail

if [ "${1:-}" != "--inside" ]; then
  if [ $# -eq 0 ]; then echo "usage: Scripts/with-keyring.sh COMMAND [ARG…]" >&2; exit 2; fi
  for tool in dbus-run-session gnome-keyring-daemon dbus-send; do
    command -v "$tool" >/dev/null || { echo "with-keyring: $tool is missing; run Scripts/install-deps.sh" >&2; exit 1; }
  done
  root=$(mktemp -d "${TMPDIR:-/tmp}/docker-credential-acr-keyring.XXXXXX")
  trap 'rm -rf "$root"' EXIT
  mkdir -p "$root/data" "$root/run"
  chmod 700 "$root" "$root/run"
  # Set before dbus-run-session: services the bus activates inherit the bus daemon's environment, so a
  # second gnome-keyring started by activation would also use the private folders, never the real ones.
  export XDG_DATA_HOME="$root/data" XDG_RUNTIME_DIR="$root/run"
  unset DISPLAY WAYLAND_DISPLAY GNOME_KEYRING_CONTROL DBUS_SESSION_BUS_ADDRESS
  # dbus-daemon warns "Failed to set fd limit" in containers; that line is harmless and dropped.
  exec 3> >(grep -v --line-buffered 'Failed to set fd limit' >&2)
  filter=$!
  status=0
  dbus-run-session -- "$0" --inside "$@" 2>&3 3>&- || status=$?
  exec 3>&-
  wait "$filter" || true  # every last line of stderr is passed on before we exit
  exit "$status"
fi
shift

printf '%s' "${KEYRING_PASSWORD:-docker-credential-acr-test}" |
  gnome-keyring-daemon --foreground --unlock --components=secrets >"$XDG_RUNTIME_DIR/gnome-keyring.log" 2>&1 &
keyring_pid=$!
trap 'kill "$keyring_pid" 2>/dev/null; wait "$keyring_pid" 2>/dev/null || true' EXIT

# Wait until the daemon owns the bus name; a client that came first would activate a second daemon.
for _ in $(seq 250); do
  if dbus-send --session --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner \
       string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'; then
    "$@"
    exit $?
  fi
  sleep 0.02
done
echo "with-keyring: gnome-keyring did not start:" >&2
cat "$XDG_RUNTIME_DIR/gnome-keyring.log" >&2
exit 1
