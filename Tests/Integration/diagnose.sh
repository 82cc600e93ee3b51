# `docker-credential-acr diagnose` against the Azure emulator, real Docker config files, the Docker CLI,
# Debian's docker-registry and the keyring: each cause of a failed login, reproduced, with its code,
# status and fix; and a healthy run that exits 0. Sourced by run.sh after emulator_start (acr.sh).

DIAG_ENDPOINTS_BASE() { printf '%s' "$REG=$EMU/acr/$REG,$REG2=$EMU/acr/$REG2,$ANON_REG=$EMU/acr/$ANON_REG"; }

# docker_config JSON : a fresh Docker config folder holding JSON (nothing when JSON is empty); sets DIAG_DOCKER
docker_config() {
  DIAG_DOCKER=$(mktemp -d "$WORK/docker-config.XXXXXX")
  [ -z "$1" ] || printf '%s' "$1" >"$DIAG_DOCKER/config.json"
}

# diag NAME=VALUE… -- ARGS… : `diagnose --json ARGS` under acr_env, with the Docker config of
# docker_config and a file store of its own; the JSON goes to $WORK/diag.json, the status to DIAG_RC
diag() {
  local vars=()
  while [ "$1" != "--" ]; do vars+=("$1"); shift; done; shift
  DIAG_RC=0
  acr_env DOCKER_CONFIG="$DIAG_DOCKER" DOCKER_CREDENTIAL_ACR_STORE=file XDG_DATA_HOME="$DIAG_DATA" "${vars[@]}" -- \
    "$HELPER" diagnose --json "$@" >"$WORK/diag.json" 2>"$WORK/diag.err" || DIAG_RC=$?
}

# diag_expect NAME CODE STATUS TEXT : some check CODE has STATUS, and TEXT in its finding or its fix
diag_expect() {
  local name=$1 code=$2 status=$3 text=$4
  if jq -e --arg c "$code" --arg s "$status" --arg t "$text" \
      'any(.checks[]; .code == $c and .status == $s and ((.found + " " + (.fix // "")) | contains($t)))' \
      "$WORK/diag.json" >/dev/null 2>&1; then
    pass "$name"
  else
    fail "$name" "wanted $code $status with '$text'; found:" \
      "$(jq -c --arg c "$code" '.checks[] | select(.code == $c) | {registry, status, found, fix}' "$WORK/diag.json" 2>&1 | head -c 900)" \
      "stderr: $(head -c 300 "$WORK/diag.err")"
  fi
}

diag_exit() { # diag_exit NAME STATUS : the last diag exited with STATUS
  if [ "$DIAG_RC" = "$2" ]; then pass "$1"; else fail "$1" "exit $DIAG_RC, wanted $2" "$(jq -c '.checks[] | select(.status == "error")' "$WORK/diag.json" 2>&1 | head -c 900)"; fi
}

diagnose_suite() {
  local s="[diagnose]"
  emu_post reset '{}'
  DIAG_DATA="$WORK/diag-data"; mkdir -p "$DIAG_DATA"
  local acr_config='{"credsStore": "acr", "auths": {"'"$REG"'": {}}}'

  # --- A healthy machine: exit 0, every step ok.
  docker_config "$acr_config"
  diag "${SP[@]}" -- "$REG" --pull hello --push hello
  diag_exit "$s healthy: exit 0" 0
  check "$s healthy: JSON has ok=true and a checks array" jq -e '.ok == true and (.checks | length > 20) and .registries == ["'"$REG"'"]' "$WORK/diag.json"
  check "$s healthy: every check has code, status, group, title, found, fix" \
    jq -e 'all(.checks[]; has("code") and has("status") and has("group") and has("registry") and has("title") and has("found") and has("fix"))' "$WORK/diag.json"
  diag_expect "$s healthy: Docker CLI found" DOCKER_COMMAND_ERROR ok docker
  diag_expect "$s healthy: Docker version" DOCKER_VERSION_ERROR ok .
  diag_expect "$s healthy: no daemon here is only a warning" DOCKER_DAEMON_ERROR warning "Cannot connect"
  diag_expect "$s healthy: helper on PATH is this one" HELPER_PATH_ERROR ok "is this program"
  diag_expect "$s healthy: credsStore acr" HELPER_CONFIG_ERROR ok '"credsStore": "acr"'
  diag_expect "$s healthy: login server" LOGIN_SERVER_ERROR ok "$REG is a login server"
  diag_expect "$s healthy: DNS" CONNECTIVITY_DNS_ERROR ok "resolves to 127.0.0.1"
  diag_expect "$s healthy: Bearer challenge" CONNECTIVITY_CHALLENGE_ERROR ok "service=$REG"
  diag_expect "$s healthy: identity source and why" IDENTITY_SOURCE_ERROR ok "service-principal, because AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET are set"
  diag_expect "$s healthy: Azure AD token with its claims" AAD_TOKEN_ERROR ok "app id $SP_ID, tenant $TENANT"
  diag_expect "$s healthy: refresh token with its expiry" CONNECTIVITY_REFRESH_TOKEN_ERROR ok "left)"
  diag_expect "$s healthy: pull allowed" ROLE_ASSIGNMENT_ERROR ok "may pull hello"
  diag_expect "$s healthy: push allowed" ROLE_ASSIGNMENT_ERROR ok "may pull and push hello"
  diag_expect "$s healthy: firewall lets us in" CONNECTIVITY_FORBIDDEN_ERROR ok "lets this machine in"
  diag_expect "$s healthy: client secret accepted" CLIENT_SECRET_EXPIRED_ERROR ok "accepts AZURE_CLIENT_SECRET"
  check "$s healthy: nothing cached or stored by diagnose" bash -c "[ ! -e '$DIAG_DATA/docker-credential-acr/tokens.json' ]"
  check "$s no secret or token in the report" bash -c "! grep -qE 'good-secret|eyJ' '$WORK/diag.json' '$WORK/diag.err'"

  # --- Human output: grouped, marks, fixes at the end, no colour when not on a terminal.
  DIAG_RC=0
  acr_env DOCKER_CONFIG="$DIAG_DOCKER" DOCKER_CREDENTIAL_ACR_STORE=file XDG_DATA_HOME="$DIAG_DATA" \
    AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$PULL_ONLY_ID AZURE_CLIENT_SECRET=pull-secret -- \
    "$HELPER" diagnose MyRegistry --pull hello --push hello >"$WORK/diag.txt" 2>&1 || DIAG_RC=$?
  diag_exit "$s MyRegistry --pull --push: exit 1" 1
  check "$s text: grouped under the login server" grep -q "^myregistry.azurecr.io$" "$WORK/diag.txt"
  check "$s text: the bare name is named, with the login server to use" grep -qE "✗ Login server: MyRegistry is a registry's name, not its login server \[[0-9]+\]" "$WORK/diag.txt"
  check "$s text: the missing push role, numbered" grep -qE "✗ Permissions: .* may not push hello: .*AcrPush role is missing \[[0-9]+\]" "$WORK/diag.txt"
  check "$s text: fixes at the end, with the role assignment" grep -qF "az role assignment create --assignee $PULL_ONLY_ID --role AcrPush" "$WORK/diag.txt"
  check "$s text: the verdict" grep -q "^A login would fail (2 errors, 1 warning)." "$WORK/diag.txt"
  check "$s text: no colour codes when not on a terminal" bash -c "! grep -q $'\e' '$WORK/diag.txt'"
  check "$s text: no secret" bash -c "! grep -qE 'pull-secret|eyJ' '$WORK/diag.txt'"

  # --- Usage.
  expect "$s usage error exits 2" 2 "" "$HELPER" diagnose --no-such-flag
  check "$s ... and says why on stderr" grep -q "Unknown option '--no-such-flag'" "$WORK/stderr"
  check "$s --help exits 0 with examples" bash -c "'$HELPER' diagnose --help | grep -q 'diagnose myregistry.azurecr.io --pull'"

  # --- Docker configuration.
  docker_config ""
  diag "${SP[@]}" -- "$REG"
  diag_expect "$s no config.json" DOCKER_CONFIG_ERROR error '{"credsStore": "acr"}'
  diag_exit "$s ... exit 1" 1
  docker_config '{"credsStore": "acr",'
  diag "${SP[@]}" -- "$REG"
  diag_expect "$s config.json that is not JSON" DOCKER_CONFIG_ERROR error "is not a valid Docker configuration"
  docker_config '{"auths": {"'"$REG"'": {}}}'
  diag "${SP[@]}" -- "$REG"
  diag_expect "$s no helper configured" HELPER_CONFIG_ERROR error 'add "credsStore": "acr"'
  docker_config '{"credsStore": "desktop"}'
  diag "${SP[@]}" -- "$REG"
  diag_expect "$s credsStore names another helper" HELPER_CONFIG_ERROR error 'docker-credential-desktop and never asks this helper'
  docker_config '{"credsStore": "acr", "credHelpers": {"'"$REG"'": "ecr-login"}}'
  diag "${SP[@]}" -- "$REG"
  diag_expect "$s credHelpers shadows the helper" HELPER_SHADOWED_ERROR error "docker-credential-ecr-login, not to this helper"
  docker_config '{"credHelpers": {"'"$REG"'": "acr"}}'
  diag "${SP[@]}" -- "$REG"
  diag_expect "$s credHelpers names acr" HELPER_CONFIG_ERROR ok "credHelpers sends $REG to docker-credential-acr"
  docker_config '{"auths": {"'"$REG"'": {"auth": "'"$(printf 'olduser:oldpass' | base64)"'"}}}'
  diag "${SP[@]}" -- "$REG"
  diag_expect "$s plain-text auths without a helper" HELPER_SHADOWED_ERROR error "docker logout $REG"
  docker_config '{"credsStore": "acr", "auths": {"'"$REG"'": {"auth": "'"$(printf 'olduser:oldpass' | base64)"'"}}}'
  diag "${SP[@]}" -- "$REG"
  diag_expect "$s plain-text auths beside credsStore: skopeo would use it" HELPER_SHADOWED_ERROR warning "which skopeo and podman use instead of the helper"
  check "$s ... and the password is not shown" bash -c "! grep -q oldpass '$WORK/diag.json'"

  docker_config "$acr_config"
  mkdir -p "$WORK/old-docker"
  printf '#!/bin/sh\necho "Docker version 17.09.1-ce, build 19e2cf6"\n' >"$WORK/old-docker/docker"; chmod +x "$WORK/old-docker/docker"
  diag "${SP[@]}" PATH="$WORK/old-docker:$WORK/bin:/usr/bin:/bin" -- "$REG"
  diag_expect "$s Docker older than 18.03" DOCKER_VERSION_ERROR error "older than 18.03"
  diag "${SP[@]}" PATH="/usr/bin:/bin" -- "$REG"
  diag_expect "$s docker-credential-acr not on PATH" HELPER_PATH_ERROR error "Docker cannot find docker-credential-acr on PATH"
  diag_expect "$s no Docker CLI is a warning" DOCKER_COMMAND_ERROR warning "skopeo, podman and the kubelet"
  mkdir -p "$WORK/other-helper"; cp /bin/true "$WORK/other-helper/docker-credential-acr"
  diag "${SP[@]}" PATH="$WORK/other-helper:$WORK/bin:$DOCKER_DIR:/usr/bin:/bin" -- "$REG"
  diag_expect "$s another docker-credential-acr first on PATH" HELPER_PATH_ERROR warning "Docker runs $WORK/other-helper/docker-credential-acr"
  printf '{"timeoutSeconds": "soon"}' >"$WORK/bad-helper-config.json"
  diag "${SP[@]}" DOCKER_CREDENTIAL_ACR_CONFIG="$WORK/bad-helper-config.json" -- "$REG"
  diag_expect "$s the helper's own configuration file is broken" HELPER_CONFIG_FILE_ERROR error "bad-helper-config.json"

  # --- Registry name, DNS, TLS, challenge.
  diag "${SP[@]}" -- MyRegistry.azurecr.io
  diag_expect "$s capital letters" LOGIN_SERVER_ERROR error "use $REG, all lowercase"
  diag "${SP[@]}" -- ab.azurecr.io
  diag_expect "$s too short a registry name" LOGIN_SERVER_ERROR error "ab is not a valid registry name (5–50 letters and digits)"
  diag "${SP[@]}" -- myregistry.westeurope.data.azurecr.io
  diag_expect "$s a data endpoint" LOGIN_SERVER_ERROR error "log in to $REG"
  diag "${SP[@]}" -- my_registry
  diag_expect "$s neither a login server nor a name" LOGIN_SERVER_ERROR error "neither a login server nor a valid registry name"
  # A 70-letter label cannot be resolved: the resolver refuses it without sending a query.
  local unresolvable; unresolvable="$(printf 'a%.0s' $(seq 70)).example"
  diag "${SP[@]}" DOCKER_CREDENTIAL_ACR_ENDPOINTS="$(DIAG_ENDPOINTS_BASE),dnsfail01.azurecr.io=https://$unresolvable" -- dnsfail01.azurecr.io
  diag_expect "$s a name that does not resolve" CONNECTIVITY_DNS_ERROR error "does not resolve"
  diag "${SP[@]}" DOCKER_CREDENTIAL_ACR_ENDPOINTS="$(DIAG_ENDPOINTS_BASE),tlsfail01.azurecr.io=$EMU_TLS/acr/$REG" -- tlsfail01.azurecr.io
  diag_expect "$s an untrusted certificate (TLS inspection)" CONNECTIVITY_SSL_ERROR error "certificate is not trusted"
  diag_expect "$s ... and the Azure AD token is still checked" AAD_TOKEN_ERROR ok "app id $SP_ID"
  diag "${SP[@]}" DOCKER_CREDENTIAL_ACR_ENDPOINTS="$(DIAG_ENDPOINTS_BASE),unknownreg1.azurecr.io=$EMU/acr/unknownreg1.azurecr.io" -- unknownreg1.azurecr.io
  diag_expect "$s no registry of that name answers" CONNECTIVITY_CHALLENGE_ERROR error "no registry answers as unknownreg1.azurecr.io (HTTP 404)"
  diag "${SP[@]}" DOCKER_CREDENTIAL_ACR_ENDPOINTS="$(DIAG_ENDPOINTS_BASE),refusedreg1.azurecr.io=http://127.0.0.1:9" -- refusedreg1.azurecr.io
  diag_expect "$s nothing listens" CONNECTIVITY_CHALLENGE_ERROR error "connection refused"
  local basic_port=${DIAG_BASIC_PORT:-5067} basic_dir="$WORK/diag-registry"
  mkdir -p "$basic_dir"
  htpasswd -Bbn someone some-pass >"$basic_dir/htpasswd"
  cat >"$basic_dir/config.yml" <<YAML
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: $basic_dir/data}}
http: {addr: 127.0.0.1:$basic_port}
auth: {htpasswd: {realm: basic-realm, path: $basic_dir/htpasswd}}
YAML
  docker-registry serve "$basic_dir/config.yml" >"$basic_dir/registry.log" 2>&1 &
  local basic_pid=$!
  wait_for_http "http://127.0.0.1:$basic_port/v2/"
  diag "${SP[@]}" DOCKER_CREDENTIAL_ACR_ENDPOINTS="$(DIAG_ENDPOINTS_BASE),basicreg1.azurecr.io=http://127.0.0.1:$basic_port" -- basicreg1.azurecr.io
  diag_expect "$s a Basic challenge: no Azure AD login there" CONNECTIVITY_AAD_LOGIN_ERROR error "not Bearer"
  kill "$basic_pid" 2>/dev/null

  # --- Credentials valid.
  diag -- "$REG"
  diag_expect "$s no identity and nothing stored" IDENTITY_SOURCE_ERROR error "az login"
  diag_expect "$s ... says why each source was skipped" IDENTITY_SOURCE_ERROR error "service-principal: AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET are not set"
  diag_exit "$s ... exit 1" 1
  diag -- "$ANON_REG" --pull hello
  diag_expect "$s no identity, but anonymous pull works" CONNECTIVITY_ACCESS_TOKEN_ERROR ok "anonymous pull of hello is allowed"
  diag AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$SP_ID AZURE_CLIENT_SECRET=wrong-secret -- "$REG"
  diag_expect "$s wrong client secret (AADSTS7000215)" AAD_TOKEN_ERROR error "set AZURE_CLIENT_SECRET to the secret's value"
  diag AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=aaaaaaaa-0000-0000-0000-0000000000ff AZURE_CLIENT_SECRET=good-secret -- "$REG"
  diag_expect "$s application not in the tenant (AADSTS700016)" AAD_TOKEN_ERROR error "check AZURE_CLIENT_ID and AZURE_TENANT_ID"
  diag AZURE_TENANT_ID=99999999-9999-9999-9999-999999999999 AZURE_CLIENT_ID=$SP_ID AZURE_CLIENT_SECRET=good-secret -- "$REG"
  diag_expect "$s wrong tenant (AADSTS90002)" AAD_TOKEN_ERROR error "the tenant was not found"
  diag AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$SP_ID AZURE_CLIENT_SECRET=good-secret AZURE_AUTHORITY_HOST=http://login.example.com/ -- "$REG"
  diag_expect "$s an insecure authority host is refused" IDENTITY_SOURCE_ERROR error "plain http:// is accepted only for"

  # Stale stored credentials: Docker sends them, the registry refuses them, anonymous pull is blocked.
  printf '%s' "$(cred "$ANON_REG" olduser oldpass)" | acr_env DOCKER_CREDENTIAL_ACR_STORE=file XDG_DATA_HOME="$DIAG_DATA" -- "$HELPER" store
  diag -- "$ANON_REG" --pull hello
  diag_expect "$s stale stored credentials block anonymous pull" STORED_CREDENTIAL_ERROR error "it blocks the anonymous pull this registry allows"
  diag_expect "$s ... fix: docker logout" STORED_CREDENTIAL_ERROR error "docker logout $ANON_REG"
  check "$s ... the stored password is not shown" bash -c "! grep -q oldpass '$WORK/diag.json'"
  printf '%s' "$ANON_REG" | acr_env DOCKER_CREDENTIAL_ACR_STORE=file XDG_DATA_HOME="$DIAG_DATA" -- "$HELPER" erase >/dev/null

  # An exposed ACR token stored under another user (here by Docker's own helper, which shares the keyring schema).
  local token; token=$(printf '%s' "$REG2" | acr_env "${SP[@]}" DOCKER_CREDENTIAL_ACR_STORE=file XDG_DATA_HOME="$WORK/diag-scratch" -- "$HELPER" get | jq -r .Secret)
  printf '%s' "$(cred "$REG2" alice "$token")" | docker-credential-secretservice store
  diag DOCKER_CREDENTIAL_ACR_STORE=secretservice -- "$REG2"
  diag_expect "$s an ACR token stored under another user" EXPOSED_TOKEN_USER_ERROR error "stored under the user alice"
  diag_expect "$s ... which the registry rejects" STORED_CREDENTIAL_ERROR error "rejects it"
  check "$s ... the token is not shown" bash -c "! grep -qF '$token' '$WORK/diag.json'"
  printf '%s' "$REG2" | docker-credential-secretservice erase

  # --- Credentials authorized.
  diag AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$PULL_ONLY_ID AZURE_CLIENT_SECRET=pull-secret -- "$REG" --push hello
  diag_expect "$s push without AcrPush" ROLE_ASSIGNMENT_ERROR error "the AcrPush role is missing"
  diag_expect "$s ... fix names the identity and the role" ROLE_ASSIGNMENT_ERROR error "az role assignment create --assignee $PULL_ONLY_ID --role AcrPush --scope \$(az acr show --name myregistry"
  diag AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$PULL_ONLY_ID AZURE_CLIENT_SECRET=pull-secret -- "$REG2" --pull hello
  diag_expect "$s pull without any role" ROLE_ASSIGNMENT_ERROR error "the AcrPull role is missing"
  diag AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$PULL_ONLY_ID AZURE_CLIENT_SECRET=pull-secret -- "$REG2"
  diag_expect "$s no role at all (catalog)" ROLE_ASSIGNMENT_ERROR warning "has no role on $REG2"
  emu_post faults '{"endpoint": "acr_exchange", "status": 401, "body": {"errors": [{"code": "UNAUTHORIZED", "message": "tenant mismatch"}]}}'
  diag "${SP[@]}" -- "$REG"
  diag_expect "$s the exchange refused" CONNECTIVITY_REFRESH_TOKEN_ERROR error "HTTP 401: tenant mismatch"
  emu_post faults '{"endpoint": "acr_token", "status": 401}'
  diag "${SP[@]}" -- "$REG" --pull hello
  diag_expect "$s the access token refused" CONNECTIVITY_ACCESS_TOKEN_ERROR error "HTTP 401"
  emu_post reset '{}'

  # --- Credentials expiry.
  diag AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$SP_ID AZURE_CLIENT_SECRET=old-secret -- "$REG"
  diag_expect "$s an expired client secret (AADSTS7000222)" CLIENT_SECRET_EXPIRED_ERROR error "AZURE_CLIENT_SECRET has expired"
  diag_expect "$s ... also in the token check" AAD_TOKEN_ERROR error "create a new secret"
  printf '%s' "$REG" | acr_env "${SP[@]}" DOCKER_CREDENTIAL_ACR_STORE=file XDG_DATA_HOME="$DIAG_DATA" -- "$HELPER" get >/dev/null
  diag "${SP[@]}" -- "$REG"
  diag_expect "$s the cached ACR refresh token and its time left" TOKEN_EXPIRY_ERROR ok "cached ACR refresh token (service-principal:"
  diag_expect "$s the cached Azure AD token" TOKEN_EXPIRY_ERROR ok "cached Azure AD token"
  printf '%s' "$REG" | acr_env DOCKER_CREDENTIAL_ACR_STORE=file XDG_DATA_HOME="$DIAG_DATA" -- "$HELPER" erase >/dev/null
  emu_post lifetimes '{"acr_refresh": 3}'
  token=$(printf '%s' "$REG2" | acr_env "${SP[@]}" DOCKER_CREDENTIAL_ACR_STORE=file XDG_DATA_HOME="$WORK/diag-scratch2" -- "$HELPER" get | jq -r .Secret)
  emu_post lifetimes '{"acr_refresh": 10800}'
  check "$s (a token that expires in 3 s)" test "${#token}" -gt 100
  printf '%s' "$(cred "$REG2" 00000000-0000-0000-0000-000000000000 "$token")" | acr_env DOCKER_CREDENTIAL_ACR_STORE=file XDG_DATA_HOME="$DIAG_DATA" -- "$HELPER" store
  sleep 4
  diag -- "$REG2"
  diag_expect "$s a stored token expired, nothing to renew it" TOKEN_EXPIRY_ERROR error "docker-credential-acr import"
  diag "${SP[@]}" -- "$REG2"
  diag_expect "$s a stored token expired, the identity takes over" TOKEN_EXPIRY_ERROR warning "derives new tokens from the Azure identity"
  printf '%s' "$REG2" | acr_env DOCKER_CREDENTIAL_ACR_STORE=file XDG_DATA_HOME="$DIAG_DATA" -- "$HELPER" erase >/dev/null

  # --- Network.
  emu_post faults '{"endpoint": "acr_challenge", "kind": "firewall"}'
  diag "${SP[@]}" -- "$REG"
  diag_expect "$s the registry's firewall, with the client IP" CONNECTIVITY_FORBIDDEN_ERROR error "client IP "
  diag_expect "$s ... fix: a network rule" CONNECTIVITY_FORBIDDEN_ERROR error "az acr network-rule add --name myregistry"
  emu_post faults '{"endpoint": "acr_exchange", "kind": "firewall"}'
  diag "${SP[@]}" -- "$REG"
  diag_expect "$s the firewall at the token exchange" CONNECTIVITY_FORBIDDEN_ERROR error "refuses this machine"
  emu_post faults '{"endpoint": "acr_challenge", "status": 429, "retry_after": 1}'
  diag "${SP[@]}" -- "$REG"
  diag_expect "$s throttled" CONNECTIVITY_THROTTLED_ERROR warning "429 Too Many Requests"
  printf '{"timeoutSeconds": 2}' >"$WORK/short-timeout.json"
  emu_post faults '{"endpoint": "acr_exchange", "status": 429, "count": -1, "retry_after": 1}'
  diag "${SP[@]}" DOCKER_CREDENTIAL_ACR_CONFIG="$WORK/short-timeout.json" -- "$REG"
  diag_expect "$s throttled at the exchange, retries included" CONNECTIVITY_THROTTLED_ERROR error "retries included"
  emu_post reset '{}'
  diag "${SP[@]}" HTTPS_PROXY=http://proxyuser:proxy-password@proxy.example:3128 -- "$REG"
  diag_expect "$s a proxy is set: each endpoint's route" PROXY_CONFIGURATION_ERROR ok "HTTPS_PROXY=http://…@proxy.example:3128: $EMU directly, $EMU directly"
  diag "${SP[@]}" HTTPS_PROXY=socks5://proxyuser:proxy-password@proxy.example:1080 -- "$REG"
  diag_expect "$s a proxy that cannot be used" PROXY_CONFIGURATION_ERROR error "HTTPS_PROXY=socks5://…@proxy.example:1080 is not an http:// proxy"
  check "$s ... its password is not shown" bash -c "! grep -q proxy-password '$WORK/diag.json'"

  # --- Keyring.
  diag "${SP[@]}" DOCKER_CREDENTIAL_ACR_STORE=secretservice -- "$REG"
  diag_expect "$s the keyring answers" CREDENTIAL_STORE_ERROR ok "the Secret Service keyring"
  diag_expect "$s the keyring is unlocked" KEYRING_LOCKED_ERROR ok "unlocked"
  diag "${SP[@]}" DOCKER_CREDENTIAL_ACR_STORE=auto DBUS_SESSION_BUS_ADDRESS=unix:path=$WORK/no-bus -- "$REG"
  diag_expect "$s no keyring under auto: the file store, with a warning" CREDENTIAL_STORE_ERROR warning "no Secret Service answers"
  diag "${SP[@]}" DOCKER_CREDENTIAL_ACR_STORE=secretservice DBUS_SESSION_BUS_ADDRESS=unix:path=$WORK/no-bus -- "$REG"
  diag_expect "$s no keyring under secretservice" CREDENTIAL_STORE_ERROR error "DOCKER_CREDENTIAL_ACR_STORE=file"
  diag "${SP[@]}" DOCKER_CREDENTIAL_ACR_STORE=somewhere -- "$REG"
  diag_expect "$s an unknown store" CREDENTIAL_STORE_ERROR error "is not a store"

  # --- No registry named: the ACR registries of Docker's configuration.
  docker_config '{"credsStore": "acr", "auths": {"'"$REG2"'": {}, "docker.io": {}}}'
  diag "${SP[@]}" --
  check "$s without arguments: the ACR registries of config.json" jq -e '.registries == ["'"$REG2"'"]' "$WORK/diag.json"

  # --- A failing get names the cause, and points at diagnose on stderr.
  local rc=0
  printf '%s' "$REG" | acr_env AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$SP_ID AZURE_CLIENT_SECRET=wrong-secret \
    DOCKER_CREDENTIAL_ACR_STORE=file XDG_DATA_HOME="$WORK/diag-get" -- "$HELPER" get >"$WORK/get.out" 2>"$WORK/get.err" || rc=$?
  check "$s failing get: exit 1" test "$rc" = 1
  check "$s failing get: one stdout line with the cause and its fix" \
    bash -c "[ \"\$(wc -l <'$WORK/get.out')\" = 1 ] && grep -q 'AADSTS7000215.*set AZURE_CLIENT_SECRET' '$WORK/get.out'"
  check "$s failing get: stderr points at diagnose" grep -qF "run: docker-credential-acr diagnose $REG" "$WORK/get.err"
}

locked_keyring_diagnose() { # after locked_keyring_suite has locked the collection
  docker_config '{"credsStore": "acr"}'
  diag "${SP[@]}" DOCKER_CREDENTIAL_ACR_STORE=secretservice -- "$REG"
  diag_expect "[locked keyring] diagnose says the keyring is locked" KEYRING_LOCKED_ERROR error "gnome-keyring-daemon --unlock"
  diag_exit "[locked keyring] ... and a login would fail" 1
}
