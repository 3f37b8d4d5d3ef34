#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make images`: builds akrobateo/nftlb:dev and akrobateo/operator:dev from their Dockerfiles
# (build context: the repository root), after making sure the Debian base image exists
# (hack/base-image.sh: debootstrap once per machine, or a pull where AKROBATEO_BASE_IMAGE names a
# registry image), and tags each also with the project version of CMakeLists.txt
# (akrobateo/nftlb:0.1.0: the operator's default --nftlb-image; docs/design.md). The binaries
# inside print the git revision with --version (passed in as a build argument, since the build
# context has no .git). Prints each image's size.
#   IMAGES="nftlb" hack/images.sh   builds only nftlb
#   TAG=v0.1.0 hack/images.sh       another tag than dev
set -euo pipefail
cd "$(dirname "$0")/.."

BASE_IMAGE="${AKROBATEO_BASE_IMAGE:-localhost/akrobateo-debian:bookworm-minbase}"
TAG="${TAG:-dev}"
IMAGES="${IMAGES:-nftlb operator}"
VERSION=$(sed -nE 's/^project\(akrobateo .*VERSION ([0-9]+\.[0-9]+\.[0-9]+).*/\1/p' CMakeLists.txt)
[ -n "$VERSION" ] || { echo "images: no project(akrobateo ... VERSION x.y.z) in CMakeLists.txt" >&2; exit 1; }
REVISION=$(git rev-parse --short=7 HEAD 2>/dev/null || true)
# OCI labels of the final images: what an image scanner or `docker inspect` shows. The source
# label names the checkout's remote where it is a URL (a local clone's path is not).
labels=(--label "org.opencontainers.image.version=$VERSION" --label "org.opencontainers.image.licenses=Apache-2.0")
[ -z "$REVISION" ] || labels+=(--label "org.opencontainers.image.revision=$(git rev-parse HEAD)")
source_url=$(git remote get-url origin 2>/dev/null || true)
case "$source_url" in https://*) labels+=(--label "org.opencontainers.image.source=${source_url%.git}") ;; esac

if ! docker info >/dev/null 2>&1; then
  echo "images: no Docker engine answers (docker info failed); cannot build images" >&2
  exit 1
fi
AKROBATEO_BASE_IMAGE="$BASE_IMAGE" bash hack/base-image.sh

# Without the buildx plugin (as on this machine's Docker 20.10) the classic builder is used;
# both read the same Dockerfiles.
if ! docker buildx version >/dev/null 2>&1; then export DOCKER_BUILDKIT=0; fi

for name in $IMAGES; do
  image="akrobateo/$name:$TAG"
  echo "images: building $image (log: build/images/$name.log)"
  mkdir -p build/images
  start=$SECONDS
  # The build stage is tagged too (akrobateo-build/NAME), so that it stays the layer cache of the
  # next build while older build stages become dangling and are pruned below.
  if ! { docker build --force-rm -f "$name/Dockerfile" --build-arg "BASE_IMAGE=$BASE_IMAGE" \
           --build-arg "AKROBATEO_REVISION=$REVISION" --target build -t "akrobateo-build/$name:$TAG" . &&
         docker build --force-rm -f "$name/Dockerfile" --build-arg "BASE_IMAGE=$BASE_IMAGE" \
           --build-arg "AKROBATEO_REVISION=$REVISION" "${labels[@]}" -t "$image" . &&
         docker tag "$image" "akrobateo/$name:$VERSION"; } >"build/images/$name.log" 2>&1; then
    echo "images: building $image failed; last lines of build/images/$name.log:" >&2
    tail -30 "build/images/$name.log" >&2
    exit 1
  fi
  size=$(docker image inspect -f '{{.Size}}' "$image")
  docker image prune -f --filter label=akrobateo.stage=build >/dev/null
  echo "images: $image (also akrobateo/$name:$VERSION) $(awk -v b="$size" 'BEGIN { printf "%.1f MB (%d bytes)", b / 1e6, b }'), built in $((SECONDS - start)) s"
done
