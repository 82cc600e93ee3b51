# Every protocol action through the built binary, against the real keyring and the file store.

protocol_suite() { # protocol_suite STORE : the same behaviour whatever the store
  local store=$1 s="[$1]"
  export DOCKER_CREDENTIAL_ACR_STORE=$store
  local host="reg-$store.example.com"

  expect "$s store" 0 "" helper store "$(cred "https://$host" alice 's3cr3t <&> \"quoted\" ü')"
  expect "$s get with the stored spelling" 0 \
    '{"ServerURL":"https://'"$host"'","Username":"alice","Secret":"s3cr3t \u003c\u0026\u003e \"quoted\" ü"}' \
    helper get "https://$host"
  # ":443" too: nerdctl asks for host:443 and https://host:443 before host.
  for spelling in "$host" "HTTPS://${host^^}/" "http://$host" "$host/" "$host:443" "https://$host:443"; do
    expect "$s get finds '$spelling'" 0 \
      '{"ServerURL":"'"$spelling"'","Username":"alice","Secret":"s3cr3t \u003c\u0026\u003e \"quoted\" ü"}' \
      helper get "$spelling"
  done
  expect "$s get trims the newline Docker may send" 0 \
    '{"ServerURL":"'"$host"'","Username":"alice","Secret":"s3cr3t \u003c\u0026\u003e \"quoted\" ü"}' \
    helper get "$host"$'\n'
  expect "$s another port is another registry" 1 "credentials not found in native keychain" helper get "$host:5000"
  expect "$s get of an unknown registry" 1 "credentials not found in native keychain" helper get "nowhere.example.com"
  check "$s not-found says nothing on stderr" test ! -s "$WORK/stderr"

  expect "$s store an identity token" 0 "" helper store "$(cred "$host:5000" '<token>' refresh-token-1)"
  expect "$s identity token returned unchanged" 0 \
    '{"ServerURL":"'"$host"':5000","Username":"\u003ctoken\u003e","Secret":"refresh-token-1"}' helper get "$host:5000"
  expect "$s Docker Hub as Docker sends it" 0 "" helper store "$(cred https://index.docker.io/v1/ hubuser hubpass)"
  expect "$s Docker Hub found as docker.io" 0 \
    '{"ServerURL":"docker.io","Username":"hubuser","Secret":"hubpass"}' helper get docker.io
  expect "$s list: server URL to username, sorted" 0 \
    '{"https://index.docker.io/v1/":"hubuser","https://'"$host"'":"alice","'"$host"':5000":"\u003ctoken\u003e"}' \
    helper list unused

  expect "$s store again under another spelling replaces the entry" 0 "" helper store "$(cred "$host" bob pw2)"
  expect "$s one entry per registry" 0 \
    '{"https://index.docker.io/v1/":"hubuser","'"$host"'":"bob","'"$host"':5000":"\u003ctoken\u003e"}' helper list

  expect "$s erase with another spelling" 0 "" helper erase "https://${host^^}/"
  expect "$s erased" 1 "credentials not found in native keychain" helper get "$host"
  expect "$s erase of nothing succeeds (as Docker's secretservice helper does)" 0 "" helper erase "$host"
  expect "$s erase leaves other ports" 0 \
    '{"ServerURL":"'"$host"':5000","Username":"\u003ctoken\u003e","Secret":"refresh-token-1"}' helper get "$host:5000"
  helper erase "$host:5000" >/dev/null; helper erase https://index.docker.io/v1/ >/dev/null
  expect "$s list of an empty store" 0 "{}" helper list
  unset DOCKER_CREDENTIAL_ACR_STORE
}

keyring_contents_suite() { # the items are exactly those of Docker's own secretservice helper
  local s="[keyring items]"
  export DOCKER_CREDENTIAL_ACR_STORE=secretservice
  helper store "$(cred https://items.example.com alice pw-items)" >/dev/null
  secret-tool search --all docker_cli 1 server https://items.example.com >"$WORK/items" 2>&1
  check "$s schema io.docker.Credentials" grep -qx "schema = io.docker.Credentials" "$WORK/items"
  check "$s item label is the server URL" grep -qx "label = https://items.example.com" "$WORK/items"
  check "$s attribute label = Docker Credentials" grep -qx "attribute.label = Docker Credentials" "$WORK/items"
  check "$s attribute username" grep -qx "attribute.username = alice" "$WORK/items"
  check "$s attribute docker_cli = 1" grep -qx "attribute.docker_cli = 1" "$WORK/items"
  check "$s secret-tool reads the secret" test "$(secret-tool lookup server https://items.example.com docker_cli 1)" = pw-items
  check "$s nothing written to the file store" not_in_file_store items.example.com

  expect "$s Docker's helper reads our item" 0 \
    '{"ServerURL":"https://items.example.com","Username":"alice","Secret":"pw-items"}' \
    bash -c 'echo https://items.example.com | docker-credential-secretservice get'
  printf '%s' "$(cred https://theirs.example.com:5000 carol pw-theirs)" | docker-credential-secretservice store
  expect "$s we read Docker's helper's item under another spelling" 0 \
    '{"ServerURL":"THEIRS.example.com:5000","Username":"carol","Secret":"pw-theirs"}' helper get THEIRS.example.com:5000
  expect "$s our list matches Docker's helper's list" 0 "$(docker-credential-secretservice list)" helper list
  secret-tool store --label=other service unrelated docker_cli 1 <<<"not-docker"
  expect "$s list shows only Docker credentials" 0 \
    '{"https://items.example.com":"alice","https://theirs.example.com:5000":"carol"}' helper list
  expect "$s erase removes Docker's helper's item too" 0 "" helper erase theirs.example.com:5000
  check "$s Docker's helper no longer finds it" bash -c '! echo https://theirs.example.com:5000 | docker-credential-secretservice get'
  helper erase https://items.example.com >/dev/null; secret-tool clear service unrelated
  unset DOCKER_CREDENTIAL_ACR_STORE
}

keyring_index_suite() { # the item index in the runtime folder only guides: it never serves a wrong item
  local s="[keyring index]" index="$XDG_RUNTIME_DIR/docker-credential-acr/keyring-items"
  export DOCKER_CREDENTIAL_ACR_STORE=secretservice
  helper store "$(cred https://one.example.com u1 pw-one)" >/dev/null
  helper store "$(cred https://two.example.com u2 pw-two)" >/dev/null
  helper list >/dev/null
  check "$s list writes the index, 0600, without secrets" \
    bash -c "[ \"\$(stat -c %a '$index')\" = 600 ] && grep -q one.example.com '$index' && ! grep -q pw- '$index'"
  # Point one.example.com's item at two.example.com's name: get must read the item's own attributes.
  local path; path=$(awk -F'\t' '$2 == "https://one.example.com" { print $1 }' "$index")
  sed "s#\thttps://one.example.com\t#\thttps://two.example.com\t#" "$index" >"$index.new"
  chmod 600 "$index.new"; mv "$index.new" "$index"
  check "$s (list trusts the index: one.example.com is gone from it)" bash -o pipefail -c "'$HELPER' list </dev/null | jq -e 'keys == [\"https://two.example.com\"]'"
  expect "$s a wrong index entry never serves another registry's secret" 0 \
    '{"ServerURL":"two.example.com","Username":"u2","Secret":"pw-two"}' helper get two.example.com
  printf 'docker-credential-acr keyring index 1\tanother daemon\n%s\tforged.example.com\tx\n' "$path" >"$index"
  expect "$s an index of another keyring daemon is ignored" 0 \
    '{"https://one.example.com":"u1","https://two.example.com":"u2"}' helper list
  printf 'not an index' >"$index"
  expect "$s an unreadable index is rebuilt" 0 \
    '{"https://one.example.com":"u1","https://two.example.com":"u2"}' helper list
  helper erase https://one.example.com >/dev/null; helper erase https://two.example.com >/dev/null
  expect "$s erased items leave the index" 0 "{}" helper list
  unset DOCKER_CREDENTIAL_ACR_STORE
}

store_choice_suite() {
  local s="[store choice]" nobus=(env -u DBUS_SESSION_BUS_ADDRESS -u DISPLAY XDG_RUNTIME_DIR=/nonexistent)
  local data="$WORK/choice-data"
  rm -rf "$data"
  expect "$s auto uses the keyring when it answers" 0 "" helper store "$(cred auto.example.com u auto-secret)"
  check "$s ... and the item is in the keyring" test "$(secret-tool lookup server auto.example.com docker_cli 1)" = auto-secret
  expect "$s auto without a session bus uses the file store" 0 "" \
    "${nobus[@]}" XDG_DATA_HOME="$data" bash -c 'printf %s "$1" | "$HELPER" store' _ "$(cred nobus.example.com u nobus-secret)"
  check "$s ... 0600 file in a 0700 folder" test "$(stat -c %a "$data/docker-credential-acr")/$(stat -c %a "$data/docker-credential-acr/credentials.json")" = 700/600
  expect "$s ... and reads it back" 0 '{"ServerURL":"nobus.example.com","Username":"u","Secret":"nobus-secret"}' \
    "${nobus[@]}" XDG_DATA_HOME="$data" bash -c 'echo nobus.example.com | "$HELPER" get'
  expect "$s auto with a bus but no Secret Service uses the file store" 0 '{"nobus.example.com":"u"}' \
    env DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent XDG_DATA_HOME="$data" "$HELPER" list
  rm -rf "$data"
  expect "$s secretservice forced without a bus: one clear line" 1 \
    'cannot reach a Secret Service (gnome-keyring, KeePassXC) on the session bus (cannot connect to the session bus at unix:path=/nonexistent/bus: No such file or directory); start one in this session, or set DOCKER_CREDENTIAL_ACR_STORE=file to keep credentials in a private file' \
    "${nobus[@]}" XDG_DATA_HOME="$data" DOCKER_CREDENTIAL_ACR_STORE=secretservice bash -c 'printf %s "$1" | "$HELPER" store' _ "$(cred forced.example.com u forced-secret)"
  check "$s ... and nothing written anywhere" test ! -e "$data"
  helper erase auto.example.com >/dev/null
}

locked_keyring_suite() { # runs in a keyring of its own, as locking cannot be undone without a prompt
  local s="[locked keyring]"
  helper store "$(cred locked.example.com u locked-secret)" >/dev/null
  dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets \
    org.freedesktop.Secret.Service.Lock array:objpath:/org/freedesktop/secrets/collection/login >/dev/null
  local message='the keyring'"'"'s default collection is locked and cannot be unlocked without a prompt; unlock it (log in to the desktop, or `gnome-keyring-daemon --unlock` with its password on stdin), or set DOCKER_CREDENTIAL_ACR_STORE=file'
  expect "$s store says so" 1 "$message" helper store "$(cred other.example.com u other-secret)"
  expect "$s get says so instead of 'not found'" 1 "$message" helper get locked.example.com
  expect "$s erase says so" 1 "$message" helper erase locked.example.com
  check "$s the message reaches stderr" grep -qF "docker-credential-acr: the keyring's default collection is locked" "$WORK/stderr"
  check "$s nothing written to the file store" not_in_file_store other.example.com
}
