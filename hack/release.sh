#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make release`: the release's images and its one-file install.
#   - builds akrobateo/operator and akrobateo/nftlb tagged with the project version of
#     CMakeLists.txt (hack/images.sh; the :dev tags move along);
#   - renders deploy/ into build/release/akrobateo.yaml with those version tags (the operator
#     image and its --nftlb-image), for `kubectl apply -f akrobateo.yaml` (or its URL once
#     published); `kubectl delete -f akrobateo.yaml` removes everything again.
# RELEASE_IMAGES=0 renders the file only (the images exist already).
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
