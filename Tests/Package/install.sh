#!/usr/bin/env bash
# The Debian package as a user installs it: `apt-get install ./docker-credential-acr_….deb`, then, with
# nothing from the build folder on PATH, docker login / manifest inspect / logout against Debian's
# docker-registry through /usr/bin/docker-credential-acr, a cold ACR get against the Azure emulator (the
# engine found in /usr/libexec), its man page and completions; `dpkg --purge` then leaves none of its
# files. Installs system-wide, so it needs root and refuses to run where the package is installed already.
# `make package-test` runs it inside Scripts/with-keyring.sh:
#
#   Scripts/with-keyring.sh Tests/Package/install.sh DIST_DIR
set -uo pipefail
dist=$(readlink -f "${1:?usage: install.sh DIST_DIR}")
deb=$(ls "$dist"/docker-credential-acr_*.deb 2>/dev/null | head -n 1)
here=$(readlink -f "$(dirname "$0")/../Integration")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/docker-credential-acr-package-test.XXXXXX")
trap 'kill "${EMU_PID:-}" "${REGISTRY_PID:-}" 2>/dev/null; rm -rf "$WORK"' EXIT
export WORK XDG_STATE_HOME="$WORK/state"
source "$here/lib.sh"
s="[package]"
[ -n "$deb" ] || { echo "FAIL: $s no .deb in $dist (make deb)"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "FAIL: $s installing the package needs root (apt-get install)"; exit 1; }
if dpkg -s docker-credential-acr >/dev/null 2>&1 || [ -e /usr/bin/docker-credential-acr ]; then
  echo "FAIL: $s docker-credential-acr is installed on this machine already; this test installs and purges it"; exit 1
fi

DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >"$WORK/apt.log" 2>&1
check "$s apt-get install ./$(basename "$deb")" dpkg -s docker-credential-acr
# The engine opens libcurl at run time, so dpkg-shlibdeps cannot see it: the package must name it itself.
check "$s the package depends on libcurl4, which the engine loads at run time" \
  bash -c "dpkg -s docker-credential-acr | grep -q '^Depends:.*libcurl4 (>= '"
files=$(dpkg -L docker-credential-acr | while read -r path; do [ -f "$path" ] && echo "$path"; done)
# Only the installed helper: no build folder, no test folder on PATH.
DOCKER_DIR=$(dirname "$(command -v docker)")
export PATH="/usr/bin:/bin:$DOCKER_DIR"
export HELPER=/usr/bin/docker-credential-acr
check "$s the helper on PATH is the installed one" test "$(command -v docker-credential-acr)" = /usr/bin/docker-credential-acr
check "$s version answers as Docker expects" bash -c "docker-credential-acr version | head -n 1 | grep -q '^docker-credential-acr (docker-credential-acr) [0-9]'"

# Docker against a real registry with htpasswd, through the installed helper (the keyring of this session).
reg=127.0.0.1:${PACKAGE_REGISTRY_PORT:-5075}
mkdir -p "$WORK/registry/data" "$WORK/docker"
htpasswd -Bbn tester registry-pass >"$WORK/registry/htpasswd"
printf 'version: 0.1\nlog: {level: warn}\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: "%s", secret: not-a-secret}\nauth: {htpasswd: {realm: test, path: %s}}\n' \
  "$WORK/registry/data" "$reg" "$WORK/registry/htpasswd" >"$WORK/registry/config.yml"
docker-registry serve "$WORK/registry/config.yml" >"$WORK/registry/log" 2>&1 &
REGISTRY_PID=$!
check "$s a registry answers on $reg" wait_for_http "http://$reg/v2/"
source "$here/../../Scripts/test-image.sh"
make_test_image "$WORK/image"
skopeo copy --quiet --format v2s2 --dest-tls-verify=false --dest-creds tester:registry-pass "oci:$WORK/image:latest" "docker://$reg/test/hello:1"
export DOCKER_CONFIG="$WORK/docker"
echo '{"credsStore": "acr"}' >"$DOCKER_CONFIG/config.json"
check "$s docker login through /usr/bin/docker-credential-acr" \
  bash -c "echo registry-pass | docker login '$reg' -u tester --password-stdin 2>&1 | grep -q 'Login Succeeded'"
check "$s docker manifest inspect with the stored credential" \
  bash -o pipefail -c "docker manifest inspect --insecure '$reg/test/hello:1' | jq -e '.schemaVersion == 2'"
check "$s docker logout erases it" bash -c "docker logout '$reg' 2>&1 | grep -q 'Removing login credentials' && ! docker-credential-acr list | grep -q '$reg'"
unset DOCKER_CONFIG

# A cold ACR get: the installed front hands over to the engine in /usr/libexec.
source "$here/acr.sh"
emulator_start
export DOCKER_CREDENTIAL_ACR_STORE=file XDG_DATA_HOME="$WORK/data"
check "$s a cold ACR get against the emulator (the engine from /usr/libexec)" derives_token "$REG" "${SP[@]}"
check "$s ... logged as derived" grep -q "derived ACR refresh token" "$XDG_STATE_HOME/docker-credential-acr/log"

check "$s man docker-credential-acr" bash -c "MANPAGER=cat man docker-credential-acr 2>/dev/null | grep -q 'Docker credential helper for Azure'"
check "$s ... names every subcommand" bash -c "MANPAGER=cat man docker-credential-acr 2>/dev/null | grep -q 'kubelet' && MANPAGER=cat man docker-credential-acr | grep -q 'diagnose'"
check "$s bash completion" bash -c "source /usr/share/bash-completion/completions/docker-credential-acr && complete -p docker-credential-acr"
check "$s zsh and fish completions are in their vendor folders" \
  test -s /usr/share/zsh/vendor-completions/_docker-credential-acr -a -s /usr/share/fish/vendor_completions.d/docker-credential-acr.fish

# dpkg wants ldconfig, which is in the sbin folders.
PATH=/usr/sbin:/sbin:$PATH dpkg --purge docker-credential-acr >"$WORK/purge.log" 2>&1
check "$s dpkg --purge" bash -c "! dpkg -s docker-credential-acr >/dev/null 2>&1"
left=$(for path in $files; do [ -e "$path" ] && echo "$path"; done)
check "$s ... leaves none of its files behind" test -z "$left"
[ -z "$left" ] || echo "    left: $left"
check "$s ... nor its folders" test ! -e /usr/libexec/docker-credential-acr -a ! -e /usr/share/doc/docker-credential-acr
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
