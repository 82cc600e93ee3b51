#!/usr/bin/env bash
# The main job, end to end, against a local setup: Docker logs in to a registry through the helper,
# the password lands in the keyring (not in config.json), Docker reuses it, and logout erases it.
# Everything is local: Debian's docker-registry on 127.0.0.1, the private keyring of with-keyring.sh.
#
#   Scripts/with-keyring.sh Scripts/demo.sh PATH/TO/docker-credential-acr     (make demo does this)
set -euo pipefail
helper=$(readlink -f "${1:?usage: demo.sh PATH/TO/docker-credential-acr}")
port=${DEMO_REGISTRY_PORT:-5057}
registry=127.0.0.1:$port
work=$(mktemp -d "${TMPDIR:-/tmp}/docker-credential-acr-demo.XXXXXX")
trap 'kill "${registry_pid:-}" 2>/dev/null; rm -rf "$work"' EXIT
source "$(dirname "$(readlink -f "$0")")/test-image.sh"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

mkdir -p "$work/bin" "$work/docker" "$work/registry"
ln -s "$helper" "$work/bin/docker-credential-acr"
export PATH="$work/bin:$PATH" DOCKER_CONFIG="$work/docker"

step "A local registry on $registry (user demo, password demo-password)"
htpasswd -Bbn demo demo-password >"$work/registry/htpasswd"
cat >"$work/registry/config.yml" <<YAML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $work/registry/data}}
http: {addr: "$registry", secret: demo-only}
auth: {htpasswd: {realm: demo, path: $work/registry/htpasswd}}
YAML
docker-registry serve "$work/registry/config.yml" >"$work/registry/log" 2>&1 &
registry_pid=$!
for _ in $(seq 250); do curl -s -o /dev/null "http://$registry/v2/" && break; sleep 0.02; done
make_test_image "$work/image"
skopeo copy --quiet --format v2s2 --dest-tls-verify=false --dest-creds demo:demo-password \
  "oci:$work/image:latest" "docker://$registry/demo/hello:1"
echo "pushed $registry/demo/hello:1"

step "Docker is told to keep credentials with the helper"
echo '{"credsStore": "acr"}' >"$DOCKER_CONFIG/config.json"
show cat "$DOCKER_CONFIG/config.json"

step "docker login: the helper's 'store' puts the password in the keyring"
echo demo-password | show docker login "$registry" -u demo --password-stdin
show cat "$DOCKER_CONFIG/config.json"; echo
echo "The keyring item (secret-tool, secret hidden):"
secret-tool search --all server "$registry" 2>&1 | grep -v '^secret = ' | sed 's/^/    /'

step "Docker reuses the stored credentials (the helper's 'get')"
show docker manifest inspect --insecure "$registry/demo/hello:1" | head -5
echo "    …"
show docker-credential-acr list

step "docker logout: the helper's 'erase' removes the item"
show docker logout "$registry"
if secret-tool search --all server "$registry" 2>&1 | grep -q .; then echo "the item is still there"; exit 1; fi
echo "the keyring holds no credentials for $registry any more"
echo; echo "Demo complete."
