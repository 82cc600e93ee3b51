#!/usr/bin/env bash
# The main job, end to end, against a local setup:
# 1. Docker logs in to a registry through the helper, the password lands in the keyring (not in
#    config.json), Docker reuses it, and logout erases it.
# 2. A registry that trusts ACR tokens: skopeo and Docker reach it with a token the helper derives from a
#    service principal, through Azure AD and ACR token endpoints served by the Azure emulator.
# Everything is local: Debian's docker-registry and the emulator on 127.0.0.1, the private keyring of
# with-keyring.sh.
#
#   Scripts/with-keyring.sh Scripts/demo.sh PATH/TO/docker-credential-acr     (make demo does this)
set -euo pipefail
helper=$(readlink -f "${1:?usage: demo.sh PATH/TO/docker-credential-acr}")
port=${DEMO_REGISTRY_PORT:-5057}
registry=127.0.0.1:$port
acr=127.0.0.1:$((port + 1))
work=$(mktemp -d "${TMPDIR:-/tmp}/docker-credential-acr-demo.XXXXXX")
trap 'kill ${registry_pid:-} ${acr_pid:-} ${emulator_pid:-} 2>/dev/null; rm -rf "$work"' EXIT
here=$(dirname "$(readlink -f "$0")")
source "$here/test-image.sh"

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

step "A local stand-in for Azure: Azure AD and ACR token endpoints, and a registry that trusts them"
tenant=11111111-1111-1111-1111-111111111111 app=aaaaaaaa-0000-0000-0000-000000000001
mkdir -p "$work/azure" "$work/acr" "$work/config/docker-credential-acr"
cat >"$work/azure/config.json" <<JSON
{"tenants": ["$tenant"],
 "apps": [{"client_id": "$app", "object_id": "0a000000-0000-0000-0000-000000000001", "tenant": "$tenant",
           "secrets": [{"value": "demo-client-secret"}]}],
 "registries": {"$acr": {"roles": {"$app": ["AcrPush"]}}}}
JSON
python3 "$here/../Tests/Emulator/azure_emulator.py" --config "$work/azure/config.json" --state-dir "$work/azure" \
  --port-file "$work/azure/port" >"$work/azure/log" 2>&1 &
emulator_pid=$!
for _ in $(seq 500); do [ -s "$work/azure/port" ] && break; sleep 0.02; done
emulator=http://127.0.0.1:$(cat "$work/azure/port")
cat >"$work/acr/config.yml" <<YAML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $work/acr/data}}
http: {addr: "$acr", secret: demo-only}
auth:
  token: {realm: "$emulator/acr/$acr/oauth2/token", service: "$acr", issuer: "Azure Container Registry", rootcertbundle: "$work/azure/signing-cert.pem"}
YAML
docker-registry serve "$work/acr/config.yml" >"$work/acr/log" 2>&1 &
acr_pid=$!
for _ in $(seq 250); do curl -s -o /dev/null "http://$acr/v2/" && break; sleep 0.02; done
echo "Azure emulator on $emulator; a registry on $acr that accepts only ACR tokens"

step "The helper is told: $acr is an ACR registry, and this machine is a service principal"
echo '{"registries": {"'"$acr"'": {"identity": "service-principal"}}}' >"$work/config/docker-credential-acr/config.json"
export XDG_CONFIG_HOME="$work/config" AZURE_TENANT_ID=$tenant AZURE_CLIENT_ID=$app AZURE_CLIENT_SECRET=demo-client-secret
export AZURE_AUTHORITY_HOST="$emulator/" DOCKER_CREDENTIAL_ACR_ENDPOINTS="$acr=$emulator/acr/$acr"
echo '{"credsStore": "acr", "credHelpers": {"'"$acr"'": "acr"}}' >"$DOCKER_CONFIG/config.json"
show cat "$work/config/docker-credential-acr/config.json"
echo "AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET are set; no docker login, no az acr login."

step "skopeo pushes and docker pulls with a token the helper derived"
REGISTRY_AUTH_FILE="$DOCKER_CONFIG/config.json" show skopeo copy --quiet --format v2s2 --dest-tls-verify=false \
  "oci:$work/image:latest" "docker://$acr/demo/hello:1"
show docker manifest inspect --insecure "$acr/demo/hello:1" | head -3
echo "    …"
echo "What get answers (the token shown by its claims only):"
echo "$acr" | docker-credential-acr get | jq -r '.Username, (.Secret | split(".")[1] | gsub("-";"+") | gsub("_";"/") | @base64d | fromjson | {iss, aud, grant_type, expires_in_minutes: ((.exp - now) / 60 | floor)})'
echo "Requests to Azure so far: $(curl -s "$emulator/_emulator/stats" | jq -c '{aad_token, acr_exchange}')"
echo "$acr" | docker-credential-acr get >/dev/null
echo "After one more get (served from the cache): $(curl -s "$emulator/_emulator/stats" | jq -c '{aad_token, acr_exchange}')"

step "docker-credential-acr diagnose: everything a login needs, checked live"
show docker-credential-acr diagnose "$acr" --pull demo/hello --push demo/hello
step "... and with a wrong client secret: the cause and the fix"
AZURE_CLIENT_SECRET=not-the-secret docker-credential-acr diagnose "$acr" | grep -E "✗|^  \[|would" || true
echo; echo "Demo complete."
