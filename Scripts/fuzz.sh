#!/usr/bin/env bash
# Fuzzes Docker's protocol input and the JWT/claims parser with libFuzzer for a bounded time each
# (`make stress`). Each target starts from its seeds and the inputs that once failed (Tests/Fuzz); an input
# that breaks a property is saved to Tests/Fuzz/Regressions/<target>/, where `make test` replays it from
# then on, and the run fails.
#
#   Scripts/fuzz.sh [SECONDS_PER_TARGET]      (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
targets=(ProtocolInputFuzz TokenClaimsFuzz)
work=$(mktemp -d "${TMPDIR:-/tmp}/docker-credential-acr-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
# A build folder of its own: every module is instrumented (-sanitize=fuzzer,address); lld, because gold
# fails on libFuzzer's main beside the renamed one of SwiftPM executables (Tests/Fuzz/toolset.json).
for target in "${targets[@]}"; do
  swift build -c release --scratch-path .build-fuzz --toolset Tests/Fuzz/toolset.json --product "$target" >"$work/build.log" 2>&1 ||
    { grep -v "Cannot export local symbol" "$work/build.log" | tail -n 30 >&2; echo "fuzz: $target did not build" >&2; exit 1; }
done
failed=0
for target in "${targets[@]}"; do
  mkdir -p "$work/$target/corpus" "$work/$target/crashes"
  cp Tests/Fuzz/Corpus/"$target"/* Tests/Fuzz/Regressions/"$target"/* "$work/$target/corpus/" 2>/dev/null || true
  echo "fuzz: $target for $seconds s"
  if ! (cd "$work/$target" && "$OLDPWD/.build-fuzz/release/$target" -max_total_time="$seconds" -max_len=4096 \
        -artifact_prefix="$work/$target/crashes/" -print_final_stats=1 corpus >log 2>&1); then
    failed=1
    grep -m 3 -E "Fatal error|ERROR: " "$work/$target/log" >&2 || tail -n 20 "$work/$target/log" >&2
    for crash in "$work/$target/crashes"/*; do
      [ -e "$crash" ] || continue
      saved="Tests/Fuzz/Regressions/$target/$(basename "$crash")"
      mkdir -p "Tests/Fuzz/Regressions/$target"
      cp "$crash" "$saved"
      echo "fuzz: $target failed on an input, saved as $saved (replayed by make test from now on)" >&2
    done
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$work/$target/log" | sed "s/^/fuzz: $target /"
done
exit "$failed"
