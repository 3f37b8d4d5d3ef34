#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What is inside an image, as an image scanner sees it: runs syft (hack/syft.sh builds it once
# per machine) on a local Docker image and prints its catalogue in FORMAT (syft's -o: table,
# syft-json, spdx-json, cyclonedx-json, ...; default table). Offline by construction: the image
# is read from a `docker save` archive, not from a registry or the Docker API; syft's update
# check is off; and where this user may (root), syft runs in a network namespace of its own,
# which has no network at all.
#   hack/sbom.sh akrobateo/nftlb:dev                 the Debian packages and files it found
#   hack/sbom.sh akrobateo/operator:dev spdx-json    an SPDX 2.3 SBOM on stdout
#   hack/sbom.sh build/arm64/rootfs/nftlb spdx-json akrobateo/nftlb:0.1.0
#                                                    the same for an image's root file system in
#                                                    a directory (the arm64 side, hack/cross.sh),
#                                                    named as the third argument
set -euo pipefail
cd "$(dirname "$0")/.."
image=${1:?usage: hack/sbom.sh IMAGE|DIR [FORMAT] [NAME:VERSION]}
format=${2:-table}
syft=$(bash hack/syft.sh)
work=$(mktemp -d /tmp/akb-sbom.XXXXXX)
trap 'rm -rf "$work"' EXIT
if [ -d "$image" ]; then
  source="dir:$image"
  image=${3:?sbom: a directory needs the NAME:VERSION it is the root file system of}
else
  docker image inspect "$image" >/dev/null 2>&1 || { echo "sbom: no image $image here (make images)" >&2; exit 1; }
  docker save -o "$work/image.tar" "$image"
  source="docker-archive:$work/image.tar"
fi
isolate=()
if unshare --net true 2>/dev/null; then isolate=(unshare --net); fi
# The SBOM names the image as its tag (not the archive's temporary path).
name=${image%:*} version=${image##*:}
[ "$name" != "$image" ] || version=latest
SYFT_CHECK_FOR_APP_UPDATE=false TMPDIR="$work" "${isolate[@]}" "$syft" scan -q \
  --source-name "$name" --source-version "$version" -o "$format" "$source"
