# Sourced by the demo and the integration tests.
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
