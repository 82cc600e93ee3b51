#!/usr/bin/env bash
# The installed size of the two binaries, stripped as the Debian package strips them, against the 40 MB
# goal, and what takes the space: the symbols of each binary summed by the module that defines them (Swift
# symbols by their mangled module name; C and C++ ones together). Markdown on stdout; bench.sh includes it.
#
#   Scripts/sizes.sh BIN_PATH
set -euo pipefail
bin=$(readlink -f "${1:?usage: sizes.sh BIN_PATH}")
work=$(mktemp -d "${TMPDIR:-/tmp}/docker-credential-acr-sizes.XXXXXX")
trap 'rm -rf "$work"' EXIT
goal=$((40 * 1000 * 1000))
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1000000 }'; }

total=0
echo "## 7. Installed size (MB, stripped as \`make deb\` strips them)"
echo
echo "binary | unstripped | stripped | largest parts (symbol bytes by defining module)"
echo "--- | ---: | ---: | ---"
for name in docker-credential-acr docker-credential-acr-engine; do
  strip --strip-unneeded --remove-section=.comment --remove-section=.note -o "$work/$name" "$bin/$name"
  size=$(stat -c %s "$work/$name"); total=$((total + size))
  parts=$(nm -S --defined-only "$bin/$name" | python3 -c '
import collections, re, sys
modules = collections.Counter()
for line in sys.stdin:
    fields = line.split()
    if len(fields) < 4: continue
    name = fields[3]
    found = re.match(r"\$s(\d+)", name)
    module = name[found.end():found.end() + int(found.group(1))] if found else ("Swift" if name.startswith("$s") else "C/C++")
    modules[module] += int(fields[1], 16)
print(", ".join(f"{module} {size / 1e6:.1f}" for module, size in modules.most_common(6)))')
  echo "\`$name\` | $(mb "$(stat -c %s "$bin/$name")") | $(mb "$size") | $parts"
done
echo "both | | $(mb $total) | goal ≤ 40 MB: $([ $total -le $goal ] && echo met || echo "not met")"
echo
echo "\"Swift\" is the standard library and runtime, linked in statically; both reach Azure through libcurl and the OpenSSL it loads, shared libraries of the system (Depends), not counted here."
