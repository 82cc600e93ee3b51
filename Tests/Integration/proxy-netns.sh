#!/usr/bin/env bash
# The proxy checks of proxy.sh, run inside the network namespace it makes:
#   unshare --net --fork bash proxy-netns.sh HELPER WORK STORE
set -uo pipefail
HELPER=$1
WORK=$2
here=$(dirname "$(readlink -f "$0")")
mkdir -p "$WORK"; chmod 755 "$WORK"
export WORK XDG_STATE_HOME="$WORK/state" DOCKER_CREDENTIAL_ACR_STORE=$3
mkdir -p "$WORK/bin"; ln -sf "$HELPER" "$WORK/bin/docker-credential-acr"
ip link set lo up && ip addr add 192.0.2.10/32 dev lo || { echo "FAIL: [proxy $3] cannot set up the namespace's address"; exit 1; }
source "$here/lib.sh"
source "$here/acr.sh"
EMU_HOST=192.0.2.10 emulator_start
# tinyproxy drops to user nobody: its folders are where nobody may reach them.
PROXIES=$(mktemp -d /tmp/docker-credential-acr-proxies.XXXXXX); chmod 755 "$PROXIES"
trap 'kill "$EMU_PID" $(cat "$PROXIES"/*/pid 2>/dev/null) 2>/dev/null; rm -rf "$PROXIES"' EXIT

# tinyproxy PORT [DIRECTIVE…] : a tinyproxy on 127.0.0.1:PORT, its log in $PROXIES/PORT/log
tinyproxy_start() {
  local port=$1; shift
  local dir="$PROXIES/$port"; mkdir -p "$dir"; chmod 777 "$dir"
  { printf 'User nobody\nGroup nogroup\nPort %s\nListen 127.0.0.1\nTimeout 30\nLogLevel Connect\nMaxClients 50\nAllow 127.0.0.1\n' "$port"
    printf 'LogFile "%s/log"\nPidFile "%s/pid"\n' "$dir" "$dir"
    printf '%s\n' "$@"; } >"$dir/conf"
  tinyproxy -d -c "$dir/conf" >"$dir/stderr" 2>&1 &
  for _ in $(seq 250); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0; sleep 0.02; done
  return 1
}
tunnels() { local n; n=$(grep -c "CONNECT 192.0.2.10:" "$PROXIES/$1/log" 2>/dev/null); echo "${n:-0}"; }

if tinyproxy_start 3128 && tinyproxy_start 3129 'BasicAuth proxyuser proxy-pass' && tinyproxy_start 3130 'ConnectPort 1'; then
  pass "[proxy $3] tinyproxy: open, with basic auth, and refusing tunnels"
else
  fail "[proxy $3] tinyproxy: open, with basic auth, and refusing tunnels" "$(cat "$PROXIES"/*/stderr)"
fi
VIA=(SSL_CERT_FILE="$EMU_DIR/tls-cert.pem" AZURE_AUTHORITY_HOST="$EMU_TLS/" DOCKER_CREDENTIAL_ACR_ENDPOINTS="$REG=$EMU_TLS/acr/$REG")
# proxy_get NAME=VALUE… : a cold get of $REG with Azure AD and the registry over HTTPS on 192.0.2.10
proxy_get() {
  forget_tokens
  PROXY_RC=0
  acr_env "${SP[@]}" "${VIA[@]}" "$@" -- "$HELPER" get <<<"$REG" >"$WORK/proxy.answer" 2>"$WORK/proxy.err" || PROXY_RC=$?
}
derived() { [ "$PROXY_RC" = 0 ] && jq -e '.Username == "00000000-0000-0000-0000-000000000000"' "$WORK/proxy.answer" >/dev/null || { cat "$WORK/proxy.answer"; return 1; }; }

s="[proxy $3]"
before=$(tunnels 3128)
proxy_get HTTPS_PROXY=http://127.0.0.1:3128
check "$s HTTPS_PROXY: a token, through the proxy" derived
check "$s ... through CONNECT (Azure AD and the exchange share the tunnel to their one host)" test "$(tunnels 3128)" -ge $((before + 1))
before=$(tunnels 3128)
proxy_get https_proxy=http://127.0.0.1:3128 NO_PROXY=.example.com,192.0.2.10
check "$s NO_PROXY naming the address: a token" derived
check "$s ... directly" test "$(tunnels 3128)" = "$before"
proxy_get https_proxy=http://127.0.0.1:3128 no_proxy=192.0.2.0/24
check "$s no_proxy with a CIDR range: a token" derived
check "$s ... directly" test "$(tunnels 3128)" = "$before"
mkdir -p "$WORK/config/docker-credential-acr"
echo '{"proxy": {"https": "http://127.0.0.1:3128"}}' >"$WORK/config/docker-credential-acr/config.json"
proxy_get XDG_CONFIG_HOME="$WORK/config"
check "$s the configuration file's proxy (for daemons without the variables): a token" derived
check "$s ... through the proxy" test "$(tunnels 3128)" -gt "$before"

proxy_get HTTPS_PROXY=http://proxyuser:proxy-pass@127.0.0.1:3129
check "$s a proxy with basic auth: user and password from HTTPS_PROXY" derived
proxy_get HTTPS_PROXY=http://proxyuser:wrong-proxy-pass@127.0.0.1:3129
cp "$WORK/proxy.answer" "$WORK/wrong-password.answer"
check "$s ... a wrong password: the cause, at once" grep -qF \
  "$REG: service principal (AZURE_CLIENT_SECRET): the proxy http://…@127.0.0.1:3129 would not take the request to $EMU_TLS: it did not open a tunnel: it refused the user and password given (401); check HTTPS_PROXY" \
  "$WORK/wrong-password.answer"
check "$s ... and the password is never shown or logged" bash -c \
  "! grep -q wrong-proxy-pass '$WORK/proxy.answer' '$WORK/proxy.err' '$XDG_STATE_HOME/docker-credential-acr/log'"
t0=$(date +%s%N)
proxy_get HTTPS_PROXY=http://127.0.0.1:3130
check "$s a proxy that refuses the tunnel: the cause, with the status it answered the CONNECT" grep -qF "would not take the request to $EMU_TLS: it did not open a tunnel: it does not allow this host (403)" "$WORK/proxy.answer"
check "$s ... at once, not after the budget" test $(( ($(date +%s%N) - t0) / 1000000 )) -lt 5000
proxy_get HTTPS_PROXY=http://127.0.0.1:9
check "$s a proxy that is not there: the cause names it" grep -qF "the proxy http://127.0.0.1:9 would not take the request" "$WORK/proxy.answer"

# diagnose goes the same way, and says which way.
mkdir -p "$WORK/docker"; echo '{"credsStore": "acr"}' >"$WORK/docker/config.json"
acr_env "${SP[@]}" "${VIA[@]}" HTTPS_PROXY=http://proxyuser:proxy-pass@127.0.0.1:3129 DOCKER_CONFIG="$WORK/docker" -- \
  "$HELPER" diagnose --json "$REG" >"$WORK/diag.json" 2>/dev/null
check "$s diagnose: the route of each endpoint, without the password, and that the tunnel opens" jq -e --arg t "$EMU_TLS" \
  'any(.checks[]; .code == "PROXY_CONFIGURATION_ERROR" and .status == "ok" and (.found | contains("HTTPS_PROXY=http://…@127.0.0.1:3129: " + $t + " through http://…@127.0.0.1:3129 (CONNECT opened)")))' "$WORK/diag.json"
check "$s diagnose: the registry answers through the proxy" jq -e 'any(.checks[]; .code == "CONNECTIVITY_CHALLENGE_ERROR" and .status == "ok")' "$WORK/diag.json"
check "$s diagnose: ... and so does the exchange" jq -e 'any(.checks[]; .code == "CONNECTIVITY_REFRESH_TOKEN_ERROR" and .status == "ok")' "$WORK/diag.json"
check "$s diagnose: no proxy password in the report" bash -c "! grep -q proxy-pass '$WORK/diag.json'"
acr_env "${SP[@]}" "${VIA[@]}" HTTPS_PROXY=http://127.0.0.1:3130 DOCKER_CONFIG="$WORK/docker" -- \
  "$HELPER" diagnose --json "$REG" >"$WORK/diag-refused.json" 2>/dev/null
check "$s diagnose: a proxy that will not open the tunnel is the problem it reports" jq -e --arg t "$EMU_TLS" \
  'any(.checks[]; .code == "PROXY_CONFIGURATION_ERROR" and .status == "error" and (.found | contains("the proxy http://127.0.0.1:3130 would not take the request to " + $t + ": it did not open a tunnel")))' "$WORK/diag-refused.json"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
