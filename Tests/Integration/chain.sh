# The identity chain as the Azure SDKs' DefaultAzureCredential walks it, against the emulator: a source
# that is not there is skipped, one that is there and fails is the cause; the cache follows the identity.
# Then, on 21 scenarios, `get` and `diagnose --json` must agree: same verdict, same source, same cause.
# Needs acr.sh (emulator_start) and signin.sh (login_as).

IMDS_URL() { printf '%s' "$EMU/metadata/identity/oauth2/token"; }
# IMDS of a VM without a managed identity, as Azure answers it
imds_without_identity() {
  emu_post faults '{"endpoint": "imds", "status": 400, "count": -1, "body": {"error": "invalid_request", "error_description": "Identity not found"}}'
}

# chain_get NAME=VALUE… : a cold `get` of $REG; answer in $WORK/chain.out, status in CHAIN_RC
chain_get() {
  forget_tokens
  CHAIN_RC=0
  acr_get "$REG" "$@" >"$WORK/chain.out" 2>"$WORK/chain.err" || CHAIN_RC=$?
}

# the identity kind of the last ACR token the helper derived (its log)
last_derived_kind() {
  grep 'derived ACR refresh token' "$XDG_STATE_HOME/docker-credential-acr/log" | tail -n 1 | sed -n 's/.*identity=\([a-z-]*\):.*/\1/p'
}

# agree NAME NAME=VALUE… : a cold get and a diagnose of $REG in the same setting tell the same story
agree() {
  local name=$1; shift
  chain_get "$@"
  local kind=""; [ "$CHAIN_RC" = 0 ] && kind=$(last_derived_kind)
  local diag_rc=0
  acr_env DOCKER_CONFIG="$CHAIN_DOCKER" "$@" -- "$HELPER" diagnose --json "$REG" >"$WORK/chain-diag.json" 2>/dev/null || diag_rc=$?
  local line; line=$(cat "$WORK/chain.out")
  if [ "$CHAIN_RC" = 0 ]; then
    # get answered: a login would succeed, with the source get used
    if [ "$diag_rc" = 0 ] && jq -e --arg k "$kind" 'any(.checks[]; .code == "IDENTITY_SOURCE_ERROR" and .status == "ok" and (.found | startswith($k + ", because")))' \
        "$WORK/chain-diag.json" >/dev/null && [ -n "$kind" ]; then pass "[chain agree] $name: both use $kind"
    else fail "[chain agree] $name: get used '$kind', diagnose exit $diag_rc" "$(jq -c '.checks[] | select(.code == "IDENTITY_SOURCE_ERROR" or .status == "error")' "$WORK/chain-diag.json" | head -c 600)"; fi
  elif [ "$line" = "credentials not found in native keychain" ]; then
    if [ "$diag_rc" = 1 ] && jq -e 'any(.checks[]; .code == "IDENTITY_SOURCE_ERROR" and .status == "error" and (.found | startswith("no Azure identity is there")))' \
        "$WORK/chain-diag.json" >/dev/null; then pass "[chain agree] $name: neither has a credential"
    else fail "[chain agree] $name: get found none, diagnose exit $diag_rc" "$(jq -c '.checks[] | select(.code == "IDENTITY_SOURCE_ERROR")' "$WORK/chain-diag.json" | head -c 600)"; fi
  else
    # get failed with "cause; fix": diagnose fails with that very cause and fix
    if [ "$diag_rc" = 1 ] && jq -e --arg l "$line" --arg r "$REG: " 'any(.checks[]; .status == "error" and
        (.found as $f | $l == $f or ($l | startswith($f + "; ")) or $l == $r + $f or ($l | startswith($r + $f + "; "))))' \
        "$WORK/chain-diag.json" >/dev/null; then pass "[chain agree] $name: both fail with the same cause"
    else fail "[chain agree] $name: get said: $line" "diagnose exit $diag_rc: $(jq -c '[.checks[] | select(.status == "error") | {code, found, fix}]' "$WORK/chain-diag.json" | head -c 700)"; fi
  fi
}

chain_suite() {
  local s="[chain]"
  export DOCKER_CREDENTIAL_ACR_STORE=file
  emu_post reset '{}'
  helper erase "$REG" >/dev/null
  CHAIN_DOCKER="$WORK/chain-docker"; mkdir -p "$CHAIN_DOCKER"
  echo '{"credsStore": "acr", "auths": {"'"$REG"'": {}}}' >"$CHAIN_DOCKER/config.json"
  # An Azure CLI answering for whoever its profile names: alice (as the SP app) or, after `az login` as
  # another identity, the pull-only app.
  local az="$WORK/chain-az" closed=http://127.0.0.1:9/metadata/identity/oauth2/token
  mkdir -p "$az/bin"
  cat >"$az/bin/az" <<AZ
#!/bin/sh
touch "$az/called"
if grep -q bob "$az/config/azureProfile.json"; then app=$PULL_ONLY_ID; else app=$SP_ID; fi
curl -s "$EMU/_emulator/aad-token?client_id=\$app&tenant=$TENANT&resource=https://containerregistry.azure.net"
AZ
  chmod +x "$az/bin/az"
  az_profile "$az/config" alice@contoso.com "$TENANT"
  local AZ_IN=(PATH="$az/bin:$WORK/bin:/usr/bin:/bin" AZURE_CONFIG_DIR="$az/config")
  local VM=(DOCKER_CREDENTIAL_ACR_IMDS_ENDPOINT="$(IMDS_URL)")
  local SILENT=(DOCKER_CREDENTIAL_ACR_IMDS_ENDPOINT=$closed)

  imds_without_identity
  chain_get "${VM[@]}" "${AZ_IN[@]}"
  check "$s Azure VM without a managed identity, az logged in: the Azure CLI is used" \
    bash -c "[ $CHAIN_RC = 0 ] && [ '$(last_derived_kind)' = azure-cli ] && [ -e '$az/called' ]"
  check "$s ... and the log says which sources were passed over" \
    bash -c "grep 'derived ACR refresh token' '$XDG_STATE_HOME/docker-credential-acr/log' | tail -n 1 |
      grep -q 'skipped=service-principal,certificate,workload-identity,github-actions,azure-pipelines,managed-identity,signed-in-user$'"
  chain_get "${SILENT[@]}" "${AZ_IN[@]}"
  check "$s IMDS that refuses connections, az logged in: the Azure CLI is used" bash -c "[ $CHAIN_RC = 0 ] && [ '$(last_derived_kind)' = azure-cli ]"
  emu_post reset '{}'
  emu_post faults '{"endpoint": "imds", "kind": "slow", "delay_ms": 10000, "count": -1}'
  local t0; t0=$(date +%s%N); chain_get "${VM[@]}" "${AZ_IN[@]}"
  check "$s IMDS that accepts but does not answer, az logged in: the Azure CLI is used" bash -c "[ $CHAIN_RC = 0 ] && [ '$(last_derived_kind)' = azure-cli ]"
  check "$s ... after the 1 s probe, not the whole budget" test $(( ($(date +%s%N) - t0) / 1000000 )) -lt 4000
  emu_post reset '{}'
  imds_without_identity
  t0=$(date +%s%N); chain_get "${VM[@]}"
  check "$s Azure VM without a managed identity and nothing else: not found (anonymous pulls work)" \
    test "$CHAIN_RC/$(cat "$WORK/chain.out")" = "1/credentials not found in native keychain"
  check "$s ... at once" test $(( ($(date +%s%N) - t0) / 1000000 )) -lt 3000
  az_profile "$az/config"; rm -f "$az/called"
  chain_get "${VM[@]}" "${AZ_IN[@]}"
  check "$s az logged out: not found, and az is not even run" bash -c "[ '$(cat "$WORK/chain.out")' = 'credentials not found in native keychain' ] && [ ! -e '$az/called' ]"

  # az login as another identity: a new token of the new identity; the old one is never served.
  az_profile "$az/config" alice@contoso.com "$TENANT"
  forget_tokens
  acr_get "$REG" "${VM[@]}" "${AZ_IN[@]}" >"$WORK/chain-alice.json"
  az_profile "$az/config" bob@contoso.com "$TENANT"
  acr_get "$REG" "${VM[@]}" "${AZ_IN[@]}" >"$WORK/chain-bob.json"
  check "$s az login as another identity: a new token" test "$(jq -r .Secret "$WORK/chain-alice.json")" != "$(jq -r .Secret "$WORK/chain-bob.json")"
  check "$s ... of the new identity" claims_match "$WORK/chain-bob.json" ".appid == \"$PULL_ONLY_ID\""
  check "$s ... (the first was the old one's)" claims_match "$WORK/chain-alice.json" ".appid == \"$SP_ID\""
  az_profile "$az/config" alice@contoso.com "$TENANT"
  acr_get "$REG" "${VM[@]}" "${AZ_IN[@]}" >"$WORK/chain-alice2.json"
  check "$s ... and back: alice's own cached token again" cmp -s "$WORK/chain-alice.json" "$WORK/chain-alice2.json"

  # A changed client secret is looked at: a new Azure AD request; a wrong one is reported at once.
  emu_post reset '{}'; forget_tokens
  acr_get "$REG" "${SP[@]}" >/dev/null
  local before; before=$(emu_stat aad_token)
  acr_get "$REG" AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$SP_ID AZURE_CLIENT_SECRET=wrong-new-secret >"$WORK/chain.out"
  check "$s a changed client secret: a new Azure AD request, and a wrong one is reported at once" bash -c "
    [ $(emu_stat aad_token) = $((before + 1)) ] && grep -q AADSTS7000215 '$WORK/chain.out'"
  expect "$s ... while the right one still gets its cached token" 0 "$(acr_get "$REG" "${SP[@]}")" acr_get "$REG" "${SP[@]}"
  check "$s ... no secret, salted or not, in the keyring attributes or the token file" bash -c "
    ! grep -qE 'good-secret|wrong-new-secret' '$XDG_DATA_HOME/docker-credential-acr/tokens.json'"

  # A signed-in user on a VM without a managed identity.
  echo '{"registries": {"'"$REG"'": {"identity": "managed-identity"}}}' >"$WORK/chain-pin-mi.json"
  imds_without_identity
  LOGIN_ENV=()
  check "$s (alice signs in)" login_as "$ALICE"
  chain_get "${VM[@]}" "${AZ_IN[@]}"
  check "$s Azure VM without a managed identity, a stored sign-in: the sign-in is used (before az)" \
    bash -c "[ $CHAIN_RC = 0 ] && [ '$(last_derived_kind)' = signed-in-user ]"
  chain_get "${VM[@]}" DOCKER_CREDENTIAL_ACR_CONFIG="$WORK/chain-pin-mi.json"
  check "$s a pinned source that is not there: its cause" \
    grep -q "^$REG: managed identity: IMDS answered 400 (Identity not found): no managed identity is assigned to this VM; " "$WORK/chain.out"

  # get and diagnose agree, healthy and broken.
  agree "VM without identity, az logged in" "${VM[@]}" "${AZ_IN[@]}"
  agree "IMDS silent, az logged in" "${SILENT[@]}" "${AZ_IN[@]}"
  agree "VM without identity, signed in" "${VM[@]}"
  agree "service principal" "${SP[@]}"
  agree "wrong client secret" AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$SP_ID AZURE_CLIENT_SECRET=wrong-secret
  agree "expired client secret" AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$SP_ID AZURE_CLIENT_SECRET=old-secret
  agree "user-assigned identity that does not exist" "${VM[@]}" AZURE_CLIENT_ID=dddddddd-0000-0000-0000-000000000000
  agree "pinned managed identity, none assigned" "${VM[@]}" DOCKER_CREDENTIAL_ACR_CONFIG="$WORK/chain-pin-mi.json"
  acr_env -- "$HELPER" logout >/dev/null 2>&1
  agree "VM without identity, nothing else" "${VM[@]}"
  az_profile "$az/config"
  agree "az logged out" "${VM[@]}" "${AZ_IN[@]}"
  az_profile "$az/config" alice@contoso.com "$TENANT"
  emu_post reset '{}'
  agree "managed identity" "${VM[@]}"
  emu_post faults '{"endpoint": "acr_exchange", "kind": "firewall", "count": -1}'
  agree "registry firewall" "${SP[@]}"
  emu_post reset '{}'
  agree "unknown tenant" AZURE_TENANT_ID=99999999-9999-9999-9999-999999999999 AZURE_CLIENT_ID=$SP_ID AZURE_CLIENT_SECRET=good-secret
  agree "nothing at all" PATH="$WORK/bin:/usr/bin:/bin"
  local GH=(AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$GH_ID ACTIONS_ID_TOKEN_REQUEST_URL="$EMU/github/idtoken?api-version=2.0")
  agree "GitHub Actions job" "${GH[@]}" ACTIONS_ID_TOKEN_REQUEST_TOKEN=emulator-github-request-token
  agree "GitHub Actions, another job's request token" "${GH[@]}" ACTIONS_ID_TOKEN_REQUEST_TOKEN=stale
  local ADO=(AZURESUBSCRIPTION_TENANT_ID=$TENANT AZURESUBSCRIPTION_CLIENT_ID=$ADO_ID AZURESUBSCRIPTION_SERVICE_CONNECTION_ID=$ADO_CONNECTION
    SYSTEM_OIDCREQUESTURI="$EMU/pipelines/contoso/app/_apis/distributedtask/hubs/build/plans/p1/jobs/j1/oidctoken")
  agree "Azure Pipelines task" "${ADO[@]}" SYSTEM_ACCESSTOKEN=emulator-system-access-token
  agree "Azure Pipelines, SYSTEM_ACCESSTOKEN not mapped" "${ADO[@]}"
  agree "Azure Machine Learning" MSI_ENDPOINT="$EMU/azureml/msi/token" MSI_SECRET=emulator-msi-secret
  agree "Cloud Shell, a user-assigned identity asked for" MSI_ENDPOINT="$EMU/cloudshell/oauth2/token" AZURE_CLIENT_ID=$MI_ID
  emu_post faults '{"endpoint": "imds", "status": 410, "count": -1}'
  echo '{"timeoutSeconds": 2}' >"$WORK/chain-short.json"
  agree "IMDS being updated" "${VM[@]}" DOCKER_CREDENTIAL_ACR_CONFIG="$WORK/chain-short.json"
  emu_post reset '{}'; forget_tokens
  unset DOCKER_CREDENTIAL_ACR_STORE
}
