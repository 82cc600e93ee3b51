# 64 processes at once on one store: nothing lost, no entry corrupt or mixed up.

concurrency_suite() {
  local store=$1 s="[$1 concurrency]"
  export DOCKER_CREDENTIAL_ACR_STORE=$store
  local out="$WORK/concurrency-$store"
  rm -rf "$out"; mkdir -p "$out"

  # Distinct registries: each process stores, reads back, and every other one erases its entry.
  for i in $(seq 0 63); do
    ( helper store "$(cred "par$i.example.com" "user$i" "secret-$i")" >/dev/null || echo "store $i failed" >>"$out/errors"
      got=$(helper get "par$i.example.com") || echo "get $i failed" >>"$out/errors"
      [ "$got" = '{"ServerURL":"par'$i'.example.com","Username":"user'$i'","Secret":"secret-'$i'"}' ] || echo "get $i: $got" >>"$out/errors"
      if [ $((i % 2)) = 1 ]; then helper erase "par$i.example.com" >/dev/null || echo "erase $i failed" >>"$out/errors"; fi
    ) &
  done
  wait
  check "$s distinct registries: every action succeeded" test ! -s "$out/errors"
  local wanted; wanted=$(for i in $(seq 0 2 63); do printf '"par%s.example.com":"user%s"\n' "$i" "$i"; done | sort | paste -sd, -)
  check "$s distinct registries: exactly the 32 kept entries remain" \
    test "$(helper list | jq -r 'to_entries | map(select(.key | startswith("par"))) | map("\"\(.key)\":\"\(.value)\"") | .[]' | sort | paste -sd, -)" = "$wanted"

  # One registry: 64 writers and 64 readers at once. A reader sees nothing yet or one whole pair.
  for i in $(seq 0 63); do
    ( helper store "$(cred "https://same.example.com" "user$i" "secret-$i")" >/dev/null || echo "store $i failed" >>"$out/errors-same" ) &
    ( got=$(helper get "same.example.com") && echo "$got" >>"$out/reads" ) &
  done
  wait
  check "$s one registry: every store succeeded" test ! -s "$out/errors-same"
  check "$s one registry: every read was one whole pair" \
    bash -c "[ ! -s '$out/reads' ] || jq -e -s 'all(.[]; (.Username | ltrimstr(\"user\")) == (.Secret | ltrimstr(\"secret-\")))' '$out/reads'"
  check "$s one registry: one entry at the end" test "$(helper list | jq '[keys[] | select(test("same"))] | length')" = 1
  check "$s one registry: the survivor is whole" \
    bash -o pipefail -c "helper() { printf %s \"\$2\" | \"$HELPER\" \"\$1\"; }; helper get same.example.com | jq -e '(.Username | ltrimstr(\"user\")) == (.Secret | ltrimstr(\"secret-\"))'"

  for i in $(seq 0 2 63); do helper erase "par$i.example.com" >/dev/null; done
  helper erase same.example.com >/dev/null
  unset DOCKER_CREDENTIAL_ACR_STORE
}
