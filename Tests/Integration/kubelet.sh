# `kubelet`: the image credential provider exec plugin, judged by the kubelet's own rules: the request
# shape of the Kubernetes docs, auth keys as the image spells its host, no caching of "no credential",
# and KEP-4412: the pod's service-account token redeemed for the app its annotations name, never served
# to another service account. Needs acr.sh (emulator_start).

KUBELET_REQUEST_FORMAT='{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"%s"}'
KUBELET_ENV=()  # the node's Azure settings; acr_kubelet_suite starts with the service principal's

# kubelet_ask IMAGE [SA-TOKEN ANNOTATIONS-JSON] [-- ARG…] : the plugin's answer in $WORK/kubelet.json, status in KUBELET_RC
kubelet_ask() {
  local image=$1 token=${2:-} annotations=${3:-"{}"}; shift $(( $# < 3 ? $# : 3 ))
  [ "${1:-}" = -- ] && shift
  local request
  if [ -n "$token" ]; then
    request=$(jq -nc --arg i "$image" --arg t "$token" --argjson a "$annotations" \
      '{apiVersion: "credentialprovider.kubelet.k8s.io/v1", kind: "CredentialProviderRequest", image: $i, serviceAccountToken: $t, serviceAccountAnnotations: $a}')
  else
    request=$(printf "$KUBELET_REQUEST_FORMAT" "$image")
  fi
  KUBELET_RC=0
  acr_env "${KUBELET_ENV[@]}" -- "$HELPER" kubelet --azure-config "$WORK/no-azure.json" "$@" <<<"$request" >"$WORK/kubelet.json" 2>"$WORK/kubelet.err" || KUBELET_RC=$?
}

# kubelet_claims KEY APPID : the ACR token answered under auth KEY was issued to the app APPID
kubelet_claims() {
  jwt_claims "$(jq -r --arg k "$1" '.auth[$k].password' "$WORK/kubelet.json")" | jq -e --arg a "$2" '.appid == $a' >/dev/null || { cut -c1-300 "$WORK/kubelet.json"; return 1; }
}

kubelet_answered() { # kubelet_answered JQ-ARG… : the last answer satisfies the jq filter (shown when not)
  jq -e "$@" "$WORK/kubelet.json" >/dev/null || { echo "status $KUBELET_RC:"; cut -c1-400 "$WORK/kubelet.json"; head -c 400 "$WORK/kubelet.err"; return 1; }
}

sa_token() { curl -s "$EMU/_emulator/federated-token?subject=system:serviceaccount:default:$1"; }

acr_kubelet_suite() {
  local s="[kubelet]"
  KUBELET_ENV=("${SP[@]}")
  export DOCKER_CREDENTIAL_ACR_STORE=file
  emu_post reset '{}'
  helper erase "$REG" >/dev/null
  kubelet_ask "$REG/team/app:1"
  check "$s an ACR image: a response for the whole registry" jq -e '.kind == "CredentialProviderResponse"
    and .apiVersion == "credentialprovider.kubelet.k8s.io/v1" and .cacheKeyType == "Registry" and (.auth | keys) == ["'"$REG"'"]' "$WORK/kubelet.json"
  check "$s ... user 00000000-… and the token get answers" bash -c "
    jq -e '.auth[\"$REG\"].username == \"00000000-0000-0000-0000-000000000000\"' '$WORK/kubelet.json' &&
    [ \"\$(jq -r '.auth[\"$REG\"].password' '$WORK/kubelet.json')\" = '$(acr_get "$REG" "${SP[@]}" | jq -r .Secret)' ]"
  check "$s ... cached until the helper would renew it: half of the token's 3 hours" jq -e '.cacheDuration | test("^1h(29m[0-5]?[0-9]|30m0)s$")' "$WORK/kubelet.json"
  check "$s ... one exchange, as for get" test "$(emu_stat acr_exchange)" = 1
  kubelet_ask "MyRegistry.AzureCR.io/team/app:1"
  check "$s an image spelling its host in capitals: keyed as it is spelled (the kubelet matches keys case-sensitively)" \
    kubelet_answered '(.auth | keys) == ["MyRegistry.AzureCR.io"] and (.auth[] | .password | length > 100)'
  kubelet_ask "nginx:1"
  check "$s a Docker Hub image: no credential, and not to be kept (as cloud-provider-azure answers)" kubelet_answered --raw-input \
    '. == "{\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\",\"auth\":{},\"cacheDuration\":\"0s\",\"cacheKeyType\":\"Registry\",\"kind\":\"CredentialProviderResponse\"}"'
  expect "$s a request of another kind: exit 1" 1 "" bash -c "echo '{\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\",\"kind\":\"Pod\"}' | '$HELPER' kubelet"
  check "$s ... and why, on stderr" grep -q "expected kind CredentialProviderRequest, got Pod" "$WORK/stderr"

  # KEP-4412: the pod's own identity, not the node's.
  local builder deployer stranger pod='{"kubernetes.azure.com/acr-client-id": "'$WI_ID'", "kubernetes.azure.com/acr-tenant-id": "'$TENANT'"}'
  builder=$(sa_token builder); deployer=$(sa_token deployer); stranger=$(sa_token stranger)
  emu_post reset '{}'; forget_tokens
  kubelet_ask "$REG/app:1" "$builder" "$pod"
  check "$s a pod's service-account token: the token of the app its annotations name" kubelet_claims "$REG" "$WI_ID"
  check "$s ... redeemed as a client assertion: one Azure AD request, one exchange" test "$(emu_stat aad_token)/$(emu_stat acr_exchange)" = 1/1
  local first; first=$(jq -r ".auth[\"$REG\"].password" "$WORK/kubelet.json")
  kubelet_ask "$REG/app:2" "$builder" "$pod"
  check "$s ... the same service account again: its cached token" bash -c "[ '$(jq -r ".auth[\"$REG\"].password" "$WORK/kubelet.json")' = '$first' ] && [ $(emu_stat aad_token) = 1 ]"
  kubelet_ask "$REG/app:1" "$deployer" "$pod"
  check "$s another service account of the same app: never the first one's token" bash -c \
    "[ $KUBELET_RC = 0 ] && [ '$(jq -r ".auth[\"$REG\"].password" "$WORK/kubelet.json")' != '$first' ] && [ $(emu_stat aad_token) = 2 ]"
  kubelet_ask "$REG/app:1" "$(sa_token builder)" "$pod" -- --cache-type Token
  check "$s --cache-type Token: a new token of the same service account is redeemed anew" bash -c "[ $KUBELET_RC = 0 ] && [ $(emu_stat aad_token) = 3 ]"
  kubelet_ask "$REG/app:1" "$stranger" "$pod"
  check "$s a service account the app does not federate: exit 1, AADSTS70021 on stderr, nothing on stdout" bash -c \
    "[ $KUBELET_RC = 1 ] && [ ! -s '$WORK/kubelet.json' ] && grep -q 'AADSTS70021' '$WORK/kubelet.err'"
  kubelet_ask "$REG/app:1" "$builder" '{"azure.workload.identity/client-id": "'$WI_ID'", "azure.workload.identity/tenant-id": "'$TENANT'"}'
  check "$s the workload-identity webhook's annotations name the app too" kubelet_claims "$REG" "$WI_ID"
  kubelet_ask "$REG/app:1" "$builder" '{"kubernetes.azure.com/acr-tenant-id": "'$TENANT'"}'
  check "$s no client-id annotation: exit 1, and the annotation to add" bash -c "[ $KUBELET_RC = 1 ] && grep -qF \
    'the request carries the pod'\\''s service-account token but none of the annotations kubernetes.azure.com/acr-client-id, azure.workload.identity/client-id of its service account; annotate the service account with kubernetes.azure.com/acr-client-id' '$WORK/kubelet.err'"

  # Registry mirrors: images of the source, the target's credentials, keyed for the source.
  forget_tokens
  kubelet_ask "mcr.microsoft.com/dotnet/runtime:8.0" "" "" -- --registry-mirror "mcr.microsoft.com:$REG"
  check "$s --registry-mirror mcr.microsoft.com:REG: the mirror's token, keyed for mcr.microsoft.com" bash -c \
    "jq -e '(.auth | keys) == [\"mcr.microsoft.com\"]' '$WORK/kubelet.json' >/dev/null && [ '$(jq -r '.auth["mcr.microsoft.com"].password' "$WORK/kubelet.json")' = '$(acr_get "$REG" "${SP[@]}" | jq -r .Secret)' ]"
  kubelet_ask "mcr.microsoft.com/dotnet/runtime:8.0"
  check "$s ... without the mirror: no credential" jq -e '.auth == {}' "$WORK/kubelet.json"
  kubelet_ask "$REG/app:1" "" "" -- --registry-mirror "mcr.microsoft.com"
  check "$s a mirror that is not SOURCE:TARGET: exit 1, and the form" bash -c "[ $KUBELET_RC = 1 ] && grep -qF -- '--registry-mirror mcr.microsoft.com is not SOURCE:TARGET' '$WORK/kubelet.err'"

  # An AKS node's azure.json, each identity form, under the plugin's own (empty) environment.
  local azure="$WORK/azure.json" imds=(DOCKER_CREDENTIAL_ACR_IMDS_ENDPOINT="$EMU/metadata/identity/oauth2/token")
  KUBELET_ENV=("${imds[@]}")
  local form expected
  for form in "system" "client-id" "resource-id" "msi"; do
    case $form in
      system) echo '{"cloud": "AzurePublicCloud", "tenantId": "'$TENANT'", "useManagedIdentityExtension": true, "userAssignedIdentityID": ""}' >"$azure"; expected=$MI_ID ;;
      client-id) echo '{"tenantId": "'$TENANT'", "useManagedIdentityExtension": true, "userAssignedIdentityID": "'$UA_MI_ID'"}' >"$azure"; expected=$UA_MI_ID ;;
      resource-id) echo '{"tenantId": "'$TENANT'", "useManagedIdentityExtension": true, "userAssignedIdentityID": "'$UA_MI_RESOURCE'"}' >"$azure"; expected=$UA_MI_ID ;;
      msi) echo '{"tenantId": "'$TENANT'", "aadClientId": "msi", "aadClientSecret": "msi", "userAssignedIdentityID": "'$UA_MI_ID'"}' >"$azure"; expected=$UA_MI_ID ;;
    esac
    forget_tokens
    kubelet_ask "$REG/app:1" "" "" -- --azure-config "$azure"
    check "$s azure.json with a managed identity ($form): that identity's token" kubelet_claims "$REG" "$expected"
  done
  # A custom cloud's registries (cloud-provider-azure's containerRegistryDNSSuffix): login servers only where azure.json names the suffix.
  echo '{"tenantId": "'$TENANT'", "useManagedIdentityExtension": true, "userAssignedIdentityID": "'$UA_MI_ID'"}' >"$azure"
  kubelet_ask "$CUSTOM_REG/app:1" "" "" -- --azure-config "$azure"
  check "$s a host under a suffix azure.json does not name: no credential" kubelet_answered '.auth == {} and .cacheDuration == "0s"'
  echo '{"cloud": "AzurePublicCloud", "containerRegistryDNSSuffix": ".azurecr.my.cloud", "tenantId": "'$TENANT'", "useManagedIdentityExtension": true, "userAssignedIdentityID": "'$UA_MI_ID'"}' >"$azure"
  kubelet_ask "Sovereign1.azurecr.my.cloud/app:1" "" "" -- --azure-config "$azure"
  check "$s azure.json's containerRegistryDNSSuffix: its registries get the node identity's token, keyed as spelled" kubelet_claims "Sovereign1.azurecr.my.cloud" "$UA_MI_ID"
  kubelet_ask "evil.azurecr.my.cloud.attacker.example/app:1" "" "" -- --azure-config "$azure"
  check "$s ... the suffix anchored: a host that only contains it gets nothing" kubelet_answered '.auth == {}'
  echo '{"tenantId": "'$TENANT'", "aadClientId": "'$SP_ID'", "aadClientSecret": "good-secret"}' >"$azure"
  forget_tokens
  kubelet_ask "$REG/app:1" "" "" -- --azure-config "$azure"
  check "$s azure.json of a service-principal cluster: the app's token" kubelet_claims "$REG" "$SP_ID"
  forget_tokens
  KUBELET_ENV=(AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$CERT_SP_ID AZURE_CLIENT_CERTIFICATE_PATH="$EMU_DIR/sp.pem")
  kubelet_ask "$REG/app:1" "" "" -- --azure-config "$azure"
  check "$s ... the provider config's env wins over azure.json" kubelet_claims "$REG" "$CERT_SP_ID"
  echo 'not json' >"$azure"
  kubelet_ask "$REG/app:1" "" "" -- --azure-config "$azure"
  check "$s an azure.json that is not JSON: exit 1, named" bash -c "[ $KUBELET_RC = 1 ] && grep -qF '$azure is not the JSON' '$WORK/kubelet.err'"
  KUBELET_ENV=("${SP[@]}")

  # Tokens that outlive a build: with renewAtFractionLeft 0.9, a 40 s token is renewed after 4 s.
  emu_post reset '{}'; forget_tokens
  emu_post lifetimes '{"acr_refresh": 40}'
  echo '{"refreshMarginSeconds": 0, "renewAtFractionLeft": 0.9}' >"$WORK/kubelet-share.json"
  acr_get "$REG" "${SP[@]}" DOCKER_CREDENTIAL_ACR_CONFIG="$WORK/kubelet-share.json" >"$WORK/share.1"
  acr_get "$REG" "${SP[@]}" DOCKER_CREDENTIAL_ACR_CONFIG="$WORK/kubelet-share.json" >"$WORK/share.2"
  check "$s a token with more than its share of life left: served from the cache" bash -c "cmp -s '$WORK/share.1' '$WORK/share.2' && [ $(emu_stat acr_exchange) = 1 ]"
  sleep 4.5
  acr_get "$REG" "${SP[@]}" DOCKER_CREDENTIAL_ACR_CONFIG="$WORK/kubelet-share.json" >"$WORK/share.3"
  check "$s ... past it (though far from expiry): renewed" bash -c "! cmp -s '$WORK/share.1' '$WORK/share.3' && [ $(emu_stat acr_exchange) = 2 ]"
  emu_post reset '{}'; forget_tokens
  helper erase "$REG" >/dev/null
  unset DOCKER_CREDENTIAL_ACR_STORE
}
