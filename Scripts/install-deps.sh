#!/usr/bin/env bash
# Installs, with apt-get, what the build and the tests need and is not there yet.
# Idempotent: prints nothing and touches nothing when everything is installed.
set -euo pipefail

packages=(
  pkg-config libsystemd-dev libmd-dev libssl-dev libcurl4-openssl-dev  # build: sd-bus (the keyring) and libmd (SHA-256); OpenSSL (PEM, PKCS#12, signing) and libcurl, through pkg-config
  libsecret-tools gnome-keyring dbus dbus-daemon dbus-bin dbus-user-session  # a private Secret Service
  docker-registry apache2-utils skopeo # a real registry with htpasswd, a real client
  golang-docker-credential-helpers     # Docker's own secretservice helper: the compatibility reference
  podman buildah                       # containers/image clients: login, pull, logout
  tinyproxy iproute2                   # a real proxy, in a network namespace of the tests' own (ip)
  dpkg-dev lintian patchelf man-db     # make deb: dpkg-shlibdeps for Depends, lintian, no RUNPATH; man for its test
  jq curl python3 python3-venv ca-certificates openssl  # python3-venv: Microsoft's clients from PyPI (reference.sh)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Docker CLI: only the client is needed (docker login works without a daemon). Where none is
# installed, take the client binary out of Debian's docker.io package without installing the daemon.
if ! command -v docker >/dev/null 2>&1; then
  echo "install-deps: extracting the Docker CLI from Debian's docker.io package" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  dir=/opt/docker-cli
  rm -rf "$dir" && mkdir -p "$dir"
  (cd "$dir" && apt-get download -qq docker.io && dpkg-deb -x docker.io_*.deb root)
  ln -sf "$dir/root/usr/bin/docker" /usr/local/bin/docker
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "install-deps: no Swift toolchain on PATH (this project needs Swift 6; add its usr/bin to PATH)" >&2
  exit 1
fi
