# `login` / `logout`: a person's device-code sign-in against the Azure emulator, kept in the store and
# redeemed silently for new ACR tokens; its place in the identity order; its failures. Uses acr.sh's
# emulator (users alice, with AcrPull on $REG, and bob, with no role).

ALICE=alice@contoso.com
ALICE_OID=0c000000-0000-0000-0000-00000000000a

# login_start ARG… : `login ARG…` in the background under acr_env (extra NAME=VALUE settings in LOGIN_ENV)
login_start() {
  acr_env "${LOGIN_ENV[@]}" -- "$HELPER" login "$@" >"$WORK/login.out" 2>"$WORK/login.err" &
  LOGIN_PID=$!
}

# pending_code : the user code of the one pending sign-in, once the helper has asked for it (5 s at most)
pending_code() {
  local code
  for _ in $(seq 250); do
    code=$(curl -s "$EMU/_emulator/device-codes" | jq -r 'if (.pending | length) == 1 then .pending[0].user_code else empty end')
    [ -n "$code" ] && { echo "$code"; return 0; }
    sleep 0.02
  done
  return 1
}

# login_as USER ARG… : a whole sign-in: start, approve the code as USER in "the browser", wait; returns login's status
login_as() {
  local user=$1 code rc=0; shift
  login_start "$@"
  code=$(pending_code) || { kill "$LOGIN_PID"; return 1; }
  emu_post device-codes/approve "{\"user\": \"$user\", \"user_code\": \"$code\"}"
  wait "$LOGIN_PID" || rc=$?
  return "$rc"
}

# jwt_payload_match TOKEN FILTER : the claims of TOKEN satisfy the jq FILTER
jwt_payload_match() {
  local payload; payload=$(cut -d. -f2 <<<"$1" | tr '_-' '/+')
  while [ $(( ${#payload} % 4 )) != 0 ]; do payload="$payload="; done
  printf '%s' "$payload" | base64 -d | jq -e "$2"
}

# pull_token_actions SECRET : the actions an ACR access token for repository app grants, asked with SECRET
pull_token_actions() {
  curl -s -u "00000000-0000-0000-0000-000000000000:$1" "$EMU/acr/$REG/oauth2/token?service=$REG&scope=repository:app:pull,push" |
    jq -r .access_token
}

renewed_refresh_token() { [ "$(sign_in_secret | jq -r .refreshToken)" != "$1" ]; }

sp_comes_first() { forget_tokens; acr_get "$REG" "${SP[@]}" >"$WORK/sp.json" && claims_match "$WORK/sp.json" ".appid == \"$SP_ID\""; }

az_not_called() { rm -f "$WORK/az-called"; forget_tokens; acr_get "$REG" PATH="$WORK/az-signin:/usr/bin:/bin" >/dev/null && [ ! -e "$WORK/az-called" ]; }

tokens_of_sign_in_gone() {
  [ -z "$(sign_in_secret)" ] &&
    ! { secret-tool search --all kind acr-refresh-token; secret-tool search --all kind aad-access-token
        cat "$XDG_DATA_HOME/docker-credential-acr/tokens.json"; } 2>&1 | grep -q 'signed-in-user'
}

sign_in_secret() { # the stored sign-in record (JSON), from whichever store is in use
  if [ "$DOCKER_CREDENTIAL_ACR_STORE" = file ]; then
    jq -r '.tokens[] | select(.kind == "aad-sign-in") | .token' "$XDG_DATA_HOME/docker-credential-acr/tokens.json" 2>/dev/null
  else
    secret-tool lookup kind aad-sign-in 2>/dev/null | cut -d' ' -f2-
  fi
}

signin_suite() {
  local store=$1 s="[sign-in $1]"
  export DOCKER_CREDENTIAL_ACR_STORE=$store
  LOGIN_ENV=()
  emu_post reset '{}'
  emu_post lifetimes '{"device_interval": 1}'
  helper erase "$REG" >/dev/null; forget_tokens

  check "$s login: signs in with a code and checks the registry" login_as "$ALICE" "$REG"
  check "$s ... the page and the code are shown (Azure AD's message)" \
    grep -qE '^To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code [A-Z0-9]+ to authenticate\.$' "$WORK/login.err"
  check "$s ... says who signed in, and that the registry takes it" bash -c "
    grep -qx 'Signed in as $ALICE (tenant $TENANT); \`docker-credential-acr logout\` forgets it.' '$WORK/login.out' &&
    grep -q '^$REG accepts the sign-in: the helper holds an ACR token until [0-9][0-9]:[0-9][0-9] UTC' '$WORK/login.out'"
  local record; record=$(sign_in_secret)
  check "$s ... the refresh token is kept in the store" jq -e --arg oid "$ALICE_OID" \
    '.objectID == $oid and .username == "alice@contoso.com" and (.refreshToken | length > 20)' <<<"$record"
  local refresh; refresh=$(jq -r .refreshToken <<<"$record")
  check "$s ... and never printed" bash -c "! grep -qF -- '$refresh' '$WORK/login.out' '$WORK/login.err'"
  check "$s ... list does not show it" bash -c "! '$HELPER' list | grep -q -i -e sign -e login.microsoft -e '$EMU'"

  local before; before=$(emu_stat aad_token)
  check "$s get: the token derived at login, from the cache" derives_token "$REG"
  check "$s ... without asking Azure AD" test "$(emu_stat aad_token)" = "$before"
  check "$s ... issued to the person" claims_match "$WORK/derived" ".sub == \"$ALICE_OID\""

  # The ACR refresh token's three hours, shortened to three seconds: the next get renews it silently.
  emu_post lifetimes '{"acr_refresh": 3}'
  forget_tokens
  check "$s no cached tokens: get redeems the sign-in" derives_token "$REG"
  check "$s ... with Azure AD's refresh-token grant" bash -c "tail -n 3 '$EMU_DIR/requests.log' | jq -se 'any(.[]; .grant_type == \"refresh_token\" and .endpoint == \"aad_token\" and .status == 200)'"
  check "$s ... and keeps the new refresh token Azure AD answered with" renewed_refresh_token "$refresh"
  sleep 4
  check "$s three (here: 3 s) hours later: still no login needed" derives_token "$REG"
  emu_post lifetimes '{"acr_refresh": 10800}'
  check "$s the ACR token grants alice's AcrPull, no more" \
    jwt_payload_match "$(pull_token_actions "$(jq -r .Secret "$WORK/derived")")" '.access == [{"type":"repository","name":"app","actions":["pull"]}]'


  # The documented order: the environment's identities first, the Azure CLI after.
  check "$s a service principal in the environment comes first" sp_comes_first
  mkdir -p "$WORK/az-signin"; printf '#!/bin/sh\ntouch "%s/az-called"\nexit 1\n' "$WORK" >"$WORK/az-signin/az"; chmod +x "$WORK/az-signin/az"
  check "$s ... the Azure CLI after: not called" az_not_called
  LOGIN_ENV=("${SP[@]}")
  check "$s login where a service principal is configured: still signs in" login_as "$ALICE"
  check "$s ... and says which identity comes first" grep -q "^note: service principal (AZURE_CLIENT_SECRET) comes first here" "$WORK/login.err"
  LOGIN_ENV=()
  check "$s login without a registry: no registry check" bash -c "! grep -q accepts '$WORK/login.out'"
  acr_env -- "$HELPER" diagnose --json "$REG" >"$WORK/diagnose.json"
  check "$s diagnose names the sign-in as the identity" jq -e --arg who "signed-in-user, because signed in as $ALICE" \
    '.checks[] | select(.code == "IDENTITY_SOURCE_ERROR") | .found | startswith($who)' "$WORK/diagnose.json"

  # Revoked sessions: a clear cause, and the sign-in is left for `login` to replace.
  emu_post revoke "{\"user\": \"$ALICE\"}"
  forget_tokens
  expect "$s revoked: get says why and what to do" 1 \
    "$REG: signed-in user (docker-credential-acr login): Azure AD refused the token request (AADSTS50173): the sign-in was revoked (a password change, or an administrator revoked the sessions); run \`docker-credential-acr login\` again" \
    acr_get "$REG"
  check "$s ... nothing cached from the failure" bash -c "! acr_env -- '$HELPER' list | grep -q '$REG'"

  # Sign-ins that do not complete leave nothing behind.
  expect "$s logout forgets the sign-in" 0 "Signed out $ALICE; its tokens are removed from this machine." acr_env -- "$HELPER" logout
  check "$s ... and its record is gone" test -z "$(sign_in_secret)"
  check "$s login again works after a revoke" login_as "$ALICE" "$REG"
  acr_env -- "$HELPER" logout >/dev/null
  check "$s logout removes the tokens derived from it" tokens_of_sign_in_gone
  expect "$s ... so get finds no identity again" 1 "credentials not found in native keychain" acr_get "$REG"
  expect "$s logout when not signed in" 0 "Not signed in ($EMU/); nothing to forget." acr_env -- "$HELPER" logout

  login_start
  local code; code=$(pending_code)
  emu_post device-codes/approve "{\"user_code\": \"$code\", \"decline\": true}"
  local rc=0; wait "$LOGIN_PID" || rc=$?
  check "$s declined in the browser: fails, says so" bash -c "[ $rc = 1 ] && grep -q 'the sign-in was declined in the browser' '$WORK/login.err'"
  check "$s ... nothing kept" test -z "$(sign_in_secret)"
  emu_post lifetimes '{"device_code": 2}'
  login_start
  rc=0; wait "$LOGIN_PID" || rc=$?
  check "$s the code expires unused: fails, says so" bash -c "[ $rc = 1 ] && grep -q 'the code expired before the sign-in was completed' '$WORK/login.err'"
  check "$s ... nothing kept" test -z "$(sign_in_secret)"
  emu_post lifetimes '{"device_code": 900}'
  expect "$s login for a registry that is not ACR: refused before any request" 1 "" acr_env -- "$HELPER" login registry.example.com
  check "$s ... says why" grep -q "registry.example.com is not an Azure Container Registry login server" "$WORK/stderr"
  unset DOCKER_CREDENTIAL_ACR_STORE
}
