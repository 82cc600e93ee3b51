# Azure faults against the ACR token engine: every identity source and the ACR exchange answer with
# HTTP errors, throttling, slowness, refused connections and broken or expired answers. Each `get` must
# end in bounded time, fail with one line that names the cause, never cache what failed, keep serving a
# good cached token that is due for renewal, and get past a single transient fault by retrying; on
# both stores. Needs acr.sh, and the emulator started by its `emulator_start`.

FAULTS_SLACK_MS=1000  # process start and a loaded machine, on top of timeoutSeconds

# faults_reset : the emulator without faults, no cached token, and lifetimes that make a cached token due:
# ACR refresh tokens of 900 s (inside the 1000 s margin of the configurations below, not expired) and
# Azure AD tokens of 200 s (inside the engine's fixed 300 s margin), so a renewal asks every endpoint again.
faults_reset() {
  emu_post reset '{}'
  emu_post lifetimes '{"acr_refresh": 900, "aad": 200, "managed_identity": 200}'
  # forget_tokens, without its keyring round trips where the file store holds everything (and no sign-in)
  local file="$XDG_DATA_HOME/docker-credential-acr/tokens.json"
  if [ "${DOCKER_CREDENTIAL_ACR_STORE:-}" = file ] && ! grep -q aad-sign-in "$file" 2>/dev/null; then rm -f "$file"
  else forget_tokens; fi
}

faults_stat() { # faults_stat ENDPOINT : requests to ENDPOINT since the last reset (emu_stat without jq)
  local stats; stats=$(curl -s "$EMU/_emulator/stats")
  [[ $stats =~ \"$1\":\ *([0-9]+) ]] && echo "${BASH_REMATCH[1]}"
}

# faults_get CONFIG IDENTITY-VAR… : `get` of $REG under CONFIG (a timeoutSeconds file); sets FAULT_RC and
# FAULT_MS, stdout in $FAULT_OUT
faults_get() {
  local config=$1; shift
  local t0; t0=$(date +%s%N)
  FAULT_RC=0
  acr_get "$REG" DOCKER_CREDENTIAL_ACR_CONFIG="$config" "$@" >"$FAULT_OUT" 2>"$WORK/faults/stderr" || FAULT_RC=$?
  FAULT_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
}

# the cached ACR refresh tokens' items or entries, from the store in use
faults_refresh_tokens() {
  if [ "${DOCKER_CREDENTIAL_ACR_STORE:-}" = secretservice ]; then
    secret-tool search --all kind acr-refresh-token 2>&1 | grep -v -E '^(created|modified) = '
  else
    jq -S '.tokens | with_entries(select(.value.kind == "acr-refresh-token")) | select(. != {})' \
      "$XDG_DATA_HOME/docker-credential-acr/tokens.json" 2>/dev/null
  fi
}

faults_cached() { # faults_cached KIND : the tokens of KIND in the store in use, one per line
  if [ "${DOCKER_CREDENTIAL_ACR_STORE:-}" = secretservice ]; then
    # an item's secret is `EXPIRY [#PROOF ]TOKEN`
    secret-tool search --all kind "$1" 2>/dev/null | sed -n 's/^secret = //p' | awk '{print $NF}'
  else
    jq -r --arg kind "$1" '.tokens[]? | select(.kind == $kind) | .token' "$XDG_DATA_HOME/docker-credential-acr/tokens.json" 2>/dev/null
  fi
}

jwt_exp() { jwt_claims "$1" | jq -r '.exp // 0' 2>/dev/null || echo 0; } # the exp claim of the JWT $1 (0 if it has none)

faults_cache_kept() { # faults_cache_kept BEFORE : the ACR tokens are still BEFORE, and nothing expired is cached
  [ "$(faults_refresh_tokens)" = "$1" ] && faults_cache_clean
}

# faults_logged N PHRASE : the log holds N failed renewals, the last one matching PHRASE
faults_logged() {
  local log="$XDG_STATE_HOME/docker-credential-acr/log"
  [ "$(grep -c 'cannot derive ACR refresh token' "$log")" = "$1" ] &&
    grep 'cannot derive ACR refresh token' "$log" | tail -n 1 | grep -qE -- "$2"
}

# faults_cache_clean [none] : every cached token (ACR refresh and Azure AD) is one whose own exp is still
# ahead; with none, there is no ACR refresh token either
faults_cache_clean() {
  local now kind token; now=$(date +%s)
  for kind in acr-refresh-token aad-access-token; do
    while IFS= read -r token; do
      [ -n "$token" ] || continue
      [ "$kind/${1:-any}" != acr-refresh-token/none ] || { echo "an ACR refresh token is cached"; return 1; }
      [ "$(jwt_exp "$token")" -gt "$now" ] || { echo "now $now, a $kind cached until $(jwt_exp "$token")"; return 1; }
    done < <(faults_cached $kind)
  done
}

faults_answer_cached() { # the ACR token the last get answered with is the one cached
  [ "$(faults_cached acr-refresh-token)" = "$(jq -r .Secret "$FAULT_OUT")" ] ||
    { echo "answer:"; cut -c1-200 "$FAULT_OUT"; echo "cached:"; faults_cached acr-refresh-token | cut -c1-200; return 1; }
}

faults_derived() { # the last get answered with a token for user 00000000-…
  grep -q '"Username":"00000000-0000-0000-0000-000000000000"' "$FAULT_OUT" ||
    { echo "status $FAULT_RC, after $FAULT_MS ms:"; cat "$FAULT_OUT"; tail -n 3 "$WORK/faults/stderr"; return 1; }
}

faults_served() { # faults_served GOOD : the last get answered GOOD, a token (what an earlier get answered)
  [ "$FAULT_RC/$(cat "$FAULT_OUT")" = "0/$1" ] && [[ $1 == *'"Username":"00000000-0000-0000-0000-000000000000"'* ]] ||
    { echo "earlier answer: ${1:0:120}"; echo "status $FAULT_RC, after $FAULT_MS ms:"; cut -c1-200 "$FAULT_OUT"
      tail -n 3 "$WORK/faults/stderr"; return 1; }
}

# exit 1, and one stdout line for $REG that matches the extended regex PHRASE
faults_failed_saying() {
  [ "$FAULT_RC" = 1 ] && [ "$(grep -c '' "$FAULT_OUT")" = 1 ] && grep -q "^$REG: " "$FAULT_OUT" && grep -qE "$1" "$FAULT_OUT" ||
    { echo "status $FAULT_RC, stdout:"; cat "$FAULT_OUT"; return 1; }
}

faults_within() { # faults_within SECONDS : the last get took at most SECONDS and the slack
  [ "$FAULT_MS" -le $(( $1 * 1000 + FAULTS_SLACK_MS )) ] || { echo "took $FAULT_MS ms"; return 1; }
}

faults_label() { # the identity source an identity array stands for
  case $1 in
    FAULTS_SP) echo "service principal" ;; FAULTS_CERT) echo "certificate" ;; FAULTS_WI) echo "workload identity" ;;
    FAULTS_IMDS) echo "managed identity (IMDS)" ;; FAULTS_IMDS_UA) echo "user-assigned managed identity (IMDS)" ;; FAULTS_APPSVC) echo "managed identity (App Service)" ;;
  esac
}

# faults_case IDENTITY ENDPOINT FAULT PHRASE REQUESTS WARM [VAR=…]
#   IDENTITY  name of an identity array (FAULTS_SP, FAULTS_CERT, FAULTS_WI, FAULTS_IMDS, FAULTS_APPSVC)
#   FAULT     the fault's JSON fields (it lasts until reset), or "refused" for none: the VAR=… point an endpoint
#             at a closed port
#   PHRASE    an extended regex the one-line answer must match
#   REQUESTS  how often ENDPOINT is asked: 1 (not retried), retried (at least twice), - (not counted)
#   WARM      warm: also with a cached token due for renewal, which must still be served; cold: not
# Cold: exit 1 with the cause in time, nothing cached. Warm: the good token. Faults that are retried get
# the roomy budget: its last attempt has 1.25 s, the tight one's 0.25 s, which a loaded machine can miss.
faults_case() {
  local -n identity=$1
  local label; label=$(faults_label "$1")
  local endpoint=$2 fault=$3 phrase=$4 requests=$5 warm=$6; shift 6
  local config=$FAULTS_TIGHT seconds=1
  [ "$requests" = retried ] && { config=$FAULTS_ROOMY; seconds=3; }
  local name="$s $endpoint ${fault//\"/}, $label"
  [ "$fault" = refused ] && name="$s $endpoint connection refused, $label"
  local spec="{\"endpoint\": \"$endpoint\", \"count\": -1, $fault}"

  faults_reset
  [ "$fault" = refused ] || emu_post faults "$spec"
  faults_get "$config" "${identity[@]}" "$@"
  check "$name: exit 1, one line naming the cause" faults_failed_saying "$phrase"
  check "$name: ... within timeoutSeconds ($seconds s) and a little" faults_within $seconds
  case $requests in
    1) check "$name: ... asked once, not retried" test "$(faults_stat "$endpoint")" = 1 ;;
    retried) check "$name: ... retried until the time ran out" test "$(faults_stat "$endpoint")" -ge 2 ;;
  esac
  check "$name: ... nothing cached: no ACR token, no expired Azure AD token" faults_cache_clean none
  [ "$warm" = warm ] || return 0

  faults_reset
  faults_get "$FAULTS_ROOMY" "${identity[@]}"
  local good; good=$(cat "$FAULT_OUT")
  local before; before=$(faults_refresh_tokens)
  local failures; failures=$(grep -c 'cannot derive ACR refresh token' "$XDG_STATE_HOME/docker-credential-acr/log" 2>/dev/null)
  [ "$fault" = refused ] || emu_post faults "$spec"
  faults_get "$config" "${identity[@]}" "$@"
  check "$name, a cached token due for renewal: served as it was" faults_served "$good"
  check "$name, ... within timeoutSeconds ($seconds s) and a little" faults_within $seconds
  check "$name, ... the renewal was tried and failed for that cause (log)" faults_logged $((failures + 1)) "$phrase"
  check "$name, ... the cache keeps that token, and nothing expired" faults_cache_kept "$before"
}

# faults_retried IDENTITY ENDPOINT FAULT REQUESTS [MIN_MS] : FAULT once (count 1), under the roomy budget:
# `get` still derives a token, asking ENDPOINT REQUESTS times in all, and (MIN_MS) waited as told
faults_retried() {
  local -n identity=$1
  local endpoint=$2 fault=$3 requests=$4 min_ms=${5:-0}
  local name="$s $endpoint ${fault//\"/} once, $(faults_label "$1")"
  faults_reset
  emu_post faults "{\"endpoint\": \"$endpoint\", \"count\": 1, $fault}"
  faults_get "$FAULTS_ROOMY" "${identity[@]}"
  check "$name: retried, and a token is derived" faults_derived
  check "$name: ... $requests requests to $endpoint" test "$(faults_stat "$endpoint")" = "$requests"
  check "$name: ... within timeoutSeconds (3 s) and a little" faults_within 3
  [ "$min_ms" = 0 ] || check "$name: ... after waiting as Retry-After says" test "$FAULT_MS" -ge "$min_ms"
  check "$name: ... and that token is cached" faults_answer_cached
}

azure_faults_suite() { # azure_faults_suite STORE
  local s="[faults $1]"
  export DOCKER_CREDENTIAL_ACR_STORE=$1
  mkdir -p "$WORK/faults"
  FAULT_OUT="$WORK/faults/answer"
  # Both configurations have the same margin; the tight one keeps persistent faults short, the roomy one
  # leaves time for a retry after Retry-After: 1.
  FAULTS_TIGHT="$WORK/faults/tight.json"; FAULTS_ROOMY="$WORK/faults/roomy.json"
  echo '{"refreshMarginSeconds": 1000, "timeoutSeconds": 1}' >"$FAULTS_TIGHT"
  echo '{"refreshMarginSeconds": 1000, "timeoutSeconds": 3}' >"$FAULTS_ROOMY"
  curl -s "$EMU/_emulator/federated-token?subject=system:serviceaccount:default:builder" >"$WORK/faults/federated-token"
  local FAULTS_SP=("${SP[@]}")
  local FAULTS_CERT=(AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$CERT_SP_ID AZURE_CLIENT_CERTIFICATE_PATH="$EMU_DIR/sp.pem")
  local FAULTS_IMDS_UA=(DOCKER_CREDENTIAL_ACR_IMDS_ENDPOINT="$EMU/metadata/identity/oauth2/token" AZURE_CLIENT_ID=$MI_ID)
  local FAULTS_WI=(AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$WI_ID AZURE_FEDERATED_TOKEN_FILE="$WORK/faults/federated-token")
  local FAULTS_IMDS=(DOCKER_CREDENTIAL_ACR_IMDS_ENDPOINT="$EMU/metadata/identity/oauth2/token")
  local FAULTS_APPSVC=(IDENTITY_ENDPOINT="$EMU/msi/token" IDENTITY_HEADER=emulator-identity-header)
  local closed=http://127.0.0.1:9  # nothing listens there (a privileged port; tests use port 0)

  # Azure AD's token endpoint, every fault, as a service principal sees it. The emulator's error body is
  # AADSTS90033 ("a transient error") whatever the status; the helper must pass it on.
  faults_case FAULTS_SP aad_token '"status": 400' 'AADSTS90033' 1 warm
  faults_case FAULTS_SP aad_token '"status": 401' 'AADSTS90033' 1 cold
  faults_case FAULTS_SP aad_token '"status": 403' 'AADSTS90033' 1 cold
  faults_case FAULTS_SP aad_token '"status": 404' 'AADSTS90033' 1 cold
  faults_case FAULTS_SP aad_token '"status": 429' 'AADSTS90033' retried cold
  # A Retry-After longer than the time left: give up at once instead of waiting in vain.
  faults_case FAULTS_SP aad_token '"status": 429, "retry_after": 5' 'AADSTS90033' 1 cold
  faults_case FAULTS_SP aad_token '"status": 500' 'AADSTS90033' retried cold
  faults_case FAULTS_SP aad_token '"status": 503, "retry_after": 10' 'AADSTS90033' 1 cold
  faults_case FAULTS_SP aad_token '"kind": "slow", "delay_ms": 5000' 'did not answer in time' 1 warm
  faults_case FAULTS_SP aad_token refused 'cannot connect to http://127.0.0.1:9: connection refused' - cold \
    AZURE_AUTHORITY_HOST=$closed/
  faults_case FAULTS_SP aad_token '"kind": "truncated"' 'stream ended|truncated|incomplete|broke off' retried cold
  faults_case FAULTS_SP aad_token '"kind": "malformed"' 'unexpected answer|unusable answer' 1 warm
  faults_case FAULTS_SP aad_token '"kind": "no_refresh_token"' 'unexpected answer|unusable answer' 1 cold
  faults_case FAULTS_SP aad_token '"kind": "expired_token"' 'expired' - warm
  # One already expired Azure AD token must not stay in the way once Azure AD answers well again.
  faults_reset
  emu_post lifetimes '{"aad": 3599}'  # the usual hour: a cached Azure AD token would be reused
  emu_post faults '{"endpoint": "aad_token", "kind": "expired_token", "count": 1}'
  faults_get "$FAULTS_ROOMY" "${FAULTS_SP[@]}"
  faults_get "$FAULTS_ROOMY" "${FAULTS_SP[@]}"
  check "$s after one already expired Azure AD token, the next get derives a token (it was not kept)" faults_derived

  # The other client-credentials sources share the token endpoint: a status, a timeout, a broken answer.
  faults_case FAULTS_CERT aad_token '"status": 401' 'service principal \(AZURE_CLIENT_CERTIFICATE_PATH\).*AADSTS90033' 1 warm
  faults_case FAULTS_CERT aad_token '"kind": "slow", "delay_ms": 5000' 'AZURE_CLIENT_CERTIFICATE_PATH.*did not answer in time' 1 cold
  faults_case FAULTS_WI aad_token '"status": 400' 'workload identity \(AZURE_FEDERATED_TOKEN_FILE\).*AADSTS90033' 1 warm
  faults_case FAULTS_WI aad_token '"status": 503, "retry_after": 10' 'workload identity.*AADSTS90033' 1 cold
  faults_case FAULTS_WI aad_token '"kind": "malformed"' 'workload identity.*(unexpected answer|unusable answer)' 1 cold

  # Managed identity, IMDS and App Service: the status faults and a broken answer; then IMDS unreachable.
  # IMDS answers 404 while it starts (documented), so a 404 is retried there and not at App Service.
  local ep ident
  for ep in imds appservice; do
    ident=FAULTS_IMDS; [ $ep = appservice ] && ident=FAULTS_APPSVC
    # A 400 from IMDS for the VM's own identity means there is none: the chain goes on (chain_suite). For
    # an identity named by AZURE_CLIENT_ID, it is a failure.
    [ $ep = imds ] && ident=FAULTS_IMDS_UA
    faults_case $ident $ep '"status": 400' 'managed identity: the identity endpoint answered 400' 1 warm
    [ $ep = imds ] && ident=FAULTS_IMDS
    faults_case $ident $ep '"status": 401' 'answered 401' 1 cold
    faults_case $ident $ep '"status": 403' 'answered 403' 1 cold
    faults_case $ident $ep '"status": 404' 'answered 404' "$([ $ep = imds ] && echo retried || echo 1)" cold
    faults_case $ident $ep '"status": 429' 'answered 429' retried cold
    faults_case $ident $ep '"status": 429, "retry_after": 5' 'answered 429' 1 cold
    faults_case $ident $ep '"status": 500' 'answered 500' retried cold
    faults_case $ident $ep '"status": 503, "retry_after": 10' 'answered 503' 1 cold
    faults_case $ident $ep '"kind": "malformed"' 'managed identity: .*(unexpected answer|unusable answer|not JSON)' 1 cold
  done
  # IMDS that does not answer is not there: no credential, at once; a cached token due for renewal is still served.
  faults_reset
  faults_get "$FAULTS_TIGHT" "${FAULTS_IMDS[@]}" DOCKER_CREDENTIAL_ACR_IMDS_ENDPOINT=$closed/metadata/identity/oauth2/token
  check "$s imds connection refused: not there, so not found (anonymous pulls work)" \
    test "$FAULT_RC/$(cat "$FAULT_OUT")" = "1/credentials not found in native keychain"
  check "$s ... at once" faults_within 1
  faults_reset
  faults_get "$FAULTS_ROOMY" "${FAULTS_IMDS[@]}"
  local due; due=$(cat "$FAULT_OUT")
  faults_get "$FAULTS_TIGHT" "${FAULTS_IMDS[@]}" DOCKER_CREDENTIAL_ACR_IMDS_ENDPOINT=$closed/metadata/identity/oauth2/token
  check "$s imds connection refused, a cached token due for renewal: served as it was" faults_served "$due"

  # ACR's exchange, every fault (the identity does not matter past Azure AD; a managed identity once).
  faults_case FAULTS_SP acr_exchange '"status": 400' 'refused the Azure AD token \(HTTP 400' 1 warm
  faults_case FAULTS_SP acr_exchange '"status": 401' 'refused the Azure AD token \(HTTP 401' 1 cold
  faults_case FAULTS_SP acr_exchange '"status": 403' 'firewall' 1 cold
  faults_case FAULTS_SP acr_exchange '"status": 404' 'no such registry' 1 cold
  faults_case FAULTS_SP acr_exchange '"status": 429' 'unavailable \(HTTP 429\)' retried cold
  faults_case FAULTS_SP acr_exchange '"status": 429, "retry_after": 5' 'unavailable \(HTTP 429\)' 1 cold
  faults_case FAULTS_SP acr_exchange '"status": 500' 'unavailable \(HTTP 500\)' retried warm
  faults_case FAULTS_IMDS acr_exchange '"status": 503, "retry_after": 10' 'unavailable \(HTTP 503\)' 1 warm
  faults_case FAULTS_SP acr_exchange '"kind": "slow", "delay_ms": 5000' 'did not answer in time' 1 warm
  faults_case FAULTS_SP acr_exchange refused 'cannot connect to http://127.0.0.1:9: connection refused' - cold \
    DOCKER_CREDENTIAL_ACR_ENDPOINTS="$REG=$closed/acr/$REG"
  faults_case FAULTS_SP acr_exchange '"kind": "truncated"' 'stream ended|truncated|incomplete|broke off' retried cold
  faults_case FAULTS_SP acr_exchange '"kind": "malformed"' 'unusable answer \(not JSON\)' 1 warm
  faults_case FAULTS_SP acr_exchange '"kind": "expired_token"' 'unusable answer \(the refresh token has already expired\)' 1 warm
  faults_case FAULTS_SP acr_exchange '"kind": "no_refresh_token"' 'unusable answer \(no refresh_token\)' 1 warm

  # The transport's own defences (every endpoint alike): no redirect is followed, the body is bounded in
  # time with the head and in size before it is read, nothing is decompressed, a token that is not a JWT
  # is not kept.
  local where
  for where in "FAULTS_SP aad_token" "FAULTS_IMDS imds" "FAULTS_APPSVC appservice" "FAULTS_SP acr_exchange"; do
    set -- $where
    faults_case "$1" "$2" '"kind": "redirect", "location": "'"$EMU"'/redirected-here?x=1"' \
      "answered 307, a redirect to http://127.0.0.1:[0-9]+, which a token request never follows" 1 warm
  done
  check "$s ... and nothing was sent where the redirects pointed" bash -c "! grep -q redirected-here '$EMU_DIR/requests.log'"
  faults_case FAULTS_SP aad_token '"kind": "stall_body"' 'sent the head of its answer but not all of its body in time' 1 warm
  faults_case FAULTS_SP acr_exchange '"kind": "drip_body", "delay_ms": 200' 'sent the head of its answer but not all of its body in time' 1 warm
  faults_case FAULTS_SP acr_exchange '"kind": "oversized"' 'sent an answer larger than any token response' 1 warm
  faults_case FAULTS_SP aad_token '"kind": "oversized"' 'sent an answer larger than any token response' 1 cold
  faults_case FAULTS_SP acr_exchange '"kind": "gzip_bomb"' 'unusable answer \(not JSON\)' 1 cold
  faults_case FAULTS_SP acr_exchange '"kind": "not_jwt"' 'unusable answer \(the refresh token is not a JWT with an expiry\)' 1 warm
  # A server that echoes the request in its error: nothing the helper sent reaches an output or the log,
  # and neither do its terminal escapes and newlines.
  for where in "FAULTS_SP aad_token" "FAULTS_APPSVC appservice" "FAULTS_SP acr_exchange"; do
    set -- $where
    faults_case "$1" "$2" '"kind": "echo"' '\[redacted\]' 1 cold
    check "$s $2 echo: no secret, token or control character in stdout, stderr or the log" bash -c "
      ! grep -qE 'good-secret|emulator-identity-header|eyJ' '$FAULT_OUT' '$WORK/faults/stderr' '$XDG_STATE_HOME/docker-credential-acr/log' &&
      ! LC_ALL=C grep -qP '[\\x00-\\x08\\x0b-\\x1f\\x7f]' '$FAULT_OUT' '$WORK/faults/stderr' '$XDG_STATE_HOME/docker-credential-acr/log'"
  done
  check "$s every request carries the helper's User-Agent" bash -c "
    jq -e -s --arg ua 'docker-credential-acr/0.3.0' 'map(select(.endpoint | IN(\"aad_token\", \"imds\", \"appservice\", \"acr_exchange\"))) | length > 50 and all(.user_agent == \$ua)' '$EMU_DIR/requests.log'"

  # Answers that each take 0.5 s, with 1 s in all: the second attempt starts with too little time left and
  # times out. The registry answered 503 both times, and the line must say so, not blame the network.
  faults_reset
  emu_post faults '{"endpoint": "acr_exchange", "status": 503, "delay_ms": 500, "count": -1}'
  faults_get "$FAULTS_TIGHT" "${FAULTS_SP[@]}"
  check "$s acr_exchange 503 answered slowly, until the time ran out: the line names the 503" \
    faults_failed_saying 'unavailable \(HTTP 503\)'

  # A cached token that is all but expired (20 s left) is not served in place of the cause.
  faults_reset
  emu_post lifetimes '{"acr_refresh": 20}'
  faults_get "$FAULTS_ROOMY" "${FAULTS_SP[@]}"
  check "$s (a token with 20 s left is cached)" faults_derived
  emu_post faults '{"endpoint": "acr_exchange", "status": 500, "count": -1}'
  faults_get "$FAULTS_TIGHT" "${FAULTS_SP[@]}"
  check "$s a cached token with 20 s left is not served when renewing fails: the cause is" \
    faults_failed_saying 'unavailable \(HTTP 500\)'

  # A single transient fault is retried and the get succeeds within the budget.
  faults_retried FAULTS_SP aad_token '"status": 503, "retry_after": 1' 2 1000
  faults_retried FAULTS_SP aad_token '"kind": "close"' 2
  faults_retried FAULTS_WI aad_token '"kind": "truncated"' 2
  faults_retried FAULTS_IMDS imds '"status": 404' 2
  faults_retried FAULTS_APPSVC appservice '"status": 500' 2
  faults_retried FAULTS_SP acr_exchange '"status": 429, "retry_after": 1' 2 1000
  faults_retried FAULTS_SP acr_exchange '"status": 502' 2
  faults_retried FAULTS_SP acr_exchange '"kind": "truncated"' 2

  emu_post reset '{}'; forget_tokens
  unset DOCKER_CREDENTIAL_ACR_STORE
}
