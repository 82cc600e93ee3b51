# Microsoft's own clients from PyPI (msal 1.39, azure-identity 1.27) against the emulator's managed-identity
# hosts and CI endpoints, as the helper meets them: the emulator accepts what they send and answers what
# they parse, so the helper is tested against the formats the real services use. Needs acr.sh
# (emulator_start); Azure Arc's reference run is in arc-ns.sh.

export REFERENCE_VENV="${REFERENCE_VENV:-$WORK/reference-venv}"
# reference_install : a virtual environment with the reference clients (PyPI; a failure fails the suite)
reference_install() {
  [ -x "$REFERENCE_VENV/bin/python" ] && return 0
  python3 -m venv "$REFERENCE_VENV" && "$REFERENCE_VENV/bin/pip" install -q --disable-pip-version-check \
    azure-identity==1.27.0 msal==1.39.0 requests >"$WORK/reference-pip.log" 2>&1
}

# reference SCENARIO NAME=VALUE… : the scenario of reference_clients.py with only these Azure variables;
# the token's claims in $WORK/reference.out
reference() {
  local scenario=$1; shift
  acr_env REQUESTS_CA_BUNDLE="$EMU_DIR/tls-cert.pem" REFERENCE_AUTHORITY="${EMU_TLS#https://}" "$@" -- \
    "$REFERENCE_VENV/bin/python" "$here/reference_clients.py" "$scenario" >"$WORK/reference.out" 2>&1 ||
    { cat "$WORK/reference.out"; return 1; }
}

reference_claims() { # reference_claims [JQ-ARGS…] FILTER : the reference client's token satisfies the jq FILTER
  jq -e "$@" "$WORK/reference.out" >/dev/null || { cat "$WORK/reference.out"; return 1; }
}

reference_clients_suite() {
  local s="[reference clients]"
  check "$s msal and azure-identity install from PyPI" reference_install || { cat "$WORK/reference-pip.log"; return; }
  emu_post reset '{}'
  local form
  for form in epoch_string epoch_number; do
    emu_post expires-on '{"format": "'$form'"}'
    check "$s msal on App Service (expires_on as $form)" reference managed-identity \
      IDENTITY_ENDPOINT="$EMU/msi/token" IDENTITY_HEADER=emulator-identity-header
  done
  emu_post reset '{}'
  check "$s msal on Azure Automation (its Metadata: true)" reference managed-identity \
    IDENTITY_ENDPOINT="$EMU/automation/msi/token" IDENTITY_HEADER=emulator-identity-header
  check "$s msal on Azure Machine Learning" reference managed-identity MSI_ENDPOINT="$EMU/azureml/msi/token" MSI_SECRET=emulator-msi-secret
  check "$s msal on an Azure VM (IMDS)" reference managed-identity AZURE_POD_IDENTITY_AUTHORITY_HOST="$EMU"
  check "$s ... the managed identity's token, for ACR" reference_claims --arg a "$MI_ID" '.appid == $a and .aud == "https://containerregistry.azure.net"'
  check "$s azure-identity on Cloud Shell" reference cloud-shell MSI_ENDPOINT="$EMU/cloudshell/oauth2/token"
  check "$s azure-identity's AzurePipelinesCredential (OIDC token, then Azure AD)" reference azure-pipelines \
    AZURESUBSCRIPTION_TENANT_ID=$TENANT AZURESUBSCRIPTION_CLIENT_ID=$ADO_ID AZURESUBSCRIPTION_SERVICE_CONNECTION_ID=$ADO_CONNECTION \
    SYSTEM_OIDCREQUESTURI="$EMU/pipelines/contoso/app/_apis/distributedtask/hubs/build/plans/p1/jobs/j1/oidctoken" SYSTEM_ACCESSTOKEN=emulator-system-access-token
  check "$s ... the service connection's app's token" reference_claims --arg a "$ADO_ID" '.appid == $a and .tid != null'
  check "$s azure-identity's ClientAssertionCredential with a GitHub ID token" reference github-actions \
    AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$GH_ID ACTIONS_ID_TOKEN_REQUEST_URL="$EMU/github/idtoken?api-version=2.0" \
    ACTIONS_ID_TOKEN_REQUEST_TOKEN=emulator-github-request-token
  check "$s ... the repository's app's token" reference_claims --arg a "$GH_ID" '.appid == $a'
  emu_post reset '{}'
}
