# A burst of short-lived keyring clients, as `docker compose pull` or parallel CI jobs make: gnome-keyring
# registers each new caller in an idle callback that a method call can overtake, and a client whose first
# call needs that registration aborts the daemon (OpenSession) or gets an error (any other call).
# Sourced by run.sh after Tests/Integration/lib.sh, inside Scripts/with-keyring.sh.
KEYRING_CLIENTS_PROCS=${KEYRING_CLIENTS_PROCS:-16}
KEYRING_CLIENTS_SECONDS=${KEYRING_CLIENTS_SECONDS:-20}

keyring_clients_suite() {
  local s="[keyring clients]" dir="$WORK/keyring-clients" p
  rm -rf "$dir"; mkdir -p "$dir"
  local daemon; daemon=$(keyring_owner)
  echo "$s $KEYRING_CLIENTS_PROCS processes calling get for ${KEYRING_CLIENTS_SECONDS} s, daemon $daemon"
  for ((p = 0; p < KEYRING_CLIENTS_PROCS; p++)); do
    ( end=$((SECONDS + KEYRING_CLIENTS_SECONDS)) n=0
      while [ $SECONDS -lt $end ]; do
        out=$(printf 'absent-%s.example.com' "$p" | DOCKER_CREDENTIAL_ACR_STORE=secretservice "$HELPER" get 2>&1)
        [ "$out" = "$NOT_FOUND" ] || echo "get $p.$n: $out"
        n=$((n + 1))
      done >"$dir/errors-$p"
      echo "$n" >"$dir/count-$p" ) &
  done
  wait
  echo "$s $(awk '{ n += $1 } END { print n }' "$dir"/count-*) gets"
  cat "$dir"/errors-* >"$dir/errors"
  check "$s every get answered not found" storm_show "$dir/errors"
  check "$s the same daemon still owns the Secret Service" test "$(keyring_owner)" = "$daemon"
  check "$s the daemon logged no failed assertion" bash -c "! grep -e CRITICAL -e ERROR '$XDG_RUNTIME_DIR/gnome-keyring.log'"
}

keyring_owner() {
  dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus / org.freedesktop.DBus.GetNameOwner \
    string:org.freedesktop.secrets 2>&1
}
