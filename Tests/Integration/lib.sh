# Assertions for the integration tests, sourced by run.sh. Each check prints PASS/FAIL with its name;
# run.sh ends with the line "N passed, N failed".
PASSED=0
FAILED=0

pass() { PASSED=$((PASSED + 1)); echo "PASS: $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $1"; shift; for line in "$@"; do echo "    $line"; done; }

# expect NAME EXPECTED_STATUS EXPECTED_STDOUT COMMAND… : runs COMMAND, compares exit status and stdout exactly.
expect() {
  local name=$1 status=$2 stdout=$3; shift 3
  local out rc=0
  out=$("$@" 2>"$WORK/stderr") || rc=$?
  if [ "$rc" = "$status" ] && [ "$out" = "$stdout" ]; then pass "$name"
  else fail "$name" "status: $rc (wanted $status)" "stdout: $(printf %q "$out")" "wanted: $(printf %q "$stdout")" "stderr: $(head -c 400 "$WORK/stderr")"; fi
}

# check NAME COMMAND… : passes when COMMAND exits 0.
check() {
  local name=$1; shift
  if "$@" >"$WORK/check.out" 2>&1; then pass "$name"; else fail "$name" "$(tail -n 8 "$WORK/check.out")"; fi
}

# helper ACTION [STDIN] : runs the helper under test with STDIN (a string) as its input.
helper() { printf '%s' "${2-}" | "$HELPER" "$1"; }

# cred SERVER USER SECRET : the JSON Docker sends to `store`.
cred() { printf '{"ServerURL":"%s","Username":"%s","Secret":"%s"}' "$1" "$2" "$3"; }

# snapshot : everything the stores hold, to compare before and after an action that must change nothing.
snapshot() {
  { secret-tool search --all docker_cli 1 2>&1 | grep -v -E '^(created|modified) = ' | sort
    for f in "$XDG_DATA_HOME"/docker-credential-acr/*; do [ -e "$f" ] && { echo "$f"; cat "$f"; }; done; } 2>/dev/null
}

not_in_file_store() { # not_in_file_store TEXT : the file store does not mention TEXT
  ! grep -qF "$1" "$XDG_DATA_HOME/docker-credential-acr/credentials.json" 2>/dev/null
}

wait_for_http() { # wait_for_http URL : until something answers there (5 s at most)
  for _ in $(seq 250); do curl -s -o /dev/null "$1" && return 0; sleep 0.02; done
  return 1
}

make_test_image() { # make_test_image DIR : a one-layer OCI image layout to push with skopeo
  local d=$1
  rm -rf "$d"; mkdir -p "$d/blobs/sha256" "$d/root"
  echo hello >"$d/root/hello.txt"
  tar -C "$d/root" --owner=0 --group=0 --mtime=@0 -cf "$d/layer.tar" hello.txt
  gzip -n -c "$d/layer.tar" >"$d/layer.tgz"
  local diff layer size config csize manifest msize
  diff=$(sha256sum "$d/layer.tar" | cut -d' ' -f1); layer=$(sha256sum "$d/layer.tgz" | cut -d' ' -f1)
  size=$(stat -c %s "$d/layer.tgz"); mv "$d/layer.tgz" "$d/blobs/sha256/$layer"
  printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$diff" >"$d/config.json"
  config=$(sha256sum "$d/config.json" | cut -d' ' -f1); csize=$(stat -c %s "$d/config.json"); mv "$d/config.json" "$d/blobs/sha256/$config"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
    "$config" "$csize" "$layer" "$size" >"$d/manifest.json"
  manifest=$(sha256sum "$d/manifest.json" | cut -d' ' -f1); msize=$(stat -c %s "$d/manifest.json"); mv "$d/manifest.json" "$d/blobs/sha256/$manifest"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}' \
    "$manifest" "$msize" >"$d/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' >"$d/oci-layout"
  rm -rf "$d/root" "$d/layer.tar"
}
