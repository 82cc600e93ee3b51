# Bad input for every protocol action (store, get, erase, list, version), from tables: each input is fed
# to each action, and the answer is checked byte for byte. A failure is one line on stdout, exit 1; the
# line also on stderr unless it is one of the protocol's sentinels; never a secret of the input anywhere;
# nothing reaches a store. Server URLs that are valid must instead find the entry they name.
#
# Every secret these tables send contains "leak", so one search finds any echo of one.

# The one line the helper answers for a problem, by short name (in BI_LINE, without its newline).
bi_line() {
  local json='expected {"ServerURL":"…","Username":"…","Secret":"…"}'
  case $1 in
    nf) BI_LINE="credentials not found in native keychain" ;;
    no-url) BI_LINE="no credentials server URL" ;;
    no-user) BI_LINE="no credentials username" ;;
    no-secret) BI_LINE='no credentials secret: the JSON on stdin must have a non-empty "Secret"' ;;
    empty) BI_LINE="invalid credentials JSON: stdin is empty; $json" ;;
    not-json) BI_LINE="invalid credentials JSON: the input is not valid JSON; $json" ;;
    not-object) BI_LINE="invalid credentials JSON: the input is not a JSON object; $json" ;;
    type:*) BI_LINE="invalid credentials JSON: \"${1#type:}\" must be a string; $json" ;;
    nul:*) BI_LINE="invalid credentials JSON: \"${1#nul:}\" contains a NUL character" ;;
    big) BI_LINE="input too large: more than 1024 KiB on stdin; a credential is a few KiB at most" ;;
    utf8) BI_LINE="invalid input: stdin is not valid UTF-8" ;;
    ctrl) BI_LINE="invalid server URL: it contains a space or a control character; give the registry as host[:port]" ;;
    host) BI_LINE="invalid server URL: the host is missing or malformed; give the registry as host[:port]" ;;
    nonascii) BI_LINE="invalid server URL: the host has letters outside ASCII; give its ASCII form (punycode, xn--…), as image references do" ;;
    port) BI_LINE="invalid server URL: the port must be a number from 1 to 65535" ;;
    userinfo) BI_LINE="invalid server URL: it contains a user name (user@host); give the registry as host[:port] and the user separately" ;;
    query) BI_LINE="invalid server URL: it contains '?' or '#'; give the registry as host[:port]" ;;
    scheme:*) BI_LINE="invalid server URL: scheme '${1#scheme:}' is not supported; use https://, http:// or none" ;;
    store-env) BI_LINE="DOCKER_CREDENTIAL_ACR_STORE='pass' is not a store; use secretservice, file or auto (the default)" ;;
    *) echo "bi_line: unknown problem '$1'" >&2; return 1 ;;
  esac
}

# bi_write FILE TEXT : TEXT into FILE as bytes, with @NUL@ as a NUL byte and @<count>x<char>@ as that many
# of that character (bash strings cannot hold a NUL, and 10 MB tables are unreadable).
bi_write() {
  case $2 in
    *@*@*) printf '%s' "$2" | perl -0777 -pe 's/\@NUL\@/\0/g; s/\@(\d+)x(.)\@/$2 x $1/ge' >"$1" ;;
    *) printf '%s' "$2" >"$1" ;;
  esac
}

# bi_judge NAME STATUS STDOUT STDERR ID : judges what a command left in $WORK/bi-ID.{out,err,rc}. Passes
# when the status is STATUS, stdout is exactly the line STDOUT (nothing at all when empty), stderr exactly
# the line STDERR (or, written ~TEXT, has a line starting with TEXT), and neither shows a secret ("leak").
# The status is left in BI_RC.
bi_judge() {
  local name=$1 status=$2 want_out=$3 want_err=$4 id=$5 rc= out= err= problems=()
  read -r rc <"$WORK/bi-$id.rc"; BI_RC=$rc
  IFS= read -r -d '' out <"$WORK/bi-$id.out"; IFS= read -r -d '' err <"$WORK/bi-$id.err"
  [ "$rc" = "$status" ] || problems+=("status: $rc (wanted $status)")
  [ "$out" = "${want_out:+$want_out$'\n'}" ] ||
    problems+=("stdout: $(printf %q "${out:0:300}")" "wanted: $(printf %q "${want_out:+$want_out$'\n'}")")
  case $want_err in
    "~"*) [[ $'\n'$err == *$'\n'"${want_err#"~"}"* ]] ||
            problems+=("stderr: $(printf %q "${err:0:300}")" "wanted a line starting with: ${want_err#"~"}") ;;
    *) [ "$err" = "${want_err:+$want_err$'\n'}" ] ||
         problems+=("stderr: $(printf %q "${err:0:300}")" "wanted: $(printf %q "${want_err:+$want_err$'\n'}")") ;;
  esac
  [[ $out$err != *leak* ]] || problems+=("a secret of the input is echoed")
  if [ ${#problems[@]} = 0 ]; then pass "$name"; else fail "$name" "${problems[@]}"; fi
}

# bi_run ID COMMAND… : runs COMMAND (stdin as the caller redirects it) for bi_judge ID.
bi_run() {
  local id=$1 rc=0; shift
  "$@" >"$WORK/bi-$id.out" 2>"$WORK/bi-$id.err" || rc=$?
  echo "$rc" >"$WORK/bi-$id.rc"
}

# bi_expect NAME STATUS STDOUT STDERR COMMAND… : bi_run, then bi_judge.
bi_expect() {
  local name=$1 status=$2 want_out=$3 want_err=$4; shift 4
  bi_run 0 "$@"; bi_judge "$name" "$status" "$want_out" "$want_err" 0
}

# bi_want PROBLEM ACTION : the status, stdout line and stderr line (BI_WANT) of ACTION for PROBLEM, a name
# of bi_line, or "ok" for success with nothing printed; list and version answer as without input.
bi_want() {
  case $2:$1 in
    list:*) BI_WANT=(0 "$BI_LIST" "") ;;
    version:*) BI_WANT=(0 "$BI_VERSION" "") ;;
    *:ok) BI_WANT=(0 "" "") ;;
    # The protocol's sentinels go to stdout only: Docker compares them, they are no failure to show.
    *:nf | *:no-url | *:no-user) bi_line "$1"; BI_WANT=(1 "$BI_LINE" "") ;;
    *) bi_line "$1"; BI_WANT=(1 "$BI_LINE" "docker-credential-acr: $BI_LINE") ;;
  esac
}

# bi_row NAME FILE STORE_FILE STORE GET ERASE : store with STORE_FILE on stdin answers STORE (what it
# stored is then erased); get, erase, list and version, at once, with FILE on stdin answer GET, ERASE,
# and what they answer without input. Check names start with the caller's $s.
bi_row() {
  local name=$1 file=$2 store_file=$3 action pids=()
  bi_want "$4" store; bi_expect "$s store: $name" "${BI_WANT[@]}" "$HELPER" store <"$store_file"
  if [ "$BI_RC" = 0 ]; then
    # Go's decoder ignores unknown fields: such a credential is stored whole.
    [ "$4" = ok ] && expect "$s get: $name: reads back" 0 "$(jq -c '{ServerURL, Username, Secret}' "$store_file")" \
      helper get "$(jq -r .ServerURL "$store_file")"
    bi_restore
  fi
  for action in get erase list version; do bi_run "$action" "$HELPER" "$action" <"$file" & pids+=($!); done
  wait "${pids[@]}"
  bi_want "$5" get; bi_judge "$s get: $name" "${BI_WANT[@]}" get
  bi_want "$6" erase; bi_judge "$s erase: $name" "${BI_WANT[@]}" erase
  bi_want - list; bi_judge "$s list ignores stdin: $name" "${BI_WANT[@]}" list
  bi_want - version; bi_judge "$s version ignores stdin: $name" "${BI_WANT[@]}" version
}

bi_json_string() { # bi_json_string TEXT : TEXT as a JSON string (in BI_JSON)
  local t=${1//\\/\\\\}; t=${t//\"/\\\"}; t=${t//$'\t'/\\t}; t=${t//$'\r'/\\r}; t=${t//$'\n'/\\n}
  BI_JSON="\"$t\""
}

bi_trim() { # bi_trim TEXT : TEXT without surrounding whitespace (in BI_TRIMMED), as the helper trims it
  local t=${1#"${1%%[![:space:]]*}"}; BI_TRIMMED=${t%"${t##*[![:space:]]}"}
}

# Whole inputs, sent as they are to every action: name | stdin | answer of store | of get | of erase.
# The answers name a line of bi_line; "ok" is success with nothing printed. list and version ignore stdin.
# The table keeps what a user should get, also where the helper answers otherwise:
# - a raw NUL byte is invalid JSON (RFC 8259), not a bad server URL nor a credential (a trailing comma is
#   not in the table: FoundationEssentials' decoder accepts it, which loses nothing);
# - JSON null is valid JSON that is not an object;
# - JSON nested deeper than JSONDecoder's 512 levels is refused as not JSON;
# - get and erase of something that cannot be a host name (JSON, quotes, a backslash) refuse it as a
#   malformed host instead of answering "not found" or erasing nothing, and never echo a part of it.
BI_INPUTS=(
  'empty stdin||empty|no-url|no-url'
  $'whitespace only| \t\r\n \n|empty|no-url|no-url'
  'exactly 1 MiB of spaces, the limit|@1048576x @|empty|no-url|no-url'
  '1 MiB and one byte|@1048577xa@|big|big|big'
  '10 MB|{"ServerURL":"keep.example.com","Username":"x","Secret":"leak-@10485760xa@"}|big|big|big'
  'text that is not JSON|not JSON at all, leak-text|not-json|ctrl|ctrl'
  'a server URL instead of JSON|nothing-here.example.com|not-json|nf|ok'
  'truncated JSON|{"ServerURL":"keep.example.com","Username":"x","Secret":"leak-trunc|not-json|host|host'
  'a bare word as a value|{"ServerURL":"keep.example.com","Username":"x","Secret":leak-bare}|not-json|host|host'
  'JSON followed by more|{"ServerURL":"more.example.com","Username":"x","Secret":"leak-more"} {}|not-json|ctrl|ctrl'
  'JSON with an unknown field, which Go ignores|{"ServerURL":"extra.example.com","Username":"x","Secret":"extra-kept","Extra":{"a":[1]}}|ok|host|host'
  'no ServerURL|{"Username":"x","Secret":"leak-1"}|no-url|host|host'
  'no Username|{"ServerURL":"keep.example.com","Secret":"leak-2"}|no-user|host|host'
  'no Secret|{"ServerURL":"keep.example.com","Username":"x"}|no-secret|host|host'
  'an empty object|{}|no-url|host|host'
  'ServerURL null|{"ServerURL":null,"Username":"x","Secret":"leak-3"}|no-url|host|host'
  'Username null|{"ServerURL":"keep.example.com","Username":null,"Secret":"leak-4"}|no-user|host|host'
  'Secret null|{"ServerURL":"keep.example.com","Username":"x","Secret":null}|no-secret|host|host'
  'ServerURL empty|{"ServerURL":"","Username":"x","Secret":"leak-5"}|no-url|host|host'
  'Username empty|{"ServerURL":"keep.example.com","Username":"","Secret":"leak-6"}|no-user|host|host'
  'Secret empty|{"ServerURL":"keep.example.com","Username":"x","Secret":""}|no-secret|host|host'
  'ServerURL a number|{"ServerURL":5000,"Username":"x","Secret":"leak-7"}|type:ServerURL|host|host'
  'ServerURL an array|{"ServerURL":["keep.example.com"],"Username":"x","Secret":"leak-8"}|type:ServerURL|host|host'
  'Username a boolean|{"ServerURL":"keep.example.com","Username":true,"Secret":"leak-9"}|type:Username|host|host'
  'Username an object|{"ServerURL":"keep.example.com","Username":{"name":"x"},"Secret":"leak-10"}|type:Username|host|host'
  'Secret a number|{"ServerURL":"keep.example.com","Username":"x","Secret":12345}|type:Secret|host|host'
  'Secret an object|{"ServerURL":"keep.example.com","Username":"x","Secret":{"value":"leak-11"}}|type:Secret|host|host'
  'a JSON array|["keep.example.com","x","leak-12"]|not-object|host|host'
  'arrays 513 deep, unclosed (JSONDecoder trapped on it)|@513x[@|not-json|host|host'
  'arrays 600 deep|@600x[@@600x]@|not-json|host|host'
  'a JSON number|12345|not-object|nf|ok'
  'a JSON string|"leak-13.example.com"|not-object|host|host'
  'JSON null|null|not-object|nf|ok'
  'JSON true|true|not-object|nf|ok'
  $'invalid UTF-8 in the secret|{"ServerURL":"keep.example.com","Username":"x","Secret":"leak-14\xff\xfe"}|utf8|utf8|utf8'
  $'invalid UTF-8 after a URL|keep.example.com\xff|utf8|utf8|utf8'
  $'a truncated UTF-8 sequence|keep.example.com\xc3|utf8|utf8|utf8'
  $'a UTF-8-encoded surrogate|keep\xed\xa0\x80.example.com|utf8|utf8|utf8'
  $'an overlong UTF-8 encoding|keep.example.com\xc0\xaf|utf8|utf8|utf8'
  'a raw NUL byte in the secret|{"ServerURL":"keep.example.com","Username":"x","Secret":"leak-15@NUL@b"}|not-json|ctrl|ctrl'
  'a raw NUL byte after a URL|keep.example.com@NUL@|not-json|ctrl|ctrl'
  'a raw NUL byte alone|@NUL@|not-json|ctrl|ctrl'
  '\u0000 in ServerURL|{"ServerURL":"keep.example.com\u0000.evil","Username":"x","Secret":"leak-16"}|nul:ServerURL|host|host'
  '\u0000 in Username|{"ServerURL":"keep.example.com","Username":"x\u0000y","Secret":"leak-17"}|nul:Username|host|host'
  '\u0000 in Secret|{"ServerURL":"keep.example.com","Username":"x","Secret":"leak-18\u0000"}|nul:Secret|host|host'
  'the text \u0000 after a URL|keep.example.com\u0000|not-json|host|host'
  $'a control character in a URL|keep.example.com\x01|not-json|ctrl|ctrl'
  $'DEL in a URL|keep.example.com\x7f|not-json|ctrl|ctrl'
  $'a tab before the port|keep.example.com\t:5000|not-json|ctrl|ctrl'
  'a credential with its secret first, as a URL|{"Secret":"leak-19","ServerURL":"https://first.example.com"}|no-user|host|host'
)

# Server URLs that name no registry: name | URL | the answer of get and erase, and of store with the URL
# as ServerURL (the bare URL on store's stdin is not JSON). A host with characters no host name has
# (<, >) is malformed, as above.
BI_URLS=(
  'port 0|keep.example.com:0|port'
  'port 65536|keep.example.com:65536|port'
  'port 99999|keep.example.com:99999|port'
  'a port that is no number|keep.example.com:http|port'
  'an empty port|keep.example.com:|port'
  'a negative port|https://keep.example.com:-1/|port'
  'port 0 on an IPv6 literal|[::1]:0|port'
  'a user name|user@keep.example.com|userinfo'
  'a user and password|https://user:leak-pw@keep.example.com/v2/|userinfo'
  'a password only|https://:leak-pw@keep.example.com|userinfo'
  'a bare IPv6 address|::1|host'
  'a bare IPv6 address and port|::1:5000|host'
  'an IPv6 literal without its closing bracket|[::1|host'
  'an IPv6 literal and a port without a colon|[::1]5000|host'
  'a query string|keep.example.com?x=1|query'
  'a query after /v2/|https://keep.example.com/v2/?token=leak-q|query'
  'a fragment|keep.example.com#top|query'
  'an empty fragment|https://keep.example.com/#|query'
  'scheme ftp|ftp://keep.example.com|scheme:ftp'
  'scheme FTP in capitals|FTP://keep.example.com|scheme:ftp'
  'scheme file|file:///etc/passwd|scheme:file'
  'scheme ssh with a user|ssh://git@keep.example.com|scheme:ssh'
  'scheme unix|unix:///var/run/docker.sock|scheme:unix'
  'scheme oci|oci://keep.example.com|scheme:oci'
  'an empty scheme|://keep.example.com|host'
  'a Unicode host|bücher.example|nonascii'
  'a Unicode host in capitals|https://BÜCHER.EXAMPLE/|nonascii'
  'a scheme and nothing else|https://|host'
  'a scheme-relative URL|//keep.example.com|host'
  'a port without a host|:5000|host'
  'a space in the host|keep example.com|ctrl'
  'characters no host name has|<keep>.example.com|host'
)

# Valid server URLs: name | the entry as stored | another spelling | whether that spelling is the same
# registry (README "The protocol": scheme, letter case, trailing slash, /v1/ and /v2/ do not matter;
# another port is another registry, and so is another path, as only /v1/ and /v2/ are dropped; a port is
# its number, so a leading zero does not matter either). Unicode hosts are refused (see BI_URLS).
BI_SPELLINGS=(
  'capital letters|map.example.com|MAP.EXAMPLE.COM|yes'
  'a capital scheme, mixed case and /v2/|map.example.com|HTTPS://Map.Example.COM/v2/|yes'
  'http:// and /v1/|https://map.example.com|http://map.example.com/v1/|yes'
  'trailing slashes|map.example.com|https://map.example.com//|yes'
  $'surrounding whitespace|map.example.com| \t map.example.com \r\n|yes'
  'another path|map.example.com|map.example.com/team/app|no'
  '/v2/ and a path|map.example.com|https://map.example.com/v2/team|no'
  'the same path|map.example.com/team|https://MAP.example.com/team/|yes'
  'a valid port|map.example.com|map.example.com:5000|no'
  'the same port|map.example.com:5000|https://MAP.example.com:5000/v2/|yes'
  'the same port with a leading zero|map.example.com:5000|map.example.com:05000|yes'
  'the highest port|map.example.com:65535|http://map.example.com:65535/|yes'
  'an IPv6 literal and its port|[::1]:5000|https://[::1]:5000/v2/|yes'
  'an IPv6 literal without the port|[::1]:5000|[::1]|no'
  'an IPv6 literal in capitals|[::abcd]:5000|[::ABCD]:5000|yes'
  'punycode in capitals|xn--bcher-kva.example|XN--BCHER-KVA.EXAMPLE|yes'
)

# bi_list_is NAME [--arg K V]… JQ : the store's list (as `list` prints it) satisfies JQ, where $n is the
# number of entries in BI_LIST.
bi_list_is() {
  local name=$1 list; shift; list=$("$HELPER" list </dev/null)
  if jq -e --argjson n "$BI_COUNT" "$@" <<<"$list" >/dev/null; then pass "$name"
  else fail "$name" "list: $list"; fi
}

# bi_restore : erases every entry that the list of the suite's start (BI_LIST) does not have, so that
# what one input stored (by design, or through a bug its own check reports) cannot fail the next checks.
bi_restore() {
  jq -r --argjson was "$BI_LIST" 'keys - ($was | keys) | .[]' <<<"$("$HELPER" list </dev/null)" |
    while IFS= read -r server; do helper erase "$server" >/dev/null; done
}

bad_input_matrix_suite() { # bad_input_matrix_suite STORE : every bad input to every action, on STORE
  local store=$1 s="[$1 bad input]"
  export DOCKER_CREDENTIAL_ACR_STORE=$store
  local dir="$WORK/badinput-$store" row name input a_store a_get a_erase action file i=0
  rm -rf "$dir"; mkdir -p "$dir"
  local untouched; untouched=$("$HELPER" list </dev/null)
  helper store "$(cred keep.example.com keeper keep-secret)" >/dev/null
  local keep='{"ServerURL":"keep.example.com","Username":"keeper","Secret":"keep-secret"}'
  # What list and version answer without input: with any input they must answer the same.
  BI_LIST=$("$HELPER" list </dev/null); BI_VERSION=$("$HELPER" version </dev/null)
  BI_COUNT=$(jq length <<<"$BI_LIST")
  check "$s list answers the kept entry (the reference for list)" jq -e '.["keep.example.com"] == "keeper"' <<<"$BI_LIST"
  check "$s version answers Docker's line first (the reference for version)" \
    grep -qxE 'docker-credential-acr \(docker-credential-acr\) [0-9]+\.[0-9]+\.[0-9]+' <<<"${BI_VERSION%%$'\n'*}"
  local before; before=$(snapshot)

  for row in "${BI_INPUTS[@]}"; do
    IFS='|' read -r name input a_store a_get a_erase <<<"$row"
    # Rows written with $'…' may hold a newline in the input: read the fields around it.
    [[ $row == *$'\n'* ]] && { name=${row%%|*}; local tail=${row#*|}; input=${tail%|*|*|*}
      IFS='|' read -r a_store a_get a_erase <<<"${tail:${#input}+1}"; }
    file="$dir/input-$((i += 1))"; bi_write "$file" "$input"
    bi_row "$name" "$file" "$file" "$a_store" "$a_get" "$a_erase"
  done

  local url problem
  for row in "${BI_URLS[@]}"; do
    IFS='|' read -r name url problem <<<"$row"
    file="$dir/input-$((i += 1))"; bi_write "$file" "$url"
    bi_json_string "$url"; bi_write "$file.json" "{\"ServerURL\":$BI_JSON,\"Username\":\"x\",\"Secret\":\"leak-url\"}"
    bi_row "$name ($url)" "$file" "$file.json" "$problem" "$problem" "$problem"
  done

  local stored spelling same shown
  for row in "${BI_SPELLINGS[@]}"; do
    IFS='|' read -r name stored spelling same <<<"$row"
    [[ $row == *$'\n'* ]] && { name=${row%%|*}; local tail=${row#*|}; stored=${tail%%|*}; tail=${tail#*|}
      spelling=${tail%|*}; same=${tail##*|}; }
    bi_trim "$spelling"; shown=$BI_TRIMMED
    file="$dir/input-$((i += 1))"; bi_write "$file" "$spelling"
    bi_json_string "$shown"; bi_write "$file.json" "{\"ServerURL\":$BI_JSON,\"Username\":\"other\",\"Secret\":\"other-secret\"}"
    helper store "$(cred "$stored" mapper map-secret)" >/dev/null
    local failed=$FAILED
    if [ "$same" = yes ]; then
      bi_expect "$s get: $name: '$shown' finds '$stored'" 0 \
        "{\"ServerURL\":$BI_JSON,\"Username\":\"mapper\",\"Secret\":\"map-secret\"}" "" "$HELPER" get <"$file"
      bi_expect "$s store: $name: under '$shown'" 0 "" "" "$HELPER" store <"$file.json"
      bi_list_is "$s store: $name: '$shown' replaced '$stored'" \
        --arg k "$shown" 'length == $n + 1 and .[$k] == "other"'
      bi_expect "$s erase: $name: '$shown'" 0 "" "" "$HELPER" erase <"$file"
      expect "$s erase: $name: '$shown' removed the entry" 1 "credentials not found in native keychain" \
        helper get "$stored"
    else
      bi_expect "$s get: $name: '$shown' does not find '$stored'" 1 "credentials not found in native keychain" "" \
        "$HELPER" get <"$file"
      bi_expect "$s erase: $name: '$shown'" 0 "" "" "$HELPER" erase <"$file"
      bi_json_string "$stored"
      expect "$s erase: $name: '$shown' left '$stored'" 0 \
        "{\"ServerURL\":$BI_JSON,\"Username\":\"mapper\",\"Secret\":\"map-secret\"}" helper get "$stored"
      bi_expect "$s store: $name: under '$shown'" 0 "" "" "$HELPER" store <"$file.json"
      bi_list_is "$s store: $name: '$shown' is an entry beside '$stored'" \
        --arg k "$stored" --arg o "$shown" 'length == $n + 2 and .[$k] == "mapper" and .[$o] == "other"'
      [ "$FAILED" = "$failed" ] && { helper erase "$stored" >/dev/null; helper erase "$shown" >/dev/null; }
    fi
    # After a failure, whatever is left.
    [ "$FAILED" = "$failed" ] || bi_restore
  done

  # Arguments: a usage error exits 64 with usage on stderr, prints nothing on stdout, touches no store.
  bi_write "$dir/keep-url" keep.example.com
  bi_write "$dir/intruder" "$(cred keep.example.com intruder leak-args)"
  bi_expect "$s no arguments: a usage error" 64 "" "~Usage: docker-credential-acr" "$HELPER" <"$dir/keep-url"
  bi_expect "$s unknown action: a usage error" 64 "" "~Usage: docker-credential-acr" "$HELPER" frobnicate <"$dir/intruder"
  check "$s unknown action: stderr names it" grep -qF "'frobnicate'" "$WORK/bi-0.err"
  bi_expect "$s an action in capitals is unknown" 64 "" "~Usage: docker-credential-acr" "$HELPER" GET <"$dir/keep-url"
  bi_expect "$s an empty action is unknown" 64 "" "~Usage: docker-credential-acr" "$HELPER" "" <"$dir/keep-url"
  bi_expect "$s two actions: a usage error" 64 "" "~Usage: docker-credential-acr" "$HELPER" store get <"$dir/intruder"
  for action in store get erase list version; do
    file="$dir/keep-url"; [ "$action" = store ] && file="$dir/intruder"
    bi_expect "$s $action with an extra argument: a usage error" 64 "" "~Usage: docker-credential-acr $action" \
      "$HELPER" "$action" extra <"$file"
    check "$s $action with an extra argument: stderr names it" grep -qF "'extra'" "$WORK/bi-0.err"
  done

  # An unknown store is named before anything else happens; version needs no store.
  bi_line store-env
  bi_expect "$s unknown DOCKER_CREDENTIAL_ACR_STORE: store says so" 1 "$BI_LINE" "docker-credential-acr: $BI_LINE" \
    env DOCKER_CREDENTIAL_ACR_STORE=pass "$HELPER" store <"$dir/intruder"
  for action in get erase list; do
    bi_expect "$s unknown DOCKER_CREDENTIAL_ACR_STORE: $action says so" 1 "$BI_LINE" "docker-credential-acr: $BI_LINE" \
      env DOCKER_CREDENTIAL_ACR_STORE=pass "$HELPER" "$action" <"$dir/keep-url"
  done
  bi_expect "$s unknown DOCKER_CREDENTIAL_ACR_STORE: version needs no store" 0 "$BI_VERSION" "" \
    env DOCKER_CREDENTIAL_ACR_STORE=pass "$HELPER" version <"$dir/keep-url"

  # A writer that never stops is cut off at the limit; list and version never wait for stdin's end.
  bi_line big
  for action in store get erase; do
    bi_expect "$s $action: a writer that never stops is refused" 1 "$BI_LINE" "docker-credential-acr: $BI_LINE" \
      timeout 20 bash -c 'yes leak-runaway | "$HELPER" "$1"' _ "$action"
  done
  local fifo="$dir/fifo" hold; mkfifo "$fifo"; exec {hold}<>"$fifo"
  bi_expect "$s list does not wait for stdin to end" 0 "$BI_LIST" "" timeout 20 "$HELPER" list <&"$hold"
  bi_expect "$s version does not wait for stdin to end" 0 "$BI_VERSION" "" timeout 20 "$HELPER" version <&"$hold"
  exec {hold}>&-

  local after; after=$(snapshot)
  if [ "$before" = "$after" ]; then pass "$s stores byte-for-byte unchanged"
  else fail "$s stores byte-for-byte unchanged" "$(diff <(echo "$before") <(echo "$after") | head -n 20)"; fi
  expect "$s the existing entry is still whole" 0 "$keep" helper get keep.example.com
  check "$s no secret of the input in the stores, the log or the keyring index" \
    bash -c '! { printf "%s" "$1"; cat "$XDG_STATE_HOME"/docker-credential-acr/* "$XDG_RUNTIME_DIR"/docker-credential-acr/* 2>/dev/null; } | grep -aq leak' _ "$after"

  # Leave the store as the suite found it, whatever a failure above stored.
  BI_LIST=$untouched; bi_restore
  unset DOCKER_CREDENTIAL_ACR_STORE
}
