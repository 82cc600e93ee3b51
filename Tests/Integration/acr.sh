# The ACR token engine against the Azure emulator (Tests/Emulator) on 127.0.0.1: every identity source,
# the cache and its expiry, single flight, failures, exposed tokens, and real clients end to end.

TENANT=11111111-1111-1111-1111-111111111111
SP_ID=aaaaaaaa-0000-0000-0000-000000000001
CERT_SP_ID=aaaaaaaa-0000-0000-0000-000000000002
WI_ID=aaaaaaaa-0000-0000-0000-000000000003
PULL_ONLY_ID=aaaaaaaa-0000-0000-0000-000000000004
GH_ID=aaaaaaaa-0000-0000-0000-000000000005   # federated with a GitHub Actions repository
ADO_ID=aaaaaaaa-0000-0000-0000-000000000006  # federated with an Azure Pipelines service connection
ADO_CONNECTION=5c5c5c5c-0000-0000-0000-00000000005c
MI_ID=bbbbbbbb-0000-0000-0000-000000000002
UA_MI_ID=bbbbbbbb-0000-0000-0000-000000000003  # user-assigned, named by client id or resource id (an AKS kubelet identity)
UA_MI_RESOURCE=/subscriptions/00000000-0000-0000-0000-00000000000a/resourceGroups/nodes/providers/Microsoft.ManagedIdentity/userAssignedIdentities/kubelet
REG=myregistry.azurecr.io
REG2=otherreg1.azurecr.io
ANON_REG=publicreg1.azurecr.io
CUSTOM_REG=sovereign1.azurecr.my.cloud  # a custom cloud's suffix (AKS azure.json containerRegistryDNSSuffix)

emulator_start() { # [DELAY_MS] : starts the emulator with the identities above (each answer DELAY_MS late, default 0) on
  # $EMU_HOST (default 127.0.0.1) and $EMU_PORT (default: a free one), as the Azure Arc agent with $ARC_KEY_DIR;
  # sets EMU (base URL), EMU_TLS and EMU_DIR
  EMU_DIR="$WORK/emulator"; mkdir -p "$EMU_DIR"
  openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=sp-cert -days 2 \
    -keyout "$EMU_DIR/sp-key.pem" -out "$EMU_DIR/sp-cert.pem" 2>/dev/null
  cat "$EMU_DIR/sp-cert.pem" "$EMU_DIR/sp-key.pem" >"$EMU_DIR/sp.pem"
  CERT_PASSWORD=cert-password openssl pkcs8 -topk8 -v2 aes-256-cbc -in "$EMU_DIR/sp-key.pem" \
    -passout env:CERT_PASSWORD -out "$EMU_DIR/sp-key-encrypted.pem"
  cat "$EMU_DIR/sp-cert.pem" "$EMU_DIR/sp-key-encrypted.pem" >"$EMU_DIR/sp-encrypted.pem"
  local e2e_registry="127.0.0.1:${ACR_REGISTRY_PORT:-5065}" arc=""
  [ -z "${ARC_KEY_DIR:-}" ] || arc="\"arc_key_dir\": \"$ARC_KEY_DIR\","
  cat >"$EMU_DIR/config.json" <<JSON
{
  $arc
  "tenants": ["$TENANT"],
  "apps": [
    {"client_id": "$SP_ID", "object_id": "0a000000-0000-0000-0000-000000000001", "tenant": "$TENANT",
     "secrets": [{"value": "good-secret"}, {"value": "old-secret", "expired": true}]},
    {"client_id": "$CERT_SP_ID", "object_id": "0a000000-0000-0000-0000-000000000002", "tenant": "$TENANT",
     "certificates": ["$EMU_DIR/sp-cert.pem"]},
    {"client_id": "$WI_ID", "object_id": "0a000000-0000-0000-0000-000000000003", "tenant": "$TENANT",
     "federated": [{"issuer": "https://oidc.emulator.local/", "subject": "system:serviceaccount:default:builder", "audience": "api://AzureADTokenExchange"},
                   {"issuer": "https://oidc.emulator.local/", "subject": "system:serviceaccount:default:deployer", "audience": "api://AzureADTokenExchange"}]},
    {"client_id": "$PULL_ONLY_ID", "object_id": "0a000000-0000-0000-0000-000000000004", "tenant": "$TENANT",
     "secrets": [{"value": "pull-secret"}]},
    {"client_id": "$GH_ID", "object_id": "0a000000-0000-0000-0000-000000000005", "tenant": "$TENANT",
     "federated": [{"issuer": "https://token.actions.githubusercontent.com", "subject": "repo:contoso/app:ref:refs/heads/main", "audience": "api://AzureADTokenExchange"}]},
    {"client_id": "$ADO_ID", "object_id": "0a000000-0000-0000-0000-000000000006", "tenant": "$TENANT",
     "federated": [{"issuer": "https://vstoken.dev.azure.com/e0e0e0e0-0000-0000-0000-00000000000e", "subject": "sc://contoso/app/acr-push", "audience": "api://AzureADTokenExchange"}]}
  ],
  "pipelines": {"access_token": "emulator-system-access-token", "organization_id": "e0e0e0e0-0000-0000-0000-00000000000e",
                "service_connections": {"$ADO_CONNECTION": "sc://contoso/app/acr-push"}},
  "managed_identities": [
    {"client_id": "$MI_ID", "object_id": "0b000000-0000-0000-0000-000000000002", "tenant": "$TENANT", "system_assigned": true},
    {"client_id": "$UA_MI_ID", "object_id": "0b000000-0000-0000-0000-000000000003", "tenant": "$TENANT", "resource_id": "$UA_MI_RESOURCE"}
  ],
  "users": [
    {"upn": "alice@contoso.com", "name": "Alice", "object_id": "0c000000-0000-0000-0000-00000000000a", "tenant": "$TENANT"},
    {"upn": "bob@contoso.com", "name": "Bob", "object_id": "0c000000-0000-0000-0000-00000000000b", "tenant": "$TENANT"}
  ],
  "registries": {
    "$REG": {"roles": {"$SP_ID": ["AcrPush"], "$CERT_SP_ID": ["AcrPull"], "$WI_ID": ["AcrPull"], "$MI_ID": ["AcrPull"], "$UA_MI_ID": ["AcrPull"], "$PULL_ONLY_ID": ["AcrPull"], "$GH_ID": ["AcrPush"], "$ADO_ID": ["AcrPush"], "0c000000-0000-0000-0000-00000000000a": ["AcrPull"]}},
    "$REG2": {"roles": {"$SP_ID": ["AcrPull"]}},
    "$ANON_REG": {"roles": {"$SP_ID": ["AcrPull"]}, "anonymous_pull": true},
    "$CUSTOM_REG": {"roles": {"$UA_MI_ID": ["AcrPull"]}},
    "$e2e_registry": {"roles": {"$SP_ID": ["AcrPush"]}}
  }
}
JSON
  python3 "$here/../Emulator/azure_emulator.py" --config "$EMU_DIR/config.json" --state-dir "$EMU_DIR" --host "${EMU_HOST:-127.0.0.1}" \
    --port-file "$EMU_DIR/port" --port "${EMU_PORT:-0}" --delay-ms "${1:-0}" --tls-port-file "$EMU_DIR/tls-port" >"$EMU_DIR/emulator.log" 2>&1 &
  EMU_PID=$!
  for _ in $(seq 500); do [ -s "$EMU_DIR/port" ] && break; sleep 0.02; done
  EMU="http://${EMU_HOST:-127.0.0.1}:$(cat "$EMU_DIR/port")"
  # The same service over TLS, with a certificate this machine does not trust.
  EMU_TLS="https://${EMU_HOST:-127.0.0.1}:$(cat "$EMU_DIR/tls-port")"
  check "[acr] the Azure emulator answers" wait_for_http "$EMU/_emulator/stats"
}

emu_stat() { curl -s "$EMU/_emulator/stats" | jq -r ".$1"; }
emu_post() { curl -s -o /dev/null -X POST -H 'Content-Type: application/json' -d "$2" "$EMU/_emulator/$1"; }

# acr_env NAME=VALUE… -- COMMAND… : COMMAND with only the given Azure settings, the emulator's endpoints,
# and a PATH without any real `az`.
acr_env() {
  local vars=()
  while [ "$1" != "--" ]; do vars+=("$1"); shift; done; shift
  env -u AZURE_CLIENT_ID -u AZURE_CLIENT_SECRET -u AZURE_TENANT_ID -u AZURE_CLIENT_CERTIFICATE_PATH \
    -u AZURE_CLIENT_CERTIFICATE_PASSWORD -u AZURE_FEDERATED_TOKEN_FILE -u IDENTITY_ENDPOINT -u IDENTITY_HEADER -u DOCKER_CREDENTIAL_ACR_IMDS_ENDPOINT \
    -u IDENTITY_SERVER_THUMBPRINT -u IMDS_ENDPOINT -u MSI_ENDPOINT -u MSI_SECRET -u DEFAULT_IDENTITY_CLIENT_ID \
    -u GITHUB_ACTIONS -u ACTIONS_ID_TOKEN_REQUEST_URL -u ACTIONS_ID_TOKEN_REQUEST_TOKEN -u SYSTEM_OIDCREQUESTURI -u SYSTEM_ACCESSTOKEN \
    -u AZURESUBSCRIPTION_SERVICE_CONNECTION_ID -u AZURESUBSCRIPTION_CLIENT_ID -u AZURESUBSCRIPTION_TENANT_ID \
    PATH="$WORK/bin:$DOCKER_DIR:/usr/bin:/bin" AZURE_AUTHORITY_HOST="$EMU/" \
    DOCKER_CREDENTIAL_ACR_ENDPOINTS="$REG=$EMU/acr/$REG,$REG2=$EMU/acr/$REG2,$ANON_REG=$EMU/acr/$ANON_REG,$CUSTOM_REG=$EMU/acr/$CUSTOM_REG" \
    XDG_CONFIG_HOME="$WORK/no-config" AZURE_CONFIG_DIR="$WORK/azure-config" "${vars[@]}" "$@"
}

# az_profile DIR [USER TENANT [TYPE]] : DIR/azureProfile.json as `az login` leaves it (with its byte order
# mark), logged in as USER in TENANT; without USER, as `az logout` leaves it
az_profile() {
  mkdir -p "$1"
  if [ -n "${2:-}" ]; then
    printf '\xef\xbb\xbf{"installationId": "i", "subscriptions": [{"id": "s1", "name": "N/A(tenant level account)", "state": "Enabled", "isDefault": true, "tenantId": "%s", "environmentName": "AzureCloud", "user": {"name": "%s", "type": "%s"}}]}' \
      "$3" "$2" "${4:-user}" >"$1/azureProfile.json"
  else
    printf '\xef\xbb\xbf{"installationId": "i", "subscriptions": []}' >"$1/azureProfile.json"
  fi
}
SP=(AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$SP_ID AZURE_CLIENT_SECRET=good-secret)
DOCKER_DIR=$(dirname "$(command -v docker)")

# forget_tokens : drops every cached token (ACR and Azure AD) from both stores, for a truly cold start;
# a person's sign-in (`login`) stays
forget_tokens() {
  local file="$XDG_DATA_HOME/docker-credential-acr/tokens.json"
  # Rewritten in place: the helper refuses a token file that is not private (0600).
  if [ -f "$file" ]; then
    jq '.tokens |= with_entries(select(.value.kind == "aad-sign-in"))' "$file" >"$file.kept" && cat "$file.kept" >"$file"
    rm -f "$file.kept"
  fi
  secret-tool clear kind acr-refresh-token 2>/dev/null; secret-tool clear kind aad-access-token 2>/dev/null
  secret-tool clear kind source-unavailable 2>/dev/null
  true
}

# acr_get SERVER [NAME=VALUE…] : `get` under acr_env; prints the answer
acr_get() { local server=$1; shift; printf '%s' "$server" | acr_env "$@" -- "$HELPER" get; }

# claims_match FILE FILTER : the claims of the token in the `get` answer FILE satisfy the jq FILTER
claims_match() { jwt_claims "$(jq -r .Secret "$1")" | jq -e "$2"; }

jwt_claims() { # jwt_claims TOKEN : the claims of a JWT, as JSON (its payload, base64url-decoded)
  local payload; payload=$(cut -d. -f2 <<<"$1" | tr '_-' '/+')
  while [ $(( ${#payload} % 4 )) != 0 ]; do payload="$payload="; done
  printf '%s' "$payload" | base64 -d 2>/dev/null
}

# derives_token SERVER [NAME=VALUE…] : `get` answers with a token for user 00000000-…
derives_token() {
  acr_get "$@" >"$WORK/derived" 2>"$WORK/derived.err" || { cat "$WORK/derived" "$WORK/derived.err"; return 1; }
  jq -e '.Username == "00000000-0000-0000-0000-000000000000" and (.Secret | length > 100)' "$WORK/derived"
}

# docker_login_with_token REGISTRY ENV-COMMAND… : `get` derives a token, `docker login` succeeds with it,
# and the helper's `store` keeps it under the user 00000000-…
docker_login_with_token() {
  local registry=$1; shift
  "$@" "$HELPER" get <<<"$registry" | jq -r .Secret |
    "$@" docker login "$registry" -u 00000000-0000-0000-0000-000000000000 --password-stdin 2>&1 | grep -q 'Login Succeeded' &&
    "$HELPER" list | jq -e --arg r "$registry" '.[$r] == "00000000-0000-0000-0000-000000000000"'
}

# manifest_ok COMMAND… : COMMAND prints an image manifest
manifest_ok() { "$@" | jq -e '.schemaVersion == 2'; }

acr_suite() {
  local store=$1 s="[acr $1]"
  export DOCKER_CREDENTIAL_ACR_STORE=$store
  emu_post reset '{}'
  helper erase "$REG" >/dev/null; helper erase "$REG2" >/dev/null

  expect "$s no identity, nothing stored: not found (anonymous pulls work)" 1 \
    "credentials not found in native keychain" acr_get "$REG"
  check "$s ... without any request to Azure" test "$(emu_stat aad_token)/$(emu_stat acr_exchange)" = 0/0

  acr_get "$REG" "${SP[@]}" >"$WORK/answer" 2>"$WORK/stderr"
  check "$s service principal: a derived token for user 00000000-…" \
    jq -e '.ServerURL == "'"$REG"'" and .Username == "00000000-0000-0000-0000-000000000000"' "$WORK/answer"
  check "$s ... an ACR refresh token for this registry" claims_match "$WORK/answer" \
    '.iss == "Azure Container Registry" and .aud == "'"$REG"'" and .grant_type == "refresh_token" and .tenant == "'"$TENANT"'"'
  check "$s ... one AAD request and one exchange" test "$(emu_stat aad_token)/$(emu_stat acr_exchange)" = 1/1
  local first; first=$(jq -r .Secret "$WORK/answer")
  expect "$s a second get is served from the cache" 0 "$(cat "$WORK/answer")" acr_get "$REG" "${SP[@]}"
  check "$s ... with no request" test "$(emu_stat aad_token)/$(emu_stat acr_exchange)" = 1/1
  check "$s list shows no cached token" bash -c "! '$HELPER' list | grep -q '$REG'"

  acr_get "$REG2" "${SP[@]}" >"$WORK/answer2"
  check "$s a second registry in the tenant reuses the AAD token: one round trip" \
    test "$(emu_stat aad_token)/$(emu_stat acr_exchange)" = 1/2
  check "$s ... and gets its own token" claims_match "$WORK/answer2" '.aud == "'"$REG2"'"'

  acr_get "$REG" AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$PULL_ONLY_ID AZURE_CLIENT_SECRET=pull-secret >"$WORK/answer3"
  check "$s another identity never gets the first one's cached token" \
    bash -c "[ \"\$(jq -r .Secret '$WORK/answer3')\" != '$first' ] && [ $(emu_stat acr_exchange) = 3 ]"

  # Expiry: a token with less life than the margin (600 s) is replaced, one with more is reused.
  helper erase "$REG" >/dev/null
  emu_post lifetimes '{"acr_refresh": 300}'
  acr_get "$REG" "${SP[@]}" >/dev/null; local before; before=$(emu_stat acr_exchange)
  acr_get "$REG" "${SP[@]}" >/dev/null
  check "$s a token within the refresh margin is refreshed" test "$(emu_stat acr_exchange)" = $((before + 1))
  emu_post lifetimes '{"acr_refresh": 900}'
  acr_get "$REG" "${SP[@]}" >/dev/null; before=$(emu_stat acr_exchange)
  acr_get "$REG" "${SP[@]}" >/dev/null
  check "$s a token beyond the margin is reused" test "$(emu_stat acr_exchange)" = "$before"
  emu_post lifetimes '{"acr_refresh": 10800}'

  # Single flight: 32 cold gets at once make one AAD request and one exchange.
  forget_tokens
  emu_post reset '{}'
  local pids=()
  for i in $(seq 32); do ( acr_get "$REG" "${SP[@]}" >"$WORK/parallel.$i" 2>&1 ) & pids+=($!); done
  wait "${pids[@]}"  # not a bare wait: the emulator is a child too
  check "$s 32 parallel cold gets: exactly one exchange" test "$(emu_stat aad_token)/$(emu_stat acr_exchange)" = 1/1
  check "$s ... and 32 identical answers" test "$(cat "$WORK"/parallel.* | sort -u | jq -s 'length')" = 1
  helper erase "$REG" >/dev/null
  acr_get "$REG" "${SP[@]}" >/dev/null
  check "$s erase drops the cached tokens: the next get derives again" test "$(emu_stat acr_exchange)" = 2
  unset DOCKER_CREDENTIAL_ACR_STORE
}

acr_failures_suite() { # each case starts cold: a cached token would (rightly) be served instead
  local s="[acr failures]"
  export DOCKER_CREDENTIAL_ACR_STORE=file
  emu_post reset '{}'
  forget_tokens

  expect "$s wrong client secret: AADSTS7000215 explained" 1 \
    "$REG: service principal (AZURE_CLIENT_SECRET): Azure AD refused the token request (AADSTS7000215): invalid client secret (often the secret's ID was given instead of its value); set AZURE_CLIENT_SECRET to the secret's value" \
    acr_get "$REG" AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$SP_ID AZURE_CLIENT_SECRET=wrong
  check "$s ... the same line on stderr, where Docker shows it" grep -qF "docker-credential-acr: $REG: service principal (AZURE_CLIENT_SECRET): Azure AD refused the token request (AADSTS7000215)" "$WORK/stderr"
  check "$s ... no secret in the message" bash -c "! grep -q wrong '$WORK/stderr'"
  forget_tokens
  expect "$s expired client secret: AADSTS7000222" 1 \
    "$REG: service principal (AZURE_CLIENT_SECRET): Azure AD refused the token request (AADSTS7000222): the client secret has expired; create a new secret for the app registration and update AZURE_CLIENT_SECRET" \
    acr_get "$REG" AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$SP_ID AZURE_CLIENT_SECRET=old-secret
  forget_tokens
  expect "$s unknown application: AADSTS700016" 1 \
    "$REG: service principal (AZURE_CLIENT_SECRET): Azure AD refused the token request (AADSTS700016): the application (AZURE_CLIENT_ID) was not found in the tenant; check AZURE_CLIENT_ID and AZURE_TENANT_ID" \
    acr_get "$REG" AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=cccccccc-0000-0000-0000-000000000009 AZURE_CLIENT_SECRET=x
  forget_tokens
  expect "$s unknown tenant: AADSTS90002" 1 \
    "$REG: service principal (AZURE_CLIENT_SECRET): Azure AD refused the token request (AADSTS90002): the tenant was not found; check AZURE_TENANT_ID and that the registry's cloud matches the tenant's" \
    acr_get "$REG" AZURE_TENANT_ID=99999999-9999-9999-9999-999999999999 AZURE_CLIENT_ID=$SP_ID AZURE_CLIENT_SECRET=good-secret
  check "$s nothing bad was cached" test -z "$(jq -r '.tokens | keys[]' "$XDG_DATA_HOME/docker-credential-acr/tokens.json" 2>/dev/null | grep acr-refresh)"

  forget_tokens
  emu_post faults '{"endpoint": "acr_exchange", "kind": "firewall"}'
  expect "$s firewall: names the client IP and the fix" 1 \
    "$REG: the registry's firewall refuses this machine (client IP 127.0.0.1); add that address to the registry's network rules, see https://aka.ms/acr/firewall" \
    acr_get "$REG" "${SP[@]}"
  forget_tokens
  emu_post faults '{"endpoint": "acr_exchange", "kind": "no_refresh_token"}'
  expect "$s exchange answer without refresh_token" 1 \
    "$REG: the registry's token service sent an unusable answer (no refresh_token); try again later" acr_get "$REG" "${SP[@]}"
  forget_tokens
  emu_post faults '{"endpoint": "acr_exchange", "kind": "malformed"}'
  expect "$s malformed exchange answer" 1 \
    "$REG: the registry's token service sent an unusable answer (not JSON); try again later" acr_get "$REG" "${SP[@]}"
  forget_tokens
  emu_post faults '{"endpoint": "acr_exchange", "kind": "expired_token"}'
  expect "$s an already expired token is refused, not cached" 1 \
    "$REG: the registry's token service sent an unusable answer (the refresh token has already expired); try again later" acr_get "$REG" "${SP[@]}"
  emu_post reset '{}'
  emu_post faults '{"endpoint": "acr_exchange", "status": 503, "count": 2, "retry_after": 0}'
  check "$s 503 twice, then success: retried" derives_token "$REG" "${SP[@]}"
  check "$s ... three exchange requests in all" test "$(emu_stat acr_exchange)" = 3
  local good; good=$(jq -c '.tokens' "$XDG_DATA_HOME/docker-credential-acr/tokens.json")

  # A cached token inside the margin (lifetime 900 s, margin 1000 s) but not expired survives a failure.
  mkdir -p "$WORK/margin-config/docker-credential-acr"
  echo '{"refreshMarginSeconds": 1000, "timeoutSeconds": 3}' >"$WORK/margin-config/docker-credential-acr/config.json"
  helper erase "$REG" >/dev/null; emu_post reset '{}'; emu_post lifetimes '{"acr_refresh": 900}'
  acr_get "$REG" XDG_CONFIG_HOME="$WORK/margin-config" "${SP[@]}" >"$WORK/answer"
  cp "$XDG_DATA_HOME/docker-credential-acr/tokens.json" "$WORK/tokens.before"
  emu_post faults '{"endpoint": "acr_exchange", "status": 500, "count": -1}'
  expect "$s a failed refresh keeps answering with the still valid cached token" 0 "$(cat "$WORK/answer")" \
    acr_get "$REG" XDG_CONFIG_HOME="$WORK/margin-config" "${SP[@]}"
  check "$s ... and leaves the cache as it was" cmp -s "$WORK/tokens.before" "$XDG_DATA_HOME/docker-credential-acr/tokens.json"
  check "$s ... and logs why" grep -q "cannot derive ACR refresh token.*HTTP 500" "$XDG_STATE_HOME/docker-credential-acr/log"
  check "$s the log holds no secret" bash -c "! grep -qE 'good-secret|$(jq -r .Secret "$WORK/answer" | cut -c1-40)' '$XDG_STATE_HOME/docker-credential-acr/log'"
  check "$s the log is private" test "$(stat -c %a "$XDG_STATE_HOME/docker-credential-acr")/$(stat -c %a "$XDG_STATE_HOME/docker-credential-acr/log")" = 700/600

  forget_tokens; emu_post reset '{}'
  emu_post faults '{"endpoint": "aad_token", "kind": "slow", "delay_ms": 10000, "count": -1}'
  local t0; t0=$(date +%s%N)
  expect "$s a slow Azure AD is cut off at the configured total time" 1 \
    "$REG: service principal (AZURE_CLIENT_SECRET): http://127.0.0.1:$(cat "$EMU_DIR/port") did not answer in time; check the network path to Azure AD (proxy, firewall, DNS)" \
    acr_get "$REG" XDG_CONFIG_HOME="$WORK/margin-config" "${SP[@]}"
  check "$s ... within the 3 s budget and a second" test $(( ($(date +%s%N) - t0) / 1000000 )) -le 4000
  emu_post reset '{}'; forget_tokens
  expect "$s connection refused" 1 \
    "$REG: service principal (AZURE_CLIENT_SECRET): cannot connect to http://127.0.0.1:9: connection refused; check the network path to Azure AD (proxy, firewall, DNS)" \
    acr_get "$REG" XDG_CONFIG_HOME="$WORK/margin-config" "${SP[@]}" AZURE_AUTHORITY_HOST=http://127.0.0.1:9/
  expect "$s a non-loopback http authority is refused" 1 \
    "$REG: AZURE_AUTHORITY_HOST=http://login.example.com/ is refused: plain http:// is accepted only for 127.0.0.1, ::1 and localhost; use https://" \
    acr_get "$REG" "${SP[@]}" AZURE_AUTHORITY_HOST=http://login.example.com/
  unset DOCKER_CREDENTIAL_ACR_STORE
}

acr_identities_suite() {
  local s="[acr identities]"
  echo '{"registries": {"'"$REG"'": {"identity": "azure-cli"}}}' >"$WORK/pin-az.json"
  export DOCKER_CREDENTIAL_ACR_STORE=file
  emu_post reset '{}'

  helper erase "$REG" >/dev/null
  check "$s service principal with certificate" derives_token "$REG" AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$CERT_SP_ID AZURE_CLIENT_CERTIFICATE_PATH="$EMU_DIR/sp.pem"

  forget_tokens
  check "$s service principal with a password-protected certificate" derives_token "$REG" AZURE_TENANT_ID=$TENANT \
    AZURE_CLIENT_ID=$CERT_SP_ID AZURE_CLIENT_CERTIFICATE_PATH="$EMU_DIR/sp-encrypted.pem" AZURE_CLIENT_CERTIFICATE_PASSWORD=cert-password
  forget_tokens
  expect "$s ... with a wrong password" 1 \
    "$REG: the certificate $EMU_DIR/sp-encrypted.pem cannot be used: its private key cannot be decrypted (wrong password); check AZURE_CLIENT_CERTIFICATE_PASSWORD; give a PEM or PKCS#12 (.pfx) file with the certificate and its RSA private key" \
    acr_get "$REG" AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$CERT_SP_ID AZURE_CLIENT_CERTIFICATE_PATH="$EMU_DIR/sp-encrypted.pem" AZURE_CLIENT_CERTIFICATE_PASSWORD=wrong
  expect "$s ... without its password" 1 \
    "$REG: the certificate $EMU_DIR/sp-encrypted.pem cannot be used: its private key is encrypted; set AZURE_CLIENT_CERTIFICATE_PASSWORD; give a PEM or PKCS#12 (.pfx) file with the certificate and its RSA private key" \
    acr_get "$REG" AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$CERT_SP_ID AZURE_CLIENT_CERTIFICATE_PATH="$EMU_DIR/sp-encrypted.pem"

  helper erase "$REG" >/dev/null
  curl -s "$EMU/_emulator/federated-token?subject=system:serviceaccount:default:builder" >"$WORK/federated-token"
  check "$s workload identity" derives_token "$REG" AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$WI_ID AZURE_FEDERATED_TOKEN_FILE="$WORK/federated-token"
  curl -s "$EMU/_emulator/federated-token?subject=system:serviceaccount:default:other" >"$WORK/federated-token"
  helper erase "$REG" >/dev/null
  forget_tokens
  expect "$s workload identity for an unknown subject: AADSTS70021" 1 \
    "$REG: workload identity (AZURE_FEDERATED_TOKEN_FILE): Azure AD refused the token request (AADSTS70021): no federated identity credential matches the token's issuer and subject; add one to the app registration for this issuer and subject (the service account, repository or service connection)" \
    acr_get "$REG" AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$WI_ID AZURE_FEDERATED_TOKEN_FILE="$WORK/federated-token"

  helper erase "$REG" >/dev/null
  check "$s managed identity through IMDS (tenant from the token)" derives_token "$REG" DOCKER_CREDENTIAL_ACR_IMDS_ENDPOINT="$EMU/metadata/identity/oauth2/token"
  helper erase "$REG" >/dev/null
  check "$s managed identity through App Service's endpoint" derives_token "$REG" IDENTITY_ENDPOINT="$EMU/msi/token" IDENTITY_HEADER=emulator-identity-header
  forget_tokens
  expect "$s managed identity that is not assigned" 1 \
    "$REG: managed identity: the identity endpoint answered 400 (Identity not found); check that the identity is assigned to this machine, and set AZURE_CLIENT_ID to choose one of several" \
    acr_get "$REG" DOCKER_CREDENTIAL_ACR_IMDS_ENDPOINT="$EMU/metadata/identity/oauth2/token" AZURE_CLIENT_ID=dddddddd-0000-0000-0000-000000000000

  # A fake `az` that answers as `az account get-access-token` does, and records its arguments.
  mkdir -p "$WORK/az-bin"
  cat >"$WORK/az-bin/az" <<AZ
#!/bin/sh
echo "\$*" >"$WORK/az-arguments"
curl -s "$EMU/_emulator/aad-token?client_id=$SP_ID&tenant=$TENANT&resource=https://containerregistry.azure.net"
AZ
  chmod +x "$WORK/az-bin/az"
  helper erase "$REG" >/dev/null
  az_profile "$WORK/az-config" alice@contoso.com "$TENANT"
  check "$s Azure CLI" derives_token "$REG" PATH="$WORK/az-bin:/usr/bin:/bin" AZURE_CONFIG_DIR="$WORK/az-config"
  check "$s ... asked for the registry's resource, nothing secret on its command line" \
    test "$(cat "$WORK/az-arguments")" = "account get-access-token --resource https://containerregistry.azure.net --output json"
  printf '#!/bin/sh\necho "ERROR: Please run '"'"'az login'"'"' to setup account." >&2\nexit 1\n' >"$WORK/az-bin/az"
  forget_tokens
  expect "$s Azure CLI that says it is not logged in: not there, so not found (anonymous pulls work)" 1 \
    "credentials not found in native keychain" acr_get "$REG" PATH="$WORK/az-bin:/usr/bin:/bin" AZURE_CONFIG_DIR="$WORK/az-config"
  forget_tokens
  az_profile "$WORK/az-config"
  expect "$s Azure CLI logged out (its profile): not found, without running it" 1 \
    "credentials not found in native keychain" acr_get "$REG" PATH="$WORK/az-bin:/usr/bin:/bin" AZURE_CONFIG_DIR="$WORK/az-config"
  az_profile "$WORK/az-config" alice@contoso.com "$TENANT"
  expect "$s ... pinned in the configuration file, it is the cause" 1 "$REG: Azure CLI: not logged in; run \`az login\`" \
    acr_get "$REG" PATH="$WORK/az-bin:/usr/bin:/bin" AZURE_CONFIG_DIR="$WORK/az-config" DOCKER_CREDENTIAL_ACR_CONFIG="$WORK/pin-az.json"
  unset DOCKER_CREDENTIAL_ACR_STORE
}

acr_exposed_tokens_suite() {
  local s="[acr exposed tokens]"
  export DOCKER_CREDENTIAL_ACR_STORE=secretservice
  emu_post reset '{}'
  helper erase "$REG" >/dev/null
  local token; token=$(acr_get "$REG2" "${SP[@]}" | jq -r .Secret)
  helper erase "$REG2" >/dev/null
  printf '%s' "$(cred "$REG2" alice "$token")" | "$HELPER" store 2>"$WORK/stderr"
  check "$s store of an ACR token under another user says so" grep -q "storing it under the user 00000000-0000-0000-0000-000000000000" "$WORK/stderr"
  expect "$s ... and stores it under 00000000-…" 0 \
    '{"ServerURL":"'"$REG2"'","Username":"00000000-0000-0000-0000-000000000000","Secret":"'"$token"'"}' acr_get "$REG2"
  helper erase "$REG2" >/dev/null
  printf '{"accessToken": "%s", "loginServer": "%s"}' "$token" "$REG2" | "$HELPER" import
  expect "$s import of az acr login --expose-token output" 0 \
    '{"ServerURL":"'"$REG2"'","Username":"00000000-0000-0000-0000-000000000000","Secret":"'"$token"'"}' acr_get "$REG2"
  expect "$s a stored admin password is returned as it is" 0 "" helper store "$(cred "$REG2" admin admin-password)"
  expect "$s ... even with an identity configured" 0 \
    '{"ServerURL":"'"$REG2"'","Username":"admin","Secret":"admin-password"}' acr_get "$REG2" "${SP[@]}"
  emu_post lifetimes '{"acr_refresh": 3}'
  helper erase "$REG2" >/dev/null
  token=$(acr_get "$REG2" "${SP[@]}" | jq -r .Secret); helper erase "$REG2" >/dev/null
  check "$s (a token that expires in 3 s)" test "${#token}" -gt 100
  printf '%s' "$(cred "$REG2" 00000000-0000-0000-0000-000000000000 "$token")" | "$HELPER" store
  sleep 4
  expect "$s an expired stored token without identity: the cause" 1 \
    "$REG2: the stored token has expired and no Azure identity is configured to renew it; sign in (docker-credential-acr login), log in again (az acr login --expose-token | docker-credential-acr import), or configure an identity" \
    acr_get "$REG2"
  emu_post lifetimes '{"acr_refresh": 10800}'
  acr_get "$REG2" "${SP[@]}" >"$WORK/answer"
  check "$s an expired stored token with an identity: a new one is derived" \
    bash -c "[ \"\$(jq -r .Secret '$WORK/answer')\" != '$token' ]"
  helper erase "$REG2" >/dev/null
  unset DOCKER_CREDENTIAL_ACR_STORE
}

acr_clients_suite() { # Docker CLI and skopeo against docker-registry trusting the emulator's tokens
  local s="[acr clients]" port=${ACR_REGISTRY_PORT:-5065}
  local reg="127.0.0.1:$port" dir="$WORK/acr-registry"
  mkdir -p "$dir/data" "$dir/docker" "$dir/config/docker-credential-acr"
  cat >"$dir/registry.yml" <<YAML
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: $dir/data}}
http: {addr: "$reg", secret: not-a-secret}
auth:
  token: {realm: "$EMU/acr/$reg/oauth2/token", service: "$reg", issuer: "Azure Container Registry", rootcertbundle: "$EMU_DIR/signing-cert.pem"}
YAML
  docker-registry serve "$dir/registry.yml" >"$dir/registry.log" 2>&1 &
  local registry_pid=$!
  check "$s registry with token auth answers on $reg" wait_for_http "http://$reg/v2/"
  # The configuration declares the local registry an ACR registry; its tokens come from the emulator.
  echo '{"refreshMarginSeconds": 0, "registries": {"'"$reg"'": {"identity": "service-principal"}}}' \
    >"$dir/config/docker-credential-acr/config.json"
  echo '{"credsStore": "acr", "credHelpers": {"'"$reg"'": "acr"}}' >"$dir/docker/config.json"
  local run=(acr_env "${SP[@]}" XDG_CONFIG_HOME="$dir/config" DOCKER_CONFIG="$dir/docker"
    REGISTRY_AUTH_FILE="$dir/docker/config.json" DOCKER_CREDENTIAL_ACR_ENDPOINTS="$reg=$EMU/acr/$reg" --)
  emu_post reset '{}'; emu_post lifetimes '{"acr_refresh": 4}'
  check "$s skopeo copy (push) with the derived token" "${run[@]}" skopeo copy --quiet --format v2s2 \
    --dest-tls-verify=false "oci:$TESTDATA/image:latest" "docker://$reg/acr/hello:1"
  check "$s skopeo inspect" "${run[@]}" skopeo inspect --tls-verify=false "docker://$reg/acr/hello:1"
  check "$s docker manifest inspect with the derived token" manifest_ok "${run[@]}" docker manifest inspect --insecure "$reg/acr/hello:1"
  # docker login as `az acr login` does it: the derived token as the password of user 00000000-….
  check "$s docker login with the derived token" docker_login_with_token "$reg" "${run[@]}"
  local exchanges; exchanges=$(emu_stat acr_exchange)
  sleep 5  # the first token has expired now
  check "$s after the token expired: skopeo still works" "${run[@]}" skopeo inspect --tls-verify=false "docker://$reg/acr/hello:1"
  check "$s ... with a newly derived token" test "$(emu_stat acr_exchange)" -gt "$exchanges"
  check "$s ... and docker too" manifest_ok "${run[@]}" docker manifest inspect --insecure "$reg/acr/hello:1"
  emu_post lifetimes '{"acr_refresh": 10800}'
  kill "$registry_pid" 2>/dev/null; wait "$registry_pid" 2>/dev/null
}

acr_two_binaries_suite() { # docker-credential-acr runs the protocol, new tokens included; certificates and subcommands go to the engine
  local s="[two binaries]" alone="$WORK/front-alone"
  mkdir -p "$alone"; cp "$HELPER" "$alone/docker-credential-acr"
  export DOCKER_CREDENTIAL_ACR_STORE=file
  alone_get() { printf '%s' "$1" | acr_env "${SP[@]}" -- "$alone/docker-credential-acr" get; }
  alone_certificate_get() {
    printf '%s' "$1" | acr_env AZURE_TENANT_ID="$TENANT" AZURE_CLIENT_ID="$CERT_SP_ID" AZURE_CLIENT_CERTIFICATE_PATH="$EMU_DIR/sp.pem" \
      -- "$alone/docker-credential-acr" get
  }
  helper erase "$REG" >/dev/null
  forget_tokens; emu_post reset '{}'
  alone_get "$REG" >"$WORK/answer"
  check "$s a new token for a secret needs no engine" jq -e '.Username == "00000000-0000-0000-0000-000000000000"' "$WORK/answer"
  check "$s ... one AAD request and one exchange" test "$(emu_stat aad_token)/$(emu_stat acr_exchange)" = 1/1
  expect "$s a cache hit needs no engine" 0 "$(cat "$WORK/answer")" alone_get "$REG"
  helper store "$(cred plain.example.com u plain-secret)"
  expect "$s another registry's credential needs no engine" 0 \
    '{"ServerURL":"plain.example.com","Username":"u","Secret":"plain-secret"}' alone_get plain.example.com
  helper erase "$REG" >/dev/null
  expect "$s a certificate's token without the engine: says what is missing" 1 \
    "docker-credential-acr: cannot find docker-credential-acr-engine (looked at $alone/docker-credential-acr-engine and $alone/../libexec/docker-credential-acr/docker-credential-acr-engine); reinstall with \`make install\`" \
    alone_certificate_get "$REG"
  check "$s the front binary links no HTTP client, TLS, cryptography or argument parser" \
    bash -c "! nm '$HELPER' | grep -qE 'AsyncHTTPClient|NIOCore|CCryptoBoringSSL|ArgumentParser'"
  # libcurl, and the libssl and libcrypto it brings, load only when a request is coming.
  check "$s neither binary links libcurl or libssl; only the engine links libcrypto (certificates)" bash -c "
    ! readelf -d '$HELPER' | grep -qE 'libcurl|libssl|libcrypto' && ! readelf -d '$(dirname "$HELPER")/docker-credential-acr-engine' | grep -qE 'libcurl|libssl'"
  expect "$s subcommands go to the engine, named after the front" 0 "$VERSION_TEXT" "$HELPER" --version
  local engine curl_library
  engine="$(dirname "$HELPER")/docker-credential-acr-engine"
  curl_library=$(readlink -f "$(ldconfig -p | awk '$1 == "libcurl.so.4" { print $NF; exit }')")
  # A mount namespace of its own (unshare -r: no root needed) where libcurl.so.4 is an empty file.
  printf '%s' "$REG" | acr_env "${SP[@]}" -- unshare -rm sh -c 'mount --bind /dev/null "$0" && exec "$1" get' \
    "$curl_library" "$HELPER" >"$WORK/no-curl" 2>&1
  local rc=$?
  check "$s without libcurl a new token fails, saying which library and how to install it" bash -c "
    [ $rc = 1 ] && grep -q 'the HTTP library cannot be loaded: .*libcurl.so.4' '$WORK/no-curl' &&
    grep -q 'apt-get install libcurl4' '$WORK/no-curl'"
  local prefix="$WORK/prefix"
  mkdir -p "$prefix/bin" "$prefix/libexec/docker-credential-acr"
  cp "$HELPER" "$prefix/bin/"; cp "$(dirname "$HELPER")/docker-credential-acr-engine" "$prefix/libexec/docker-credential-acr/"
  expect "$s installed as make install lays it out: bin/ finds libexec/docker-credential-acr/" 0 "$VERSION_TEXT" "$prefix/bin/docker-credential-acr" --version
  check "$s shell completions: bash (parses), zsh, fish, each with every subcommand" bash -c "
    '$HELPER' --generate-completion-script bash >'$WORK/completion.bash' && bash -n '$WORK/completion.bash' &&
    for shell in bash zsh fish; do '$HELPER' --generate-completion-script \$shell | grep -q kubelet || exit 1; done"
  helper erase plain.example.com >/dev/null
  unset DOCKER_CREDENTIAL_ACR_STORE
}
