#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make release`: the release's images and its one-file install.
#   - builds akrobateo/operator and akrobateo/nftlb tagged with the project version of
#     CMakeLists.txt (hack/images.sh; the :dev tags move along);
#   - renders deploy/ into build/release/akrobateo.yaml with those version tags (the operator
#     image and its --nftlb-image), for `kubectl apply -f akrobateo.yaml` (or its URL once
#     published); `kubectl delete -f akrobateo.yaml` removes everything again;
#   - writes an SBOM of each image, akrobateo-{operator,nftlb}-VERSION.spdx.json, and of its
#     linux/arm64 side, akrobateo-{operator,nftlb}-VERSION-arm64.spdx.json (SPDX 2.3 JSON from
#     syft, hack/sbom.sh: the Debian packages each image holds, glibc and OpenSSL among them,
#     with their versions and licenses);
#   - packages the Helm chart (deploy/helm/akrobateo) as akrobateo-VERSION.tgz, its default
#     images those of the release;
#   - writes each image for linux/amd64 and linux/arm64 under one name, as an OCI image index in
#     an oci-archive, akrobateo-{operator,nftlb}-VERSION.oci.tar (hack/cross.sh builds the arm64
#     side, hack/oci-index.py assembles it; `skopeo copy --all oci-archive:FILE:VERSION
#     docker://REGISTRY/...` pushes both platforms);
#   - SHA256SUMS of all of these.
# Everything goes to build/release/ (RELEASE_DIR). RELEASE_IMAGES=0 does not build the images
# (they exist already); RELEASE_SBOM=0 skips the SBOMs, RELEASE_CHART=0 the chart, RELEASE_OCI=0
# the two-platform archives. RELEASE_IMAGE_PREFIX (default akrobateo/) names the images in the
# manifest and the chart: ghcr.io/OWNER/akrobateo/ gives ghcr.io/OWNER/akrobateo/operator:VERSION.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=$(sed -nE 's/^project\(akrobateo .*VERSION ([0-9]+\.[0-9]+\.[0-9]+).*/\1/p' CMakeLists.txt)
[ -n "$VERSION" ] || { echo "release: no project(akrobateo ... VERSION x.y.z) in CMakeLists.txt" >&2; exit 1; }
REVISION=$(git rev-parse --short=7 HEAD 2>/dev/null || echo unknown)
dir=${RELEASE_DIR:-build/release}
out=$dir/akrobateo.yaml
prefix=${RELEASE_IMAGE_PREFIX:-akrobateo/}

[ "${RELEASE_IMAGES:-1}" = 0 ] || bash hack/images.sh
command -v kubectl >/dev/null || PATH="$(bash test/cluster/build.sh):$PATH"
mkdir -p "$dir"
rendered=$(kubectl kustomize deploy/ |
  sed -e "s#image: akrobateo/operator:dev#image: ${prefix}operator:$VERSION#" \
      -e "s#--nftlb-image=akrobateo/nftlb:dev#--nftlb-image=${prefix}nftlb:$VERSION#")
if grep -n ':dev\b' <<<"$rendered" >&2; then
  echo "release: a :dev tag is left in the rendered manifest (above); deploy/ changed its image lines?" >&2
  exit 1
fi
{
  echo "# akrobateo $VERSION ($REVISION): kubectl apply -f akrobateo.yaml installs it,"
  echo "# kubectl delete -f akrobateo.yaml removes it and every balancer DaemonSet."
  echo "# Images: ${prefix}operator:$VERSION, ${prefix}nftlb:$VERSION. Rendered from deploy/ by make release."
  echo "$rendered"
} >"$out"
echo "release: $out (akrobateo $VERSION, $(grep -c '^kind:' "$out") objects)"
if [ "${RELEASE_SBOM:-1}" != 0 ]; then
  for name in operator nftlb; do
    sbom=$dir/akrobateo-$name-$VERSION.spdx.json
    bash hack/sbom.sh "akrobateo/$name:$VERSION" spdx-json >"$sbom.tmp" || { rm -f "$sbom.tmp"; exit 1; }
    mv "$sbom.tmp" "$sbom"
    echo "release: $sbom (SBOM of akrobateo/$name:$VERSION, $(jq '[.packages[] | select(.name | startswith("akrobateo") | not)] | length' "$sbom") packages)"
  done
fi

if [ "${RELEASE_CHART:-1}" != 0 ]; then
  helm=$(bash hack/gotool.sh helm)
  chart_tmp=$(mktemp -d /tmp/akb-chart.XXXXXX)
  trap 'rm -rf "$chart_tmp"' EXIT
  cp -r deploy/helm/akrobateo "$chart_tmp/"
  sed -i -e "s#repository: akrobateo/operator\$#repository: ${prefix}operator#" \
         -e "s#repository: akrobateo/nftlb\$#repository: ${prefix}nftlb#" "$chart_tmp/akrobateo/values.yaml"
  "$helm" package "$chart_tmp/akrobateo" --destination "$dir" >/dev/null
  echo "release: $dir/akrobateo-$VERSION.tgz (the Helm chart; images ${prefix}{operator,nftlb}:$VERSION)"
fi

if [ "${RELEASE_OCI:-1}" != 0 ]; then
  bash hack/cross.sh
  for name in operator nftlb; do
    save=$(mktemp /tmp/akb-save.XXXXXX)
    docker save -o "$save" "akrobateo/$name:$VERSION"
    python3 hack/oci-index.py "$dir/akrobateo-$name-$VERSION.oci.tar" "$VERSION" "$save" "build/arm64/rootfs/$name" ||
      { rm -f "$save"; exit 1; }
    rm -f "$save"
    echo "release: $dir/akrobateo-$name-$VERSION.oci.tar (OCI image index: linux/amd64, linux/arm64)"
    if [ "${RELEASE_SBOM:-1}" != 0 ]; then
      sbom=$dir/akrobateo-$name-$VERSION-arm64.spdx.json
      bash hack/sbom.sh "build/arm64/rootfs/$name" spdx-json "akrobateo/$name:$VERSION" >"$sbom.tmp" ||
        { rm -f "$sbom.tmp"; exit 1; }
      mv "$sbom.tmp" "$sbom"
      echo "release: $sbom (SBOM of the linux/arm64 akrobateo/$name:$VERSION, $(jq '[.packages[] | select(.name | startswith("akrobateo") | not)] | length' "$sbom") packages)"
    fi
  done
fi

# The checksums of what a release attaches (the files of this run and of earlier steps in $dir).
(cd "$dir" && find . -maxdepth 1 -type f \( -name 'akrobateo*.yaml' -o -name '*.tgz' -o -name '*.oci.tar' -o -name '*.spdx.json' \) \
  -printf '%P\n' | sort | xargs -r sha256sum >SHA256SUMS)
echo "release: $dir/SHA256SUMS ($(wc -l <"$dir/SHA256SUMS") files)"
