# Identity sources of CI runners and of every Azure host, against the emulator's GitHub Actions and Azure
# Pipelines OIDC endpoints and its managed-identity hosts (App Service, Automation, Azure Machine Learning,
# Cloud Shell, IMDS; Azure Arc in a namespace of its own, arc-ns.sh), and certificates as the SDKs take them
# (PKCS#12, the chain in x5c): each one's success, its typical failures with their own cause and fix, and
# its absence (skipped to the next source).
# Needs acr.sh (emulator_start), chain.sh (last_derived_kind) and reference.sh (reference_install).

hosts_get() { # hosts_get NAME=VALUE… : a get of $REG; sets HOSTS_RC, the answer in $WORK/hosts.out
  HOSTS_RC=0
  acr_get "$REG" "$@" >"$WORK/hosts.out" 2>"$WORK/hosts.err" || HOSTS_RC=$?
}
hosts_derived() { # hosts_derived KIND : the last get answered a token, derived through the source KIND
  [ "$HOSTS_RC" = 0 ] && jq -e '.Username == "00000000-0000-0000-0000-000000000000"' "$WORK/hosts.out" >/dev/null &&
    [ "$(last_derived_kind)" = "$1" ] || { echo "status $HOSTS_RC, kind $(last_derived_kind):"; cat "$WORK/hosts.out"; return 1; }
}
hosts_said() { # hosts_said LINE : the last get failed with exactly LINE
  [ "$HOSTS_RC/$(cat "$WORK/hosts.out")" = "1/$REG: $1" ] || { echo "status $HOSTS_RC:"; cat "$WORK/hosts.out"; echo "wanted: $REG: $1"; return 1; }
}

hosts_ci_suite() {
  local s="[hosts ci]"
  export DOCKER_CREDENTIAL_ACR_STORE=file
  emu_post reset '{}'; forget_tokens
  local GH=(GITHUB_ACTIONS=true AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$GH_ID
    ACTIONS_ID_TOKEN_REQUEST_URL="$EMU/github/idtoken?api-version=2.0" ACTIONS_ID_TOKEN_REQUEST_TOKEN=emulator-github-request-token)
  hosts_get "${GH[@]}"
  # The URL has a query already: an audience added with a second `?` would not reach GitHub, whose token
  # would then not match the federated credential's audience.
  check "$s GitHub Actions OIDC: a token, through the job's ID token" hosts_derived github-actions
  check "$s ... one ID token for the one Azure AD request" test "$(emu_stat github_oidc)/$(emu_stat aad_token)" = 1/1
  # Tokens due at once (a 1000 s margin over 900 s lifetimes, Azure AD's inside its 300 s): each get asks again.
  echo '{"refreshMarginSeconds": 1000}' >"$WORK/hosts-margin.json"
  emu_post reset '{}'; forget_tokens
  emu_post lifetimes '{"acr_refresh": 900, "aad": 200}'
  hosts_get "${GH[@]}" DOCKER_CREDENTIAL_ACR_CONFIG="$WORK/hosts-margin.json"
  hosts_get "${GH[@]}" DOCKER_CREDENTIAL_ACR_CONFIG="$WORK/hosts-margin.json"
  check "$s two Azure AD requests in one job: two ID tokens, never one reused" \
    test "$(emu_stat github_oidc)/$(emu_stat aad_token)" = 2/2
  emu_post reset '{}'
  hosts_get "${GH[@]}" ACTIONS_ID_TOKEN_REQUEST_TOKEN=another-jobs-token
  check "$s another job (another request token): the first job's cached token is not served; GitHub refuses it" hosts_said \
    "GitHub Actions OIDC (ACTIONS_ID_TOKEN_REQUEST_URL): the CI service's OIDC token endpoint answered 401 (Bad credentials); give the job \`permissions: id-token: write\`; the request token is the running job's own and cannot be used outside it"
  check "$s ... asked GitHub once, Azure AD not at all" test "$(emu_stat github_oidc)/$(emu_stat aad_token)" = 1/0
  forget_tokens
  hosts_get GITHUB_ACTIONS=true AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$GH_ID
  check "$s a job without id-token: write (and nothing else): not found, so anonymous pulls work" \
    test "$HOSTS_RC/$(cat "$WORK/hosts.out")" = "1/credentials not found in native keychain"
  acr_env GITHUB_ACTIONS=true AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$GH_ID DOCKER_CONFIG="$WORK/no-docker" -- \
    "$HELPER" diagnose --json "$REG" >"$WORK/hosts-diag.json" 2>/dev/null
  check "$s ... and diagnose says why GitHub Actions was skipped" grep -qF 'the job lacks `permissions: id-token: write`' "$WORK/hosts-diag.json"
  forget_tokens
  hosts_get "${GH[@]}" AZURE_CLIENT_ID=$WI_ID
  check "$s an app without a federated credential for the repository: AADSTS70021, and what to add" hosts_said \
    "GitHub Actions OIDC (ACTIONS_ID_TOKEN_REQUEST_URL): Azure AD refused the token request (AADSTS70021): no federated identity credential matches the token's issuer and subject; add one to the app registration for this issuer and subject (the service account, repository or service connection)"

  local ADO=(AZURESUBSCRIPTION_TENANT_ID=$TENANT AZURESUBSCRIPTION_CLIENT_ID=$ADO_ID AZURESUBSCRIPTION_SERVICE_CONNECTION_ID=$ADO_CONNECTION
    SYSTEM_OIDCREQUESTURI="$EMU/pipelines/contoso/app/_apis/distributedtask/hubs/build/plans/p1/jobs/j1/oidctoken")
  emu_post reset '{}'; forget_tokens
  hosts_get "${ADO[@]}" SYSTEM_ACCESSTOKEN=emulator-system-access-token
  check "$s Azure Pipelines OIDC (an AzureCLI@2 task's variables): a token" hosts_derived azure-pipelines
  check "$s ... one OIDC token for the one Azure AD request" test "$(emu_stat pipelines_oidc)/$(emu_stat aad_token)" = 1/1
  forget_tokens
  hosts_get AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$ADO_ID AZURESUBSCRIPTION_SERVICE_CONNECTION_ID=$ADO_CONNECTION \
    SYSTEM_OIDCREQUESTURI="$EMU/pipelines/contoso/app/_apis/distributedtask/hubs/build/plans/p1/jobs/j1/oidctoken" SYSTEM_ACCESSTOKEN=emulator-system-access-token
  check "$s ... with the ids in AZURE_TENANT_ID and AZURE_CLIENT_ID instead" hosts_derived azure-pipelines
  forget_tokens
  hosts_get "${ADO[@]}"
  check "$s SYSTEM_ACCESSTOKEN not mapped into the step: the cause names the setting" hosts_said \
    "Azure Pipelines OIDC (SYSTEM_OIDCREQUESTURI): SYSTEM_ACCESSTOKEN is not set: a pipeline step does not get the job's access token unless it is mapped; map it in the step: \`env: SYSTEM_ACCESSTOKEN: \$(System.AccessToken)\`"
  hosts_get "${ADO[@]}" SYSTEM_ACCESSTOKEN=not-this-jobs-token
  check "$s a token that is not the job's: refused (asked not to redirect to a sign-in page)" hosts_said \
    "Azure Pipelines OIDC (SYSTEM_OIDCREQUESTURI): the CI service's OIDC token endpoint answered 401 (TF400813: The user '' is not authorized to access this resource.); check that SYSTEM_ACCESSTOKEN is this job's \$(System.AccessToken) and that AZURESUBSCRIPTION_SERVICE_CONNECTION_ID names a service connection with workload identity federation this pipeline may use"
  hosts_get "${ADO[@]}" SYSTEM_ACCESSTOKEN=emulator-system-access-token AZURESUBSCRIPTION_SERVICE_CONNECTION_ID=00000000-0000-0000-0000-0000000000ff
  check "$s an unknown service connection: the CI service's 404, named" grep -qF \
    "the CI service's OIDC token endpoint answered 404 (Service connection [redacted] was not found.)" "$WORK/hosts.out"
  acr_env DOCKER_CONFIG="$WORK/no-docker" -- "$HELPER" diagnose --json "$REG" >"$WORK/hosts-diag.json" 2>/dev/null
  forget_tokens
  hosts_get GITHUB_ACTIONS=true "${ADO[@]}" SYSTEM_ACCESSTOKEN=emulator-system-access-token
  check "$s GitHub Actions not there (no id-token: write): skipped to the next source, Azure Pipelines" hosts_derived azure-pipelines
  check "$s no Azure Pipelines variable: skipped, and diagnose says why" grep -qF \
    'not an Azure Pipelines task of a service connection (SYSTEM_OIDCREQUESTURI and AZURESUBSCRIPTION_SERVICE_CONNECTION_ID are not set)' "$WORK/hosts-diag.json"
  emu_post reset '{}'; forget_tokens
  unset DOCKER_CREDENTIAL_ACR_STORE
}

hosts_managed_identity_suite() {
  local s="[hosts managed identity]"
  export DOCKER_CREDENTIAL_ACR_STORE=file
  emu_post reset '{}'; forget_tokens
  local APPSVC=(IDENTITY_ENDPOINT="$EMU/msi/token" IDENTITY_HEADER=emulator-identity-header)
  local form
  for form in epoch_string epoch_number date rfc3339; do
    emu_post expires-on '{"format": "'$form'"}'
    forget_tokens
    hosts_get "${APPSVC[@]}"
    check "$s App Service answering expires_on as $form: a token" hosts_derived managed-identity
  done
  emu_post reset '{}'; forget_tokens
  hosts_get IDENTITY_ENDPOINT="$EMU/automation/msi/token" IDENTITY_HEADER=emulator-identity-header
  check "$s Azure Automation (App Service's variables; it needs Metadata: true as well): a token" hosts_derived managed-identity
  forget_tokens
  hosts_get MSI_ENDPOINT="$EMU/azureml/msi/token" MSI_SECRET=emulator-msi-secret
  check "$s Azure Machine Learning (MSI_ENDPOINT and MSI_SECRET): a token" hosts_derived managed-identity
  forget_tokens
  hosts_get MSI_ENDPOINT="$EMU/azureml/msi/token" MSI_SECRET=wrong-secret
  check "$s ... a wrong MSI_SECRET: the endpoint's refusal" hosts_said \
    "managed identity: the identity endpoint answered 401 (Missing or invalid secret header); check that the identity is assigned to this machine, and set AZURE_CLIENT_ID to choose one of several"
  hosts_get MSI_ENDPOINT="$EMU/cloudshell/oauth2/token"
  check "$s Cloud Shell (MSI_ENDPOINT alone): a token" hosts_derived managed-identity
  forget_tokens
  hosts_get MSI_ENDPOINT="$EMU/cloudshell/oauth2/token" AZURE_CLIENT_ID=$MI_ID
  check "$s ... asked for a user-assigned identity, which Cloud Shell has not: said so" hosts_said \
    "managed identity: Cloud Shell has only its own managed identity, but AZURE_CLIENT_ID asks for a user-assigned one; unset AZURE_CLIENT_ID (or the configuration's clientId) on Cloud Shell"
  # Service Fabric: its endpoint's certificate is trusted by thumbprint alone (no CA here trusts it).
  local thumbprint; thumbprint=$(openssl x509 -in "$EMU_DIR/tls-cert.pem" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
  local SF=(IDENTITY_ENDPOINT="$EMU_TLS/servicefabric/metadata/identity/oauth2/token" IDENTITY_HEADER=emulator-identity-header)
  forget_tokens; emu_post reset '{}'
  hosts_get "${SF[@]}" IDENTITY_SERVER_THUMBPRINT="$thumbprint"
  check "$s Service Fabric: the endpoint's certificate pinned by IDENTITY_SERVER_THUMBPRINT, a token" hosts_derived managed-identity
  forget_tokens
  local other; other=$(openssl x509 -in "$EMU_DIR/sp-cert.pem" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
  hosts_get "${SF[@]}" IDENTITY_SERVER_THUMBPRINT="$other"
  local presented; presented=$(tr 'A-F' 'a-f' <<<"$thumbprint")
  check "$s ... a server with another certificate: refused" hosts_said \
    "managed identity: $EMU_TLS presented a certificate (SHA-1 $presented) that is not the one IDENTITY_SERVER_THUMBPRINT names; check IDENTITY_SERVER_THUMBPRINT; nothing was sent to a server that showed another certificate"
  check "$s ... and its Secret never sent" test "$(emu_stat servicefabric)" = 1
  hosts_get IDENTITY_ENDPOINT="$EMU/servicefabric/metadata/identity/oauth2/token" IDENTITY_HEADER=emulator-identity-header IDENTITY_SERVER_THUMBPRINT="$thumbprint"
  check "$s ... over plain http: refused" grep -qF "IDENTITY_ENDPOINT=$EMU/servicefabric/metadata/identity/oauth2/token is refused" "$WORK/hosts.out"

  # IMDS while it is updated: 410, retried within the budget.
  local IMDS=(DOCKER_CREDENTIAL_ACR_IMDS_ENDPOINT="$EMU/metadata/identity/oauth2/token")
  emu_post faults '{"endpoint": "imds", "status": 410, "count": 1}'
  hosts_get "${IMDS[@]}"
  check "$s IMDS answering 410 once: retried, a token" hosts_derived managed-identity
  check "$s ... asked twice" test "$(emu_stat imds)" = 2
  emu_post reset '{}'; forget_tokens
  echo '{"timeoutSeconds": 2}' >"$WORK/hosts-short.json"
  emu_post faults '{"endpoint": "imds", "status": 410, "count": -1}'
  local t0; t0=$(date +%s%N)
  hosts_get "${IMDS[@]}" DOCKER_CREDENTIAL_ACR_CONFIG="$WORK/hosts-short.json"
  check "$s IMDS answering 410 until the time runs out: temporarily unavailable, not a missing identity" hosts_said \
    "managed identity: IMDS is temporarily unavailable (HTTP 410: it is being updated); try again in a minute (Microsoft's SDKs wait up to about 70 s), or raise timeoutSeconds in the configuration file"
  check "$s ... within its 2 s and a second" test $(( ($(date +%s%N) - t0) / 1000000 )) -le 3000
  check "$s ... retried meanwhile" test "$(emu_stat imds)" -ge 3
  emu_post reset '{}'; forget_tokens
  unset DOCKER_CREDENTIAL_ACR_STORE
}

hosts_arc_suite() { # Azure Arc, in a mount and network namespace of its own (which has no PyPI: msal first)
  reference_install || fail "[hosts arc] msal installs from PyPI" "$(tail -n 3 "$WORK/reference-pip.log")"
  in_namespace "[hosts arc]" "--mount --net" "$here/arc-ns.sh" "$HELPER" "$WORK/arc"
}

hosts_certificates_suite() {
  local s="[hosts certificates]" dir="$WORK/certificates"
  export DOCKER_CREDENTIAL_ACR_STORE=file
  mkdir -p "$dir"
  openssl pkcs12 -export -in "$EMU_DIR/sp-cert.pem" -inkey "$EMU_DIR/sp-key.pem" -out "$dir/sp.pfx" -passout pass:pfx-password
  openssl pkcs12 -export -in "$EMU_DIR/sp-cert.pem" -inkey "$EMU_DIR/sp-key.pem" -out "$dir/no-password.p12" -passout pass:
  # As older Windows and OpenSSL 1.1 wrote them: RC2 and 3DES, which only OpenSSL's legacy provider reads.
  openssl pkcs12 -export -legacy -in "$EMU_DIR/sp-cert.pem" -inkey "$EMU_DIR/sp-key.pem" -out "$dir/legacy.pfx" -passout pass:pfx-password
  openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=test-issuing-ca -days 2 -keyout "$dir/ca-key.pem" -out "$dir/ca.pem" 2>/dev/null
  cat "$EMU_DIR/sp-cert.pem" "$EMU_DIR/sp-key.pem" "$dir/ca.pem" >"$dir/with-chain.pem"
  local CERT=(AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$CERT_SP_ID)
  emu_post reset '{}'; forget_tokens
  hosts_get "${CERT[@]}" AZURE_CLIENT_CERTIFICATE_PATH="$dir/sp.pfx" AZURE_CLIENT_CERTIFICATE_PASSWORD=pfx-password
  check "$s a PKCS#12 file with its password: a token" hosts_derived certificate
  forget_tokens
  hosts_get "${CERT[@]}" AZURE_CLIENT_CERTIFICATE_PATH="$dir/no-password.p12"
  check "$s a PKCS#12 file without a password: a token" hosts_derived certificate
  forget_tokens
  hosts_get "${CERT[@]}" AZURE_CLIENT_CERTIFICATE_PATH="$dir/legacy.pfx" AZURE_CLIENT_CERTIFICATE_PASSWORD=pfx-password
  check "$s a legacy PKCS#12 file (RC2, 3DES): a token" hosts_derived certificate
  hosts_get "${CERT[@]}" AZURE_CLIENT_CERTIFICATE_PATH="$dir/sp.pfx" AZURE_CLIENT_CERTIFICATE_PASSWORD=wrong
  check "$s ... a wrong password: said so" hosts_said \
    "the certificate $dir/sp.pfx cannot be used: its password is wrong; check AZURE_CLIENT_CERTIFICATE_PASSWORD; give a PEM or PKCS#12 (.pfx) file with the certificate and its RSA private key"
  hosts_get "${CERT[@]}" AZURE_CLIENT_CERTIFICATE_PATH="$dir/sp.pfx"
  check "$s ... no password: said so" hosts_said \
    "the certificate $dir/sp.pfx cannot be used: it is protected by a password; set AZURE_CLIENT_CERTIFICATE_PASSWORD; give a PEM or PKCS#12 (.pfx) file with the certificate and its RSA private key"
  cp "$EMU_DIR/sp.pem" "$dir/not-really.pfx"
  hosts_get "${CERT[@]}" AZURE_CLIENT_CERTIFICATE_PATH="$dir/not-really.pfx"
  check "$s ... a .pfx that is not PKCS#12: said so" grep -qF "$dir/not-really.pfx cannot be used: it is not a PKCS#12 (.pfx) file" "$WORK/hosts.out"

  local log="$EMU_DIR/requests.log" before
  forget_tokens; before=$(wc -l <"$log")
  hosts_get "${CERT[@]}" AZURE_CLIENT_CERTIFICATE_PATH="$dir/with-chain.pem"
  check "$s a certificate with its chain: a token, with no x5c unless asked" bash -c \
    "[ $HOSTS_RC = 0 ] && tail -n +$((before + 1)) '$log' | jq -e -s 'map(select(.endpoint == \"aad_token\")) | length == 1 and all(has(\"x5c\") | not)'"
  forget_tokens; before=$(wc -l <"$log")
  hosts_get "${CERT[@]}" AZURE_CLIENT_CERTIFICATE_PATH="$dir/with-chain.pem" AZURE_CLIENT_SEND_CERTIFICATE_CHAIN=true
  check "$s AZURE_CLIENT_SEND_CERTIFICATE_CHAIN=true: the chain in x5c, the certificate first (subject name and issuer)" bash -c \
    "[ $HOSTS_RC = 0 ] && tail -n +$((before + 1)) '$log' | jq -e -s 'map(select(.endpoint == \"aad_token\")) | length == 1 and .[0].x5c == 2'"
  emu_post reset '{}'; forget_tokens
  unset DOCKER_CREDENTIAL_ACR_STORE
}
