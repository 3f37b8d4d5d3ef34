#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make release`: the release's images and its one-file install.
#   - builds akrobateo/operator and akrobateo/nftlb tagged with the project version of
#     CMakeLists.txt (hack/images.sh; the :dev tags move along);
#   - renders deploy/ into build/release/akrobateo.yaml with those version tags (the operator
#     image and its --nftlb-image), for `kubectl apply -f akrobateo.yaml` (or its URL once
#     published); `kubectl delete -f akrobateo.yaml` removes everything again;
#   - writes an SBOM of each image, build/release/akrobateo-{operator,nftlb}-VERSION.spdx.json
#     (SPDX 2.3 JSON from syft, hack/sbom.sh: the Debian packages each image holds, glibc and
#     OpenSSL among them, with their versions and licenses).
# RELEASE_IMAGES=0 does not build the images (they exist already); RELEASE_SBOM=0 skips the SBOMs.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=$(sed -nE 's/^project\(akrobateo .*VERSION ([0-9]+\.[0-9]+\.[0-9]+).*/\1/p' CMakeLists.txt)
[ -n "$VERSION" ] || { echo "release: no project(akrobateo ... VERSION x.y.z) in CMakeLists.txt" >&2; exit 1; }
REVISION=$(git rev-parse --short=7 HEAD 2>/dev/null || echo unknown)
out=build/release/akrobateo.yaml

[ "${RELEASE_IMAGES:-1}" = 0 ] || bash hack/images.sh
command -v kubectl >/dev/null || PATH="$(bash test/cluster/build.sh):$PATH"
mkdir -p build/release
rendered=$(kubectl kustomize deploy/ |
  sed -e "s#image: akrobateo/operator:dev#image: akrobateo/operator:$VERSION#" \
      -e "s#--nftlb-image=akrobateo/nftlb:dev#--nftlb-image=akrobateo/nftlb:$VERSION#")
if grep -n ':dev\b' <<<"$rendered" >&2; then
  echo "release: a :dev tag is left in the rendered manifest (above); deploy/ changed its image lines?" >&2
  exit 1
fi
{
  echo "# akrobateo $VERSION ($REVISION): kubectl apply -f akrobateo.yaml installs it,"
  echo "# kubectl delete -f akrobateo.yaml removes it and every balancer DaemonSet."
  echo "# Images: akrobateo/operator:$VERSION, akrobateo/nftlb:$VERSION. Rendered from deploy/ by make release."
  echo "$rendered"
} >"$out"
echo "release: $out (akrobateo $VERSION, $(grep -c '^kind:' "$out") objects)"
[ "${RELEASE_SBOM:-1}" != 0 ] || exit 0
for name in operator nftlb; do
  sbom=build/release/akrobateo-$name-$VERSION.spdx.json
  bash hack/sbom.sh "akrobateo/$name:$VERSION" spdx-json >"$sbom.tmp" || { rm -f "$sbom.tmp"; exit 1; }
  mv "$sbom.tmp" "$sbom"
  echo "release: $sbom (SBOM of akrobateo/$name:$VERSION, $(jq '[.packages[] | select(.name | startswith("akrobateo") | not)] | length' "$sbom") packages)"
done
