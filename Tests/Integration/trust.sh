# CA certificates beyond the system's, as a TLS-inspecting proxy or a private Azure AD endpoint needs:
# SSL_CERT_FILE, SSL_CERT_DIR and the configuration's caBundle, against the emulator's HTTPS listener (a
# certificate this machine does not trust); and an untrusted certificate reported at once, not retried.
# On both stores.
# Needs acr.sh (emulator_start).

trust_get() { # trust_get NAME=VALUE… : a cold get of $REG with Azure AD over the emulator's HTTPS; sets TRUST_RC, TRUST_MS
  forget_tokens
  local t0; t0=$(date +%s%N)
  TRUST_RC=0
  acr_get "$REG" "${SP[@]}" AZURE_AUTHORITY_HOST="$EMU_TLS/" "$@" >"$WORK/trust.out" 2>"$WORK/trust.err" || TRUST_RC=$?
  TRUST_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
}

trust_derived() { [ "$TRUST_RC" = 0 ] && grep -q '"Username":"00000000-0000-0000-0000-000000000000"' "$WORK/trust.out" || { cat "$WORK/trust.out"; return 1; }; }

trust_suite() { # trust_suite STORE
  local s="[trust $1]" cert="$EMU_DIR/tls-cert.pem" folder="$WORK/trust-certs"
  export DOCKER_CREDENTIAL_ACR_STORE=$1
  emu_post reset '{}'
  helper erase "$REG" >/dev/null

  trust_get
  check "$s an untrusted certificate: the cause, with the fix" grep -qF \
    "$REG: service principal (AZURE_CLIENT_SECRET): the TLS handshake with $EMU_TLS failed: the server's certificate is not trusted by this machine; if a proxy or firewall inspects TLS, set SSL_CERT_FILE (or caBundle in the configuration file) to your organisation's CA bundle" \
    "$WORK/trust.out"
  check "$s ... at once: not retried until the budget (20 s) runs out" test "$TRUST_MS" -lt 3000

  trust_get SSL_CERT_FILE="$cert"
  check "$s SSL_CERT_FILE names the CA: a token" trust_derived
  mkdir -p "$folder"; cp "$cert" "$folder/emulator.pem"
  trust_get SSL_CERT_DIR="/nonexistent:$folder"
  check "$s SSL_CERT_DIR holds the CA (any file name, a list): a token" trust_derived
  mkdir -p "$WORK/trust-config/docker-credential-acr"
  echo '{"caBundle": "'"$cert"'"}' >"$WORK/trust-config/docker-credential-acr/config.json"
  trust_get XDG_CONFIG_HOME="$WORK/trust-config"
  check "$s caBundle in the configuration file (the kubelet has no shell environment): a token" trust_derived
  trust_get SSL_CERT_FILE="$WORK/no-such-bundle.pem"
  check "$s an SSL_CERT_FILE that cannot be read: said so" grep -qF \
    "the CA bundle $WORK/no-such-bundle.pem (from SSL_CERT_FILE) cannot be read as PEM certificates; point it at a readable PEM file of CA certificates, or unset it" \
    "$WORK/trust.out"
  mkdir -p "$WORK/trust-docker"; echo '{"credsStore": "acr"}' >"$WORK/trust-docker/config.json"
  acr_env "${SP[@]}" SSL_CERT_FILE="$cert" DOCKER_CONFIG="$WORK/trust-docker" DOCKER_CREDENTIAL_ACR_ENDPOINTS="$REG=$EMU_TLS/acr/$REG" -- \
    "$HELPER" diagnose --json "$REG" >"$WORK/trust-diag.json" 2>/dev/null
  check "$s diagnose: the handshake succeeds, and says which CAs it trusts" jq -e --arg c "$cert" \
    'any(.checks[]; .code == "CONNECTIVITY_SSL_ERROR" and .status == "ok" and (.found | contains("trusting the system'"'"'s CAs and SSL_CERT_FILE=" + $c)))' \
    "$WORK/trust-diag.json"
  emu_post reset '{}'; forget_tokens
  unset DOCKER_CREDENTIAL_ACR_STORE
}
