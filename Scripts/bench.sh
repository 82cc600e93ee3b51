#!/usr/bin/env bash
# Measures the helper against its references, on one private keyring in one run, and writes Markdown
# tables (median, min, max, ratio to the reference, target, met) to stdout and to bench/results.md:
#   1. cache-hit `get` vs `secret-tool lookup` (the floor of one libsecret read) and Docker's own
#      docker-credential-secretservice; the same for the file store (vs a jq lookup and `cat`);
#   2. peak resident memory of each;
#   3. cold `get` of an ACR login server against the Azure emulator (50 ms per request): round trips, wall time;
#   4. 32 parallel cold `get`s of one registry: exchanges, total wall time;
#   5. `list` with 10 and with 1,000 stored entries;
#   6. the cost of renewing tokens at half their life: exchanges per token life, time of a renewing get;
#   7. the installed size of both binaries and what takes it (Scripts/sizes.sh).
# Installs what it needs (apt-get) and builds docker-credential-secretservice from Debian's source into
# bench/build/ (ignored). Exits 0 when targets are missed, non-zero when a measurement fails.
# Run inside Scripts/with-keyring.sh; `make bench` does:
#
#   Scripts/with-keyring.sh Scripts/bench.sh PATH/TO/docker-credential-acr
set -Eeuo pipefail
BUILT=$(readlink -f "${1:?usage: bench.sh PATH/TO/docker-credential-acr}")
[ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || { echo "bench.sh: no session bus; run it inside Scripts/with-keyring.sh" >&2; exit 1; }
root=$(dirname "$(dirname "$(readlink -f "$0")")")
started=$SECONDS

RUNS=${BENCH_RUNS:-50}          # hyperfine runs of a fast command
WARMUP=${BENCH_WARMUP:-5}
SLOW_RUNS=${BENCH_SLOW_RUNS:-10} # hyperfine runs of a command that takes a second or more
RSS_RUNS=${BENCH_RSS_RUNS:-10}
COLD_RUNS=${BENCH_COLD_RUNS:-20}
PARALLEL_RUNS=${BENCH_PARALLEL_RUNS:-15} # one run of 32 spans 150–200 ms on 2 CPUs: a median of 9 moved by ±0.05×
DELAY_MS=50                     # the emulator's delay before every answer
MANY=${BENCH_MANY:-1000}         # entries of the big `list`
FEW=10

say() { echo "bench: $*" >&2; }

# --- Tools -----------------------------------------------------------------------------------------------
packages=(
  hyperfine time                                                    # timing, peak RSS
  golang-go golang-github-docker-docker-credential-helpers-dev      # Docker's secretservice helper, from source
  libsecret-tools jq curl python3 openssl                           # secret-tool, JSON, the Azure emulator
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Docker's own helper, built from Debian's source package with golang-go in GOPATH mode; only when missing.
build_dir="$root/bench/build"
REFERENCE="$build_dir/docker-credential-secretservice"
if [ ! -x "$REFERENCE" ]; then
  say "building docker-credential-secretservice from Debian's source into bench/build/"
  mkdir -p "$build_dir"
  (cd /usr/share/gocode/src/github.com/docker/docker-credential-helpers &&
    GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off GOFLAGS= GOCACHE="$build_dir/go-cache" \
      go build -o "$REFERENCE.tmp" ./secretservice/cmd/)
  mv "$REFERENCE.tmp" "$REFERENCE"
fi

# --- A private world ---------------------------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/docker-credential-acr-bench.XXXXXX")
export WORK
cleanup() {
  if [ -n "${EMU_PID:-}" ]; then kill "$EMU_PID" 2>/dev/null || true; wait "$EMU_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'say "a measurement failed (line $LINENO): $BASH_COMMAND"' ERR
# The keyring is with-keyring.sh's own; the file store, configuration and log live here.
export XDG_DATA_HOME="$WORK/data" XDG_CONFIG_HOME="$WORK/config" XDG_STATE_HOME="$WORK/state"
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_STATE_HOME" "$WORK/bin"
# A copy of the binary under test, and of the engine it hands other work to (it looks beside itself): a
# rebuild during the run can neither change what is measured nor fail it with "Text file busy".
cp "$BUILT" "$WORK/bin/docker-credential-acr"
engine="$(dirname "$BUILT")/docker-credential-acr-engine"
if [ -e "$engine" ]; then cp "$engine" "$WORK/bin/"; fi
HELPER="$WORK/bin/docker-credential-acr"
export HELPER
source_state() { # the commit the sources are at, and whether they have uncommitted changes
  local commit; commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null) || { echo "sources outside git"; return; }
  if [ -n "$(git -C "$root" status --porcelain -- Sources Package.swift 2>/dev/null)" ]; then
    echo "commit $commit with uncommitted changes to Sources/ or Package.swift"
  else echo "commit $commit"; fi
}
built_from=$(source_state)
unset DOCKER_CREDENTIAL_ACR_DEBUG DOCKER_CREDENTIAL_ACR_CONFIG
FILE_STORE="$XDG_DATA_HOME/docker-credential-acr/credentials.json"

# The Azure emulator, its identities and helpers (acr_env, acr_get, emu_stat, emu_post, forget_tokens)
# come from the integration tests.
here="$root/Tests/Integration"
source "$here/lib.sh"
source "$here/acr.sh"

plain() { "$@"; }
forget() { forget_tokens || true; }         # acr.sh's forget_tokens, whose `secret-tool clear` fails when nothing is cached
with_sp() { acr_env "${SP[@]}" -- "$@"; } # the command with the service principal and the emulator's endpoints
q() { printf '%q' "$1"; }                  # one word, quoted for hyperfine's shell

# bench WRAPPER JSON RUNS COMMAND-LINE… : hyperfine of the shell command lines under WRAPPER; results in JSON
bench() {
  local wrapper=$1 json=$2 runs=$3; shift 3
  local warmup=$WARMUP; [ "$runs" -ge "$RUNS" ] || warmup=2
  "$wrapper" hyperfine --style basic --warmup "$warmup" --runs "$runs" --export-json "$json" "$@" >&2
}

# stat_of JSON INDEX : "median min max" in seconds of hyperfine's INDEXth command
stat_of() { jq -r ".results[$2] | \"\(.median) \(.min) \(.max)\"" "$1"; }
# summary : "median min max" of the numbers on stdin, one a line
summary() {
  jq -s -r 'sort | (if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end) as $m
            | "\($m) \(.[0]) \(.[-1])"'
}
# fmt VALUE SCALE DIGITS : VALUE × SCALE, with DIGITS decimals
fmt() { awk -v v="$1" -v s="$2" -v d="$3" 'BEGIN { printf "%.*f", d, v * s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
# met VALUE LIMIT : yes when VALUE ≤ LIMIT
met() { awk -v v="$1" -v l="$2" 'BEGIN { print (v <= l ? "yes" : "no") }'; }
ms3() { local m n x; read -r m n x <<<"$1"; echo "$(fmt "$m" 1000 1) | $(fmt "$n" 1000 1) | $(fmt "$x" 1000 1)"; }
med() { echo "${1%% *}"; }

now_us() { echo "${EPOCHREALTIME/./}"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { print (b - a) / 1000000 }'; } # elapsed T0 T1 : seconds between two now_us
round_trips() { curl -sf "$EMU/_emulator/stats" | jq '[.[]] | add'; }
stats_line() { curl -sf "$EMU/_emulator/stats" | jq -r 'to_entries | map(select(.value > 0) | "\(.key) \(.value)") | join(", ")'; }

OUT="$WORK/results.md"
row() { printf '| %s |\n' "$*" >>"$OUT"; }
para() { printf '%s\n' "$@" >>"$OUT"; }

# Every answer is checked before it is timed: a benchmark of an error would be meaningless.
expect_json() { # expect_json JQ-FILTER COMMAND… : COMMAND's stdout satisfies the filter
  local filter=$1; shift
  "$@" >"$WORK/answer" || { say "failed: $* → $(cat "$WORK/answer")"; return 1; }
  jq -e "$filter" "$WORK/answer" >/dev/null || { say "unexpected answer of $*: $(cat "$WORK/answer")"; return 1; }
}
DERIVED='.Username == "00000000-0000-0000-0000-000000000000" and (.Secret | length > 100)'

say "Azure emulator with ${DELAY_MS} ms per request"
emulator_start "$DELAY_MS" >&2
[ "$FAILED" = 0 ] || { say "the Azure emulator did not start: $(cat "$EMU_DIR/emulator.log")"; exit 1; }

STORED=bench.example.com
printf '%s\n' "$STORED" >"$WORK/in.stored"
printf '%s\n' "$REG" >"$WORK/in.acr"
printf '{"ServerURL":"%s","Username":"bench-user","Secret":"bench-secret"}' "$STORED" >"$WORK/stored.json"

load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# --- 1 + 2: cache-hit get and its memory ---------------------------------------------------------------
declare -A GET   # "median min max" in seconds, by name
declare -A RSS   # "median min max" in KiB, by name

say "1. cache-hit get, keyring"
export DOCKER_CREDENTIAL_ACR_STORE=secretservice
forget
"$HELPER" store <"$WORK/stored.json"
expect_json '.Secret == "bench-secret"' "$HELPER" get <"$WORK/in.stored"
expect_json '.Secret == "bench-secret"' "$REFERENCE" get <"$WORK/in.stored"
[ "$(secret-tool lookup server "$STORED" docker_cli 1)" = bench-secret ]
expect_json "$DERIVED" with_sp "$HELPER" get <"$WORK/in.acr"      # cold: fills the cache
emu_post reset '{}'
expect_json "$DERIVED" with_sp "$HELPER" get <"$WORK/in.acr"
[ "$(round_trips)" = 0 ] || { say "the second get of $REG was not served from the cache: $(stats_line)"; exit 1; }
bench with_sp "$WORK/keyring.json" "$RUNS" \
  "$(q "$HELPER") get <$(q "$WORK/in.acr")" \
  "$(q "$HELPER") get <$(q "$WORK/in.stored")" \
  "secret-tool lookup server $STORED docker_cli 1" \
  "$(q "$REFERENCE") get <$(q "$WORK/in.stored")"
GET[ours-acr]=$(stat_of "$WORK/keyring.json" 0); GET[ours-stored]=$(stat_of "$WORK/keyring.json" 1)
GET[secret-tool]=$(stat_of "$WORK/keyring.json" 2); GET[reference]=$(stat_of "$WORK/keyring.json" 3)
[ "$(round_trips)" = 0 ] || { say "cache-hit gets went to the network: $(stats_line)"; exit 1; }

say "1. cache-hit get, file store"
export DOCKER_CREDENTIAL_ACR_STORE=file
"$HELPER" store <"$WORK/stored.json"
expect_json '.Secret == "bench-secret"' "$HELPER" get <"$WORK/in.stored"
expect_json "$DERIVED" with_sp "$HELPER" get <"$WORK/in.acr"
JQ_GET="jq -c --arg s $STORED '.credentials[\$s]' $(q "$FILE_STORE")"
expect_json '.secret == "bench-secret"' sh -c "$JQ_GET"
emu_post reset '{}'
bench with_sp "$WORK/file.json" "$RUNS" \
  "$(q "$HELPER") get <$(q "$WORK/in.acr")" \
  "$(q "$HELPER") get <$(q "$WORK/in.stored")" \
  "$JQ_GET" \
  "cat $(q "$FILE_STORE")"
GET[file-acr]=$(stat_of "$WORK/file.json" 0); GET[file-stored]=$(stat_of "$WORK/file.json" 1)
GET[jq]=$(stat_of "$WORK/file.json" 2); GET[cat]=$(stat_of "$WORK/file.json" 3)
[ "$(round_trips)" = 0 ] || { say "cache-hit gets went to the network: $(stats_line)"; exit 1; }

# peak_rss NAME INPUT WRAPPER COMMAND… : RSS[NAME] = "median min max" KiB of COMMAND's peak RSS over RSS_RUNS runs
peak_rss() {
  local name=$1 input=$2 wrapper=$3; shift 3
  : >"$WORK/rss.list"
  for _ in $(seq "$RSS_RUNS"); do
    "$wrapper" /usr/bin/time -f %M -o "$WORK/rss.one" "$@" <"$input" >/dev/null
    cat "$WORK/rss.one" >>"$WORK/rss.list"
  done
  RSS[$name]=$(summary <"$WORK/rss.list")
}
say "2. peak resident memory"
export DOCKER_CREDENTIAL_ACR_STORE=secretservice
peak_rss ours-acr "$WORK/in.acr" with_sp "$HELPER" get
peak_rss ours-stored "$WORK/in.stored" plain "$HELPER" get
peak_rss secret-tool /dev/null plain secret-tool lookup server "$STORED" docker_cli 1
peak_rss reference "$WORK/in.stored" plain "$REFERENCE" get
# A cold get, network and all: forget the tokens before each run.
: >"$WORK/rss.list"
for _ in $(seq "$RSS_RUNS"); do
  forget
  with_sp /usr/bin/time -f %M -o "$WORK/rss.one" "$HELPER" get <"$WORK/in.acr" >/dev/null
  cat "$WORK/rss.one" >>"$WORK/rss.list"
done
RSS[ours-cold]=$(summary <"$WORK/rss.list")
export DOCKER_CREDENTIAL_ACR_STORE=file
with_sp "$HELPER" get <"$WORK/in.acr" >/dev/null
peak_rss file-acr "$WORK/in.acr" with_sp "$HELPER" get
peak_rss file-stored "$WORK/in.stored" plain "$HELPER" get
peak_rss jq /dev/null plain jq -c --arg s "$STORED" '.credentials[$s]' "$FILE_STORE"
peak_rss cat /dev/null plain cat "$FILE_STORE"

# --- 3: cold get against the emulator ------------------------------------------------------------------
# The reference: curl making the same requests (Azure AD token, then the exchange), one process each, as
# the helper does; it pays the emulator's delay and its own work (signing the tokens) too. Both are started
# through the same `env` (with_sp) and timed around that process alone; answers are checked afterwards.
curl_form() { # curl_form CURL-ARG… : POSTs, answer in curl.out; prints the seconds taken, timed as the helper is
  local t0 t1; t0=$(now_us); with_sp curl -sf -o "$WORK/curl.out" "$@"; t1=$(now_us); elapsed "$t0" "$t1"
}
curl_run() { # one run of the reference: curl-first|second.times += its seconds
  local token
  curl_form -d grant_type=client_credentials -d "client_id=$SP_ID" -d client_secret=good-secret \
    --data-urlencode scope=https://containerregistry.azure.net/.default "$EMU/$TENANT/oauth2/v2.0/token" >"$WORK/curl.aad"
  token=$(jq -er .access_token "$WORK/curl.out")
  curl_form -d grant_type=access_token -d "service=$REG" -d "tenant=$TENANT" --data-urlencode "access_token=$token" \
    "$EMU/acr/$REG/oauth2/exchange" >"$WORK/curl.exchange"
  jq -e '.refresh_token | length > 100' "$WORK/curl.out" >/dev/null
  awk '{ t += $1 } END { print t }' "$WORK/curl.aad" "$WORK/curl.exchange" >>"$WORK/curl-first.times"
  cat "$WORK/curl.exchange" >>"$WORK/curl-second.times"
}
# cold_run STORE : one run of each case; STORE-first|second.times += their seconds, RT[…] += their round trips
declare -A COLD RT STATS
cold_run() {
  local store=$1 t0 t1
  export DOCKER_CREDENTIAL_ACR_STORE=$store
  forget; emu_post reset '{}'
  t0=$(now_us); with_sp "$HELPER" get <"$WORK/in.acr" >"$WORK/answer"; t1=$(now_us)
  jq -e "$DERIVED" "$WORK/answer" >/dev/null
  elapsed "$t0" "$t1" >>"$WORK/$store-first.times"
  RT[$store-first]+=" $(round_trips)"; STATS[$store-first]=$(stats_line)
  # Another registry of the same tenant: the Azure AD token is in the cache now.
  emu_post reset '{}'
  t0=$(now_us); with_sp "$HELPER" get <<<"$REG2" >"$WORK/answer"; t1=$(now_us)
  jq -e "$DERIVED" "$WORK/answer" >/dev/null
  elapsed "$t0" "$t1" >>"$WORK/$store-second.times"
  RT[$store-second]+=" $(round_trips)"; STATS[$store-second]=$(stats_line)
}
say "3. cold get, ${DELAY_MS} ms per request"
# Each round runs every case once, so that the machine's ups and downs during the section fall on the
# helper and on curl alike.
for _ in $(seq "$COLD_RUNS"); do
  cold_run secretservice
  cold_run file
  curl_run
done
for key in secretservice-first secretservice-second file-first file-second curl-first curl-second; do
  COLD[$key]=$(summary <"$WORK/$key.times")
done

# --- 4: 32 parallel cold gets --------------------------------------------------------------------------
# Started at once by Scripts/bench-spawn.py, as docker compose's Go runtime starts helpers (posix_spawn),
# not by 32 forks of this shell, which would be timed on the same two CPUs; one cold get started the same
# way in the same run is the reference.
declare -A PAR ONE EXCHANGES
spawn_gets() { # spawn_gets N : N cold gets at once; appends the seconds taken, checks one answer for all
  forget; emu_post reset '{}'
  rm -f "$WORK"/parallel.out.*
  with_sp python3 "$root/Scripts/bench-spawn.py" "$1" "$WORK/in.acr" "$WORK/parallel.out" "$HELPER" get
  [ "$(cat "$WORK"/parallel.out.* | sort -u | wc -l)" = 1 ] || { say "$1 parallel gets gave different answers"; return 1; }
  jq -e "$DERIVED" "$WORK/parallel.out.1" >/dev/null
}
parallel_run() { # parallel_run STORE : one get, then 32; STORE-one|parallel.times += their seconds
  export DOCKER_CREDENTIAL_ACR_STORE=$1
  spawn_gets 1 >>"$WORK/$1-one.times"
  spawn_gets 32 >>"$WORK/$1-parallel.times"
  EXCHANGES[$1]+=" $(emu_stat acr_exchange)/$(emu_stat aad_token)"
}
say "4. 32 parallel cold gets"
# Both stores in each round, as in section 3.
for _ in $(seq "$PARALLEL_RUNS"); do
  parallel_run secretservice
  parallel_run file
done
for store in secretservice file; do
  PAR[$store]=$(summary <"$WORK/$store-parallel.times"); ONE[$store]=$(summary <"$WORK/$store-one.times")
done

# --- 6: tokens that outlive a build: what the half-life renewal costs --------------------------------
# Time scaled down: ACR tokens of RENEW_LIFE s stand for the 3-hour ones. A get every 0.1 s for three
# lives, with the half-life rule (renewAtFractionLeft 0.5) and without it (margin 0, the token used to its
# end): exchanges in the three lives, and the time of a get that renews against one answered from the cache.
RENEW_LIFE=${BENCH_RENEW_LIFE:-8}
declare -A RENEW
renew_runs() { # renew_runs NAME SHARE
  local name=$1 share=$2 end t0 t1 before after
  local config="$WORK/renew-$name.json"
  echo "{\"refreshMarginSeconds\": 0, \"renewAtFractionLeft\": $share}" >"$config"
  export DOCKER_CREDENTIAL_ACR_STORE=secretservice
  forget; emu_post reset '{}'; emu_post lifetimes "{\"acr_refresh\": $RENEW_LIFE}"
  : >"$WORK/renew.hit.$name"; : >"$WORK/renew.renewing.$name"
  end=$((SECONDS + 3 * RENEW_LIFE))
  expect_json "$DERIVED" acr_env "${SP[@]}" DOCKER_CREDENTIAL_ACR_CONFIG="$config" -- "$HELPER" get <"$WORK/in.acr"
  while [ $SECONDS -lt $end ]; do
    sleep 0.1
    before=$(emu_stat acr_exchange)
    t0=$(now_us); expect_json "$DERIVED" acr_env "${SP[@]}" DOCKER_CREDENTIAL_ACR_CONFIG="$config" -- "$HELPER" get <"$WORK/in.acr"; t1=$(now_us)
    after=$(emu_stat acr_exchange)
    if [ "$after" = "$before" ]; then elapsed "$t0" "$t1" >>"$WORK/renew.hit.$name"; else elapsed "$t0" "$t1" >>"$WORK/renew.renewing.$name"; fi
  done
  RENEW[$name-exchanges]=$(emu_stat acr_exchange)
  RENEW[$name-hit]=$(summary <"$WORK/renew.hit.$name")
  RENEW[$name-renewing]=$( [ -s "$WORK/renew.renewing.$name" ] && summary <"$WORK/renew.renewing.$name" || echo "0 0 0")
  RENEW[$name-gets]=$(( $(wc -l <"$WORK/renew.hit.$name") + $(wc -l <"$WORK/renew.renewing.$name") + 1 ))
  emu_post reset '{}'
}
say "6. renewal at half a token's life (${RENEW_LIFE} s tokens, 3 lives each)"
renew_runs half 0.5
renew_runs end 0

# --- 5: list with 10 and with 1,000 entries ------------------------------------------------------------
declare -A LIST
entry() { printf 'list-%04d.example.com' "$1"; }
# fill_keyring FROM TO : entries FROM..TO in the keyring, as Docker's helper and ours store them (schema,
# label, attributes). secret-tool is used for the bulk because `store` of our helper (and Docker's) looks
# through every item after writing, which makes 1,000 stores take minutes.
fill_keyring() {
  local from=$1 to=$2 worker i
  local workers=()
  for worker in 0 1 2 3; do
    ( for ((i = from + worker; i <= to; i += 4)); do
        printf 'secret-%d' "$i" | secret-tool store --label="$(entry "$i")" xdg:schema io.docker.Credentials \
          label "Docker Credentials" server "$(entry "$i")" username "user-$i" docker_cli 1
      done ) &
    workers+=($!)
  done
  for worker in "${workers[@]}"; do wait "$worker"; done
}
say "5. list, keyring"
export DOCKER_CREDENTIAL_ACR_STORE=secretservice
"$HELPER" erase <"$WORK/in.stored"
for i in $(seq "$FEW"); do
  printf '{"ServerURL":"%s","Username":"user-%d","Secret":"secret-%d"}' "$(entry "$i")" "$i" "$i" | "$HELPER" store
done
expect_json "$DERIVED" with_sp "$HELPER" get <"$WORK/in.acr"   # the cached token that `get` rows read
printf '{"ServerURL":"%s","Username":"user-1","Secret":"secret-1"}' "$(entry 1)" >"$WORK/store.json"
list_cmds=(
  "$(q "$HELPER") list </dev/null"
  "$(q "$REFERENCE") list </dev/null"
  "$(q "$HELPER") get <$(q "$WORK/in.acr")"
  "$(q "$HELPER") store <$(q "$WORK/store.json")"
)
[ "$("$HELPER" list </dev/null | jq length)" = "$FEW" ]
[ "$("$REFERENCE" list </dev/null | jq length)" = "$FEW" ]
bench with_sp "$WORK/list-few.json" "$RUNS" "${list_cmds[@]}"
say "storing $((MANY - FEW)) more entries in the keyring"
fill_keyring $((FEW + 1)) "$MANY"
"$HELPER" list </dev/null | jq -e --argjson n "$MANY" --arg s "$(entry "$MANY")" --arg u "user-$MANY" \
  'length == $n and .[$s] == $u' >/dev/null
[ "$("$REFERENCE" list </dev/null | jq length)" = "$MANY" ]
bench with_sp "$WORK/list-many.json" "$SLOW_RUNS" "${list_cmds[@]}"
for i in 0 1 2 3; do
  LIST[keyring-few-$i]=$(stat_of "$WORK/list-few.json" $i); LIST[keyring-many-$i]=$(stat_of "$WORK/list-many.json" $i)
done

say "5. list, file store"
export DOCKER_CREDENTIAL_ACR_STORE=file
"$HELPER" erase <"$WORK/in.stored"
fill_file() { local i; for ((i = $1; i <= $2; i++)); do
  printf '{"ServerURL":"%s","Username":"user-%d","Secret":"secret-%d"}' "$(entry "$i")" "$i" "$i" | "$HELPER" store
done; }
fill_file 1 "$FEW"
file_cmds=(
  "$(q "$HELPER") list </dev/null"
  "jq -c '.credentials | map_values(.username)' $(q "$FILE_STORE")"
)
[ "$("$HELPER" list </dev/null | jq length)" = "$FEW" ]
[ "$(jq '.credentials | length' "$FILE_STORE")" = "$FEW" ]
bench plain "$WORK/file-few.json" "$RUNS" "${file_cmds[@]}"
fill_file $((FEW + 1)) "$MANY"
[ "$("$HELPER" list </dev/null | jq length)" = "$MANY" ]
bench plain "$WORK/file-many.json" "$RUNS" "${file_cmds[@]}"
for i in 0 1; do
  LIST[file-few-$i]=$(stat_of "$WORK/file-few.json" $i); LIST[file-many-$i]=$(stat_of "$WORK/file-many.json" $i)
done

load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# --- The tables --------------------------------------------------------------------------------------
mib() { local m n x; read -r m n x <<<"$1"; echo "$(fmt "$m" 0.0009765625 1) | $(fmt "$n" 0.0009765625 1) | $(fmt "$x" 0.0009765625 1)"; }
runs_of() { # runs_of "V V V…" : "2 in all 10 runs", or "2 in 9 runs, 3 in 1 runs"
  local counts; counts=$(tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort | uniq -c)
  if [ "$(wc -l <<<"$counts")" = 1 ]; then awk '{ printf "%s in all %d runs", $2, $1 }' <<<"$counts"
  else awk '{ printf "%s%s in %d runs", (NR > 1 ? ", " : ""), $2, $1 }' <<<"$counts"; fi
}
all_equal() { [ "$(tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -u)" = "$2" ] && echo yes || echo no; }

para "# docker-credential-acr benchmarks" "" \
  "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: \`$(uname -srm)\`, $(nproc) CPUs; load average before/after: $load_before / $load_after" \
  "- binary: \`$("$HELPER" version | head -n 1)\` built from $built_from (${BUILT#"$root"/}, $(du -h "$BUILT" | cut -f1)$([ ! -e "$engine" ] || echo "; its engine $(du -h "$engine" | cut -f1)"))" \
  "- references: docker-credential-secretservice $("$REFERENCE" version) (Debian's source, $(go version | cut -d' ' -f3)), secret-tool $(dpkg-query -W -f='${Version}' libsecret-tools), gnome-keyring $(dpkg-query -W -f='${Version}' gnome-keyring), $(jq --version), $(hyperfine --version)" \
  "- one private gnome-keyring (Scripts/with-keyring.sh) for every keyring row; times from hyperfine (--warmup, sh with its start-up subtracted), $RUNS runs, $SLOW_RUNS for the $MANY-entry keyring rows" \
  "- ratio = our median / the reference's median" ""

para "## 1. Cache-hit \`get\` (ms)" "" \
  "Keyring rows read one credential stored as Docker's helper stores it; \"ACR, cached token\" is \`get\` of $REG with a service principal and its token in the cache (no network)." \
  "The file store has no Docker equivalent: its reference is \`jq\` printing the entry from credentials.json (the same work: start, read, parse, print); \`cat\` of the file is the floor (start and read, no parsing)." ""
row "store | command | median | min | max | ratio | target | met"
row "--- | --- | ---: | ---: | ---: | ---: | --- | ---"
row "keyring | \`secret-tool lookup\` (floor: one libsecret read) | $(ms3 "${GET[secret-tool]}") | reference | — | —"
row "keyring | docker-credential-secretservice \`get\` | $(ms3 "${GET[reference]}") | $(ratio "$(med "${GET[reference]}")" "$(med "${GET[secret-tool]}")")× secret-tool | — | —"
for name in ours-stored ours-acr; do
  label=$([ $name = ours-stored ] && echo "stored credential" || echo "ACR, cached token")
  m=$(med "${GET[$name]}")
  r1=$(ratio "$m" "$(med "${GET[reference]}")"); r2=$(ratio "$m" "$(med "${GET[secret-tool]}")")
  row "keyring | ours \`get\`, $label | $(ms3 "${GET[$name]}") | ${r1}× secretservice | ≤ 1.0× | $(met "$r1" 1.0)"
  row "keyring | 〃 | | | | ${r2}× secret-tool | ≤ 0.8× | $(met "$r2" 0.8)"
done
row "file | \`cat credentials.json\` (floor) | $(ms3 "${GET[cat]}") | — | — | —"
row "file | \`jq '.credentials[\$s]'\` (reference) | $(ms3 "${GET[jq]}") | reference | — | —"
for name in file-stored file-acr; do
  label=$([ $name = file-stored ] && echo "stored credential" || echo "ACR, cached token")
  m=$(med "${GET[$name]}")
  r1=$(ratio "$m" "$(med "${GET[jq]}")"); r2=$(ratio "$m" "$(med "${GET[cat]}")")
  row "file | ours \`get\`, $label | $(ms3 "${GET[$name]}") | ${r1}× jq | ≤ 1.0× | $(met "$r1" 1.0)"
  row "file | 〃 | | | | ${r2}× cat | — | —"
done
para ""

para "## 2. Peak resident memory (MiB, \`/usr/bin/time -f %M\`, $RSS_RUNS runs)" ""
row "store | command | median | min | max | ratio | target | met"
row "--- | --- | ---: | ---: | ---: | ---: | --- | ---"
rss_row() { # rss_row STORE LABEL NAME REFERENCE-NAME REFERENCE-LABEL [TARGET-MIB]
  local r="reference" t="—" ok="—"
  [ -z "$4" ] || r="$(ratio "$(med "${RSS[$3]}")" "$(med "${RSS[$4]}")")× $5"
  if [ -n "${6:-}" ]; then t="≤ $6 MiB"; ok=$(met "$(med "${RSS[$3]}")" "$(fmt "$6" 1024 0)"); fi
  row "$1 | $2 | $(mib "${RSS[$3]}") | $r | $t | $ok"
}
rss_row keyring "\`secret-tool lookup\`" secret-tool reference secretservice
rss_row keyring "docker-credential-secretservice \`get\`" reference "" ""
# Targets are the cache-hit path's (the keyring's: Docker's own helper's); a cold get loads libcurl too.
rss_row keyring "ours \`get\`, stored credential" ours-stored reference secretservice 8.7
rss_row keyring "ours \`get\`, ACR, cached token" ours-acr reference secretservice 8.7
rss_row keyring "ours \`get\`, ACR, cold (2 requests, libcurl loaded)" ours-cold reference secretservice
rss_row file "\`cat credentials.json\`" cat jq jq
rss_row file "\`jq '.credentials[\$s]'\`" jq "" ""
rss_row file "ours \`get\`, stored credential" file-stored jq jq 15
rss_row file "ours \`get\`, ACR, cached token" file-acr jq jq 15
para ""

para "## 3. Cold \`get\` of an ACR login server (Azure emulator, ${DELAY_MS} ms per request, $COLD_RUNS runs)" "" \
  "Round trips: every request the emulator counted (Azure AD, exchange, any other). Reference for the time: curl making the same requests one after the other, a process each (Azure AD token and exchange; the exchange alone when the Azure AD token is cached), which pays the same ${DELAY_MS} ms per request and the emulator's own work. Both are started through the same \`env\` and timed around that process alone in bash (answers are checked after the clock stops); each of the ${COLD_RUNS} rounds runs every case once, helper and curl in turn." ""
row "store | case | round trips | target | met | median ms | min ms | max ms | ratio | target | met"
row "--- | --- | --- | --- | --- | ---: | ---: | ---: | ---: | --- | ---"
row "— | curl, Azure AD token + exchange (reference) | 2 | — | — | $(ms3 "${COLD[curl-first]}") | — (network floor: 2 × ${DELAY_MS} ms) | — | —"
row "— | curl, exchange alone (reference) | 1 | — | — | $(ms3 "${COLD[curl-second]}") | — (network floor: ${DELAY_MS} ms) | — | —"
for store in secretservice file; do
  s=$([ $store = file ] && echo file || echo keyring)
  for kind in first second; do
    if [ $kind = first ]; then label="no token cached"; want=2; else label="another registry, Azure AD token cached"; want=1; fi
    r=$(ratio "$(med "${COLD[$store-$kind]}")" "$(med "${COLD[curl-$kind]}")")
    row "$s | $label | $(runs_of "${RT[$store-$kind]}") (${STATS[$store-$kind]}) | $want | $(all_equal "${RT[$store-$kind]}" $want) | $(ms3 "${COLD[$store-$kind]}") | ${r}× curl | ≤ 1.2× | $(met "$r" 1.2)"
  done
done
para ""

para "## 4. 32 parallel cold \`get\`s of one registry ($PARALLEL_RUNS runs, ${DELAY_MS} ms per request)" "" \
  "Counts are exchanges/Azure AD requests per run of 32; time is from the first start to the last exit. Both rows of a store are started by Scripts/bench-spawn.py (posix_spawn, as Go's os/exec starts helpers), one get and 32 alternating, each round both stores in turn; the ratio is of their medians." ""
row "store | gets at once | exchanges/AAD requests | target | met | median ms | min ms | max ms | ratio | target | met"
row "--- | ---: | --- | --- | --- | ---: | ---: | ---: | ---: | --- | ---"
for store in secretservice file; do
  s=$([ $store = file ] && echo file || echo keyring)
  r=$(ratio "$(med "${PAR[$store]}")" "$(med "${ONE[$store]}")")
  row "$s | 1 | — | — | — | $(ms3 "${ONE[$store]}") | — | — | —"
  row "$s | 32 | $(runs_of "${EXCHANGES[$store]}") | 1/1 | $(all_equal "${EXCHANGES[$store]}" 1/1) | $(ms3 "${PAR[$store]}") | ${r}× one cold get | ≤ 1.3× | $(met "$r" 1.3)"
done
para ""

para "## 5. \`list\` with $FEW and with $MANY stored entries (ms)" "" \
  "Ratio of a $MANY-entry row: its median / the same command's median with $FEW entries. Keyring: $RUNS runs with $FEW entries, $SLOW_RUNS with $MANY. \`get\` and \`store\` rows are for information: \`get\` of an ACR login server first looks for a stored credential, \`store\` looks through every item to drop other spellings of the server." ""
row "store | command | entries | median | min | max | ratio | target | met"
row "--- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---"
list_row() { # list_row STORE LABEL KEY TARGETED
  local r; r=$(ratio "$(med "${LIST[$1-many-$3]}")" "$(med "${LIST[$1-few-$3]}")")
  local t="—" ok="—"; if [ "$4" = yes ]; then t="≤ 2.0×"; ok=$(met "$r" 2.0); fi
  local s=$1
  row "$s | $2 | $FEW | $(ms3 "${LIST[$1-few-$3]}") | — | | "
  row "$s | 〃 | $MANY | $(ms3 "${LIST[$1-many-$3]}") | ${r}× | $t | $ok"
}
list_row keyring "ours \`list\`" 0 yes
list_row keyring "docker-credential-secretservice \`list\`" 1 no
list_row keyring "ours \`get\`, ACR, cached token" 2 no
list_row keyring "ours \`store\` (replacing one entry)" 3 no
list_row file "ours \`list\`" 0 yes
list_row file "\`jq '.credentials \| map_values(.username)'\`" 1 no
para ""

para "## 6. Tokens that outlive a build: the cost of renewing at half a token's life (keyring)" "" \
  "Time scaled down: the emulator's ACR tokens live ${RENEW_LIFE} s in place of about 3 hours; a \`get\` every 0.1 s for three lives. \"Half life\": the default \`renewAtFractionLeft\` 0.5 (so every token handed out has at least half its life, about 90 minutes at ACR's 3 hours); \"to the end\": renewed only when expired (margin 0). Exchanges are those of the three lives (the first \`get\` included); a renewing \`get\` is one that made an exchange (the Azure AD token is cached), its ratio against the cache-hit \`get\`s of the same run." ""
row "rule | gets | exchanges in 3 lives | per token life | target | met | cache-hit median ms | renewing median ms | min | max | ratio"
row "--- | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | ---:"
for name in half end; do
  label=$([ $name = half ] && echo "half life (default)" || echo "to the end (reference)")
  per=$(awk -v e="${RENEW[$name-exchanges]}" 'BEGIN { printf "%.2f", e / 3 }')
  t="—"; ok="—"
  if [ $name = half ]; then t="≤ 7 exchanges (the first, then one per half life)"; ok=$(met "${RENEW[$name-exchanges]}" 7); fi
  read -r rm rn rx <<<"${RENEW[$name-renewing]}"
  row "$label | ${RENEW[$name-gets]} | ${RENEW[$name-exchanges]} | $per | $t | $ok | $(fmt "$(med "${RENEW[$name-hit]}")" 1000 1) | $(fmt "$rm" 1000 1) | $(fmt "$rn" 1000 1) | $(fmt "$rx" 1000 1) | $(ratio "$rm" "$(med "${RENEW[$name-hit]}")")× a cache hit"
done
para "" "At ACR's 3-hour tokens this is one exchange per registry every 90 minutes (half life) against one every 170 minutes (the 10-minute margin alone): one extra renewing \`get\` per registry per 3 hours, at the time above."
para ""
"$root/Scripts/sizes.sh" "$(dirname "$BUILT")" >>"$OUT"
para "" "Total run time: $((SECONDS - started)) s."

mkdir -p "$root/bench"
cp "$OUT" "$root/bench/results.md"
cat "$OUT"
