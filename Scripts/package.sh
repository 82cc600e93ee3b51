#!/usr/bin/env bash
# Builds the Debian package and the release tarball from the release build, with Debian's own tools:
#
#   Scripts/package.sh deb|dist BIN_PATH OUT_DIR
#
# deb:  OUT_DIR/docker-credential-acr_<version>_<arch>.deb (dpkg-deb; Depends from dpkg-shlibdeps), then
#       lintian on it (errors fail the build).
# dist: OUT_DIR/docker-credential-acr-<version>-linux-<arch>.tar.gz of the same tree, and SHA256SUMS.
# Needs dpkg-dev, lintian and patchelf (Scripts/install-deps.sh).
# The version is the one the binary reports (HelperVersion, the only place it is written).
set -euo pipefail
mode=${1:?usage: package.sh deb|dist BIN_PATH OUT_DIR}
bin=$(readlink -f "${2:?usage: package.sh deb|dist BIN_PATH OUT_DIR}")
out=$(mkdir -p "${3:?usage: package.sh deb|dist BIN_PATH OUT_DIR}" && readlink -f "$3")
here=$(dirname "$(readlink -f "$0")")
name=docker-credential-acr
version=$("$bin/$name" version | head -n 1 | awk '{print $NF}')
# The Debian revision of this packaging.
revision=1
arch=$(dpkg --print-architecture)
work=$(mktemp -d "${TMPDIR:-/tmp}/$name-package.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The installed tree, as `make install PREFIX=/usr` lays it out, stripped, with man page and completions.
root="$work/root"
install -d "$root/usr/bin" "$root/usr/libexec/$name" "$root/usr/share/man/man1" "$root/usr/share/doc/$name" \
  "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" "$root/usr/share/fish/vendor_completions.d"
install -m 755 "$bin/$name" "$root/usr/bin/$name"
install -m 755 "$bin/$name-engine" "$root/usr/libexec/$name/$name-engine"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/$name" "$root/usr/libexec/$name/$name-engine"
# The toolchain's library folder, which a build leaves as RUNPATH: the Swift runtime is linked in statically.
patchelf --remove-rpath "$root/usr/bin/$name" "$root/usr/libexec/$name/$name-engine"
mkdir -p "$work/man"
"$bin/generate-manual" "$bin/$name-engine" --output-directory "$work/man" --section 1 --authors "the docker-credential-acr maintainers" >/dev/null
# Blank lines of the help texts are paragraph breaks in mdoc.
sed 's/^$/.Pp/' "$work/man/$name.1" | gzip -9n >"$root/usr/share/man/man1/$name.1.gz"
# bash-completion sources its scripts: no #! line.
"$bin/$name" --generate-completion-script bash | sed '1{/^#!/d}' >"$root/usr/share/bash-completion/completions/$name"
"$bin/$name" --generate-completion-script zsh >"$root/usr/share/zsh/vendor-completions/_$name"
"$bin/$name" --generate-completion-script fish >"$root/usr/share/fish/vendor_completions.d/$name.fish"
chmod 644 "$root"/usr/share/*completion*/*/* "$root"/usr/share/fish/vendor_completions.d/*

# Machine-readable copyright: this project and every Swift package linked into the binaries.
{
  printf 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: %s\n\n' "$name"
  printf 'Files: *\nCopyright: 2026 the docker-credential-acr maintainers\nLicense: Apache-2.0\n\n'
  # The package graph as resolved (a build folder may hold checkouts of packages no longer used).
  for package in $(cd "$here/.." && ${SWIFT:-swift} package show-dependencies --format flatlist 2>/dev/null); do
    printf 'Files: %s/*\nCopyright: the %s authors (statically linked)\nLicense: Apache-2.0\n\n' "$package" "$package"
  done
  printf 'Files: swift-runtime/*\nCopyright: Apple Inc. and the Swift project authors (the statically linked Swift runtime and Foundation)\nLicense: Apache-2.0\nComment: with the Runtime Library Exception\n\n'
  printf 'License: Apache-2.0\n On Debian systems, the full text of the Apache License, Version 2.0 is in\n /usr/share/common-licenses/Apache-2.0.\n'
} >"$root/usr/share/doc/$name/copyright"
{
  printf '%s (%s-%s) unstable; urgency=medium\n\n  * Release %s, built from commit %s.\n\n' \
    "$name" "$version" "$revision" "$version" "$(git -C "$here" describe --always --dirty --abbrev=12 --exclude='*' 2>/dev/null || echo unknown)"
  printf ' -- docker-credential-acr maintainers <maintainers@docker-credential-acr.invalid>  %s\n' "$(date -R -d "@$(git -C "$here" log -1 --format=%ct 2>/dev/null || date +%s)")"
} | gzip -9n >"$root/usr/share/doc/$name/changelog.Debian.gz"
find "$root" -type d -exec chmod 755 {} +

if [ "$mode" = dist ]; then
  tarball="$name-$version-linux-$arch.tar.gz"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$(git -C "$here" log -1 --format=%ct 2>/dev/null || date +%s)" \
    -C "$root" -czf "$out/$tarball" usr
  (cd "$out" && sha256sum "$tarball" >SHA256SUMS)
  echo "$out/$tarball"
  exit 0
fi
[ "$mode" = deb ] || { echo "package.sh: unknown mode $mode" >&2; exit 2; }

# Depends from the shared libraries the binaries actually link (dpkg-shlibdeps reads a debian/control).
mkdir -p "$work/src/debian"
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$name" "$name" >"$work/src/debian/control"
depends=$(cd "$work/src" && dpkg-shlibdeps -O -e"$root/usr/bin/$name" -e"$root/usr/libexec/$name/$name-engine" 2>/dev/null |
  sed -n 's/^shlibs:Depends=//p')
# libcurl is opened with dlopen (Sources/CLibCurl), which dpkg-shlibdeps cannot see: the dependency its
# package declares for libcurl.so.4 in its shlibs file.
curl_package=$(dpkg-query -S "$(readlink -f "$(ldconfig -p | awk '$1 == "libcurl.so.4" { print $NF; exit }')")" | cut -d: -f1)
curl_depends=$(awk '$1 == "libcurl" && $2 == "4" { $1 = $2 = ""; sub(/^ +/, ""); print; exit }' \
  "$(dpkg-query --control-path "$curl_package" shlibs)")
[ -n "$curl_depends" ] || { echo "package.sh: no shlibs entry for libcurl.so.4 (package $curl_package)" >&2; exit 1; }
depends="$depends, $curl_depends"
mkdir -p "$root/DEBIAN"
cat >"$root/DEBIAN/control" <<CONTROL
Package: $name
Version: $version-$revision
Architecture: $arch
Maintainer: docker-credential-acr maintainers <maintainers@docker-credential-acr.invalid>
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: $depends
Recommends: gnome-keyring | keepassxc
Suggests: docker.io | docker-ce-cli, skopeo, podman
Section: utils
Priority: optional
Homepage: https://github.com/docker-credential-acr/docker-credential-acr
Description: Docker credential helper for Azure Container Registry
 docker-credential-acr keeps registry credentials in the Secret Service
 keyring (or a private file) for Docker, skopeo, podman, buildah and the
 kubelet, and for Azure Container Registry derives tokens from the machine's
 Azure identity: service principals, workload identity, GitHub Actions and
 Azure Pipelines OIDC, managed identities of every Azure host, the Azure CLI
 or a personal sign-in.
CONTROL
deb="$out/${name}_${version}-${revision}_${arch}.deb"
dpkg-deb --root-owner-group --build "$root" "$deb" >/dev/null
# Errors fail the build; warnings and notes are shown.
lintian --fail-on error --suppress-tags statically-linked-binary,embedded-library "$deb" || { echo "package.sh: lintian found errors in $deb" >&2; exit 1; }
echo "$deb"
