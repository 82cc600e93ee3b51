# The real Docker CLI (client side, no daemon) against Debian's docker-registry with htpasswd auth, and
# `configure` as a new user would run it.

docker_suite() {
  local s="[docker]" port=${REGISTRY_PORT:-5055}
  local reg="127.0.0.1:$port" dir="$WORK/registry"
  mkdir -p "$dir/data" "$dir/docker"
  htpasswd -Bbn tester registry-pass >"$dir/htpasswd"
  cat >"$dir/config.yml" <<YAML
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: $dir/data}}
http: {addr: "$reg", secret: not-a-secret}
auth: {htpasswd: {realm: test, path: $dir/htpasswd}}
YAML
  docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
  local registry_pid=$!
  check "$s registry answers on $reg" wait_for_http "http://$reg/v2/"

  export DOCKER_CONFIG="$dir/docker" DOCKER_CREDENTIAL_ACR_STORE=secretservice
  echo '{"credsStore": "acr"}' >"$DOCKER_CONFIG/config.json"
  # docker finds the helper as docker-credential-acr on PATH.
  check "$s docker login stores through the helper" \
    bash -c "echo registry-pass | docker login '$reg' -u tester --password-stdin 2>&1 | grep -q 'Login Succeeded'"
  check "$s the password is in the keyring" test "$(secret-tool lookup server "$reg" docker_cli 1)" = registry-pass
  check "$s config.json keeps no secret" bash -c "! grep -q registry-pass '$DOCKER_CONFIG/config.json' && jq -e '.auths[\"$reg\"] == {} and .credsStore == \"acr\"' '$DOCKER_CONFIG/config.json'"

  # `docker login REG` without a user name would check the stored credentials through the daemon, which
  # these machines do not run; a second login with credentials must replace, not add, the entry.
  check "$s a second login replaces the entry" \
    bash -c "echo registry-pass | docker login 'http://$reg/' -u tester --password-stdin >/dev/null 2>&1 && test \"\$(docker-credential-acr list | jq 'length')\" = 1"
  check "$s push a test image with skopeo" skopeo copy --quiet --format v2s2 --dest-tls-verify=false \
    --dest-creds "tester:registry-pass" "oci:$TESTDATA/image:latest" "docker://$reg/test/hello:1"
  check "$s docker reuses the stored credentials (manifest inspect)" \
    bash -o pipefail -c "docker manifest inspect --insecure '$reg/test/hello:1' | jq -e '.schemaVersion == 2'"

  check "$s wrong password: docker login fails, nothing stored" \
    bash -c "! (echo wrong | docker login '$reg' -u tester --password-stdin) >/dev/null 2>&1 && test \"\$(secret-tool lookup server '$reg' docker_cli 1)\" = registry-pass"
  check "$s docker logout erases through the helper" bash -c "docker logout '$reg' 2>&1 | grep -v -i warning | grep -q 'Removing login credentials'"
  check "$s ... without warnings" bash -c "! docker logout '$reg' 2>&1 | grep -qi 'could not erase'"
  check "$s the keyring item is gone" bash -c "! secret-tool lookup server '$reg' docker_cli 1"
  check "$s after logout, access is refused" bash -c "! docker manifest inspect --insecure '$reg/test/hello:1' >/dev/null 2>&1"

  # skopeo reads the helper through credHelpers (it ignores credsStore).
  echo '{"ServerURL":"'"$reg"'","Username":"tester","Secret":"registry-pass"}' | "$HELPER" store
  echo '{"credHelpers": {"'"$reg"'": "acr"}}' >"$dir/skopeo-auth.json"
  check "$s skopeo inspect with credentials from the helper" \
    env REGISTRY_AUTH_FILE="$dir/skopeo-auth.json" skopeo inspect --tls-verify=false "docker://$reg/test/hello:1"
  "$HELPER" erase <<<"$reg" >/dev/null

  # A new user: `configure` writes the Docker configuration, then docker login and skopeo use the helper.
  local fresh="$WORK/fresh-docker"
  check "$s configure --global where there is no config.json" env DOCKER_CONFIG="$fresh" "$HELPER" configure --global
  check "$s ... credsStore acr, 0600 in a 0700 folder" bash -c "jq -e '.credsStore == \"acr\"' '$fresh/config.json' &&
    [ \$(stat -c %a '$fresh/config.json') = 600 ] && [ \$(stat -c %a '$fresh') = 700 ]"
  check "$s ... then docker login stores through the helper" bash -c "echo registry-pass | DOCKER_CONFIG='$fresh' docker login '$reg' -u tester --password-stdin 2>&1 | grep -q 'Login Succeeded' &&
    test \"\$(secret-tool lookup server '$reg' docker_cli 1)\" = registry-pass"
  check "$s ... and docker reads with it" bash -o pipefail -c "DOCKER_CONFIG='$fresh' docker manifest inspect --insecure '$reg/test/hello:1' | jq -e '.schemaVersion == 2'"
  expect "$s configure --global again: nothing to change" 0 \
    "$fresh/config.json already sends every registry to docker-credential-acr (credsStore); nothing to change" \
    env DOCKER_CONFIG="$fresh" "$HELPER" configure --global
  check "$s configure --registry: skopeo uses the helper" bash -c "DOCKER_CONFIG='$fresh' '$HELPER' configure --registry 'http://$reg/' >/dev/null &&
    REGISTRY_AUTH_FILE='$fresh/config.json' skopeo inspect --tls-verify=false 'docker://$reg/test/hello:1' >/dev/null"
  check "$s ... docker login's auths entry is kept" jq -e '.auths["'"$reg"'"] == {} and .credHelpers["'"$reg"'"] == "acr"' "$fresh/config.json"
  echo '{"credsStore":"desktop","auths":{"a.io":{"auth":"dTpw"}},"HttpHeaders":{"User-Agent":"x <&>"}}' >"$fresh/config.json"
  env DOCKER_CONFIG="$fresh" "$HELPER" configure --global >/dev/null
  check "$s configure keeps every other key, and backs the file up" bash -c "
    jq -e '.credsStore == \"acr\" and .auths[\"a.io\"].auth == \"dTpw\" and .HttpHeaders[\"User-Agent\"] == \"x <&>\"' '$fresh/config.json' &&
    jq -e '.credsStore == \"desktop\"' '$fresh/config.json.bak-docker-credential-acr'"
  env DOCKER_CONFIG="$fresh" "$HELPER" configure --undo >/dev/null
  check "$s configure --undo gives the previous helper back" jq -e '.credsStore == "desktop" and .auths["a.io"].auth == "dTpw"' "$fresh/config.json"
  printf '{"credsStore": ' >"$fresh/config.json"
  expect "$s configure refuses a config it cannot parse" 1 "" env DOCKER_CONFIG="$fresh" "$HELPER" configure --global
  check "$s ... says why" grep -q "is not valid JSON" "$WORK/stderr"
  check "$s ... and leaves it as it was" test "$(cat "$fresh/config.json")" = '{"credsStore": '
  echo '{}' >"$fresh/config.json"
  check "$s configure --dry-run prints the diff and writes nothing" bash -c "
    DOCKER_CONFIG='$fresh' '$HELPER' configure --dry-run | grep -q '^+.*\"credsStore\": \"acr\"' && [ \"\$(cat '$fresh/config.json')\" = '{}' ]"
  "$HELPER" erase <<<"$reg" >/dev/null

  kill "$registry_pid" 2>/dev/null; wait "$registry_pid" 2>/dev/null
  unset DOCKER_CONFIG DOCKER_CREDENTIAL_ACR_STORE
}

# podman reads credentials like skopeo (containers/image): only through credHelpers of its auth file. Run
# after docker_suite, on its registry and its test/hello:1. As root, podman would otherwise read and write
# /etc/containers, /run/libpod, /var/tmp, /etc/cni and ~: everything points into $WORK instead.
podman_suite() {
  local s="[podman]" port=${REGISTRY_PORT:-5055}
  local reg="127.0.0.1:$port" dir="$WORK/podman"
  local image="$reg/test/hello:1" pod="$dir/podman" calls="$dir/calls"
  local runroot="$WORK/run"  # podman 4.3 refuses a runroot longer than 50 characters
  mkdir -p "$dir/bin" "$dir/home"
  docker-registry serve "$WORK/registry/config.yml" >>"$WORK/registry/registry.log" 2>&1 &
  local registry_pid=$!
  check "$s docker_suite's registry answers again on $reg" wait_for_http "http://$reg/v2/"

  # podman checks storage.conf before it applies --root and --runroot, so the file names them too.
  printf '[storage]\ndriver = "vfs"\ngraphroot = "%s"\nrunroot = "%s"\n' "$dir/root" "$runroot" >"$dir/storage.conf"
  printf '[engine]\nevents_logger = "none"\ntmp_dir = "%s"\nimage_copy_tmp_dir = "%s"\n[network]\nnetwork_config_dir = "%s"\n' \
    "$dir/tmp" "$dir/tmp" "$dir/net" >"$dir/containers.conf"
  : >"$dir/registries.conf"
  echo '{"default": [{"type": "insecureAcceptAnything"}]}' >"$dir/policy.json"
  # podman's own auth file, as configure writes it for a new user (podman ignores credsStore).
  env DOCKER_CONFIG="$dir/docker" REGISTRY_AUTH_FILE="$dir/auth.json" "$HELPER" configure --containers --registry "$reg" >/dev/null
  check "$s configure --containers --registry: podman's auth.json sends the registry to the helper" \
    jq -e --arg r "$reg" '.credHelpers == {($r): "acr"}' "$dir/auth.json"
  # The helper as podman finds it on PATH, logging each action it is asked for (not its input: a password).
  printf '#!/bin/sh\necho "$1" >>"%s"\nexec "%s" "$@"\n' "$calls" "$HELPER" >"$dir/bin/docker-credential-acr"
  # A private HOME: containers/image also reads ~/.docker/config.json and ~/.config/containers/auth.json.
  cat >"$pod" <<SH
#!/bin/sh
exec env PATH="$dir/bin:\$PATH" HOME="$dir/home" XDG_CONFIG_HOME="$dir/home/.config" REGISTRY_AUTH_FILE="$dir/auth.json" \\
  CONTAINERS_CONF="$dir/containers.conf" CONTAINERS_STORAGE_CONF="$dir/storage.conf" CONTAINERS_REGISTRIES_CONF="$dir/registries.conf" \\
  podman --root "$dir/root" --runroot "$runroot" --storage-driver vfs "\$@"
SH
  chmod +x "$dir/bin/docker-credential-acr" "$pod"
  export DOCKER_CREDENTIAL_ACR_STORE=secretservice
  local pull="'$pod' pull --quiet --tls-verify=false --signature-policy '$dir/policy.json' '$image'"

  : >"$calls"
  check "$s podman login stores through the helper" \
    bash -c "echo registry-pass | '$pod' login --tls-verify=false -u tester --password-stdin '$reg' 2>&1 | grep -q 'Login Succeeded'"
  expect "$s ... asking it get, then store" 0 "get store" paste -sd' ' "$calls"
  check "$s the password is in the keyring" test "$(secret-tool lookup server "$reg" docker_cli 1)" = registry-pass
  check "$s the auth file holds no password" bash -c "! grep -q -e registry-pass -e '$(printf tester:registry-pass | base64)' '$dir/auth.json' &&
    jq -e '.credHelpers[\"$reg\"] == \"acr\" and .auths[\"$reg\"] == null' '$dir/auth.json'"

  : >"$calls"
  check "$s podman pull with the helper's credentials" bash -c "$pull >/dev/null && '$pod' image exists '$image'"
  expect "$s ... asking it get" 0 "get" paste -sd' ' "$calls"

  : >"$calls"
  check "$s podman logout erases through the helper" bash -c "'$pod' logout '$reg' 2>&1 | grep -qF 'Removed login credentials for $reg'"
  expect "$s ... asking it erase" 0 "erase" paste -sd' ' "$calls"
  check "$s the keyring item is gone" bash -c "! secret-tool lookup server '$reg' docker_cli 1"
  check "$s the auth file still names the helper" jq -e '.credHelpers["'"$reg"'"] == "acr"' "$dir/auth.json"
  # podman 4.3 overflows its stack here when a helper answers erase with "not found".
  check "$s a second logout, with nothing stored, ends cleanly" "$pod" logout "$reg"

  # The proof that the credential comes from the helper: the helper has none, the same pull is refused;
  # it has one that podman never saw (stored with the helper itself), the pull works.
  "$pod" rmi --force "$image" >/dev/null 2>&1
  : >"$calls"
  check "$s without the helper's credential, pull is refused" \
    bash -c "! $pull >'$dir/pull.log' 2>&1 && grep -q 'unauthorized: authentication required' '$dir/pull.log'"
  expect "$s ... after asking it get" 0 "get" paste -sd' ' "$calls"
  cred "$reg" tester registry-pass | "$HELPER" store
  check "$s a credential stored with the helper alone: pull works" bash -c "$pull >/dev/null && '$pod' image exists '$image'"
  "$HELPER" erase <<<"$reg" >/dev/null

  # buildah: containers/image as in podman, its own commands; the same auth file and store.
  local bud="$dir/buildah"
  sed 's/^  podman /  buildah /' "$pod" >"$bud"; chmod +x "$bud"
  "$pod" rmi --force "$image" >/dev/null 2>&1
  : >"$calls"
  check "[buildah] login stores through the helper" \
    bash -c "echo registry-pass | '$bud' login --tls-verify=false -u tester --password-stdin '$reg' 2>&1 | grep -q 'Login Succeeded'"
  check "[buildah] ... the password is in the keyring" test "$(secret-tool lookup server "$reg" docker_cli 1)" = registry-pass
  check "[buildah] pull with the helper's credentials" \
    bash -c "'$bud' pull --quiet --tls-verify=false --signature-policy '$dir/policy.json' '$image' >/dev/null"
  check "[buildah] logout erases through the helper" bash -c "'$bud' logout '$reg' 2>&1 | grep -qF 'Removed login credentials for $reg'"
  check "[buildah] ... asking it get, store, get, erase" bash -c "[ \"\$(paste -sd' ' '$calls')\" = 'get store get erase' ]"
  check "[buildah] ... and the keyring item is gone" bash -c "! secret-tool lookup server '$reg' docker_cli 1"

  kill "$registry_pid" 2>/dev/null; wait "$registry_pid" 2>/dev/null
  unset DOCKER_CREDENTIAL_ACR_STORE
}
