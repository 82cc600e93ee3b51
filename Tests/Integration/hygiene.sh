# Secrets hygiene and keyring faults: no secret in any output, log or child command line; private file
# modes, refused when widened; no core dumps; and every action when there is no session bus, no Secret
# Service on it, a locked collection, or a keyring daemon that dies mid-operation. Sourced after acr.sh and
# signin.sh (their emulator, acr_env and login_as); both suites run after emulator_start:
#
#   secrets_hygiene_suite; keyring_faults_suite

# Known, distinctive secrets: each must appear nowhere but where the protocol hands it back.
HYG_PASSWORD='Hyg-stored-pw-58c1e0'
HYG_ADMIN_PASSWORD='Hyg-admin-pw-0d9e6b'
HYG_CERT_PASSWORD='Hyg-cert-pw-9b7d42'
HYG_WRONG_SECRET='Hyg-wrong-secret-3f0a'
HYG_WRONG_CERT_PASSWORD='Hyg-wrong-cert-pw-71c2'
HYG_CONFIG_PASSWORD='Hyg-docker-config-pw-c4a1'
HYG_IDENTITY_TOKEN='Hyg-identity-token-e5d3'
HYG_PLAIN=plain.hygiene.example.com
# A JWT (header and claims), for tokens the run cannot know in advance (ACR access tokens in diagnose).
HYG_JWT='eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}'

# cmdline_watch FILE : in the background, until the calling shell ends, records every few ms the command
# line of each process descended from it ("PID<TAB>argv") in FILE; returns once it watches. FILE.done
# appears when it has stopped.
cmdline_watch() {
  local file=$1 root=$BASHPID
  rm -f "$file" "$file.ready" "$file.done"
  python3 - "$root" "$file" <<'PY' &
import os, sys, time
root, path = int(sys.argv[1]), sys.argv[2]
me = os.getpid()
known = {}       # pid -> whether it descends from root; each pid is looked at once
seen = set()     # (pid, command line) already recorded
out = open(path, "w", buffering=1)

def parent(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None

def scan():
    pids = {int(p) for p in os.listdir("/proc") if p.isdigit()}
    for pid in [p for p in known if p not in pids]:
        del known[pid]  # gone: its number may come back as another process
    members = {root} | {p for p, inside in known.items() if inside}
    new = {p: parent(p) for p in pids if p not in known}
    grown = True
    while grown:  # a child listed before its parent joins on a later pass
        grown = False
        for pid, ppid in list(new.items()):
            if ppid in members:
                known[pid] = True
                members.add(pid)
                del new[pid]
                grown = True
    for pid in new:
        known[pid] = False
    for pid in members - {me}:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                line = f.read().rstrip(b"\0").replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if line and (pid, line) not in seen:
            seen.add((pid, line))
            out.write(f"{pid}\t{line}\n")

scan()
open(path + ".ready", "w").close()
while os.path.exists(f"/proc/{root}"):
    time.sleep(0.002)
    scan()
out.close()
open(path + ".done", "w").close()
PY
  for _ in $(seq 500); do [ -e "$file.ready" ] && return 0; sleep 0.01; done
  return 1
}

# act NAME INPUT CMD… : CMD with INPUT on stdin (printf is a builtin: the input is on no command line);
# stdout, stderr and the exit status go to $HYG/NAME.out, .err, .rc
act() {
  local name=$1 input=$2 rc=0; shift 2
  printf '%s' "$input" | "$@" >"$HYG/$name.out" 2>"$HYG/$name.err" || rc=$?
  echo "$rc" >"$HYG/$name.rc"
}

# hyg_env NAME=VALUE… -- CMD… : CMD as acr_env runs it, with the debug log, the store under test, a fake az
# and a slow docker first on PATH (so that the watcher sees them) and a Docker config holding secrets. The
# settings are exported by the shell, not given to env(1): the test's own command lines hold no secret.
hyg_env() {
  local vars=()
  while [ "$1" != "--" ]; do vars+=("$1"); shift; done; shift
  ( unset AZURE_CLIENT_ID AZURE_CLIENT_SECRET AZURE_TENANT_ID AZURE_CLIENT_CERTIFICATE_PATH AZURE_CLIENT_CERTIFICATE_PASSWORD \
      AZURE_FEDERATED_TOKEN_FILE IDENTITY_ENDPOINT IDENTITY_HEADER DOCKER_CREDENTIAL_ACR_IMDS_ENDPOINT
    export PATH="$HYG/bin:$WORK/bin:/usr/bin:/bin" AZURE_AUTHORITY_HOST="$EMU/" XDG_CONFIG_HOME="$WORK/no-config" \
      DOCKER_CREDENTIAL_ACR_ENDPOINTS="$REG=$EMU/acr/$REG,$REG2=$EMU/acr/$REG2,$ANON_REG=$EMU/acr/$ANON_REG" \
      DOCKER_CONFIG="$HYG/docker" AZURE_CONFIG_DIR="$HYG/azure" DOCKER_CREDENTIAL_ACR_DEBUG=1 DOCKER_CREDENTIAL_ACR_STORE="$HYG_STORE" "${vars[@]}"
    exec "$@" )
}

# cached_secrets : every token the store caches, and the refresh tokens of sign-ins, one a line
cached_secrets() {
  if [ "$HYG_STORE" = file ]; then
    jq -r '.tokens[] | .token' "$XDG_DATA_HOME/docker-credential-acr/tokens.json" 2>/dev/null
  else
    for kind in acr-refresh-token aad-access-token aad-sign-in; do
      secret-tool search --all kind "$kind" 2>/dev/null | sed -n 's/^secret = [0-9]* //p'
    done
  fi | while IFS= read -r token; do
    if jq -e .refreshToken <<<"$token" >/dev/null 2>&1; then jq -r .refreshToken <<<"$token"; else echo "$token"; fi
  done
}

# hygiene_session : every action with the secrets above, while the watcher records command lines; run
# in a subshell of its own (the watcher's root); secrets derived during the run go to $HYG/secrets
hygiene_session() {
  cmdline_watch "$HYG/cmdlines" || { echo "the command line watcher did not start" >"$HYG/watcher-failed"; return; }
  local token cert=(AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$CERT_SP_ID AZURE_CLIENT_CERTIFICATE_PATH="$HYG/sp-encrypted.pem")
  local kubelet='{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"'"$REG"'/team/app:1"}'
  act version "" hyg_env -- "$HELPER" version
  act store "$(cred "https://$HYG_PLAIN" hyg-user "$HYG_PASSWORD")" hyg_env -- "$HELPER" store
  act get-plain "$HYG_PLAIN" hyg_env -- "$HELPER" get
  act list "" hyg_env -- "$HELPER" list
  act get-sp "$REG" hyg_env "${SP[@]}" -- "$HELPER" get
  act get-sp-2 "$REG2" hyg_env "${SP[@]}" -- "$HELPER" get
  act erase-sp-2 "$REG2" hyg_env -- "$HELPER" erase
  act kubelet "$kubelet" hyg_env "${SP[@]}" -- "$HELPER" kubelet
  act get-cert "$REG" hyg_env "${cert[@]}" AZURE_CLIENT_CERTIFICATE_PASSWORD="$HYG_CERT_PASSWORD" -- "$HELPER" get
  forget_tokens  # a cached token would (rightly) be served whatever the secret
  act get-wrong-secret "$REG" hyg_env AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$SP_ID AZURE_CLIENT_SECRET="$HYG_WRONG_SECRET" -- "$HELPER" get
  act get-wrong-cert-password "$REG" hyg_env "${cert[@]}" AZURE_CLIENT_CERTIFICATE_PASSWORD="$HYG_WRONG_CERT_PASSWORD" -- "$HELPER" get
  act get-az "$REG" hyg_env -- "$HELPER" get
  token=$(jq -r .Secret "$HYG/get-sp-2.out")
  act store-exposed "$(cred "$REG2" alice "$token")" hyg_env -- "$HELPER" store
  act import "{\"accessToken\": \"$token\", \"loginServer\": \"$REG2\"}" hyg_env -- "$HELPER" import
  act diagnose-sp "" hyg_env "${SP[@]}" -- "$HELPER" diagnose "$REG" --pull hello --push hello
  act diagnose-sp-json "" hyg_env "${SP[@]}" -- "$HELPER" diagnose --json "$REG" --pull hello
  act diagnose-cert-json "" hyg_env "${cert[@]}" AZURE_CLIENT_CERTIFICATE_PASSWORD="$HYG_CERT_PASSWORD" -- "$HELPER" diagnose --json "$REG"
  act diagnose-az "" hyg_env -- "$HELPER" diagnose "$REG"
  # A stored admin password, which diagnose tries as Basic auth at the registry's token endpoint.
  act store-admin "$(cred "$REG2" admin "$HYG_ADMIN_PASSWORD")" hyg_env -- "$HELPER" store
  act diagnose-admin "" hyg_env -- "$HELPER" diagnose "$REG2" --pull hello
  act configure-dry-run "" hyg_env -- "$HELPER" configure --registry "$REG" --dry-run
  act configure "" hyg_env -- "$HELPER" configure --registry "$REG"
  act configure-undo "" hyg_env -- "$HELPER" configure --undo

  # A person's sign-in: the refresh token Azure AD hands out at login, and the one it rotates to.
  LOGIN_ENV=(PATH="$HYG/bin:$WORK/bin:/usr/bin:/bin" DOCKER_CREDENTIAL_ACR_DEBUG=1 DOCKER_CREDENTIAL_ACR_STORE="$HYG_STORE")
  login_as "$ALICE" "$REG"; echo $? >"$HYG/login.rc"
  cp "$WORK/login.out" "$HYG/login.out"; cp "$WORK/login.err" "$HYG/login.err"
  sign_in_secret | jq -r .refreshToken >>"$HYG/sign-in-tokens"
  cached_secrets >>"$HYG/secrets"
  forget_tokens
  act get-signed-in "$REG" hyg_env -- "$HELPER" get
  act diagnose-signed-in-json "" hyg_env -- "$HELPER" diagnose --json "$REG"
  sign_in_secret | jq -r .refreshToken >>"$HYG/sign-in-tokens"
  cached_secrets >>"$HYG/secrets"
  act logout "" hyg_env -- "$HELPER" logout
  act erase-plain "$HYG_PLAIN" hyg_env -- "$HELPER" erase
  act erase-reg "$REG" hyg_env -- "$HELPER" erase
  act erase-reg2 "$REG2" hyg_env -- "$HELPER" erase
  act get-erased "$HYG_PLAIN" hyg_env -- "$HELPER" get
}

# no_leaks FILE… : no known secret and no JWT in FILE… (else says where, with the secret's first characters)
no_leaks() {
  { grep -HnoE "$HYG_JWT" "$@"; grep -HnoF -f "$HYG/secrets" "$@"; } | sed -E 's/^(.*:[0-9]+:.{12}).*/\1…/' | grep . && return 1
  return 0
}

# statuses_are STATUS NAME… : each action NAME of the session exited with STATUS
statuses_are() {
  local status=$1 name; shift
  for name in "$@"; do [ "$(cat "$HYG/$name.rc")" = "$status" ] || { echo "$name exited $(cat "$HYG/$name.rc"), wanted $status"; return 1; }; done
}

# only_own_secret NAME… : the answer NAME (of get or kubelet) holds no secret but its own
only_own_secret() {
  local name
  for name in "$@"; do
    jq -r '.Secret // .auth[].password' "$HYG/$name.out" | grep -vxF -f - "$HYG/secrets" >"$HYG/other-secrets"
    grep -HnoF -f "$HYG/other-secrets" "$HYG/$name.out" | sed -E 's/^(.*:[0-9]+:.{12}).*/\1…/' | grep . && return 1
  done
  return 0
}

secrets_hygiene_session_suite() { # secrets_hygiene_session_suite STORE : every action, watched
  local store=$1 s="[secrets hygiene $1]"
  HYG="$WORK/hygiene-$store"; HYG_STORE=$store
  rm -rf "$HYG"; mkdir -p "$HYG/bin" "$HYG/docker"
  emu_post reset '{}'; emu_post lifetimes '{"device_interval": 1}'
  export DOCKER_CREDENTIAL_ACR_STORE=$store
  forget_tokens; helper erase "$REG" >/dev/null; helper erase "$REG2" >/dev/null
  rm -f "$XDG_STATE_HOME/docker-credential-acr/log"
  # A key of the certificate app encrypted with a password of our own.
  openssl pkcs8 -topk8 -v2 aes-256-cbc -in "$EMU_DIR/sp-key.pem" -passout fd:3 -out "$HYG/sp-key-encrypted.pem" 3<<<"$HYG_CERT_PASSWORD"
  cat "$EMU_DIR/sp-cert.pem" "$HYG/sp-key-encrypted.pem" >"$HYG/sp-encrypted.pem"
  # An Azure CLI and a Docker CLI that linger, so that the watcher sees them run.
  cat >"$HYG/bin/az" <<AZ
#!/bin/sh
sleep 0.3
curl -s "$EMU/_emulator/aad-token?client_id=$SP_ID&tenant=$TENANT&resource=https://containerregistry.azure.net"
AZ
  printf '#!/bin/sh\nsleep 0.3\nexec %q "$@"\n' "$DOCKER_DIR/docker" >"$HYG/bin/docker"
  chmod +x "$HYG/bin/az" "$HYG/bin/docker"
  az_profile "$HYG/azure" alice@contoso.com "$TENANT"
  # A Docker config with a plain-text login and an identity token, as docker login leaves them.
  local auth; auth=$(printf 'legacy:%s' "$HYG_CONFIG_PASSWORD" | base64 -w0)
  printf '{"auths": {"legacy.example.com": {"auth": "%s"}, "%s": {"auth": "%s", "identitytoken": "%s"}}, "credsStore": "acr"}\n' \
    "$auth" "$REG2" "$auth" "$HYG_IDENTITY_TOKEN" >"$HYG/docker/config.json"
  chmod 600 "$HYG/docker/config.json"
  printf '%s\n' "$HYG_PASSWORD" "$HYG_ADMIN_PASSWORD" good-secret "$HYG_CERT_PASSWORD" "$HYG_WRONG_SECRET" "$HYG_WRONG_CERT_PASSWORD" \
    "$HYG_CONFIG_PASSWORD" "$auth" "$HYG_IDENTITY_TOKEN" >"$HYG/secrets"

  ( hygiene_session )
  for _ in $(seq 500); do [ -e "$HYG/cmdlines.done" ] && break; sleep 0.01; done
  check "$s the command line watcher ran" test ! -e "$HYG/watcher-failed"
  # Tokens derived during the run: the answers of get (for ACR servers) and kubelet, and the cache.
  for answer in get-sp get-sp-2 get-cert get-az get-signed-in; do jq -r .Secret "$HYG/$answer.out" >>"$HYG/secrets" 2>/dev/null; done
  jq -r '.auth[].password' "$HYG/kubelet.out" >>"$HYG/secrets" 2>/dev/null
  cached_secrets >>"$HYG/secrets"; cat "$HYG/sign-in-tokens" >>"$HYG/secrets"
  sort -u -o "$HYG/secrets" "$HYG/secrets"; sed -i '/^$/d' "$HYG/secrets"

  check "$s the actions succeeded (so the checks below look at real work)" statuses_are 0 version store get-plain list \
    get-sp get-sp-2 kubelet get-cert get-az store-exposed import store-admin login get-signed-in logout erase-plain
  check "$s ... and those meant to fail failed" statuses_are 1 get-wrong-secret get-wrong-cert-password get-erased
  check "$s the run derived ACR and Azure AD tokens to look for" test "$(grep -c '^eyJ' "$HYG/secrets")" -ge 5
  check "$s ... and sign-in refresh tokens (the first, and the one Azure AD rotated to)" \
    test "$(grep -v null "$HYG/sign-in-tokens" | sort -u | wc -l)" = 2
  check "$s get (of a stored password, of derived tokens) and kubelet print no secret but their own" \
    only_own_secret get-plain get-sp get-sp-2 get-cert get-az get-signed-in kubelet
  local others=() f
  for f in "$HYG"/*.out; do
    case $(basename "$f" .out) in get-plain|get-sp|get-sp-2|get-cert|get-az|get-signed-in|kubelet) ;; *) others+=("$f") ;; esac
  done
  check "$s no secret in the stdout of any other action" no_leaks "${others[@]}"
  check "$s no secret on stderr" no_leaks "$HYG"/*.err
  check "$s the debug log was written" test -s "$XDG_STATE_HOME/docker-credential-acr/log"
  check "$s no secret in the log (DOCKER_CREDENTIAL_ACR_DEBUG=1)" no_leaks "$XDG_STATE_HOME/docker-credential-acr/log"
  check "$s the watcher saw the fake az (account get-access-token)" grep -q 'az account get-access-token' "$HYG/cmdlines"
  check "$s ... and diagnose's docker --version" grep -q 'docker --version' "$HYG/cmdlines"
  check "$s no secret on any command line of the helper or its children" no_leaks "$HYG/cmdlines"
  forget_tokens
  unset DOCKER_CREDENTIAL_ACR_STORE
}

# tree_state DIR… : every file and folder under DIR… with its mode and a digest of its contents
tree_state() { find "$@" -exec stat -c '%n %a %s' {} + 2>/dev/null | sort; find "$@" -type f -exec sha256sum {} + 2>/dev/null | sort; }

# refused NAME PATH MODE WANTED INPUT CMD… : with PATH set to MODE, CMD (INPUT on stdin) exits 1 with one
# line that names PATH and `chmod WANTED PATH`, and writes nothing to the file store
refused() {
  local name=$1 path=$2 mode=$3 wanted=$4 input=$5 rc=0; shift 5
  chmod "$mode" "$path"
  local before; before=$(tree_state "$MODES/data")
  printf '%s' "$input" | "$@" >"$WORK/refused.out" 2>"$WORK/refused.err" || rc=$?
  local after; after=$(tree_state "$MODES/data")
  chmod "$wanted" "$path"
  if [ "$rc" = 1 ] && [ "$(wc -l <"$WORK/refused.out")" = 1 ] && grep -qF "$path" "$WORK/refused.out" &&
     grep -qF "chmod $wanted $path" "$WORK/refused.out" && [ "$before" = "$after" ]; then
    pass "$name"
  else
    fail "$name" "status $rc (wanted 1)" "stdout: $(head -c 400 "$WORK/refused.out")" "stderr: $(head -c 300 "$WORK/refused.err")" \
      "written: $(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | head -n 4)"
  fi
}

# log_refused NAME PATH MODE WANTED : with PATH (the log or its folder) set to MODE, an action that logs
# appends nothing, and says on stderr which path and which `chmod WANTED PATH` fix it
log_refused() {
  local name=$1 path=$2 mode=$3 wanted=$4
  chmod "$mode" "$path"
  local before; before=$(tree_state "$MODES/state")
  modes_env AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$PULL_ONLY_ID AZURE_CLIENT_SECRET=wrong -- "$HELPER" get \
    <<<"$REG" >"$WORK/refused.out" 2>"$WORK/refused.err"
  local after; after=$(tree_state "$MODES/state")
  chmod "$wanted" "$path"
  if [ "$before" = "$after" ] && grep -qF "$path" "$WORK/refused.err" && grep -qF "chmod $wanted $path" "$WORK/refused.err"; then
    pass "$name"
  else
    fail "$name" "log written: $(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | head -n 4)" \
      "stderr: $(head -c 500 "$WORK/refused.err")"
  fi
}

modes_env() { # modes_env NAME=VALUE… -- CMD… : acr_env with the file store and log of the file mode checks
  local vars=()
  while [ "$1" != "--" ]; do vars+=("$1"); shift; done; shift
  acr_env XDG_DATA_HOME="$MODES/data" XDG_STATE_HOME="$MODES/state" DOCKER_CREDENTIAL_ACR_STORE=file "${vars[@]}" -- "$@"
}

private_files_checks() { # the file store, tokens.json and the log: 0600 in 0700, and refused when wider
  local s="[private files]"
  MODES="$WORK/modes"; rm -rf "$MODES"
  local store="$MODES/data/docker-credential-acr" log="$MODES/state/docker-credential-acr"
  emu_post reset '{}'
  modes_env -- "$HELPER" store <<<"$(cred "$HYG_PLAIN" hyg-user "$HYG_PASSWORD")"
  modes_env "${SP[@]}" -- "$HELPER" get <<<"$REG" >/dev/null
  modes_env AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$PULL_ONLY_ID AZURE_CLIENT_SECRET=wrong -- "$HELPER" get <<<"$REG" >/dev/null 2>&1
  check "$s the file store: a 0700 folder" test "$(stat -c %a "$store")" = 700
  check "$s ... credentials.json, tokens.json and their locks: 0600" \
    test "$(stat -c %a "$store"/credentials.json "$store"/tokens.json "$store"/*.lock | sort -u)" = 600
  check "$s the log: 0600 in a 0700 folder" test "$(stat -c %a "$log")/$(stat -c %a "$log/log")" = 700/600

  refused "$s store folder 0755: store refused, says which chmod" "$store" 755 700 "$(cred new.example.com u new-secret)" \
    modes_env -- "$HELPER" store
  refused "$s store folder 0750 (group): get refused" "$store" 750 700 "$HYG_PLAIN" modes_env -- "$HELPER" get
  refused "$s credentials.json 0644: store refused" "$store/credentials.json" 644 600 "$(cred new.example.com u new-secret)" \
    modes_env -- "$HELPER" store
  refused "$s credentials.json 0640 (group): get refused" "$store/credentials.json" 640 600 "$HYG_PLAIN" modes_env -- "$HELPER" get
  refused "$s credentials.json 0644: list refused" "$store/credentials.json" 644 600 "" modes_env -- "$HELPER" list
  refused "$s tokens.json 0644: get of a cached ACR token refused" "$store/tokens.json" 644 600 "$REG" \
    modes_env "${SP[@]}" -- "$HELPER" get
  refused "$s tokens.json 0640 (group): get that would derive and cache a token refused" "$store/tokens.json" 640 600 "$REG2" \
    modes_env "${SP[@]}" -- "$HELPER" get

  # The log: the same action appends a line while the log is private (so the checks below can fail).
  local lines; lines=$(wc -l <"$log/log")
  modes_env AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$PULL_ONLY_ID AZURE_CLIENT_SECRET=wrong -- "$HELPER" get <<<"$REG" >/dev/null 2>&1
  check "$s (a failed get appends to a private log)" test "$(wc -l <"$log/log")" -gt "$lines"
  log_refused "$s log folder 0755: nothing logged, says which chmod" "$log" 755 700
  log_refused "$s log 0644: nothing logged, says which chmod" "$log/log" 644 600
  log_refused "$s log 0640 (group): nothing logged, says which chmod" "$log/log" 640 600
}

# blocked_reading PID : PID waits in read(2) on its stdin (5 s at most)
blocked_reading() {
  for _ in $(seq 250); do
    grep -q '^0 0x0 ' "/proc/$1/syscall" 2>/dev/null && return 0
    grep -q 'pipe_read' "/proc/$1/wchan" 2>/dev/null && return 0
    sleep 0.02
  done
  return 1
}

# segv NAME : sends SIGSEGV to the process $CORES/NAME.pid names and waits for $CORES/NAME.status
segv() {
  kill -SEGV "$(cat "$CORES/$1.pid")"
  for _ in $(seq 500); do [ -s "$CORES/$1.status" ] && return 0; sleep 0.02; done
  return 1
}

no_core() { ! ls "$CORES" | grep '^core'; }

engine_waits_for_code() {
  pending_code >/dev/null || return 1
  # Only root may read where a process that is not dumpable runs from; when we can, it is the engine.
  local exe; exe=$(readlink "/proc/$(cat "$CORES/engine.pid")/exe" 2>/dev/null) || return 0
  [[ $exe == */docker-credential-acr-engine ]] || { echo "pid runs $exe"; return 1; }
}

core_dump_checks() { # both binaries mark themselves not dumpable: a crash leaves no core file with secrets
  local s="[core dumps]" pattern
  CORES="$WORK/cores"; rm -rf "$CORES"; mkdir -p "$CORES"
  pattern=$(cat /proc/sys/kernel/core_pattern)
  if [[ $pattern == */* || $pattern == '|'* ]]; then
    fail "$s this test needs /proc/sys/kernel/core_pattern to be a plain file name such as 'core' (cores then land in the crashing process's folder); it is '$pattern'"
    return
  fi
  if [ "$(cat /proc/sys/fs/suid_dumpable)" = 1 ]; then
    fail "$s this test needs fs.suid_dumpable 0 or 2; it is 1, which dumps the cores of processes marked not dumpable too"
    return
  fi
  if ! (ulimit -c unlimited) 2>/dev/null; then
    fail "$s this test needs ulimit -c unlimited; the hard limit here is $(ulimit -Hc)"
    return
  fi
  # Each runs in $CORES with cores allowed; NAME.pid holds its process id, NAME.status how it ended.
  ( cd "$CORES" && ulimit -c unlimited &&
    { "$HELPER" get < <(sleep 5) >/dev/null 2>&1 & echo $! >front.pid; wait $!; echo $? >front.status; } ) 2>/dev/null &
  for _ in $(seq 250); do [ -s "$CORES/front.pid" ] && break; sleep 0.02; done
  check "$s (docker-credential-acr get waits for its input)" blocked_reading "$(cat "$CORES/front.pid")"
  segv front
  check "$s docker-credential-acr killed by SIGSEGV" test "$(cat "$CORES/front.status")" = 139
  check "$s ... leaves no core file" no_core

  # The engine: login, waiting for the person to enter the code.
  emu_post reset '{}'
  ( cd "$CORES" && ulimit -c unlimited &&
    { env -u AZURE_CLIENT_ID -u AZURE_CLIENT_SECRET -u AZURE_TENANT_ID AZURE_AUTHORITY_HOST="$EMU/" XDG_CONFIG_HOME="$WORK/no-config" \
        DOCKER_CREDENTIAL_ACR_STORE=file XDG_DATA_HOME="$CORES/data" "$HELPER" login >/dev/null 2>&1 &
      echo $! >engine.pid; wait $!; echo $? >engine.status; } ) 2>/dev/null &
  check "$s (docker-credential-acr-engine login waits for the code to be entered)" engine_waits_for_code
  segv engine
  check "$s docker-credential-acr-engine killed by SIGSEGV" test "$(cat "$CORES/engine.status")" = 139
  check "$s ... leaves no core file" no_core
  emu_post reset '{}'

  # The control: a process that does not forbid dumps, killed the same way in the same folder.
  ( cd "$CORES" && ulimit -c unlimited && { sleep 30 & echo $! >control.pid; wait $!; echo $? >control.status; } ) 2>/dev/null &
  for _ in $(seq 250); do [ -s "$CORES/control.pid" ] && break; sleep 0.02; done
  segv control
  check "$s (control: sleep killed the same way leaves a core file)" bash -c "[ \"\$(cat '$CORES/control.status')\" = 139 ] && ls '$CORES' | grep -q '^core'"
  rm -rf "$CORES"
}

secrets_hygiene_suite() {
  local store
  for store in secretservice file; do secrets_hygiene_session_suite "$store"; done
  private_files_checks
  core_dump_checks
}

# --- Keyring faults -------------------------------------------------------------------------------------

KEYRING_FAULT_PASSWORD=hygiene-private-keyring

# private_bus DIR : a D-Bus session bus of its own in DIR that starts no service on demand (with
# `dbus-daemon --session`, a client asking for the Secret Service would start gnome-keyring itself);
# sets FAULT_BUS (its address) and FAULT_BUS_PID
private_bus() {
  local dir=$1
  mkdir -p "$dir/bus"
  cat >"$dir/bus.conf" <<XML
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=$dir/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy>
</busconfig>
XML
  rm -f "$dir/bus.address"
  dbus-daemon --config-file="$dir/bus.conf" --nofork --print-address=3 3>"$dir/bus.address" 2>/dev/null &
  FAULT_BUS_PID=$!
  for _ in $(seq 250); do [ -s "$dir/bus.address" ] && break; sleep 0.02; done
  FAULT_BUS=$(head -n 1 "$dir/bus.address")
}

# private_keyring DIR : gnome-keyring, unlocked, on the bus of private_bus, with its keyring in DIR/data
# (kept when it is started again); sets FAULT_KEYRING_PID
private_keyring() {
  local dir=$1
  mkdir -p "$dir/data" "$dir/run"; chmod 700 "$dir/run"
  printf '%s' "$KEYRING_FAULT_PASSWORD" | env DBUS_SESSION_BUS_ADDRESS="$FAULT_BUS" XDG_DATA_HOME="$dir/data" \
    XDG_RUNTIME_DIR="$dir/run" gnome-keyring-daemon --foreground --unlock --components=secrets >>"$dir/keyring.log" 2>&1 &
  FAULT_KEYRING_PID=$!
  for _ in $(seq 250); do secret_service_up && return 0; sleep 0.02; done
  return 1
}

secret_service_up() {
  dbus-send --bus="$FAULT_BUS" --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner \
    string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'
}

# fault_env NAME=VALUE… -- CMD… : CMD under acr_env in the session of the fault: the bus FAULT_BUS (none
# when empty), runtime and data folders under FAULT_DIR
fault_env() {
  ( unset DISPLAY
    if [ -n "$FAULT_BUS" ]; then export DBUS_SESSION_BUS_ADDRESS=$FAULT_BUS; else unset DBUS_SESSION_BUS_ADDRESS; fi
    acr_env XDG_RUNTIME_DIR="$FAULT_DIR/run" XDG_DATA_HOME="$FAULT_DIR/data" "$@" )
}

# fault_helper STORE ACTION [INPUT [NAME=VALUE…]] : the helper's ACTION with INPUT under fault_env
fault_helper() {
  local store=$1 action=$2 input=${3-}; shift 2; shift || true
  printf '%s' "$input" | fault_env DOCKER_CREDENTIAL_ACR_STORE="$store" "$@" -- "$HELPER" "$action"
}

UNREACHABLE_FIX='start one in this session, or set DOCKER_CREDENTIAL_ACR_STORE=file to keep credentials in a private file'
LOCKED_MESSAGE='the keyring'"'"'s default collection is locked and cannot be unlocked without a prompt; unlock it (log in to the desktop, or `gnome-keyring-daemon --unlock` with its password on stdin), or set DOCKER_CREDENTIAL_ACR_STORE=file'
KUBELET_REQUEST='{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"'"$REG"'/team/app:1"}'

# says NAME MESSAGE CMD… : CMD exits 1 and MESSAGE is on its stdout or stderr (the subcommands' error form)
says() {
  local name=$1 message=$2 rc=0; shift 2
  "$@" >"$WORK/says.out" 2>"$WORK/says.err" || rc=$?
  if [ "$rc" = 1 ] && cat "$WORK/says.out" "$WORK/says.err" | grep -qF -- "$message"; then pass "$name"
  else fail "$name" "status $rc (wanted 1)" "stdout: $(head -c 300 "$WORK/says.out")" "stderr: $(head -c 300 "$WORK/says.err")" "wanted: $message"; fi
}

# fault_login STORE [REGISTRY] : `login` under fault_env; when it shows a code, alice enters it. Sets
# LOGIN_ASKED (yes or no); returns login's status. Its output is in $FAULT_DIR/login.out and .err.
fault_login() {
  local store=$1 rc=0 code= job; shift
  emu_post reset '{}'; emu_post lifetimes '{"device_interval": 1}'
  fault_env DOCKER_CREDENTIAL_ACR_STORE="$store" -- bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$FAULT_DIR/login.pid" \
    "$HELPER" login "$@" >"$FAULT_DIR/login.out" 2>"$FAULT_DIR/login.err" &
  job=$!
  for _ in $(seq 500); do  # until it ends (refused) or asks for a code (10 s at most)
    kill -0 "$job" 2>/dev/null || break
    code=$(curl -s "$EMU/_emulator/device-codes" | jq -r '.pending[0].user_code // empty')
    [ -n "$code" ] && break
    sleep 0.02
  done
  LOGIN_ASKED=no
  if [ -n "$code" ]; then
    LOGIN_ASKED=yes
    emu_post device-codes/approve "{\"user\": \"$ALICE\", \"user_code\": \"$code\"}"
  elif kill -0 "$job" 2>/dev/null; then
    kill "$(cat "$FAULT_DIR/login.pid")" 2>/dev/null
  fi
  wait "$job" || rc=$?
  return "$rc"
}

login_refused_early() { # login_refused_early STORE MESSAGE
  local rc=0; fault_login "$1" || rc=$?
  [ "$rc/$LOGIN_ASKED" = 1/no ] && grep -qF -- "$2" "$FAULT_DIR/login.err" && return 0
  echo "status $rc, asked for a code: $LOGIN_ASKED"; cat "$FAULT_DIR/login.err"; return 1
}

signed_in_to_file_store() {
  fault_login auto && grep -q "^Signed in as $ALICE" "$FAULT_DIR/login.out" &&
    grep -q '"aad-sign-in"' "$FAULT_DIR/data/docker-credential-acr/tokens.json"
}

nothing_in_file_store() { test ! -e "$FAULT_DIR/data/docker-credential-acr"; }

# store_refused_checks LABEL MESSAGE STORE CODE : every action that needs the store exits 1 with MESSAGE
# (its cause and its fix), diagnose reports CODE, and nothing reaches the file store. Under auto, store,
# get and erase are left to protocol.sh's locked_keyring_suite.
store_refused_checks() {
  local s=$1 message=$2 store=$3 code=$4 token
  rm -rf "$FAULT_DIR/data/docker-credential-acr"
  if [ "$store" = secretservice ]; then
    expect "$s store" 1 "$message" fault_helper "$store" store "$(cred faults.example.com u faults-secret)"
    expect "$s get" 1 "$message" fault_helper "$store" get faults.example.com
    expect "$s erase" 1 "$message" fault_helper "$store" erase faults.example.com
    check "$s ... the cause reaches stderr too" grep -qF "docker-credential-acr: $message" "$WORK/stderr"
  fi
  expect "$s list" 1 "$message" fault_helper "$store" list
  expect "$s get of an ACR registry with an identity: the same cause" 1 "$message" fault_helper "$store" get "$REG" "${SP[@]}"
  says "$s kubelet" "$message" fault_helper "$store" kubelet "$KUBELET_REQUEST" "${SP[@]}"
  token=$(acr_get "$REG2" "${SP[@]}" | jq -r .Secret)
  says "$s import" "$message" fault_helper "$store" import "{\"accessToken\": \"$token\", \"loginServer\": \"$REG2\"}"
  says "$s logout" "$message" fault_helper "$store" logout
  check "$s login refuses before asking for a code (nowhere to keep the sign-in), and says why" \
    login_refused_early "$store" "$message"
  local rc=0; fault_env "${SP[@]}" DOCKER_CREDENTIAL_ACR_STORE="$store" DOCKER_CONFIG="$FAULT_DIR/docker" -- \
    "$HELPER" diagnose --json "$REG" >"$WORK/diag.json" 2>/dev/null || rc=$?
  check "$s diagnose: $code, and a login would fail" bash -o pipefail -c "[ $rc = 1 ] &&
    jq -e '.checks[] | select(.code == \"$code\") | .status == \"error\"' '$WORK/diag.json'"
  check "$s nothing written to the file store" nothing_in_file_store
}

# fallback_checks LABEL : under DOCKER_CREDENTIAL_ACR_STORE=auto every action uses the file store (0600 in
# 0700), and diagnose says why
fallback_checks() {
  local s=$1 store="$FAULT_DIR/data/docker-credential-acr" token
  rm -rf "$store"
  expect "$s store: into the file store" 0 "" fault_helper auto store "$(cred faults.example.com u faults-secret)"
  check "$s ... 0600 in a 0700 folder" test "$(stat -c %a "$store")/$(stat -c %a "$store/credentials.json")" = 700/600
  expect "$s get" 0 '{"ServerURL":"faults.example.com","Username":"u","Secret":"faults-secret"}' fault_helper auto get faults.example.com
  expect "$s list" 0 '{"faults.example.com":"u"}' fault_helper auto list
  expect "$s erase" 0 "" fault_helper auto erase faults.example.com
  expect "$s ... erased" 1 "credentials not found in native keychain" fault_helper auto get faults.example.com
  fault_helper auto get "$REG" "${SP[@]}" >"$WORK/answer"
  check "$s get of an ACR registry derives a token" jq -e '.Username == "00000000-0000-0000-0000-000000000000"' "$WORK/answer"
  check "$s ... cached in tokens.json (0600)" bash -c "[ \"\$(stat -c %a '$store/tokens.json')\" = 600 ] && grep -qF \"\$(jq -r .Secret '$WORK/answer')\" '$store/tokens.json'"
  fault_helper auto kubelet "$KUBELET_REQUEST" "${SP[@]}" >"$WORK/kubelet.json"
  check "$s kubelet answers" jq -e '.auth["'"$REG"'"].password == "'"$(jq -r .Secret "$WORK/answer")"'"' "$WORK/kubelet.json"
  token=$(acr_get "$REG2" "${SP[@]}" | jq -r .Secret)
  expect "$s import" 0 "" fault_helper auto import "{\"accessToken\": \"$token\", \"loginServer\": \"$REG2\"}"
  expect "$s ... imported into the file store" 0 "{\"ServerURL\":\"$REG2\",\"Username\":\"00000000-0000-0000-0000-000000000000\",\"Secret\":\"$token\"}" \
    fault_helper file get "$REG2"
  check "$s login: signs in, kept in the file store" signed_in_to_file_store
  expect "$s logout" 0 "Signed out $ALICE; its tokens are removed from this machine." fault_env DOCKER_CREDENTIAL_ACR_STORE=auto -- "$HELPER" logout
  fault_env "${SP[@]}" DOCKER_CREDENTIAL_ACR_STORE=auto DOCKER_CONFIG="$FAULT_DIR/docker" -- "$HELPER" diagnose --json "$REG" >"$WORK/diag.json"
  check "$s diagnose says the file store is used, and why" jq -e '.checks[] | select(.code == "CREDENTIAL_STORE_ERROR") |
    .status == "warning" and (.found | contains("no Secret Service answers on the session bus"))' "$WORK/diag.json"
}

lock_collection() {
  dbus-send --bus="$FAULT_BUS" --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets \
    org.freedesktop.Secret.Service.Lock array:objpath:/org/freedesktop/secrets/collection/login >/dev/null
}

collection_locked() {
  dbus-send --bus="$FAULT_BUS" --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets/collection/login \
    org.freedesktop.DBus.Properties.Get string:org.freedesktop.Secret.Collection string:Locked | grep -q 'boolean true'
}

stop_pid() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

# batch_store STORE WRITER : stores batch-I.example.com for every I of WRITER's share (3 writers), each
# with a long secret; one line "I STATUS" per store in $FAULT_DIR/batch.WRITER, the answer in batch-I.out
batch_store() {
  local store=$1 writer=$2 i
  for i in $(seq "$writer" 3 90); do
    fault_helper "$store" store "$(cred "batch-$i.example.com" "u-$i" "$(batch_secret "$i")")" >"$FAULT_DIR/batch-$i.out" 2>/dev/null
    echo "$i $?" >>"$FAULT_DIR/batch.$writer"
  done
}
batch_secret() { printf 's-%s-%03000d' "$1" 0; }

# whole_or_absent STORE : each batch registry reads back whole through STORE, or get answers none (exit 1:
# not found, or why not); list shows every one that reads back; sets BATCH_FOUND to how many do
whole_or_absent() {
  local store=$1 i found=() rc bad=0
  for i in $(seq 90); do
    rc=0; fault_helper "$store" get "batch-$i.example.com" >"$WORK/batch-get" 2>/dev/null || rc=$?
    if [ "$rc" = 0 ]; then
      if jq -e --arg u "u-$i" --arg s "$(batch_secret "$i")" '.Username == $u and .Secret == $s' "$WORK/batch-get" >/dev/null; then
        found+=("batch-$i.example.com")
      else
        echo "batch-$i.example.com is not whole: $(head -c 200 "$WORK/batch-get")"; bad=1
      fi
    elif [ "$rc" != 1 ] || [ "$(wc -l <"$WORK/batch-get")" != 1 ]; then
      echo "batch-$i.example.com: exit $rc, $(head -c 200 "$WORK/batch-get")"; bad=1
    fi
  done
  BATCH_FOUND=${#found[@]}
  local listed; listed=$(fault_helper "$store" list | jq -r 'keys[]')
  for i in "${found[@]}"; do grep -qx "$i" <<<"$listed" || { echo "list does not show $i"; bad=1; }; done
  return "$bad"
}

# stores_kept STORE : every batch store that exited 0 is in the keyring (or, under auto, in the file store)
stores_kept() {
  local i
  for i in $(awk '$2 == 0 { print $1 }' "$FAULT_DIR/batch"); do
    DBUS_SESSION_BUS_ADDRESS=$FAULT_BUS secret-tool search --all server "batch-$i.example.com" docker_cli 1 2>&1 |
      grep -qx "attribute.username = u-$i" && continue
    [ "$1" = auto ] && grep -q "\"batch-$i.example.com\"" "$FAULT_DIR/batch-file-store.json" && continue
    echo "batch-$i.example.com was stored (exit 0) but is gone"; return 1
  done
}

# failures_clear : every batch store exited 0 or 1, and each failure said one line about the Secret Service
failures_clear() {
  local i
  awk '$2 != 0 && $2 != 1 { print "exit " $2 " for batch-" $1; bad = 1 } END { exit bad }' "$FAULT_DIR/batch" || return 1
  for i in $(awk '$2 == 1 { print $1 }' "$FAULT_DIR/batch"); do
    [ "$(wc -l <"$FAULT_DIR/batch-$i.out")" = 1 ] && grep -q 'Secret Service' "$FAULT_DIR/batch-$i.out" ||
      { echo "batch-$i: $(cat "$FAULT_DIR/batch-$i.out")"; return 1; }
  done
}

empty_secret_refused() { # get of empty.example.com, whose keyring item has no secret: exit 1, no empty password
  local out rc=0
  out=$(fault_helper secretservice get empty.example.com 2>&1) || rc=$?
  echo "status $rc: $out"
  [ "$rc" = 1 ] && [[ $out != *'"Secret":""'* ]]
}

failed_stores() { awk '$2 == 1' "$FAULT_DIR/batch" | wc -l; }

# killed_daemon_checks STORE : gnome-keyring killed while three writers store a batch; then every action
# falls back (auto) or says why (secretservice); after a restart, nothing is half-written
killed_daemon_checks() {
  local store=$1 s="[keyring faults: daemon killed, $1]" writers=() w
  FAULT_DIR="$WORK/faults-killed-$store"; rm -rf "$FAULT_DIR"
  private_bus "$FAULT_DIR"
  check "$s (a private gnome-keyring)" private_keyring "$FAULT_DIR"
  for w in 1 2 3; do batch_store "$store" "$w" & writers+=($!); done
  # Killed once some stores have gone through, while the rest are still to come.
  for _ in $(seq 1000); do [ "$(cat "$FAULT_DIR"/batch.* 2>/dev/null | wc -l)" -ge 12 ] && break; sleep 0.01; done
  local before; before=$(cat "$FAULT_DIR"/batch.* | wc -l)
  kill -9 "$FAULT_KEYRING_PID"; wait "$FAULT_KEYRING_PID" 2>/dev/null
  wait "${writers[@]}"
  cat "$FAULT_DIR"/batch.* >"$FAULT_DIR/batch"
  check "$s (killed mid-batch, and all 90 stores ran)" \
    bash -c "echo '$before of 90 done before the kill'; [ $before -ge 12 ] && [ $before -lt 90 ] && [ \$(wc -l <'$FAULT_DIR/batch') = 90 ]"
  check "$s every store exited 0 or 1; each failure is one line about the Secret Service" failures_clear
  if [ "$store" = auto ]; then
    check "$s after the kill, stores fell back to the file store (at most the one in flight per writer failed)" \
      test "$(failed_stores)" -le 3 -a -s "$FAULT_DIR/data/docker-credential-acr/credentials.json"
    check "$s ... where each reads back whole" whole_or_absent file
    cp "$FAULT_DIR/data/docker-credential-acr/credentials.json" "$FAULT_DIR/batch-file-store.json"
    fallback_checks "$s daemon gone:"
  else
    check "$s the stores after the kill failed" test "$(failed_stores)" -ge 1
    check "$s ... and none reached the file store" nothing_in_file_store
    expect "$s daemon gone: get says why" 1 \
      "cannot reach a Secret Service (gnome-keyring, KeePassXC) on the session bus (The name org.freedesktop.secrets was not provided by any .service files); $UNREACHABLE_FIX" \
      fault_helper secretservice get batch-1.example.com
    expect "$s daemon gone: list says why" 1 \
      "cannot reach a Secret Service (gnome-keyring, KeePassXC) on the session bus (The name org.freedesktop.secrets was not provided by any .service files); $UNREACHABLE_FIX" \
      fault_helper secretservice list
  fi
  check "$s the daemon restarted on the same keyring" private_keyring "$FAULT_DIR"
  BATCH_FOUND=0
  check "$s after the restart, every item reads back whole or not at all, and list shows them" whole_or_absent secretservice
  check "$s ... (some are there)" test "$BATCH_FOUND" -ge 1
  check "$s every store that succeeded is still there" stores_kept "$store"
  if [ "$store" = secretservice ]; then
    # What a daemon killed between creating an item and keeping its secret can leave (seen here now and then).
    printf '' | DBUS_SESSION_BUS_ADDRESS=$FAULT_BUS secret-tool store --label=https://empty.example.com \
      xdg:schema io.docker.Credentials label 'Docker Credentials' server https://empty.example.com username u-empty docker_cli 1
    check "$s an item left without its secret is never served as an empty password" empty_secret_refused
    restarted_locked_checks "$s"
  fi
  stop_pid "$FAULT_KEYRING_PID"; stop_pid "$FAULT_BUS_PID"
}

# restarted_locked_checks PREFIX : the daemon restarted without its password (as after a reboot, before
# anyone logs in): its collection is locked, its items are hidden, and every action says it is locked
restarted_locked_checks() {
  local s="$1 restarted locked:"
  fault_helper secretservice store '{"ServerURL":"restart.example.com","Username":"u","Secret":"restart-secret"}'
  fault_helper secretservice get "$REG" "${SP[@]}" >/dev/null  # a cached ACR token too
  stop_pid "$FAULT_KEYRING_PID"
  env DBUS_SESSION_BUS_ADDRESS="$FAULT_BUS" XDG_DATA_HOME="$FAULT_DIR/data" XDG_RUNTIME_DIR="$FAULT_DIR/run" \
    gnome-keyring-daemon --foreground --components=secrets </dev/null >>"$FAULT_DIR/keyring.log" 2>&1 &
  FAULT_KEYRING_PID=$!
  for _ in $(seq 250); do secret_service_up && break; sleep 0.02; done
  expect "$s get of a stored registry says locked, not \"not found\"" 1 "$LOCKED_MESSAGE" fault_helper secretservice get restart.example.com
  expect "$s get of another registry too" 1 "$LOCKED_MESSAGE" fault_helper secretservice get nothing-stored.example.com
  says "$s an ACR get with an identity says locked" "$LOCKED_MESSAGE" fault_helper secretservice get "$REG" "${SP[@]}"
  expect "$s list says locked" 1 "$LOCKED_MESSAGE" fault_helper secretservice list
  expect "$s store says locked" 1 "$LOCKED_MESSAGE" fault_helper secretservice store '{"ServerURL":"new.example.com","Username":"u","Secret":"s"}'
}

keyring_faults_suite() {
  local s cause store
  # No session bus at all.
  FAULT_DIR="$WORK/faults-nobus"; FAULT_BUS=; rm -rf "$FAULT_DIR"; mkdir -p "$FAULT_DIR/run" "$FAULT_DIR/data"; chmod 700 "$FAULT_DIR/run"
  cause="cannot connect to the session bus at unix:path=$FAULT_DIR/run/bus: No such file or directory"
  store_refused_checks "[keyring faults: no session bus, secretservice]" \
    "cannot reach a Secret Service (gnome-keyring, KeePassXC) on the session bus ($cause); $UNREACHABLE_FIX" secretservice CREDENTIAL_STORE_ERROR
  fallback_checks "[keyring faults: no session bus, auto]"

  # A session bus on which no Secret Service runs (nor can be started).
  FAULT_DIR="$WORK/faults-nosecrets"; rm -rf "$FAULT_DIR"; mkdir -p "$FAULT_DIR/run" "$FAULT_DIR/data"; chmod 700 "$FAULT_DIR/run"
  private_bus "$FAULT_DIR"
  cause='The name org.freedesktop.secrets was not provided by any .service files'
  store_refused_checks "[keyring faults: bus without Secret Service, secretservice]" \
    "cannot reach a Secret Service (gnome-keyring, KeePassXC) on the session bus ($cause); $UNREACHABLE_FIX" secretservice CREDENTIAL_STORE_ERROR
  fallback_checks "[keyring faults: bus without Secret Service, auto]"
  stop_pid "$FAULT_BUS_PID"

  # A locked collection, in a private keyring (locking cannot be undone here without a prompt). A
  # credential and a sign-in are kept in it first: logout has something to forget.
  s="[keyring faults: locked]"
  FAULT_DIR="$WORK/faults-locked"; rm -rf "$FAULT_DIR"
  private_bus "$FAULT_DIR"
  check "$s (a private gnome-keyring)" private_keyring "$FAULT_DIR"
  fault_helper secretservice store "$(cred faults.example.com u faults-secret)"
  local rc=0; fault_login secretservice || rc=$?
  check "$s (alice signed in before the lock)" test "$rc" = 0
  lock_collection
  check "$s (the collection is locked)" collection_locked
  store_refused_checks "$s secretservice:" "$LOCKED_MESSAGE" secretservice KEYRING_LOCKED_ERROR
  store_refused_checks "$s auto:" "$LOCKED_MESSAGE" auto KEYRING_LOCKED_ERROR
  stop_pid "$FAULT_KEYRING_PID"; stop_pid "$FAULT_BUS_PID"

  # The daemon killed while stores run, then started again.
  for store in auto secretservice; do killed_daemon_checks "$store"; done
}
