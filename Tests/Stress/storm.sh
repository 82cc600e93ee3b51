# Stress suites, too heavy for `make test`; `make stress` sources this after Tests/Integration/lib.sh and
# calls them inside Scripts/with-keyring.sh, as run.sh does:
#
#   storm_suite secretservice; storm_suite file; kill_writer_suite
#
# They need $HELPER, $WORK, the private XDG_* folders and lib.sh's check/helper/cred; plus jq, secret-tool,
# stdbuf, timeout. A runner can shrink them through these variables:
STORM_OPS=${STORM_OPS:-1000}        # operations in one storm, shared among the processes
STORM_PROCS=${STORM_PROCS:-16}      # processes running at once
STORM_REGS=${STORM_REGS:-50}        # registries storm-00.example.com …
STORM_SHARED=${STORM_SHARED:-5}     # … of which the last ones are written by every process
STORM_KILLS=${STORM_KILLS:-100}     # writers killed by kill_writer_suite
STORM_PREFILL=${STORM_PREFILL:-200} # entries in the file store before the kills, so that a write takes time
STORM_OP_TIMEOUT=${STORM_OP_TIMEOUT:-60} # seconds one helper call may take before it counts as hung
STORM_SEED=${STORM_SEED:-$RANDOM}   # printed, to repeat a failing run's choices (not its timing)

NOT_FOUND="credentials not found in native keychain" # the only failure a get may answer

# Every credential is a tag: registry storm-NN gets user u-storm-NN-<n> and secret s-storm-NN-<n>, with <n>
# unique per write ("<process>.<op>"). A read whose user and secret differ, or name another registry, or
# carry an <n> that was never written to that registry, is corrupt, mixed up or invented.

storm_host() { printf -v host 'storm-%02d.example.com' "$1"; }

# storm_spell R : sets $sp to one of the spellings under which the helper keeps one entry for storm-R.
storm_spell() {
  storm_host "$1"
  case $((RANDOM % 4)) in
    0) sp="https://$host/" ;;
    1) sp=$host ;;
    2) sp="HTTPS://$host" ;;
    3) sp=${host^^} ;;
  esac
}

# storm_run W K OP R SP N : runs one helper call and prints its record (tab-separated): who, op, registry,
# spelling, written value, start and end times, exit status, stdout on one line.
storm_run() {
  local w=$1 k=$2 op=$3 r=$4 sp=$5 n=$6 input out rc start
  case $op in
    store) printf -v input '{"ServerURL":"%s","Username":"u-storm-%s-%s","Secret":"s-storm-%s-%s"}' "$sp" "$r" "$n" "$r" "$n" ;;
    list) input=unused ;;
    *) input=$sp ;;
  esac
  start=$EPOCHREALTIME
  # The helper's own status: printf may die of SIGPIPE when `list` exits without reading its input.
  out=$(printf '%s' "$input" | timeout "$STORM_OP_TIMEOUT" "$HELPER" "$op" 2>>"$STORM_DIR/stderr"; exit "${PIPESTATUS[1]}") &&
    rc=0 || rc=$?
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$w" "$k" "$op" "$r" "$sp" "$n" "$start" "$EPOCHREALTIME" "$rc" \
    "${out//[$'\t\n']/ }"
}

# storm_worker W COUNT SEED : one process's share. It alone writes the registries it owns (so their final
# state follows from its own sequence), reads every registry, and writes the shared ones with the others.
storm_worker() {
  local w=$1 count=$2 k r nn dice op sp host owned=() first_shared=$((STORM_REGS - STORM_SHARED))
  RANDOM=$3
  for ((r = w; r < first_shared; r += STORM_PROCS)); do owned+=("$r"); done
  for ((k = 0; k < count; k++)); do
    dice=$((RANDOM % 100))
    if ((dice < 40)) && ((${#owned[@]} > 0)); then   # its own registries: store, erase, read back
      r=${owned[RANDOM % ${#owned[@]}]}
      if ((dice < 20)); then op=store; elif ((dice < 26)); then op=erase; else op=get; fi
    elif ((dice >= 73)) && ((STORM_SHARED > 0)); then # the shared ones
      r=$((first_shared + RANDOM % STORM_SHARED))
      if ((dice < 89)); then op=store; elif ((dice < 93)); then op=erase; else op=get; fi
    elif ((dice >= 65 && dice < 73)); then             # everything at once
      storm_run "$w" "$k" list - - -
      continue
    else                                               # anyone's registry
      r=$((RANDOM % STORM_REGS)) op=get
    fi
    storm_spell "$r"; printf -v nn %02d "$r"
    storm_run "$w" "$k" "$op" "$nn" "$sp" "$w.$k"
  done
}

# The model and the judge: reads the records on stdin, prints one line per violation ("CATEGORY<TAB>why
# [record]") and one "stats" line. Each write's value is current from its start until a later write (one
# that starts after it ended) has ended; a read is right when it returns a value that was current at some
# moment of the read. For the final reads (who "f"), after every write, that leaves only the values of
# writes no other write followed: the one last write of an owned registry, a last write of some process
# for a shared one.
STORM_JUDGE='
def norm: ascii_downcase | sub("^https?://"; "") | sub("/+$"; "");
def regof: norm | (capture("^storm-(?<r>[0-9]+)\\.example\\.com$").r // null);
def tagof($p): (tostring | capture("^" + $p + "-storm-(?<r>[0-9]+)-(?<n>.+)$")) // null;
def two: tostring | if length < 2 then "0" + . else . end;
def where: "\(.w)/\(.k) \(.op) \(.sp) -> \(.rc) \(.out[0:200])";
def bad($cat; $why): {cat: $cat, why: $why, rec: where, final};
def seen($r; $v; $key; $src): {reg: $r, v: $v, key: $key, src: $src, s, e, final, rec: where};
# A credential as get returns it, or as the store holds it.
def credential($o; $r; $src; $key):
  if ($o | type) != "object" then bad("corrupt"; "not a credential object")
  else ($o.Username | tagof("u")) as $u | ($o.Secret | tagof("s")) as $p
  | if $u == null or $p == null then bad("corrupt"; "username or secret is not a whole written value")
    elif $u != $p then bad("corrupt"; "username and secret come from different writes")
    elif $u.r != $r then bad("mixed"; "the credential of storm-\($u.r) came back for storm-\($r)")
    else seen($r; $u.n; $key; $src) end
  end;
def observations($regs; $items):
  if .op == "store" or .op == "erase" then
    if .rc == "0" and .out == "" then empty else bad("failed"; "\(.op) failed") end
  elif .op == "get" then
    if .rc == "0" then ((.out | fromjson?) // null) as $o
      | if ($o | type) == "object" and $o.ServerURL != .sp then bad("corrupt"; "answered for \($o.ServerURL)")
        else credential($o; .reg; "get"; null) end
    elif .rc == "1" and .out == $notfound then seen(.reg; null; null; "get")
    else bad("failed"; "get failed") end
  elif .op == "item" then (.out | split("\t")) as [$user, $secret]
    | credential({Username: $user, Secret: $secret}; .reg; .n; .sp)
  elif .op == "scan" then . as $rec
    | $regs[] as $r | select([$items[] | select(.reg == $r and .n == $rec.n)] | length == 0) | $rec | seen($r; null; null; .n)
  elif .op == "list" then
    if .rc != "0" then bad("failed"; "list failed")
    else . as $rec | ((.out | fromjson?) // null) as $l
    | if ($l | type) != "object" then bad("corrupt"; "list printed no JSON object")
      else ($l | to_entries | map(select(.key | test("storm"; "i")) | .reg = (.key | regof))) as $es
      | ($es[] | select(.reg == null) | . as $e | $rec | bad("corrupt"; "listed a mangled server \($e.key)")),
        ($regs[] as $r | ($es | map(select(.reg == $r))) as $mine
        | if ($mine | length) == 0 then $rec | seen($r; null; null; "list")
          elif ($mine | length) > 1 and ($store == "file" or $rec.final) then
            $rec | bad("duplicate"; "storm-\($r) listed \($mine | length) times: \($mine | map(.key) | join(", "))")
          else $mine[] | . as $e | (.value | tagof("u")) as $u
            | if $u == null then $rec | bad("corrupt"; "listed user \($e.value) for \($e.key)")
              elif $u.r != $r then $rec | bad("mixed"; "listed user \($e.value) for \($e.key)")
              else $rec | seen($r; $u.n; $e.key; "list") end
          end)
      end
    end
  else empty end;
[inputs | split("\t") | {w: .[0], k: .[1], op: .[2], reg: .[3], sp: .[4], n: .[5], s: (.[6] | tonumber),
  e: (.[7] | tonumber), rc: .[8], out: (.[9:] | join("\t"))} | .final = (.w == "f")] as $records
| [range(0; $nregs) | two] as $regs
| [$records[] | select(.op == "item")] as $items
| (reduce $regs[] as $r ({}; .[$r] = [{v: null, key: null, s: 0, e: 0, ok: true}])) as $empty
| (reduce ($records[] | select(.op == "store" or .op == "erase")) as $x ($empty;
    .[$x.reg] += [{v: (if $x.op == "store" then $x.n else null end), key: (if $x.op == "store" then $x.sp else null end),
                   s: $x.s, e: $x.e, ok: ($x.rc == "0")}])
   | map_values(. as $ws | map(. as $x | .ends = ([$ws[] | select(.ok and .s > $x.e) | .e] | min // 1e18)))) as $writes
| [$records[] | observations($regs; $items)] as $obs
| [$obs[] | if .cat then . else . as $o | $writes[$o.reg] as $ws
    | ($ws | map(select(.ends == 1e18) | .v // "absent") | unique | join(" or ")) as $model
    | if .final and (($ws | any(.v == $o.v and .s < $o.e and .ends > $o.s)) | not) then
        . + {cat: "final", why: "storm-\(.reg) \(.src): \(if .v == null then "lost, absent" else "holds \(.v)" end); the model allows \($model)"}
      elif ($ws | any(.v == $o.v)) | not then . + {cat: "unwritten", why: "storm-\(.reg) \(.src): \(.v) was never written to it"}
      elif ($ws | any(.v == $o.v and .s < $o.e and .ends > $o.s)) | not then
        . + {cat: "stale", why: "storm-\(.reg) \(.src): \(.v // "absent") was not current at any moment of the read"}
      elif .key != null and ([$ws[] | select(.v == $o.v) | .key][0]) != .key then
        . + {cat: "mixed", why: "storm-\(.reg) \(.src): \(.v) shows under \(.key), written under \([$ws[] | select(.v == $o.v) | .key][0])"}
      else . end
    end] as $judged
| ($judged[] | select(.cat) | "\(.cat)\t\(.why) [\(.rec)]"),
  ($judged | map(select(.final and .cat == null)) | group_by(.reg)[] | select(map(.v) | unique | length > 1)
   | "final\tstorm-\(.[0].reg): the final reads disagree: \(map("\(.src) \(.v // "absent")") | unique | join(", "))"),
  ($items | group_by(.n + .reg)[] | select(length > 1)
   | "duplicate\tstorm-\(.[0].reg) has \(length) \(.[0].n) entries: \(map(.sp) | join(", "))"),
  ([$records[] | select(.w != "f" and .w != "p")] as $ops
   | "stats\t\($ops | length) operations: \($ops | map(.op) | group_by(.) | map("\(length) \(.[0])") | join(", ")),"
     + " \($ops | map(select(.op == "get" and .rc == "1")) | length) gets found nothing;"
     + " at the end \($writes | map(select(any(.[]; .ends == 1e18 and .v != null))) | length) of \($nregs) registries hold a credential")
'

# storm_judge DIR STORE : the judge over DIR/records; violations to DIR/violations, the stats line printed.
storm_judge() {
  local dir=$1 store=$2
  jq -R -n -r --arg store "$store" --arg notfound "$NOT_FOUND" --argjson nregs "$STORM_REGS" "$STORM_JUDGE" \
    <"$dir/records" >"$dir/judged" || printf 'judge\tjq failed on %s\n' "$dir/records" >>"$dir/judged"
  grep -v $'^stats\t' "$dir/judged" >"$dir/violations"
  grep $'^stats\t' "$dir/judged" | cut -f2
}

storm_none() { # storm_none DIR CATEGORY… : passes when the judge ran and found nothing of these kinds
  local dir=$1 IFS='|'; shift
  grep -E "^(judge|$*)"$'\t' "$dir/violations" >"$dir/shown" || return 0
  storm_show "$dir/shown"
}

# storm_final DIR STORE : after the storm, every registry read back the ways a user can read it, recorded as
# operations of "f" so that the judge compares them with the model; plus what the store itself holds.
storm_final() {
  local dir=$1 store=$2 r nn k=0 sp host
  storm_run f $((k++)) list - - - >>"$dir/records"
  for ((r = 0; r < STORM_REGS; r++)); do
    storm_host "$r"; printf -v nn %02d "$r"
    for sp in "https://$host/" "$host" "HTTPS://$host" "${host^^}"; do
      storm_run f $((k++)) get "$nn" "$sp" - >>"$dir/records"
    done
  done
  local now=$EPOCHREALTIME server user secret
  if [ "$store" = secretservice ]; then
    # secret-tool prints the secret on stdout and the attributes on stderr; unbuffered, they stay in order.
    stdbuf -o0 secret-tool search --all docker_cli 1 2>&1 | awk '
      function flush() { if (server != "") print server "\t" user "\t" secret; server = user = secret = "" }
      /^\[/ { flush() }
      /^attribute\.server = / { server = substr($0, 20) }
      /^attribute\.username = / { user = substr($0, 22) }
      /^secret = / { secret = substr($0, 10) }
      END { flush() }' >"$dir/store-items"
  else
    jq -r '.credentials | to_entries[] | [.key, .value.username, .value.secret] | @tsv' \
      "$XDG_DATA_HOME/docker-credential-acr/credentials.json" >"$dir/store-items"
  fi
  local source=$store; [ "$store" = secretservice ] && source=keyring
  while IFS=$'\t' read -r server user secret; do
    [[ ${server,,} =~ storm-([0-9]+)\.example\.com ]] || continue
    printf 'f\t%s\titem\t%s\t%s\t%s\t%s\t%s\t0\t%s\t%s\n' $((k++)) "${BASH_REMATCH[1]}" "$server" "$source" "$now" "$now" "$user" "$secret"
  done <"$dir/store-items" >>"$dir/records"
  printf 'f\t%s\tscan\t-\t-\t%s\t%s\t%s\t0\t\n' $((k++)) "$source" "$now" "$now" >>"$dir/records"
}

storm_suite() { # storm_suite STORE : STORM_OPS mixed operations from STORM_PROCS processes on one store
  local store=$1 s="[$1 storm]"
  export DOCKER_CREDENTIAL_ACR_STORE=$store
  local dir="$WORK/storm-$store" r nn w sp host started=$EPOCHREALTIME
  STORM_DIR=$dir
  rm -rf "$dir"; mkdir -p "$dir"
  echo "$s $STORM_OPS operations, $STORM_PROCS processes, $STORM_REGS registries ($STORM_SHARED shared), seed $STORM_SEED"
  RANDOM=$STORM_SEED
  # Every registry starts with a credential, recorded as a write of "p".
  for ((r = 0; r < STORM_REGS; r++)); do
    storm_spell "$r"; printf -v nn %02d "$r"; storm_run p "$r" store "$nn" "$sp" p
  done >"$dir/records"

  local storm=$EPOCHREALTIME pids=()
  for ((w = 0; w < STORM_PROCS; w++)); do
    storm_worker "$w" $((STORM_OPS / STORM_PROCS + (w < STORM_OPS % STORM_PROCS))) $((STORM_SEED * 131 + w)) >"$dir/records-$w" &
    pids+=($!)
  done
  wait "${pids[@]}" # only these: a runner may have other jobs running (the Azure emulator)
  local storm_end=$EPOCHREALTIME
  cat "$dir"/records-* >>"$dir/records"
  storm_final "$dir" "$store"
  local stats; stats=$(storm_judge "$dir" "$store")
  echo "$s $stats"

  check "$s the records hold every operation" test "$(cat "$dir"/records-* | wc -l)" = "$STORM_OPS"
  check "$s every store, erase and list succeeded, and every get found a credential or said not found" \
    storm_none "$dir" failed
  check "$s no read returned a corrupt credential (user and secret of one write, for the spelling asked)" \
    storm_none "$dir" corrupt
  check "$s no read returned another registry's credential" storm_none "$dir" mixed
  check "$s every value read was written to that registry" storm_none "$dir" unwritten
  check "$s every read returned a value current during the read (none outdated before it began)" \
    storm_none "$dir" stale
  check "$s no registry had two entries at once" storm_none "$dir" duplicate
  check "$s at the end list, get under 4 spellings and the store hold the model's state: none lost, none extra" \
    storm_none "$dir" final
  if [ "$store" = file ]; then
    local data="$XDG_DATA_HOME/docker-credential-acr"
    check "$s credentials.json is valid JSON, 0600" \
      bash -c "jq -e .credentials '$data/credentials.json' >/dev/null && test \"\$(stat -c %a '$data/credentials.json')\" = 600"
    check "$s no temporary file is left" bash -c "! ls '$data' | grep -v -x -e credentials.json -e credentials.lock"
  fi
  check "$s no helper wrote an error on stderr" storm_show "$dir/stderr"

  for ((r = 0; r < STORM_REGS; r++)); do storm_host "$r"; helper erase "$host" >/dev/null 2>>"$dir/stderr"; done
  echo "$s timings: storm $(storm_seconds "$storm" "$storm_end") s ($STORM_OPS operations), whole suite $(storm_seconds "$started" "$EPOCHREALTIME") s"
  unset DOCKER_CREDENTIAL_ACR_STORE
}

storm_seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
# Microseconds since the epoch in $us, without a subshell: the kill moments need busy loops finer than a fork.
storm_now() { us=${EPOCHREALTIME/./}; us=$((10#$us)); }

# kill_writer_suite : STORM_KILLS stores into a file store of STORM_PREFILL entries, each killed with SIGKILL at
# a random moment; every time the store must read back whole, private, and take the next write at once.
kill_writer_suite() {
  local s="[file store kill -9]"
  export DOCKER_CREDENTIAL_ACR_STORE=file
  local dir="$WORK/kill" data="$XDG_DATA_HOME/docker-credential-acr" i pad started=$EPOCHREALTIME
  local file="$XDG_DATA_HOME/docker-credential-acr/credentials.json"
  rm -rf "$dir"; mkdir -p "$dir"
  STORM_DIR=$dir
  RANDOM=$STORM_SEED
  printf unused >"$dir/unused" # what Docker sends to list
  pad=$(printf '%0300d' 0)
  for ((i = 0; i < STORM_PREFILL; i++)); do
    helper store "$(cred "kill-$i.example.com" "user-$i" "secret-$i-$pad")" >/dev/null || echo "prefill $i failed" >>"$dir/errors"
  done
  check "$s $STORM_PREFILL entries stored first" test ! -s "$dir/errors"
  # What every later read must still show: the prefilled users, and the secrets in the file.
  jq -n --argjson n "$STORM_PREFILL" '[range(0; $n) | {key: "kill-\(.).example.com", value: "user-\(.)"}] | from_entries' >"$dir/users"
  jq -n --argjson n "$STORM_PREFILL" --arg pad "$pad" \
    '[range(0; $n) | {key: "kill-\(.).example.com", value: {username: "user-\(.)", secret: "secret-\(.)-\($pad)"}}] | from_entries' >"$dir/entries"

  # How long an undisturbed store takes: the random kill moments span it.
  local t0 total=0 duration us
  for i in 1 2 3 4 5; do
    cred victim.example.com victim "calibrate-$i" >"$dir/input"
    storm_now; t0=$us; "$HELPER" store <"$dir/input" >/dev/null; storm_now
    total=$((total + us - t0))
  done
  duration=$((total / 5))
  local previous=calibrate-5 kills=$STORM_KILLS
  local finished=0 before=0 midwrite=0 after=0 slowest=0 pid rc tmp start deadline got mode victim_seen
  local victim_json='{"ServerURL":"victim.example.com","Username":"victim","Secret":'
  echo "$s $kills kills; an undisturbed store takes $((duration / 1000)) ms"
  for ((i = 0; i < kills; i++)); do
    cred victim.example.com victim "killed-$i" >"$dir/input"
    storm_now; start=$us
    "$HELPER" store <"$dir/input" >/dev/null 2>>"$dir/stderr" &
    pid=$!
    tmp="$file.$pid.tmp"
    if ((i % 2 == 0)); then
      # Any moment from start to end of a write.
      deadline=$((start + RANDOM * duration / 32768))
      while storm_now; ((us < deadline)); do :; done
    else
      # Aimed at the write itself: as soon as the temporary file appears, plus up to 300 µs.
      deadline=$((start + 2 * duration))
      while [ ! -e "$tmp" ] && storm_now && ((us < deadline)); do :; done
      storm_now; deadline=$((us + RANDOM % 300))
      while storm_now; ((us < deadline)); do :; done
    fi
    kill -9 "$pid" 2>/dev/null
    { wait "$pid"; } 2>/dev/null; rc=$?
    got=$(helper get victim.example.com 2>>"$dir/stderr") || got="get failed: $got"
    if [ "$rc" = 0 ]; then finished=$((finished + 1))
    elif [ "$rc" != 137 ]; then echo "kill $i: the store exited $rc" >>"$dir/exits"
    elif [ -e "$tmp" ]; then midwrite=$((midwrite + 1))
    elif [[ $got == *'"Secret":"killed-'$i'"}' ]]; then after=$((after + 1))
    else before=$((before + 1)); fi

    # The store reads back whole.
    "$HELPER" list <"$dir/unused" >"$dir/list" 2>>"$dir/stderr" || echo "kill $i: list exited $?" >>"$dir/list-errors"
    jq -e --slurpfile want "$dir/users" '. as $l | $want[0] | to_entries | all(.value == $l[.key])' "$dir/list" >/dev/null 2>&1 ||
      echo "kill $i: list lacks prefilled entries: $(head -c 200 "$dir/list")" >>"$dir/list-errors"
    jq -e --slurpfile want "$dir/entries" '.credentials as $c | $want[0] | to_entries | all(.value == $c[.key])' "$file" >/dev/null 2>&1 ||
      echo "kill $i: credentials.json does not parse or lacks prefilled entries" >>"$dir/file-errors"
    mode=$(stat -c %a "$file"); [ "$mode" = 600 ] || echo "kill $i: credentials.json is $mode" >>"$dir/mode-errors"
    case $got in
      "$victim_json\"killed-$i\"}" | "$victim_json\"$previous\"}") ;;
      *) echo "kill $i: victim.example.com reads $got (wanted $previous or killed-$i)" >>"$dir/victim-errors" ;;
    esac
    victim_seen=${got#*'"Secret":"'}; previous=${victim_seen%'"}'}

    # The next writer is not held up, by a lock or by what the killed one left behind.
    storm_now; t0=$us
    if ! cred after.example.com after "after-$i" | timeout 10 "$HELPER" store >/dev/null 2>>"$dir/stderr" ||
      [ "$(printf after.example.com | timeout 10 "$HELPER" get 2>>"$dir/stderr")" != \
        '{"ServerURL":"after.example.com","Username":"after","Secret":"after-'$i'"}' ]; then
      echo "kill $i: the next store+get failed" >>"$dir/next-errors"
    fi
    storm_now; ((us - t0 > slowest)) && slowest=$((us - t0))
  done
  local leftovers; leftovers=$(find "$data" -name 'credentials.json.*.tmp' | wc -l)
  echo "$s outcomes: $midwrite killed mid-write (temporary file present), $before killed before writing, $after killed after the rename, $finished finished before the kill"
  echo "$s slowest next store+get: $((slowest / 1000)) ms; temporary files left behind: $leftovers"
  check "$s every killed store died by SIGKILL or had finished" storm_show "$dir/exits"
  check "$s list exited 0 with every prefilled entry after every kill" storm_show "$dir/list-errors"
  check "$s credentials.json parsed with every prefilled entry after every kill" storm_show "$dir/file-errors"
  check "$s credentials.json stayed 0600" storm_show "$dir/mode-errors"
  check "$s the victim held its previous credential or the killed store's, whole" storm_show "$dir/victim-errors"
  check "$s the next store+get worked after every kill, under 10 s" storm_show "$dir/next-errors"
  check "$s the next store+get never waited long on a lock (slowest $((slowest / 1000)) ms < 5 s)" test "$slowest" -lt 5000000
  if ((kills >= 50)); then
    check "$s some kills hit mid-write (else this suite tests nothing)" test "$midwrite" -gt 0
  fi
  check "$s temporary files left behind are 0600" bash -c "! find '$data' -name 'credentials.json.*.tmp' ! -perm 600 | grep ."

  # Erase what this suite stored: no copy of those secrets may stay behind (a killed writer's temporary
  # file holds every secret the store had; `docker logout` must not leave them on disk).
  for ((i = 0; i < STORM_PREFILL; i++)); do helper erase "kill-$i.example.com" >/dev/null 2>>"$dir/stderr"; done
  helper erase victim.example.com >/dev/null 2>>"$dir/stderr"; helper erase after.example.com >/dev/null 2>>"$dir/stderr"
  check "$s erased secrets leave no copy in the store's folder" bash -c "! grep -l -r -F -e 'secret-0-$pad' '$data'"
  find "$data" -name 'credentials.json.*.tmp' -delete
  echo "$s timings: whole suite $(storm_seconds "$started" "$EPOCHREALTIME") s"
  unset DOCKER_CREDENTIAL_ACR_STORE
}

storm_show() { # storm_show FILE : passes when FILE is empty; else shows its first lines
  [ ! -s "$1" ] && return 0
  head -n 6 "$1"; echo "($(wc -l <"$1") in all)"; return 1
}
