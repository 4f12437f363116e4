#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds, offline, from Debian's busybox-static:
#   OUT/rootfs/            a root filesystem (busybox and its applets in /bin)
#   OUT/busybox-oci.tar    the same as an OCI image layout archive, for
#                          `ctr image import`: capspawn.test/busybox:latest (runs sh)
#                          and capspawn.test/pause:latest (sleeps: a pod sandbox)
# Usage: make_image.sh OUT
set -euo pipefail
out=${1:?usage: make_image.sh OUT}
busybox=${BUSYBOX:-/bin/busybox}
[[ -x $busybox ]] || { echo "make_image.sh: $busybox missing (apt-get install busybox-static)" >&2; exit 1; }
! command -v file >/dev/null || file -L "$busybox" | grep -q "statically linked" ||
  { echo "make_image.sh: $busybox is not static (busybox-static is needed)" >&2; exit 1; }

rm -rf "$out/rootfs" "$out/image"
mkdir -p "$out/rootfs" && cd "$out/rootfs"
mkdir -p bin dev etc proc sys tmp root run
chmod 1777 tmp
cp "$busybox" bin/busybox
for applet in $(bin/busybox --list); do
  [[ $applet == busybox || -e bin/$applet ]] || ln -s busybox "bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > etc/passwd
printf 'root:x:0:\nnogroup:x:65534:\n' > etc/group
echo capspawn-test > etc/hostname

# The image: one gzip'd layer, a config, a manifest, an index.
img=$out/image
mkdir -p "$img/blobs/sha256"
layer=$img/layer.tar
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$out/rootfs" -cf "$layer" .
diff_id=$(sha256sum "$layer" | cut -d' ' -f1)
gzip -n -9 -c "$layer" > "$img/layer.tar.gz"
layer_digest=$(sha256sum "$img/layer.tar.gz" | cut -d' ' -f1)
layer_size=$(stat -c %s "$img/layer.tar.gz")
mv "$img/layer.tar.gz" "$img/blobs/sha256/$layer_digest"
rm -f "$layer"

blob() {  # stores stdin as a blob; prints "DIGEST SIZE"
  local tmp=$img/blob.tmp d
  cat > "$tmp"
  d=$(sha256sum "$tmp" | cut -d' ' -f1)
  mv "$tmp" "$img/blobs/sha256/$d"
  echo "$d $(stat -c %s "$img/blobs/sha256/$d")"
}
image_config() {  # CMD_JSON: an image config over the one layer
  printf '%s' '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":'"$1"'},"rootfs":{"type":"layers","diff_ids":["sha256:'"$diff_id"'"]}}' | blob
}
manifest() {  # CONFIG_DIGEST CONFIG_SIZE
  printf '%s' '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:'"$1"'","size":'"$2"'},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:'"$layer_digest"'","size":'"$layer_size"'}]}' | blob
}
entry() {  # MANIFEST_DIGEST MANIFEST_SIZE NAME: one index entry
  printf '%s' '{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:'"$1"'","size":'"$2"',"annotations":{"io.containerd.image.name":"capspawn.test/'"$3"':latest","org.opencontainers.image.ref.name":"latest"}}'
}
# busybox: a shell by default; pause: what a pod sandbox runs (it sleeps).
read -r config_digest config_size < <(image_config '["sh"]')
read -r manifest_digest manifest_size < <(manifest "$config_digest" "$config_size")
read -r pause_config_digest pause_config_size < <(image_config '["sleep","inf"]')
read -r pause_manifest_digest pause_manifest_size < <(manifest "$pause_config_digest" "$pause_config_size")
printf '%s' '{"imageLayoutVersion":"1.0.0"}' > "$img/oci-layout"
printf '%s' '{"schemaVersion":2,"manifests":['"$(entry "$manifest_digest" "$manifest_size" busybox),$(entry "$pause_manifest_digest" "$pause_manifest_size" pause)"']}' > "$img/index.json"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$img" -cf "$out/busybox-oci.tar" oci-layout index.json blobs
rm -rf "$img"
