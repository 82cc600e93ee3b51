#!/usr/bin/env bash
# Self-test of azure_emulator.py: starts it on free ports (three configurations, the first also with its TLS
# listener), exercises every endpoint, error and fault with curl + jq, prints PASS:/FAIL: per check and "N passed, N failed"; exit 1 on any failure.
# Needs python3, openssl, curl and jq. Touches nothing outside a temporary directory.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT

T1=11111111-1111-1111-1111-111111111111
T2=22222222-2222-2222-2222-222222222222
APP=aaaaaaaa-0000-0000-0000-000000000001      # AcrPush on myregistry; secret, certificate and federated credentials
SYS_MI=bbbbbbbb-0000-0000-0000-000000000002   # system-assigned managed identity, AcrPull
NOROLE=cccccccc-0000-0000-0000-000000000003   # app with no role anywhere
USER_MI=dddddddd-0000-0000-0000-000000000004  # user-assigned managed identity
REG=myregistry.azurecr.io
PUBLIC=public.azurecr.io                      # anonymous pull enabled
ACR_RESOURCE=https://containerregistry.azure.net
ACR_SCOPE=$ACR_RESOURCE/.default
NULL_GUID=00000000-0000-0000-0000-000000000000
SUBJECT=system:serviceaccount:default:builder
CLI=04b07795-8ddb-461a-bbee-02f9e1bf7b46       # the Azure CLI's public client id
PUB2=f2f2f2f2-0000-0000-0000-0000000000f2      # a second public client of the main configuration
ALICE=alice@contoso.com                        # user of T1, AcrPull on myregistry
ALICE_OID=e0000000-0000-0000-0000-0000000000e1
BOB=bob@contoso.com                            # user of T1, no role
BOB_OID=e0000000-0000-0000-0000-0000000000e2
CAROL=carol@fabrikam.com                       # user of T2, AcrPush on myregistry
CAROL_OID=e0000000-0000-0000-0000-0000000000e3

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS: $1"; }
fail() { failed=$((failed + 1)); echo "FAIL: $1${2:+ ($2)}"; }

# --- HTTP: req METHOD URL [curl args...] leaves $STATUS, $CURL_RC, $WORK/body and $WORK/headers ---------------
req() {
    local method=$1 url=$2
    shift 2
    STATUS=$(curl -sS -X "$method" -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' --max-time 20 \
        "$@" "$url" 2>"$WORK/curl.err")
    CURL_RC=$?
}
body() { cat "$WORK/body"; }
header_value() { grep -i "^$1:" "$WORK/headers" | head -n1 | cut -d' ' -f2- | tr -d '\r'; }

expect_status() {  # expect_status CODE DESCRIPTION
    if [ "$STATUS" = "$1" ]; then pass "$2: status $1"; else fail "$2: status $1" "got $STATUS: $(head -c 300 "$WORK/body")"; fi
}
expect_jq() {  # expect_jq FILTER DESCRIPTION [jq args...] -- FILTER must yield true on the last body
    local filter=$1 what=$2
    shift 2
    if jq -e "$@" "$filter" "$WORK/body" >/dev/null 2>&1; then pass "$what"; else fail "$what" "$filter on $(head -c 300 "$WORK/body")"; fi
}
expect_json_type() {
    local type
    type=$(header_value Content-Type)
    if [ "$type" = "application/json; charset=utf-8" ]; then pass "$1: JSON content type"; else fail "$1: JSON content type" "$type"; fi
}
check() {  # check DESCRIPTION COMMAND... -- passes when the command succeeds
    local what=$1
    shift
    if "$@" >/dev/null; then pass "$what"; else fail "$what"; fi
}

# --- JWT helpers --------------------------------------------------------------------------------------------
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
b64url_decode() {
    local s=${1//-/+}
    s=${s//_//}
    while [ $((${#s} % 4)) -ne 0 ]; do s+="="; done
    printf '%s' "$s" | base64 -d
}
jwt_header() { b64url_decode "$(cut -d. -f1 <<<"$1")"; }
jwt_claims() { b64url_decode "$(cut -d. -f2 <<<"$1")"; }
jwt_verifies() {  # jwt_verifies TOKEN PUBLIC_KEY_PEM
    printf '%s' "${1%.*}" | openssl dgst -sha256 -verify "$2" -signature <(b64url_decode "${1##*.}") >/dev/null 2>&1
}
claims_ok() {  # claims_ok TOKEN FILTER [jq args...]
    local token=$1 filter=$2
    shift 2
    jwt_claims "$token" | jq -e "$@" "$filter" >/dev/null 2>&1
}
sign_jwt() {  # sign_jwt HEADER_JSON CLAIMS_JSON KEY_PEM
    local input
    input="$(printf '%s' "$1" | b64url).$(printf '%s' "$2" | b64url)"
    printf '%s.%s' "$input" "$(printf '%s' "$input" | openssl dgst -sha256 -sign "$3" | b64url)"
}
thumbprint() {  # thumbprint CERT_PEM sha1|sha256 -> base64url digest of the DER
    openssl x509 -in "$1" -outform DER | openssl dgst -"$2" -binary | b64url
}
assertion() {  # assertion KEY CERT_FOR_X5T AUD [ISS] [EXP_OFFSET] [x5t|x5t#S256] -- a certificate client assertion
    local key=$1 cert=$2 aud=$3 iss=${4:-$APP} exp_offset=${5:-600} field=${6:-x5t} x5t header claims
    if [ "$field" = x5t ]; then x5t=$(thumbprint "$cert" sha1); else x5t=$(thumbprint "$cert" sha256); fi
    header=$(jq -nc --arg f "$field" --arg t "$x5t" '{alg:"RS256",typ:"JWT"} + {($f):$t}')
    claims=$(jq -nc --arg aud "$aud" --arg iss "$iss" --argjson off "$exp_offset" \
        '(now|floor) as $n | {aud:$aud, iss:$iss, sub:$iss, jti:"j-\($n)-\($off)", nbf:$n, exp:($n + $off)}')
    sign_jwt "$header" "$claims" "$key"
}

# --- emulator instances -------------------------------------------------------------------------------------
start_emulator() {  # start_emulator NAME CONFIG [args...] -- sets $BASE and $STATE
    local name=$1 config=$2 i
    shift 2
    STATE=$WORK/$name
    mkdir -p "$STATE"
    python3 "$HERE/azure_emulator.py" --config "$config" --state-dir "$STATE" --port-file "$STATE/port" "$@" \
        >"$STATE/stdout" 2>&1 &
    PIDS+=($!)
    for i in $(seq 200); do
        [ -s "$STATE/port" ] && break
        sleep 0.05
    done
    if [ ! -s "$STATE/port" ]; then
        fail "emulator $name starts" "$(cat "$STATE/stdout")"
        echo "$passed passed, $failed failed"
        exit 1
    fi
    BASE=http://127.0.0.1:$(cat "$STATE/port")
    pass "emulator $name starts and writes its port file"
}

openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=sp -days 2 -keyout "$WORK/sp-key.pem" -out "$WORK/sp-cert.pem" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=other -days 2 -keyout "$WORK/other-key.pem" -out "$WORK/other-cert.pem" 2>/dev/null

cat >"$WORK/main.json" <<EOF
{
  "tenants": ["$T1", "$T2"],
  "apps": [
    {"client_id": "$APP", "object_id": "a0000000-0000-0000-0000-0000000000a1", "tenant": "$T1",
     "secrets": [{"value": "good-secret"}, {"value": "old-secret", "expired": true}],
     "certificates": ["sp-cert.pem"],
     "federated": [{"issuer": "https://oidc.emulator.local/", "subject": "$SUBJECT", "audience": "api://AzureADTokenExchange"},
                   {"issuer": "https://token.actions.githubusercontent.com", "subject": "repo:contoso/app:ref:refs/heads/main", "audience": "api://AzureADTokenExchange"},
                   {"issuer": "https://vstoken.dev.azure.com/e0e0e0e0-0000-0000-0000-00000000000e", "subject": "sc://contoso/app/acr", "audience": "api://AzureADTokenExchange"}]},
    {"client_id": "$NOROLE", "object_id": "c0000000-0000-0000-0000-0000000000c3", "tenant": "$T1",
     "secrets": [{"value": "c-secret"}]}
  ],
  "managed_identities": [
    {"client_id": "$SYS_MI", "object_id": "b0000000-0000-0000-0000-0000000000b2", "tenant": "$T1", "system_assigned": true},
    {"client_id": "$USER_MI", "object_id": "d0000000-0000-0000-0000-0000000000d4", "tenant": "$T1"}
  ],
  "users": [
    {"upn": "$ALICE", "name": "Alice", "object_id": "$ALICE_OID", "tenant": "$T1"},
    {"upn": "$BOB", "name": "Bob", "object_id": "$BOB_OID", "tenant": "$T1"},
    {"upn": "$CAROL", "name": "Carol", "object_id": "$CAROL_OID", "tenant": "$T2"}
  ],
  "public_clients": ["$CLI", "$PUB2"],
  "pipelines": {"access_token": "job-access-token", "organization_id": "e0e0e0e0-0000-0000-0000-00000000000e",
                "service_connections": {"5c000000-0000-0000-0000-00000000005c": "sc://contoso/app/acr"}},
  "registries": {
    "$REG": {"roles": {"$APP": ["AcrPush"], "$SYS_MI": ["AcrPull"], "$ALICE_OID": ["AcrPull"], "$CAROL_OID": ["AcrPush"]}},
    "other.azurecr.io": {},
    "$PUBLIC": {"roles": {"$APP": ["AcrPush"]}, "anonymous_pull": true}
  }
}
EOF
cat >"$WORK/multi.json" <<EOF
{"tenants": ["$T1"], "apps": [], "registries": {},
 "identity_header": "custom-header",
 "managed_identities": [
   {"client_id": "$SYS_MI", "object_id": "b0000000-0000-0000-0000-0000000000b2", "tenant": "$T1"},
   {"client_id": "$USER_MI", "object_id": "d0000000-0000-0000-0000-0000000000d4", "tenant": "$T1"}]}
EOF
echo "{\"tenants\": [\"$T1\"], \"registries\": {}, \"public_clients\": [\"$PUB2\"]}" >"$WORK/empty.json"

start_emulator main "$WORK/main.json" --tls-port-file "$WORK/main/tls-port"
MAIN=$BASE
MAIN_STATE=$STATE
SIGNING_PUB=$WORK/signing-pub.pem
openssl x509 -in "$MAIN_STATE/signing-cert.pem" -pubkey -noout >"$SIGNING_PUB"
check "signing key and certificate are in the state dir" test -s "$MAIN_STATE/signing-key.pem" -a -s "$MAIN_STATE/signing-cert.pem"
TOKEN_URL=$MAIN/$T1/oauth2/v2.0/token

aad() {  # aad [curl form args...] -- POST to the main tenant's token endpoint
    req POST "$TOKEN_URL" "$@"
}
expect_aad_error() {  # expect_aad_error STATUS ERROR CODE DESCRIPTION_PREFIX WHAT
    expect_status "$1" "$5"
    expect_jq '.error == $e and .error_codes == [$c] and (.error_description | startswith($d))
         and (.error_description | test(" Trace ID: [0-9a-f-]{36} Correlation ID: [0-9a-f-]{36} Timestamp: \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ$"))
         and (.timestamp | test("^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ$")) and (.trace_id | length == 36)
         and (.correlation_id | length == 36) and .error_uri == "https://login.microsoftonline.com/error?code=\($c)"' \
        "$5: $2 AADSTS$3 in AAD's error shape" --arg e "$2" --argjson c "$3" --arg d "AADSTS$3: $4"
}

echo "== 1. AAD token endpoint: client secret"
aad -d grant_type=client_credentials -d client_id=$APP -d client_secret=good-secret --data-urlencode scope=$ACR_SCOPE
expect_status 200 "secret"
expect_json_type "secret"
check "secret: Content-Length matches the body" test "$(header_value Content-Length)" = "$(wc -c <"$WORK/body")"
expect_jq '(keys_unsorted == ["token_type","expires_in","ext_expires_in","access_token"]) and .token_type == "Bearer"
           and .expires_in == 3599 and .ext_expires_in == 3599' "secret: v2.0 body with numeric expires_in"
AAD_TOKEN=$(jq -r .access_token "$WORK/body")
check "AAD token: RS256 signature verifies with the emulator certificate" jwt_verifies "$AAD_TOKEN" "$SIGNING_PUB"
CERT_B64=$(openssl x509 -in "$MAIN_STATE/signing-cert.pem" -outform DER | base64 -w0)
check "AAD token: header typ, alg, kid and x5c = signing certificate" \
    bash -c 'jq -e --arg c "$2" ".typ == \"JWT\" and .alg == \"RS256\" and (.kid | length > 0) and .x5c == [\$c]" <<<"$1" >/dev/null' _ "$(jwt_header "$AAD_TOKEN")" "$CERT_B64"
check "AAD token: claims aud, iss, tid, oid, appid, sub, idtyp, ver, exp = iat + 3599" claims_ok "$AAD_TOKEN" \
    '.aud == $r and .iss == "https://sts.windows.net/\($t)/" and .tid == $t and .oid == "a0000000-0000-0000-0000-0000000000a1"
     and .appid == $a and .sub == .oid and .idtyp == "app" and .ver == "1.0" and .exp == .iat + 3599 and .nbf <= .iat' \
    --arg r "$ACR_RESOURCE" --arg t "$T1" --arg a "$APP"
aad -d grant_type=client_credentials -d client_id=$APP -d client_secret=old-secret --data-urlencode scope=$ACR_SCOPE
expect_aad_error 401 invalid_client 7000222 "The provided client secret keys for app '$APP' are expired." "expired secret"
aad -d grant_type=client_credentials -d client_id=$APP -d client_secret=wrong --data-urlencode scope=$ACR_SCOPE \
    -H "client-request-id: 12345678-1234-1234-1234-123456789abc"
expect_aad_error 401 invalid_client 7000215 "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '$APP'." "wrong secret"
expect_jq '.correlation_id == "12345678-1234-1234-1234-123456789abc"' "wrong secret: correlation id echoes client-request-id"
req POST "$MAIN/99999999-9999-9999-9999-999999999999/oauth2/v2.0/token" -d grant_type=client_credentials \
    -d client_id=$APP -d client_secret=good-secret --data-urlencode scope=$ACR_SCOPE
expect_aad_error 400 invalid_request 90002 "Tenant '99999999-9999-9999-9999-999999999999' not found." "unknown tenant"
aad -d grant_type=client_credentials -d client_id=$SYS_MI -d client_secret=x --data-urlencode scope=$ACR_SCOPE
expect_aad_error 400 unauthorized_client 700016 "Application with identifier '$SYS_MI' was not found in the directory '$T1'." "unknown client"
req POST "$MAIN/$T2/oauth2/v2.0/token" -d grant_type=client_credentials -d client_id=$APP -d client_secret=good-secret --data-urlencode scope=$ACR_SCOPE
expect_aad_error 400 unauthorized_client 700016 "Application with identifier '$APP' was not found in the directory '$T2'." "app of another tenant"
aad -d client_id=$APP -d client_secret=good-secret --data-urlencode scope=$ACR_SCOPE
expect_aad_error 400 invalid_request 900144 "The request body must contain the following parameter: 'grant_type'." "missing grant_type"
aad -d grant_type=client_credentials -d client_secret=good-secret --data-urlencode scope=$ACR_SCOPE
expect_aad_error 400 invalid_request 900144 "The request body must contain the following parameter: 'client_id'." "missing client_id"
aad -d grant_type=client_credentials -d client_id=$APP -d client_secret=good-secret
expect_aad_error 400 invalid_request 900144 "The request body must contain the following parameter: 'scope'." "missing scope"
req POST "$TOKEN_URL" -H 'Content-Type: application/json' -d '{"grant_type":"client_credentials"}'
expect_aad_error 400 invalid_request 900144 "The request body must contain the following parameter: 'grant_type'." "JSON instead of a form"
aad -d grant_type=password -d client_id=$APP -d client_secret=good-secret --data-urlencode scope=$ACR_SCOPE
expect_aad_error 400 unsupported_grant_type 70003 "The app requested an unsupported grant type 'password'." "unsupported grant type"
aad -d grant_type=client_credentials -d client_id=$APP -d client_secret=good-secret --data-urlencode scope=$ACR_RESOURCE
expect_aad_error 400 invalid_scope 1002012 "The provided value for scope $ACR_RESOURCE is not valid." "scope without /.default"
aad -d grant_type=client_credentials -d client_id=$APP --data-urlencode scope=$ACR_SCOPE
expect_aad_error 401 invalid_client 7000216 "'client_assertion', 'client_secret' or 'request' is required" "no credential"
aad -d grant_type=client_credentials -d client_id=$APP -d client_secret=good-secret --data-urlencode scope=https://management.azure.com//.default
expect_jq '.access_token | split(".")[1] | gsub("-";"+") | gsub("_";"/") | . + ("=" * ((4 - length % 4) % 4)) | @base64d | fromjson | .aud == "https://management.azure.com/"' \
    "scope https://management.azure.com//.default gives aud https://management.azure.com/"

echo "== 1. AAD token endpoint: certificate assertion"
cert_login() {  # cert_login ASSERTION
    aad -d grant_type=client_credentials -d client_id=$APP --data-urlencode scope=$ACR_SCOPE \
        --data-urlencode client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
        --data-urlencode "client_assertion=$1"
}
cert_login "$(assertion "$WORK/sp-key.pem" "$WORK/sp-cert.pem" "$TOKEN_URL")"
expect_status 200 "certificate assertion (x5t)"
check "certificate assertion: token for the app" claims_ok "$(jq -r .access_token "$WORK/body")" '.appid == $a' --arg a "$APP"
cert_login "$(assertion "$WORK/sp-key.pem" "$WORK/sp-cert.pem" "${TOKEN_URL#http://}/" "$APP" 600 'x5t#S256')"
expect_status 200 "certificate assertion (x5t#S256, aud without scheme, trailing slash)"
cert_login "$(assertion "$WORK/other-key.pem" "$WORK/sp-cert.pem" "$TOKEN_URL")"
expect_aad_error 401 invalid_client 700027 "Client assertion failed signature validation." "assertion signed by another key"
cert_login "$(assertion "$WORK/other-key.pem" "$WORK/other-cert.pem" "$TOKEN_URL")"
expect_aad_error 401 invalid_client 700027 "Client assertion failed signature validation." "assertion with an unknown certificate"
cert_login "$(assertion "$WORK/sp-key.pem" "$WORK/sp-cert.pem" "$TOKEN_URL" "$APP" -30)"
expect_aad_error 401 invalid_client 700024 "Client assertion is not within its valid time range." "expired assertion"
cert_login "$(assertion "$WORK/sp-key.pem" "$WORK/sp-cert.pem" "https://login.microsoftonline.com/$T1/oauth2/v2.0/token")"
expect_aad_error 400 invalid_request 50027 "JWT token is invalid or malformed." "assertion for another audience"
cert_login "$(assertion "$WORK/sp-key.pem" "$WORK/sp-cert.pem" "$TOKEN_URL" "$NOROLE")"
expect_aad_error 400 invalid_request 50027 "JWT token is invalid or malformed." "assertion whose iss/sub is not the client_id"
aad -d grant_type=client_credentials -d client_id=$APP --data-urlencode scope=$ACR_SCOPE --data-urlencode "client_assertion=x.y.z"
expect_aad_error 400 invalid_request 900144 "The request body must contain the following parameter: 'client_assertion_type'." "assertion without its type"

echo "== 1. AAD token endpoint: federated (workload identity) assertion"
req GET "$MAIN/_emulator/federated-token?subject=$SUBJECT"
expect_status 200 "control federated-token"
check "federated-token is text/plain" test "$(header_value Content-Type)" = "text/plain; charset=utf-8"
FED=$(body)
check "federated token: default issuer and audience, signed by the emulator" claims_ok "$FED" \
    '.iss == "https://oidc.emulator.local/" and .aud == "api://AzureADTokenExchange" and .sub == $s and .exp == .iat + 3600' --arg s "$SUBJECT"
check "federated token: header has no x5t" bash -c 'jq -e "has(\"x5t\") | not" <<<"$1" >/dev/null' _ "$(jwt_header "$FED")"
cert_login "$FED"
expect_status 200 "federated assertion"
req GET "$MAIN/_emulator/federated-token?subject=system:serviceaccount:default:intruder"
cert_login "$(body)"
expect_aad_error 400 invalid_request 70021 "No matching federated identity record found for presented assertion." "federated assertion with another subject"
req GET "$MAIN/_emulator/federated-token?subject=$SUBJECT&audience=api://Other"
cert_login "$(body)"
expect_aad_error 400 invalid_request 70021 "No matching federated identity record found for presented assertion." "federated assertion with another audience"
req GET "$MAIN/_emulator/federated-token?subject=$SUBJECT&lifetime=-60"
check "federated token with negative lifetime is already expired" claims_ok "$(body)" '.exp < now and .iat < .exp'
cert_login "$(body)"
expect_aad_error 401 invalid_client 700024 "Client assertion is not within its valid time range." "expired federated assertion"
FORGED="${FED%.*}.$(printf 'forged' | b64url)"
cert_login "$FORGED"
expect_aad_error 401 invalid_client 700027 "Client assertion failed signature validation." "federated assertion with a bad signature"

echo "== 2. IMDS"
IMDS=$MAIN/metadata/identity/oauth2/token
req GET "$IMDS?api-version=2018-02-01&resource=$ACR_RESOURCE"
expect_status 400 "IMDS without Metadata header"
expect_jq '. == {"error":"invalid_request","error_description":"Required metadata header not specified"}' "IMDS without Metadata header: body"
req GET "$IMDS?api-version=2018-02-01&resource=$ACR_RESOURCE" -H 'Metadata: true'
expect_status 200 "IMDS system-assigned"
expect_json_type "IMDS"
expect_jq '(keys == ["access_token","client_id","expires_in","expires_on","ext_expires_in","not_before","resource","token_type"])
           and ([.[] | type] | all(. == "string")) and .client_id == $c and .expires_in == "86399"
           and .ext_expires_in == "86399" and .resource == $r and .token_type == "Bearer"
           and ((.expires_on | tonumber) - (.not_before | tonumber) == 86399)' \
    "IMDS: every field a string, system-assigned identity" --arg c "$SYS_MI" --arg r "$ACR_RESOURCE"
check "IMDS token: aud = resource, oid of the identity" claims_ok "$(jq -r .access_token "$WORK/body")" \
    '.aud == $r and .appid == $c and .oid == "b0000000-0000-0000-0000-0000000000b2" and .tid == $t' \
    --arg r "$ACR_RESOURCE" --arg c "$SYS_MI" --arg t "$T1"
req GET "$IMDS?api-version=2018-02-01&resource=$ACR_RESOURCE&client_id=$USER_MI" -H 'Metadata: true'
expect_jq '.client_id == $c' "IMDS by client_id" --arg c "$USER_MI"
req GET "$IMDS?api-version=2018-02-01&resource=$ACR_RESOURCE&object_id=d0000000-0000-0000-0000-0000000000d4" -H 'Metadata: true'
expect_jq '.client_id == $c' "IMDS by object_id" --arg c "$USER_MI"
req GET "$IMDS?api-version=2018-02-01&resource=$ACR_RESOURCE&client_id=eeeeeeee-0000-0000-0000-000000000000" -H 'Metadata: true'
expect_status 400 "IMDS unknown client_id"
expect_jq '. == {"error":"invalid_request","error_description":"Identity not found"}' "IMDS unknown client_id: body"

echo "== 3. App Service / Container Apps identity"
MSI=$MAIN/msi/token
req GET "$MSI?api-version=2019-08-01&resource=$ACR_RESOURCE"
expect_status 400 "App Service without X-IDENTITY-HEADER"
expect_jq '. == {"statusCode":400,"message":"Missing or invalid X-IDENTITY-HEADER"}' "App Service without header: body"
req GET "$MSI?api-version=2019-08-01&resource=$ACR_RESOURCE" -H 'X-IDENTITY-HEADER: wrong'
expect_status 400 "App Service with a wrong X-IDENTITY-HEADER"
req GET "$MSI?api-version=2019-08-01&resource=$ACR_RESOURCE&client_id=$USER_MI" -H 'X-IDENTITY-HEADER: emulator-identity-header'
expect_status 200 "App Service with the default identity header"
expect_jq '(keys_unsorted == ["access_token","expires_on","resource","token_type","client_id"]) and (.expires_on | type == "string")
           and ((.expires_on | tonumber) > now) and .resource == $r and .token_type == "Bearer" and .client_id == $c' \
    "App Service body" --arg r "$ACR_RESOURCE" --arg c "$USER_MI"

echo "== 3b. Automation, Azure Machine Learning, Cloud Shell; expires_on forms"
req GET "$MAIN/automation/msi/token?api-version=2019-08-01&resource=$ACR_RESOURCE" -H 'X-IDENTITY-HEADER: emulator-identity-header'
expect_status 400 "Automation without Metadata: true"
req GET "$MAIN/automation/msi/token?api-version=2019-08-01&resource=$ACR_RESOURCE" -H 'X-IDENTITY-HEADER: emulator-identity-header' -H 'Metadata: true'
expect_jq '.client_id == $c and (.expires_on | tonumber) > now' "Automation with Metadata: true and its header" --arg c "$SYS_MI"
req GET "$MSI?resource=$ACR_RESOURCE" -H 'X-IDENTITY-HEADER: emulator-identity-header'
expect_status 400 "App Service without api-version"
for form in epoch_number date rfc3339; do
    req POST "$MAIN/_emulator/expires-on" -d "{\"format\": \"$form\"}"
    req GET "$MSI?api-version=2019-08-01&resource=$ACR_RESOURCE" -H 'X-IDENTITY-HEADER: emulator-identity-header'
    case $form in
        epoch_number) expect_jq '(.expires_on | type) == "number"' "expires_on as a number" ;;
        date) expect_jq '.expires_on | test("^[0-9]{2}/[0-9]{2}/[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} \\+00:00$")' "expires_on as MM/dd/yyyy HH:mm:ss +00:00" ;;
        rfc3339) expect_jq '.expires_on | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\+00:00$")' "expires_on as RFC 3339" ;;
    esac
done
req POST "$MAIN/_emulator/expires-on" -d '{"format": "fortnight"}'
expect_status 400 "an unknown expires_on form is refused"
req POST "$MAIN/_emulator/reset"
req GET "$MAIN/azureml/msi/token?api-version=2017-09-01&resource=$ACR_RESOURCE&clientid=$USER_MI" -H 'secret: emulator-msi-secret'
expect_jq '.client_id == $c and (.expires_on | type) == "string"' "Azure ML: clientid and the secret header" --arg c "$USER_MI"
req GET "$MAIN/azureml/msi/token?api-version=2017-09-01&resource=$ACR_RESOURCE" -H 'secret: wrong'
expect_status 401 "Azure ML with a wrong secret"
req POST "$MAIN/cloudshell/oauth2/token" -H 'Metadata: true' -d "resource=$ACR_RESOURCE"
expect_jq '(.access_token | length) > 100 and (.expires_in | type) == "string"' "Cloud Shell: POST form with Metadata: true"
req POST "$MAIN/cloudshell/oauth2/token" -d "resource=$ACR_RESOURCE"
expect_status 400 "Cloud Shell without Metadata: true"

echo "== 1c. OpenID configuration (MSAL's tenant discovery)"
req GET "$MAIN/$T1/v2.0/.well-known/openid-configuration"
expect_jq '.token_endpoint == $t and .device_authorization_endpoint == $d and .issuer == $i and (.authorization_endpoint | endswith("/oauth2/v2.0/authorize"))' \
    "discovery names this emulator's endpoints" --arg t "$TOKEN_URL" --arg d "$MAIN/$T1/oauth2/v2.0/devicecode" --arg i "$MAIN/$T1/v2.0"
req GET "$MAIN/99999999-9999-9999-9999-999999999999/v2.0/.well-known/openid-configuration"
expect_status 400 "discovery of an unknown tenant: AADSTS90002"

echo "== 3c. CI services' OIDC tokens, redeemed at Azure AD"
req GET "$MAIN/github/idtoken?api-version=2.0&audience=api%3A%2F%2FAzureADTokenExchange" -H 'Authorization: Bearer emulator-github-request-token'
expect_jq '(.value | length) > 100 and (.count | type) == "number"' "GitHub ID token: {count, value}"
GH_TOKEN=$(jq -r .value "$WORK/body")
check "GitHub ID token: issuer, subject, audience, minutes to live" claims_ok "$GH_TOKEN" \
    '.iss == "https://token.actions.githubusercontent.com" and .sub == "repo:contoso/app:ref:refs/heads/main" and .aud == "api://AzureADTokenExchange" and .exp - .iat == 300'
req GET "$MAIN/github/idtoken?api-version=2.0&audience=x" -H 'Authorization: Bearer stale'
expect_jq '. == {"message": "Bad credentials"}' "GitHub with another request token: 401 Bad credentials"
aad -d grant_type=client_credentials -d client_id=$APP --data-urlencode client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
    --data-urlencode "client_assertion=$GH_TOKEN" --data-urlencode scope=$ACR_SCOPE
expect_status 200 "a GitHub ID token redeemed as the federated client assertion"
PIPE="$MAIN/pipelines/contoso/app/_apis/distributedtask/hubs/build/plans/p1/jobs/j1/oidctoken"
req POST "$PIPE?api-version=7.1&serviceConnectionId=5c000000-0000-0000-0000-00000000005c" -H 'Authorization: Bearer job-access-token' -H 'Content-Type: application/json'
expect_jq '(.oidcToken | length) > 100' "Azure Pipelines OIDC token: {oidcToken}"
ADO_TOKEN=$(jq -r .oidcToken "$WORK/body")
check "Azure Pipelines token: the organisation's issuer, the service connection's subject" claims_ok "$ADO_TOKEN" \
    '.iss == "https://vstoken.dev.azure.com/e0e0e0e0-0000-0000-0000-00000000000e" and .sub == "sc://contoso/app/acr"'
aad -d grant_type=client_credentials -d client_id=$APP --data-urlencode client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
    --data-urlencode "client_assertion=$ADO_TOKEN" --data-urlencode scope=$ACR_SCOPE
expect_status 200 "an Azure Pipelines OIDC token redeemed as the federated client assertion"
req POST "$PIPE?api-version=7.1&serviceConnectionId=5c000000-0000-0000-0000-00000000005c" -H 'Authorization: Bearer other' -H 'Content-Type: application/json'
expect_status 302 "Azure Pipelines with a wrong token and no X-TFS-FedAuthRedirect: a redirect to sign in"
req POST "$PIPE?api-version=7.1&serviceConnectionId=5c000000-0000-0000-0000-00000000005c" -H 'Authorization: Bearer other' -H 'Content-Type: application/json' -H 'X-TFS-FedAuthRedirect: Suppress'
expect_status 401 "... with X-TFS-FedAuthRedirect: Suppress, a 401"
req POST "$PIPE?api-version=7.1&serviceConnectionId=unknown" -H 'Authorization: Bearer job-access-token' -H 'Content-Type: application/json'
expect_status 404 "Azure Pipelines: an unknown service connection"

echo "== 4. ACR challenge"
req GET "$MAIN/acr/$REG/v2/"
expect_status 401 "challenge"
expect_json_type "challenge"
check "challenge: WWW-Authenticate" test "$(header_value WWW-Authenticate)" = "Bearer realm=\"$MAIN/acr/$REG/oauth2/token\",service=\"$REG\""
expect_jq '. == {"errors":[{"code":"UNAUTHORIZED","message":"authentication required, visit https://aka.ms/acr/authorization for more information.","detail":null}]}' "challenge: body"
req GET "$MAIN/acr/unknown.azurecr.io/v2/"
expect_status 404 "challenge of an unknown registry"
expect_jq '. == {"errors":[{"code":"NAME_UNKNOWN","message":"registry not found"}]}' "unknown registry: body"

echo "== 4. ACR exchange"
exchange() {  # exchange AAD_TOKEN [SERVICE] [TENANT] [GRANT_TYPE] [REGISTRY]
    req POST "$MAIN/acr/${5:-$REG}/oauth2/exchange" -d "grant_type=${4:-access_token}" -d "service=${2:-$REG}" \
        -d "tenant=${3:-$T1}" --data-urlencode "access_token=$1"
}
exchange "$AAD_TOKEN"
expect_status 200 "exchange"
expect_json_type "exchange"
expect_jq 'keys == ["refresh_token"]' "exchange: body is only refresh_token"
REFRESH=$(jq -r .refresh_token "$WORK/body")
check "refresh token: signature verifies" jwt_verifies "$REFRESH" "$SIGNING_PUB"
check "refresh token: claims as ACR issues them" claims_ok "$REFRESH" \
    '(keys | sort) == (["jti","sub","nbf","exp","iat","iss","aud","version","rid","grant_type","appid","tenant","permissions","roles"] | sort)
     and .sub == "a0000000-0000-0000-0000-0000000000a1" and .iss == "Azure Container Registry" and .aud == $reg
     and .version == "1.0" and (.rid | test("^[0-9a-f]{32}$")) and .grant_type == "refresh_token" and .appid == $a
     and .tenant == $t and .permissions == {"actions":["read"],"notActions":null} and .roles == []
     and .exp == .iat + 10800 and .nbf <= .iat and (.jti | length == 36)' --arg reg "$REG" --arg a "$APP" --arg t "$T1"
exchange "$AAD_TOKEN" "$REG" "$T1" refresh_token
expect_status 400 "exchange with grant_type refresh_token"
expect_jq '.errors[0].code == "UNSUPPORTED"' "exchange wrong grant_type: UNSUPPORTED"
exchange "$AAD_TOKEN" other.azurecr.io
expect_status 400 "exchange with another service"
expect_jq '.errors[0].code == "UNSUPPORTED"' "exchange wrong service: UNSUPPORTED"
exchange "$AAD_TOKEN" "$REG" "$T2"
expect_status 401 "exchange with another tenant"
expect_jq '. == {"errors":[{"code":"UNAUTHORIZED","message":"tenant mismatch"}]}' "exchange tenant mismatch: body"
exchange "not-a-token"
expect_jq '. == {"errors":[{"code":"UNAUTHORIZED","message":"Invalid AAD access token"}]}' "exchange garbage token: Invalid AAD access token"
req GET "$MAIN/_emulator/aad-token?client_id=$APP&resource=https://vault.azure.net"
exchange "$(jq -r .accessToken "$WORK/body")"
expect_status 401 "exchange with a token for another resource"
expect_jq '.errors[0].message == "Invalid AAD access token"' "exchange other audience: Invalid AAD access token"
req GET "$MAIN/_emulator/aad-token?client_id=$APP&tenant=$T1&resource=https://management.core.windows.net/&lifetime=-10"
expect_status 200 "control aad-token"
expect_jq '(keys_unsorted == ["accessToken","expires_on","tenant"]) and (.expires_on | type == "number") and .expires_on < now and .tenant == $t' \
    "control aad-token: body" --arg t "$T1"
exchange "$(jq -r .accessToken "$WORK/body")"
expect_status 401 "exchange with an expired AAD token"
expect_jq '.errors[0].message == "AAD access token expired"' "exchange expired: AAD access token expired"
req GET "$MAIN/_emulator/aad-token?client_id=$APP"
check "control aad-token defaults: identity's tenant, management resource, aad lifetime" claims_ok "$(jq -r .accessToken "$WORK/body")" \
    '.tid == $t and .aud == "https://management.core.windows.net/" and .exp == .iat + 3599' --arg t "$T1"
exchange "$(jq -r .accessToken "$WORK/body")"
expect_status 200 "exchange with a management token from the fake az CLI"
exchange "$AAD_TOKEN" "unknown.azurecr.io" "$T1" access_token unknown.azurecr.io
expect_status 404 "exchange at an unknown registry"

echo "== 4. ACR token"
acr_token() {  # acr_token REFRESH_TOKEN [curl args...]
    local refresh=$1
    shift
    req POST "$MAIN/acr/$REG/oauth2/token" -d grant_type=refresh_token -d service=$REG \
        --data-urlencode "refresh_token=$refresh" "$@"
}
access_claims() { jwt_claims "$(jq -r .access_token "$WORK/body")"; }
acr_token "$REFRESH" --data-urlencode "scope=repository:team/app:pull,push,delete" --data-urlencode "scope=repository:base:pull registry:catalog:*"
expect_status 200 "access token (POST)"
expect_json_type "access token"
expect_jq 'keys == ["access_token"]' "access token (POST): body is only access_token"
ACCESS=$(jq -r .access_token "$WORK/body")
check "access token: signature verifies" jwt_verifies "$ACCESS" "$SIGNING_PUB"
check "access token: claims, AcrPush grants pull and push only" claims_ok "$ACCESS" \
    '.access == [{"type":"repository","name":"team/app","actions":["pull","push"]},
                 {"type":"repository","name":"base","actions":["pull"]},
                 {"type":"registry","name":"catalog","actions":["*"]}]
     and .iss == "Azure Container Registry" and .aud == $reg and .version == "1.0" and .grant_type == "access_token"
     and .roles == [] and .appid == $a and .tenant == $t and .sub == "a0000000-0000-0000-0000-0000000000a1"
     and .exp == .iat + 1200 and (.rid | test("^[0-9a-f]{32}$")) and (.jti | length == 36)' \
    --arg reg "$REG" --arg a "$APP" --arg t "$T1"
req GET "$MAIN/metadata/identity/oauth2/token?api-version=2018-02-01&resource=$ACR_RESOURCE" -H 'Metadata: true'
exchange "$(jq -r .access_token "$WORK/body")"
acr_token "$(jq -r .refresh_token "$WORK/body")" -d "scope=repository:team/app:pull,push"
check "managed identity with AcrPull gets pull only" bash -c 'jq -e ".access == [{\"type\":\"repository\",\"name\":\"team/app\",\"actions\":[\"pull\"]}]" >/dev/null' < <(access_claims)
aad -d grant_type=client_credentials -d client_id=$NOROLE -d client_secret=c-secret --data-urlencode scope=$ACR_SCOPE
exchange "$(jq -r .access_token "$WORK/body")"
expect_status 200 "exchange for an identity without a role"
acr_token "$(jq -r .refresh_token "$WORK/body")" -d "scope=repository:team/app:pull"
expect_status 200 "access token for an identity without a role"
check "identity without a role gets empty actions" bash -c 'jq -e ".access == [{\"type\":\"repository\",\"name\":\"team/app\",\"actions\":[]}]" >/dev/null' < <(access_claims)
acr_token "$REFRESH"
check "no scope: empty access" bash -c 'jq -e ".access == []" >/dev/null' < <(access_claims)
acr_token "garbage" -d scope=repository:x:pull
expect_status 401 "access token with an invalid refresh token"
expect_jq '.errors[0].code == "UNAUTHORIZED"' "invalid refresh token: UNAUTHORIZED"
acr_token "$AAD_TOKEN" -d scope=repository:x:pull
expect_status 401 "access token with an AAD token instead of a refresh token"
req POST "$MAIN/acr/$REG/oauth2/token" -d grant_type=password -d service=$REG --data-urlencode "refresh_token=$REFRESH"
expect_status 400 "access token with grant_type password"
req POST "$MAIN/acr/other.azurecr.io/oauth2/token" -d grant_type=refresh_token -d service=other.azurecr.io --data-urlencode "refresh_token=$REFRESH"
expect_status 401 "refresh token of another registry"
req GET "$MAIN/acr/$REG/oauth2/token?service=$REG&scope=repository:team/app:pull&account=$NULL_GUID" -u "$NULL_GUID:$REFRESH"
expect_status 200 "access token (GET, Basic auth as Docker does)"
expect_jq '(keys_unsorted == ["token","access_token"]) and .token == .access_token' "access token (GET): token and access_token"
check "access token (GET): scope granted" claims_ok "$(jq -r .token "$WORK/body")" '.access == [{"type":"repository","name":"team/app","actions":["pull"]}]'
req GET "$MAIN/acr/$REG/oauth2/token?service=$REG&scope=repository:team/app:pull" -u "someone:$REFRESH"
expect_status 401 "access token (GET) with a user other than the null GUID"
req GET "$MAIN/acr/$REG/oauth2/token?service=$REG&scope=repository:team/app:pull"
expect_status 401 "access token (GET) without credentials"
expect_jq '. == {"errors":[{"code":"UNAUTHORIZED","message":"authentication required, visit https://aka.ms/acr/authorization for more information."}]}' \
    "without credentials: ACR's UNAUTHORIZED body"
check "without credentials: WWW-Authenticate challenge" test "$(header_value WWW-Authenticate)" = "Bearer realm=\"$MAIN/acr/$REG/oauth2/token\",service=\"$REG\""
req GET "$MAIN/acr/$REG/oauth2/token?service=$REG" -u "$NULL_GUID:garbage"
expect_status 401 "access token (GET) with an invalid refresh token"

echo "== 4. ACR anonymous pull"
anonymous() {  # anonymous REGISTRY [curl args...] -- GET a token for REGISTRY with several scopes
    local registry=$1
    shift
    req GET "$MAIN/acr/$registry/oauth2/token?service=$registry&scope=repository:team/app:pull,push,delete&scope=repository:base:push&scope=registry:catalog:*" "$@"
}
anonymous "$PUBLIC"
expect_status 200 "anonymous pull: token without credentials"
expect_json_type "anonymous pull"
expect_jq '(keys_unsorted == ["token","access_token"]) and .token == .access_token' "anonymous pull: token and access_token"
ANON=$(jq -r .token "$WORK/body")
check "anonymous pull: signature verifies" jwt_verifies "$ANON" "$SIGNING_PUB"
check "anonymous pull: pull only, no push, delete or catalog" claims_ok "$ANON" \
    '.access == [{"type":"repository","name":"team/app","actions":["pull"]},
                 {"type":"repository","name":"base","actions":[]},
                 {"type":"registry","name":"catalog","actions":[]}]'
check "anonymous pull: empty sub, no appid or tenant, ACR's other claims" claims_ok "$ANON" \
    '.sub == "" and (has("appid") | not) and (has("tenant") | not) and .aud == $reg and .iss == "Azure Container Registry"
     and .grant_type == "access_token" and .version == "1.0" and .roles == [] and .exp == .iat + 1200' --arg reg "$PUBLIC"
anonymous "$REG"
expect_status 401 "no anonymous pull: 401 without credentials"
expect_jq '. == {"errors":[{"code":"UNAUTHORIZED","message":"authentication required, visit https://aka.ms/acr/authorization for more information."}]}' \
    "no anonymous pull: ACR's UNAUTHORIZED body"
check "no anonymous pull: WWW-Authenticate challenge" test "$(header_value WWW-Authenticate)" = "Bearer realm=\"$MAIN/acr/$REG/oauth2/token\",service=\"$REG\""
anonymous "$PUBLIC" -u "$NULL_GUID:stale-refresh-token"
expect_status 401 "anonymous pull: wrong Basic credentials still 401 (stale credentials block anonymous pull)"
expect_jq '.errors[0].code == "UNAUTHORIZED"' "anonymous pull, wrong credentials: UNAUTHORIZED"
anonymous "$PUBLIC" -u "admin:password"
expect_status 401 "anonymous pull: Basic credentials of another user still 401"
req GET "$MAIN/acr/$PUBLIC/oauth2/token?service=$REG&scope=repository:team/app:pull"
expect_status 400 "anonymous pull: another service"
req POST "$MAIN/acr/$PUBLIC/oauth2/token" -d grant_type=refresh_token -d service=$PUBLIC -d scope=repository:team/app:pull
expect_status 401 "anonymous pull: POST without a refresh token still 401"
exchange "$AAD_TOKEN" "$PUBLIC" "$T1" access_token "$PUBLIC"
anonymous "$PUBLIC" -u "$NULL_GUID:$(jq -r .refresh_token "$WORK/body")"
expect_status 200 "anonymous pull registry: Basic auth with a refresh token"
check "anonymous pull registry: Basic auth still gets the roles' actions" claims_ok "$(jq -r .token "$WORK/body")" \
    '.access[0].actions == ["pull","push"] and .access[2].actions == ["*"] and .appid == $a' --arg a "$APP"

echo "== 1b. A person's sign-in: device authorization grant"
DEVICE_URL=$MAIN/$T1/oauth2/v2.0/devicecode
USER_SCOPE="$ACR_SCOPE offline_access openid profile"
ACR_SCOPES_ANSWERED="$ACR_RESOURCE/user_impersonation $ACR_RESOURCE/.default"
devicecode() {  # devicecode SCOPE [URL] [CLIENT_ID] [curl args...] -- leaves $CODE and $UCODE
    local scope=$1 url=${2:-$DEVICE_URL} client=${3:-$CLI}
    shift $(($# < 3 ? $# : 3))
    req POST "$url" -d "client_id=$client" --data-urlencode "scope=$scope" "$@"
    CODE=$(jq -r '.device_code // empty' "$WORK/body" 2>/dev/null)
    UCODE=$(jq -r '.user_code // empty' "$WORK/body" 2>/dev/null)
}
poll() {  # poll DEVICE_CODE [TOKEN_URL] [CLIENT_ID]
    req POST "${2:-$TOKEN_URL}" -d grant_type=urn:ietf:params:oauth:grant-type:device_code -d "client_id=${3:-$CLI}" \
        --data-urlencode "device_code=$1"
}
approve() { req POST "$MAIN/_emulator/device-codes/approve" -d "$1"; }
sign_in() {  # sign_in USER SCOPE [TENANT] -- device code, approval and poll; leaves the token answer in the body
    devicecode "$2" "$MAIN/${3:-$T1}/oauth2/v2.0/devicecode"
    approve "{\"user\":\"$1\",\"user_code\":\"$UCODE\"}"
    poll "$CODE" "$MAIN/${3:-$T1}/oauth2/v2.0/token"
}
req POST "$MAIN/_emulator/lifetimes" -d '{"device_interval":1}'
expect_jq '.device_code == 900 and .device_interval == 1 and .aad_refresh == 7776000' "lifetimes: device_code and aad_refresh defaults, device_interval set"
devicecode "$USER_SCOPE"
expect_status 200 "devicecode"
expect_json_type "devicecode"
expect_jq 'keys_unsorted == ["user_code","device_code","verification_uri","expires_in","interval","message"]
           and .verification_uri == "https://microsoft.com/devicelogin" and .expires_in == 900 and .interval == 1
           and (.user_code | test("^[A-Z0-9]{9}$")) and (.device_code | length > 100) and (.device_code | startswith("eyJ") | not)' \
    "devicecode: the documented fields, expires_in 900, interval as set"
expect_jq '.message == "To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code \(.user_code) to authenticate."' \
    "devicecode: message names the verification URI and the user code"
CODE1=$CODE
UCODE1=$UCODE
req GET "$MAIN/_emulator/device-codes"
expect_jq '. == {"pending":[{"user_code":$u,"client_id":$c,"tenant":$t,"scope":$s}]}' "control device-codes: the pending code" \
    --arg u "$UCODE1" --arg c "$CLI" --arg t "$T1" --arg s "$USER_SCOPE"
check "control device-codes: never the device_code" bash -c '! grep -qF "$1" "$2"' _ "$CODE1" "$WORK/body"
poll "$CODE1"
expect_aad_error 400 authorization_pending 70016 "The provided request has not yet been authorized by the user." "poll before approval"
approve "{\"user\":\"$ALICE\"}"
expect_status 200 "approve the only pending code without naming it"
expect_jq '. == {"user_code":$u,"status":"approved","user":$a}' "approve: answer" --arg u "$UCODE1" --arg a "$ALICE"
req GET "$MAIN/_emulator/device-codes"
expect_jq '.pending == []' "an approved code is no longer pending"
poll "$CODE1"
expect_status 200 "poll after approval"
expect_json_type "device code tokens"
expect_jq 'keys_unsorted == ["token_type","scope","expires_in","ext_expires_in","access_token","refresh_token","id_token"]
           and .token_type == "Bearer" and .scope == $s and .expires_in == 3599 and .ext_expires_in == 3599' \
    "device code tokens: refresh_token (offline_access) and id_token (openid); .default answered as AAD does" --arg s "$ACR_SCOPES_ANSWERED"
ALICE_AT=$(jq -r .access_token "$WORK/body")
ALICE_RT=$(jq -r .refresh_token "$WORK/body")
ALICE_ID=$(jq -r .id_token "$WORK/body")
check "refresh token is opaque (not a JWT)" bash -c '[[ $1 != eyJ* && $1 != *.*.* && ${#1} -gt 100 ]]' _ "$ALICE_RT"
check "person's access token: RS256 signature verifies" jwt_verifies "$ALICE_AT" "$SIGNING_PUB"
check "person's access token: v1.0 user claims" claims_ok "$ALICE_AT" \
    '.aud == $r and .iss == "https://sts.windows.net/\($t)/" and .tid == $t and .oid == $o and .appid == $c and .appidacr == "0"
     and .idtyp == "user" and .upn == $u and .unique_name == $u and .name == "Alice" and .scp == "user_impersonation"
     and .ver == "1.0" and (.sub | test("^[A-Za-z0-9_-]{43}$")) and .sub != .oid and .exp == .iat + 3599 and .nbf == .iat' \
    --arg r "$ACR_RESOURCE" --arg t "$T1" --arg o "$ALICE_OID" --arg c "$CLI" --arg u "$ALICE"
ALICE_SUB=$(jwt_claims "$ALICE_AT" | jq -r .sub)
check "id_token: RS256 signature verifies" jwt_verifies "$ALICE_ID" "$SIGNING_PUB"
check "id_token: v2.0 claims, aud = client id, iss = {base}/{tid}/v2.0" claims_ok "$ALICE_ID" \
    '.aud == $c and .iss == "\($base)/\($t)/v2.0" and .tid == $t and .oid == $o and .sub == $sub
     and .preferred_username == $u and .name == "Alice" and .ver == "2.0" and .exp == .iat + 3600 and .nbf == .iat' \
    --arg c "$CLI" --arg base "$MAIN" --arg t "$T1" --arg o "$ALICE_OID" --arg sub "$ALICE_SUB" --arg u "$ALICE"
poll "$CODE1"
expect_aad_error 400 invalid_grant 70000 "The provided value for the input parameter 'device_code' is not valid." "a device code is redeemed once"
poll "DAQABIQEAAAD--not-a-code"
expect_aad_error 400 bad_verification_code 70000 "The provided value for the input parameter 'device_code' is not valid." "unknown device code"
req POST "$TOKEN_URL" -d grant_type=urn:ietf:params:oauth:grant-type:device_code -d client_id=$CLI
expect_aad_error 400 invalid_request 900144 "The request body must contain the following parameter: 'device_code'." "poll without device_code"

devicecode "$ACR_SCOPE"
CODE2=$CODE
UCODE2=$UCODE
devicecode "$ACR_SCOPE openid"
CODE3=$CODE
UCODE3=$UCODE
approve "{\"user\":\"$ALICE\"}"
expect_status 400 "approve without user_code when two codes are pending"
approve "{\"user\":\"$ALICE\",\"user_code\":\"$UCODE2\"}"
expect_status 200 "approve a code named by user_code"
poll "$CODE2"
expect_jq 'keys_unsorted == ["token_type","scope","expires_in","ext_expires_in","access_token"] and .scope == $s' \
    "no offline_access, no openid: neither refresh_token nor id_token" --arg s "$ACR_SCOPES_ANSWERED"
approve "{\"user\":\"$ALICE\",\"user_code\":\"$(tr 'A-Z' 'a-z' <<<"$UCODE3")\"}"
expect_status 200 "approve: user_code in lower case, as a person may type it"
poll "$CODE3"
expect_jq 'keys_unsorted == ["token_type","scope","expires_in","ext_expires_in","access_token","id_token"]' "openid without offline_access: id_token, no refresh_token"
approve "{\"user\":\"$ALICE\",\"user_code\":\"$UCODE3\"}"
expect_status 400 "approve a code that is no longer pending"
approve "{\"user\":\"$ALICE\"}"
expect_status 400 "approve when no code is pending"
devicecode "$USER_SCOPE"
approve "{\"user\":\"nobody@contoso.com\",\"user_code\":\"$UCODE\"}"
expect_status 400 "approve as an unknown user"
approve "{\"user_code\":\"$UCODE\",\"decline\":true}"
expect_status 200 "decline"
expect_jq '.status == "declined"' "decline: answer"
poll "$CODE"
expect_aad_error 400 authorization_declined 65004 "User declined to consent to access the app." "poll a declined code"
req POST "$MAIN/_emulator/lifetimes" -d '{"device_code":1}'
devicecode "$USER_SCOPE"
expect_jq '.expires_in == 1' "device_code lifetime applies to expires_in"
sleep 1.2
poll "$CODE"
expect_aad_error 400 expired_token 70020 "The provided value for the input parameter 'device_code' is not valid. This device code has expired." "poll an expired code"
req GET "$MAIN/_emulator/device-codes"
expect_jq '.pending == []' "an expired code is no longer pending"
approve "{\"user\":\"$ALICE\",\"user_code\":\"$UCODE\"}"
expect_status 400 "approve an expired code"
req POST "$MAIN/_emulator/lifetimes" -d '{"device_code":900}'

devicecode "$USER_SCOPE"
approve "{\"user\":\"$ALICE\",\"user_code\":\"$UCODE\"}"
poll "$CODE" "$TOKEN_URL" "$PUB2"
expect_aad_error 400 invalid_grant 700007 "The grant was issued for a different client id." "poll with another public client"
poll "$CODE" "$TOKEN_URL" "$APP"
expect_aad_error 401 invalid_client 7000218 "The request body must contain the following parameter: 'client_assertion' or 'client_secret'." "poll as a confidential app without a credential"
poll "$CODE"
expect_status 200 "the code still redeems for its own client"
devicecode "$ACR_SCOPE" "$DEVICE_URL" "$APP"
expect_aad_error 401 invalid_client 7000218 "The request body must contain the following parameter: 'client_assertion' or 'client_secret'." "devicecode for a confidential app"
devicecode "$ACR_SCOPE" "$DEVICE_URL" "eeeeeeee-0000-0000-0000-000000000000"
expect_aad_error 400 unauthorized_client 700016 "Application with identifier 'eeeeeeee-0000-0000-0000-000000000000' was not found in the directory '$T1'." "devicecode for an unknown client"
devicecode "$ACR_SCOPE" "$DEVICE_URL" "$CLI" -d client_secret=x
expect_aad_error 401 invalid_client 700025 "Client is public so neither 'client_assertion' nor 'client_secret' should be presented." "devicecode: a public client with a secret"
req POST "$DEVICE_URL" -d client_id=$CLI
expect_aad_error 400 invalid_request 900144 "The request body must contain the following parameter: 'scope'." "devicecode without scope"
req POST "$DEVICE_URL" --data-urlencode "scope=$ACR_SCOPE"
expect_aad_error 400 invalid_request 900144 "The request body must contain the following parameter: 'client_id'." "devicecode without client_id"
devicecode "$ACR_SCOPE" "$MAIN/99999999-9999-9999-9999-999999999999/oauth2/v2.0/devicecode"
expect_aad_error 400 invalid_request 90002 "Tenant '99999999-9999-9999-9999-999999999999' not found." "devicecode for an unknown tenant"
devicecode "$ACR_SCOPE https://management.core.windows.net//.default"
expect_aad_error 400 invalid_scope 700022 "The provided value for the input parameter scope is not valid because it contains more than one resource." "devicecode for two resources"
req GET "$DEVICE_URL"
expect_status 405 "GET on devicecode"

echo "== 1b. A person's sign-in: tenants"
sign_in "$CAROL" "$USER_SCOPE" organizations
expect_status 200 "organizations: a person of another tenant signs in"
CAROL_AT=$(jq -r .access_token "$WORK/body")
CAROL_RT=$(jq -r .refresh_token "$WORK/body")
check "organizations: the access token carries the person's home tenant" claims_ok "$CAROL_AT" \
    '.tid == $t and .iss == "https://sts.windows.net/\($t)/" and .oid == $o and .upn == $u' --arg t "$T2" --arg o "$CAROL_OID" --arg u "$CAROL"
check "organizations: the id_token too" claims_ok "$(jq -r .id_token "$WORK/body")" '.tid == $t and .iss == "\($base)/\($t)/v2.0"' \
    --arg t "$T2" --arg base "$MAIN"
sign_in "$BOB" "$USER_SCOPE" common
expect_status 200 "common: a person signs in"
check "common: home tenant" claims_ok "$(jq -r .access_token "$WORK/body")" '.tid == $t and .oid == $o' --arg t "$T1" --arg o "$BOB_OID"
BOB_AT=$(jq -r .access_token "$WORK/body")
BOB_RT=$(jq -r .refresh_token "$WORK/body")
sign_in "$CAROL" "$USER_SCOPE" "$T1"
expect_aad_error 400 invalid_grant 50020 "User account '$CAROL' from identity provider 'https://sts.windows.net/$T2/' does not exist in tenant '$T1' and cannot access the application '$CLI'(Microsoft Azure CLI) in that tenant." \
    "a person approves a code of a tenant they are not in"

echo "== 1b. Refresh tokens"
refresh() {  # refresh REFRESH_TOKEN [CLIENT_ID] [TENANT] [curl args...]
    local token=$1 client=${2:-$CLI} tenant=${3:-$T1}
    shift $(($# < 3 ? $# : 3))
    req POST "$MAIN/$tenant/oauth2/v2.0/token" -d grant_type=refresh_token -d "client_id=$client" \
        --data-urlencode "refresh_token=$token" "$@"
}
refresh "$ALICE_RT" "$CLI" "$T1" --data-urlencode "scope=$USER_SCOPE"
expect_status 200 "refresh"
expect_jq 'keys_unsorted == ["token_type","scope","expires_in","ext_expires_in","access_token","refresh_token","id_token"] and .scope == $s' \
    "refresh: a new access token, a new refresh token, an id_token for openid" --arg s "$ACR_SCOPES_ANSWERED"
ALICE_RT2=$(jq -r .refresh_token "$WORK/body")
check "refresh: the access token is the person's" claims_ok "$(jq -r .access_token "$WORK/body")" '.oid == $o and .aud == $r and .idtyp == "user"' \
    --arg o "$ALICE_OID" --arg r "$ACR_RESOURCE"
check "refresh rotates the refresh token" test "$ALICE_RT2" != "$ALICE_RT"
refresh "$ALICE_RT" "$CLI" "$T1" --data-urlencode "scope=$USER_SCOPE"
expect_status 200 "the old refresh token stays valid"
refresh "$ALICE_RT2" "$CLI" "$T1" --data-urlencode "scope=$USER_SCOPE"
expect_status 200 "the new refresh token is valid"
refresh "$ALICE_RT2"
expect_status 200 "refresh without scope"
expect_jq '.scope == $s and has("id_token") and has("refresh_token")' "refresh without scope: the scopes first consented to" --arg s "$ACR_SCOPES_ANSWERED"
refresh "$ALICE_RT2" "$CLI" "$T1" --data-urlencode "scope=https://management.core.windows.net//.default offline_access"
expect_jq '.scope == "https://management.core.windows.net//user_impersonation https://management.core.windows.net//.default" and (has("id_token") | not)' \
    "refresh for another resource: its scopes, no id_token without openid"
check "refresh for another resource: aud" claims_ok "$(jq -r .access_token "$WORK/body")" '.aud == "https://management.core.windows.net/"'
refresh "$ALICE_RT2" "$CLI" organizations --data-urlencode "scope=$USER_SCOPE"
expect_status 200 "refresh at /organizations"
refresh "$ALICE_RT2" "$CLI" common --data-urlencode "scope=$USER_SCOPE"
expect_status 200 "refresh at /common"
refresh "$CAROL_RT" "$CLI" "$T2" --data-urlencode "scope=$USER_SCOPE"
expect_status 200 "refresh at the home tenant of a token got through /organizations"
check "refresh at the home tenant: tid" claims_ok "$(jq -r .access_token "$WORK/body")" '.tid == $t' --arg t "$T2"
refresh "$ALICE_RT2" "$CLI" "$T2" --data-urlencode "scope=$USER_SCOPE"
expect_aad_error 400 invalid_grant 50020 "User account '$ALICE' from identity provider 'https://sts.windows.net/$T1/' does not exist in tenant '$T2'" "refresh at a tenant the person is not in"
refresh "$ALICE_RT2" "$CLI" "99999999-9999-9999-9999-999999999999"
expect_aad_error 400 invalid_request 90002 "Tenant '99999999-9999-9999-9999-999999999999' not found." "refresh at an unknown tenant"
refresh "1.AXkA-garbage" "$CLI" "$T1" --data-urlencode "scope=$USER_SCOPE"
expect_aad_error 400 invalid_grant 9002313 "Invalid request. Request is malformed or invalid." "refresh with an unknown refresh token"
refresh "$ALICE_RT2" "$PUB2" "$T1" --data-urlencode "scope=$USER_SCOPE"
expect_aad_error 400 invalid_grant 700007 "The grant was issued for a different client id." "refresh token of another client"
refresh "$ALICE_RT2" "$APP" "$T1" --data-urlencode "scope=$USER_SCOPE"
expect_aad_error 401 invalid_client 7000218 "The request body must contain the following parameter: 'client_assertion' or 'client_secret'." "refresh as a confidential app without a credential"
refresh "$ALICE_RT2" "eeeeeeee-0000-0000-0000-000000000000" "$T1" --data-urlencode "scope=$USER_SCOPE"
expect_aad_error 400 unauthorized_client 700016 "Application with identifier 'eeeeeeee-0000-0000-0000-000000000000' was not found" "refresh by an unknown client"
req POST "$TOKEN_URL" -d grant_type=refresh_token -d client_id=$CLI --data-urlencode "scope=$USER_SCOPE"
expect_aad_error 400 invalid_request 900144 "The request body must contain the following parameter: 'refresh_token'." "refresh without refresh_token"
refresh "$BOB_RT" "$CLI" "$T1" --data-urlencode "scope=$USER_SCOPE"
BOB_RT2=$(jq -r .refresh_token "$WORK/body")
req POST "$MAIN/_emulator/revoke" -d "{\"user\":\"$BOB\"}"
expect_status 200 "revoke a person's sessions"
expect_jq '. == {"revoked":2}' "revoke: both of the person's refresh tokens"
for which in first rotated; do
    if [ $which = first ]; then token=$BOB_RT; else token=$BOB_RT2; fi
    refresh "$token" "$CLI" "$T1" --data-urlencode "scope=$USER_SCOPE"
    expect_aad_error 400 invalid_grant 50173 "The provided grant has expired due to it being revoked, a fresh auth token is needed." "refresh with a revoked refresh token ($which)"
    expect_jq '.error_description | test("The grant was issued on .\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{7}Z. and the TokensValidFrom date \\(before which tokens are not valid\\) for this user is .\\d{4}-")' \
        "revoked ($which): issue date and TokensValidFrom as AAD writes them"
done
refresh "$ALICE_RT2" "$CLI" "$T1" --data-urlencode "scope=$USER_SCOPE"
expect_status 200 "revoking one person leaves the others' refresh tokens valid"
req POST "$MAIN/_emulator/revoke" -d "{\"user\":\"$BOB\"}"
expect_jq '. == {"revoked":0}' "revoke again: nothing left to revoke"
req POST "$MAIN/_emulator/revoke" -d '{"user":"nobody@contoso.com"}'
expect_status 400 "revoke an unknown user"
sign_in "$BOB" "$USER_SCOPE"
refresh "$(jq -r .refresh_token "$WORK/body")" "$CLI" "$T1" --data-urlencode "scope=$USER_SCOPE"
expect_status 200 "after a revocation, a new sign-in gets a working refresh token"
req POST "$MAIN/_emulator/lifetimes" -d '{"aad_refresh":1}'
refresh "$ALICE_RT2" "$CLI" "$T1" --data-urlencode "scope=$USER_SCOPE"
SHORT_RT=$(jq -r .refresh_token "$WORK/body")
sleep 1.2
refresh "$SHORT_RT" "$CLI" "$T1" --data-urlencode "scope=$USER_SCOPE"
expect_aad_error 400 invalid_grant 700082 "The refresh token has expired due to inactivity." "refresh with an expired refresh token"
expect_jq '.error_description | test("The token was issued on \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{7}Z and was inactive for 00:00:01\\.")' \
    "expired refresh token: issue date and inactivity as AAD writes them"
req POST "$MAIN/_emulator/lifetimes" -d '{"aad_refresh":7776000,"device_interval":5}'

echo "== 1b. A person's tokens at ACR"
exchange "$ALICE_AT"
expect_status 200 "exchange a person's AAD access token"
ALICE_ACR_RT=$(jq -r .refresh_token "$WORK/body")
check "ACR refresh token of a person: sub = oid, tenant, no appid" claims_ok "$ALICE_ACR_RT" \
    '.sub == $o and .tenant == $t and (has("appid") | not) and .grant_type == "refresh_token" and .aud == $reg' \
    --arg o "$ALICE_OID" --arg t "$T1" --arg reg "$REG"
acr_token "$ALICE_ACR_RT" --data-urlencode "scope=repository:team/app:pull,push" --data-urlencode "scope=registry:catalog:*"
expect_status 200 "ACR access token for a person"
check "a person with AcrPull gets pull only, and the catalog" bash -c \
    'jq -e ".access == [{\"type\":\"repository\",\"name\":\"team/app\",\"actions\":[\"pull\"]},{\"type\":\"registry\",\"name\":\"catalog\",\"actions\":[\"*\"]}] and .sub == \$o and (has(\"appid\") | not)" --arg o "$1" >/dev/null' \
    _ "$ALICE_OID" < <(access_claims)
exchange "$CAROL_AT" "$REG" "$T2"
expect_status 200 "exchange the token of a person signed in through /organizations"
acr_token "$(jq -r .refresh_token "$WORK/body")" --data-urlencode "scope=repository:team/app:pull,push,delete"
check "a person with AcrPush gets pull and push" bash -c 'jq -e ".access[0].actions == [\"pull\",\"push\"]" >/dev/null' < <(access_claims)
exchange "$BOB_AT"
expect_status 200 "exchange the token of a person without a role"
acr_token "$(jq -r .refresh_token "$WORK/body")" --data-urlencode "scope=repository:team/app:pull" --data-urlencode "scope=registry:catalog:*"
check "a person without a role gets no actions" bash -c \
    'jq -e ".access == [{\"type\":\"repository\",\"name\":\"team/app\",\"actions\":[]},{\"type\":\"registry\",\"name\":\"catalog\",\"actions\":[]}]" >/dev/null' < <(access_claims)
req GET "$MAIN/_emulator/aad-token?user=$ALICE"
expect_status 200 "control aad-token for a person"
check "control aad-token for a person: user claims, Azure CLI, management" claims_ok "$(jq -r .accessToken "$WORK/body")" \
    '.idtyp == "user" and .oid == $o and .appid == $c and .aud == "https://management.core.windows.net/" and .tid == $t' \
    --arg o "$ALICE_OID" --arg c "$CLI" --arg t "$T1"
expect_jq '.tenant == $t' "control aad-token for a person: tenant" --arg t "$T1"
exchange "$(jq -r .accessToken "$WORK/body")"
acr_token "$(jq -r .refresh_token "$WORK/body")" -d "scope=repository:team/app:pull,push"
check "a person's token from the fake az CLI gets the person's roles" bash -c 'jq -e ".access[0].actions == [\"pull\"]" >/dev/null' < <(access_claims)
req GET "$MAIN/_emulator/aad-token?user=nobody@contoso.com"
expect_status 400 "control aad-token for an unknown user"

echo "== TLS listener (same emulator)"
TLS_PORT=$(cat "$MAIN_STATE/tls-port" 2>/dev/null)
check "--tls-port-file holds a port other than the HTTP one" test -n "$TLS_PORT" -a "$TLS_PORT" != "${MAIN##*:}"
TLS=https://127.0.0.1:$TLS_PORT
TLS_CERT=$MAIN_STATE/tls-cert.pem
check "TLS certificate and key are in the state dir" test -s "$TLS_CERT" -a -s "$MAIN_STATE/tls-key.pem"
check "TLS certificate: self-signed, subjectAltName IP:127.0.0.1 and DNS:localhost" bash -c \
    'openssl verify -CAfile "$1" "$1" && openssl x509 -in "$1" -noout -ext subjectAltName | grep -q "IP Address:127.0.0.1, DNS:localhost"' _ "$TLS_CERT"
req GET "$TLS/acr/$REG/v2/" --cacert "$TLS_CERT"
expect_status 401 "TLS with --cacert: challenge"
check "TLS challenge: https:// realm" test "$(header_value WWW-Authenticate)" = "Bearer realm=\"$TLS/acr/$REG/oauth2/token\",service=\"$REG\""
req GET "https://localhost:$TLS_PORT/acr/$REG/v2/" --cacert "$TLS_CERT"
expect_status 401 "TLS with --cacert by the name localhost"
req GET "$TLS/acr/$REG/v2/"
check "TLS without --cacert: certificate error (curl exit 60)" test "$CURL_RC" = 60 -a "$STATUS" = 000
check "TLS without --cacert: curl names the certificate" grep -qi certificate "$WORK/curl.err"
req GET "$TLS/acr/$PUBLIC/oauth2/token?service=$PUBLIC&scope=repository:team/app:pull" --cacert "$TLS_CERT"
expect_status 200 "TLS: anonymous pull token"
req GET "$MAIN/_emulator/stats"
CHALLENGES=$(jq .acr_challenge "$WORK/body")
fault_over_http() { req POST "$MAIN/_emulator/faults" -d "$1"; }
fault_over_http '{"endpoint":"acr_challenge","kind":"firewall"}'
req GET "$TLS/acr/$REG/v2/" --cacert "$TLS_CERT"
expect_status 403 "TLS shares faults with HTTP: firewall fault set over HTTP"
req GET "$TLS/_emulator/stats" --cacert "$TLS_CERT"
expect_jq '.acr_challenge == $n + 1' "TLS shares counts with HTTP" --argjson n "$CHALLENGES"
exec 3<>"/dev/tcp/127.0.0.1/$TLS_PORT"  # a client that connects and never starts its handshake
req GET "$TLS/acr/$REG/v2/" --cacert "$TLS_CERT" --max-time 5
expect_status 401 "TLS: a stalled handshake does not hold up other clients"
exec 3<&-
req GET "$TLS/acr/$REG/v2/" --cacert "$TLS_CERT"
expect_status 401 "TLS still answers after refused handshakes"
check "TLS: refused handshakes leave no trace on stderr" bash -c '! grep -q Traceback "$1"' _ "$MAIN_STATE/stdout"

echo "== 3d. Service Fabric (on the TLS listener, whose certificate the cluster's stands for)"
req GET "$TLS/servicefabric/metadata/identity/oauth2/token?api-version=2019-07-01-preview&resource=$ACR_RESOURCE" --cacert "$TLS_CERT" -H 'Secret: emulator-identity-header'
expect_jq '.token_type == "Bearer" and (.expires_on | type) == "number" and .resource == $r' "Service Fabric: Secret header, expires_on a number" --arg r "$ACR_RESOURCE"
req GET "$TLS/servicefabric/metadata/identity/oauth2/token?api-version=2019-07-01-preview&resource=$ACR_RESOURCE" --cacert "$TLS_CERT"
expect_jq '.error.code == "SecretHeaderNotFound"' "Service Fabric without its Secret: its error shape"

echo "== 5. Control: stats, lifetimes, reset"
req POST "$MAIN/_emulator/reset"
expect_status 200 "reset"
req GET "$MAIN/_emulator/stats"
expect_jq '. == {"aad_token":0,"aad_devicecode":0,"aad_discovery":0,"imds":0,"appservice":0,"automation":0,"servicefabric":0,"azureml":0,"cloudshell":0,"arc":0,"github_oidc":0,"pipelines_oidc":0,"acr_challenge":0,"acr_exchange":0,"acr_token":0}' "stats are zero after reset"
aad -d grant_type=client_credentials -d client_id=$APP -d client_secret=wrong --data-urlencode scope=$ACR_SCOPE
req GET "$MAIN/acr/$REG/v2/"
req GET "$MAIN/acr/$REG/v2/"
exchange "$AAD_TOKEN"
req GET "$MAIN/msi/token?resource=x"
req POST "$MAIN/$T1/oauth2/v2.0/devicecode" -d client_id=$CLI --data-urlencode "scope=$ACR_SCOPE"
req POST "$MAIN/$T1/oauth2/v2.0/devicecode" -d client_id=$APP --data-urlencode "scope=$ACR_SCOPE"
req GET "$MAIN/_emulator/stats"
expect_jq '. == {"aad_token":1,"aad_devicecode":2,"aad_discovery":0,"imds":0,"appservice":1,"automation":0,"servicefabric":0,"azureml":0,"cloudshell":0,"arc":0,"github_oidc":0,"pipelines_oidc":0,"acr_challenge":2,"acr_exchange":1,"acr_token":0}' "stats count requests of every status"
req POST "$MAIN/_emulator/lifetimes" -d '{"acr_refresh":300,"acr_access":60,"aad":120,"managed_identity":600}'
expect_status 200 "lifetimes"
aad -d grant_type=client_credentials -d client_id=$APP -d client_secret=good-secret --data-urlencode scope=$ACR_SCOPE
expect_jq '.expires_in == 120' "aad lifetime applies to expires_in"
check "aad lifetime applies to the token" claims_ok "$(jq -r .access_token "$WORK/body")" '.exp == .iat + 120'
exchange "$AAD_TOKEN"
R300=$(jq -r .refresh_token "$WORK/body")
check "acr_refresh lifetime applies" claims_ok "$R300" '.exp == .iat + 300'
acr_token "$R300"
check "acr_access lifetime applies" bash -c 'jq -e ".exp == .iat + 60" >/dev/null' < <(access_claims)
req GET "$IMDS?api-version=2018-02-01&resource=$ACR_RESOURCE" -H 'Metadata: true'
expect_jq '.expires_in == "600"' "managed_identity lifetime applies"
req POST "$MAIN/_emulator/lifetimes" -d '{"acr_refresh":"long"}'
expect_status 400 "lifetimes rejects a non-integer"
devicecode "$USER_SCOPE"
PENDING_CODE=$CODE
req POST "$MAIN/_emulator/reset"
exchange "$AAD_TOKEN"
check "reset restores lifetimes" claims_ok "$(jq -r .refresh_token "$WORK/body")" '.exp == .iat + 10800'
req GET "$MAIN/_emulator/device-codes"
expect_jq '.pending == []' "reset clears pending device codes"
poll "$PENDING_CODE"
expect_aad_error 400 bad_verification_code 70000 "The provided value for the input parameter 'device_code' is not valid." "reset forgets device codes"
refresh "$ALICE_RT2" "$CLI" "$T1" --data-urlencode "scope=$USER_SCOPE"
expect_aad_error 400 invalid_grant 9002313 "Invalid request. Request is malformed or invalid." "reset forgets refresh tokens"

echo "== 5. Faults"
fault() { req POST "$MAIN/_emulator/faults" -d "$1"; }
fault '{"endpoint":"acr_exchange","status":503,"count":2,"retry_after":1}'
expect_status 200 "fault accepted"
for i in 1 2; do
    exchange "$AAD_TOKEN"
    expect_status 503 "status fault, request $i"
    check "status fault, request $i: Retry-After" test "$(header_value Retry-After)" = 1
    expect_jq '.errors[0].code == "UNAVAILABLE" and (.errors[0].message | type == "string")' "status fault, request $i: ACR error shape"
done
exchange "$AAD_TOKEN"
expect_status 200 "status fault ends after count"
fault '{"endpoint":"imds","status":500,"body":{"error":"custom","error_description":"given"}}'
req GET "$IMDS?api-version=2018-02-01&resource=$ACR_RESOURCE" -H 'Metadata: true'
expect_status 500 "status fault with a body"
expect_jq '. == {"error":"custom","error_description":"given"}' "status fault: given body"
check "status fault without retry_after: no Retry-After" test -z "$(header_value Retry-After)"
fault '{"endpoint":"imds","status":503}'
req GET "$IMDS?api-version=2018-02-01&resource=$ACR_RESOURCE" -H 'Metadata: true'
expect_jq '(keys == ["error","error_description"])' "status fault on imds: IMDS error shape"
fault '{"endpoint":"aad_token","status":429,"retry_after":2}'
aad -d grant_type=client_credentials -d client_id=$APP -d client_secret=good-secret --data-urlencode scope=$ACR_SCOPE
expect_status 429 "status fault on aad_token"
expect_jq '.error == "temporarily_unavailable" and (.error_codes | length == 1) and (.trace_id | length == 36) and (.error_description | startswith("AADSTS"))' "status fault on aad_token: AAD error shape"
fault '{"endpoint":"aad_devicecode","status":503,"retry_after":3}'
devicecode "$USER_SCOPE"
expect_status 503 "status fault on aad_devicecode"
check "status fault on aad_devicecode: Retry-After" test "$(header_value Retry-After)" = 3
expect_jq '.error == "temporarily_unavailable" and .error_codes == [90033] and (.trace_id | length == 36) and (.error_description | startswith("AADSTS90033"))' \
    "status fault on aad_devicecode: AAD error shape"
devicecode "$USER_SCOPE"
expect_status 200 "aad_devicecode answers again after the fault"
fault '{"endpoint":"aad_devicecode","kind":"malformed"}'
devicecode "$USER_SCOPE"
check "malformed fault on aad_devicecode: a 200 that is not JSON" bash -c '[ "$1" = 200 ] && ! jq . "$2" >/dev/null 2>&1' _ "$STATUS" "$WORK/body"
fault '{"endpoint":"aad_devicecode","kind":"expired_token"}'
devicecode "$USER_SCOPE"
expect_jq '.expires_in == 900' "expired_token fault on aad_devicecode: normal envelope"
approve "{\"user\":\"$ALICE\",\"user_code\":\"$UCODE\"}"
expect_status 400 "expired_token fault on aad_devicecode: the code is not pending"
poll "$CODE"
expect_aad_error 400 expired_token 70020 "The provided value for the input parameter 'device_code' is not valid. This device code has expired." "expired_token fault on aad_devicecode: the code has expired"
fault '{"endpoint":"aad_devicecode","kind":"close"}'
devicecode "$USER_SCOPE"
check "close fault on aad_devicecode: empty reply (curl exit 52)" test "$CURL_RC" = 52
fault '{"endpoint":"aad_token","status":500}'
poll "$CODE"
expect_jq '.error == "temporarily_unavailable" and .error_codes == [90033]' "status fault on aad_token while polling a device code: AAD error shape"
fault '{"endpoint":"appservice","status":500}'
req GET "$MSI?api-version=2019-08-01&resource=$ACR_RESOURCE" -H 'X-IDENTITY-HEADER: emulator-identity-header'
expect_jq '.statusCode == 500 and (.message | type == "string")' "status fault on appservice: App Service error shape"
fault '{"endpoint":"acr_exchange","kind":"malformed"}'
exchange "$AAD_TOKEN"
expect_status 200 "malformed fault"
check "malformed fault: body is not JSON" bash -c '! jq . "$1" >/dev/null 2>&1 && grep -q "^{\"refresh_tok" "$1"' _ "$WORK/body"
fault '{"endpoint":"acr_token","kind":"truncated"}'
acr_token "$REFRESH" -d scope=repository:x:pull
check "truncated fault: curl sees a short body (exit 18)" test "$CURL_RC" = 18
fault '{"endpoint":"imds","kind":"slow","delay_ms":700}'
started=$(date +%s%N)
req GET "$IMDS?api-version=2018-02-01&resource=$ACR_RESOURCE" -H 'Metadata: true'
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
expect_status 200 "slow fault answers normally"
check "slow fault: took at least 700 ms ($elapsed_ms)" test "$elapsed_ms" -ge 700
fault '{"endpoint":"acr_challenge","kind":"firewall"}'
req GET "$MAIN/acr/$REG/v2/"
expect_status 403 "firewall fault"
expect_jq '. == {"errors":[{"code":"DENIED","message":"client with IP '"'"'127.0.0.1'"'"' is not allowed access. Refer https://aka.ms/acr/firewall to grant access."}]}' "firewall fault: body"
fault '{"endpoint":"acr_exchange","kind":"no_refresh_token"}'
exchange "$AAD_TOKEN"
expect_status 200 "no_refresh_token fault"
expect_jq '. == {}' "no_refresh_token fault: body {}"
fault '{"endpoint":"acr_exchange","kind":"expired_token"}'
exchange "$AAD_TOKEN"
expect_status 200 "expired_token fault on exchange"
EXPIRED_REFRESH=$(jq -r .refresh_token "$WORK/body")
check "expired_token fault: refresh token exp is past" claims_ok "$EXPIRED_REFRESH" '.exp < now and .iat < .exp'
acr_token "$EXPIRED_REFRESH"
expect_status 401 "expired refresh token is refused"
fault '{"endpoint":"aad_token","kind":"expired_token"}'
aad -d grant_type=client_credentials -d client_id=$APP -d client_secret=good-secret --data-urlencode scope=$ACR_SCOPE
expect_jq '.expires_in == 3599' "expired_token fault on aad_token: normal envelope"
check "expired_token fault on aad_token: token exp is past" claims_ok "$(jq -r .access_token "$WORK/body")" '.exp < now'
fault '{"endpoint":"aad_token","kind":"close"}'
aad -d grant_type=client_credentials -d client_id=$APP -d client_secret=good-secret --data-urlencode scope=$ACR_SCOPE
check "close fault: empty reply (curl exit 52)" test "$CURL_RC" = 52
fault '{"endpoint":"acr_challenge","status":500,"count":-1}'
for i in 1 2 3; do req GET "$MAIN/acr/$REG/v2/"; expect_status 500 "count -1 fault, request $i"; done
req POST "$MAIN/_emulator/reset"
req GET "$MAIN/acr/$REG/v2/"
expect_status 401 "reset clears faults"
fault '{"endpoint":"control","status":500}'
expect_status 400 "fault on an unknown endpoint is refused"
fault '{"endpoint":"imds","kind":"explode"}'
expect_status 400 "fault of an unknown kind is refused"

echo "== Other"
req GET "$MAIN/nowhere"
expect_status 404 "unknown path"
expect_json_type "unknown path"
req GET "$MAIN/acr/$REG/oauth2/exchange"
expect_status 405 "GET on exchange"
seq 32 | xargs -P 32 -I{} curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 -X POST \
    -d grant_type=access_token -d service=$REG -d tenant=$T1 --data-urlencode "access_token=$AAD_TOKEN" \
    "$MAIN/acr/$REG/oauth2/exchange" >"$WORK/parallel"
check "32 parallel exchanges all answer 200" test "$(grep -c '^200$' "$WORK/parallel")" = 32
seq 32 | xargs -P 32 -I{} curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 \
    -d grant_type=client_credentials -d client_id=$APP -d client_secret=good-secret --data-urlencode scope=$ACR_SCOPE \
    "$TOKEN_URL" >"$WORK/parallel"
check "32 parallel AAD token requests all answer 200" test "$(grep -c '^200$' "$WORK/parallel")" = 32

echo "== requests.log"
LOG=$MAIN_STATE/requests.log
check "every log line is JSON with t, method, path, endpoint, status" \
    jq -e -s 'all(.[]; (.t | type == "number") and (.method | type == "string") and (.path | test("^/[^?]*$"))
                       and has("endpoint") and has("status"))' "$LOG"
check "log endpoints are the documented names" \
    jq -e -s '[.[].endpoint] | unique - [null, "aad_token","aad_devicecode","aad_discovery","imds","appservice","automation","servicefabric","azureml","cloudshell","arc","github_oidc","pipelines_oidc","acr_challenge","acr_exchange","acr_token","control"] == []' "$LOG"
check "log has grant_type of AAD and ACR requests" \
    jq -e -s 'any(.[]; .endpoint == "aad_token" and .grant_type == "client_credentials") and any(.[]; .endpoint == "acr_token" and .grant_type == "refresh_token")' "$LOG"
check "log records an unanswered (closed) request with a null status" jq -e -s 'any(.[]; .endpoint == "aad_token" and .status == null)' "$LOG"
check "log holds no secrets, tokens or assertions" bash -c '! grep -q -e good-secret -e old-secret -e c-secret -e "eyJ" "$1"' _ "$LOG"
check "log has the devicecode requests and the device_code and refresh_token grants" \
    jq -e -s 'any(.[]; .endpoint == "aad_devicecode" and .status == 200 and (has("grant_type") | not))
              and any(.[]; .endpoint == "aad_token" and .grant_type == "urn:ietf:params:oauth:grant-type:device_code")
              and any(.[]; .endpoint == "aad_token" and .grant_type == "refresh_token")' "$LOG"
check "log holds no device codes, user codes or AAD refresh tokens" bash -c \
    '! grep -qF -e DAQABIQ -e 1.AXkA -e "$2" -e "$3" -e "$4" "$1"' _ "$LOG" "$UCODE1" "$UCODE2" "$UCODE3"

echo "== Identity selection and --delay-ms (second configuration)"
start_emulator multi "$WORK/multi.json" --delay-ms 300
MULTI=$BASE
req GET "$MULTI/metadata/identity/oauth2/token?api-version=2018-02-01&resource=$ACR_RESOURCE" -H 'Metadata: true'
expect_status 400 "IMDS with several user-assigned identities and none named"
expect_jq '. == {"error":"invalid_request","error_description":"Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request"}' "several user-assigned: body"
started=$(date +%s%N)
req GET "$MULTI/metadata/identity/oauth2/token?api-version=2018-02-01&resource=$ACR_RESOURCE&client_id=$USER_MI" -H 'Metadata: true'
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
expect_jq '.client_id == $c' "IMDS names one of several user-assigned identities" --arg c "$USER_MI"
check "--delay-ms 300 delays service requests ($elapsed_ms ms)" test "$elapsed_ms" -ge 300
started=$(date +%s%N)
req GET "$MULTI/_emulator/stats"
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
check "--delay-ms does not delay control requests ($elapsed_ms ms)" test "$elapsed_ms" -lt 300
req GET "$MULTI/msi/token?api-version=2019-08-01&resource=$ACR_RESOURCE&client_id=$SYS_MI" -H 'X-IDENTITY-HEADER: custom-header'
expect_status 200 "App Service with the configured identity_header"
devicecode "$USER_SCOPE" "$MULTI/$T1/oauth2/v2.0/devicecode"
expect_status 200 "without public_clients, the Azure CLI is a public client"
devicecode "$USER_SCOPE" "$MULTI/$T1/oauth2/v2.0/devicecode" "$PUB2"
expect_aad_error 400 unauthorized_client 700016 "Application with identifier '$PUB2' was not found in the directory '$T1'." "without public_clients, no other public client"

start_emulator empty "$WORK/empty.json"
req GET "$BASE/metadata/identity/oauth2/token?api-version=2018-02-01&resource=$ACR_RESOURCE" -H 'Metadata: true'
expect_status 400 "IMDS without managed identities"
expect_jq '. == {"error":"invalid_request","error_description":"Identity not found"}' "no managed identity: body"
devicecode "$USER_SCOPE" "$BASE/$T1/oauth2/v2.0/devicecode" "$PUB2"
expect_status 200 "public_clients: a configured public client"
devicecode "$USER_SCOPE" "$BASE/$T1/oauth2/v2.0/devicecode"
expect_aad_error 400 unauthorized_client 700016 "Application with identifier '$CLI' was not found in the directory '$T1'." "public_clients given: the Azure CLI is no longer one"

echo "== Azure Arc (a configuration with arc_key_dir)"
mkdir -p "$WORK/arc-keys"
echo "{\"tenants\": [\"$T1\"], \"registries\": {}, \"arc_key_dir\": \"$WORK/arc-keys\",
  \"managed_identities\": [{\"client_id\": \"$SYS_MI\", \"object_id\": \"b0000000-0000-0000-0000-0000000000b2\", \"tenant\": \"$T1\", \"system_assigned\": true}]}" >"$WORK/arc.json"
start_emulator arc "$WORK/arc.json"
ARC_URL="$BASE/metadata/identity/oauth2/token?api-version=2020-06-01&resource=$ACR_RESOURCE"
req GET "$ARC_URL" -H 'Metadata: true'
expect_status 401 "Arc: a first request is challenged"
REALM=$(header_value WWW-Authenticate | sed -n 's/^Basic realm=//p')
check "Arc: the realm is a new .key file in the agent's folder" bash -c '[[ $1 == "$2"/*.key ]] && [ -s "$1" ]' _ "$REALM" "$WORK/arc-keys"
req GET "$ARC_URL" -H 'Metadata: true' -H "Authorization: Basic $(cat "$REALM")"
expect_jq '(.access_token | length) > 100 and (.expires_on | type) == "string"' "Arc: the key file's contents as Basic credentials give IMDS's answer"
check "Arc: the key file is used up" test ! -e "$REALM"
req GET "$ARC_URL" -H 'Metadata: true' -H "Authorization: Basic used-or-made-up"
expect_status 401 "Arc: a key that was not issued"
req GET "$ARC_URL&client_id=$SYS_MI" -H 'Metadata: true'
expect_status 400 "Arc: no user-assigned identities"
req GET "$BASE/metadata/identity/oauth2/token?api-version=2018-02-01&resource=$ACR_RESOURCE" -H 'Metadata: true'
expect_status 400 "Arc: IMDS's api-version is not the agent's"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
