#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds syft (Anchore's SBOM generator and image cataloger) from the Go module proxy into a
# per-machine cache keyed by version, and prints the binary's path. A second run is a no-op.
# Used by test/images/run.sh (does a scanner see the images' Debian packages?) and by
# hack/release.sh (an SBOM per image). No registry is reached: syft reads images from the local
# Docker engine, and the callers switch its update check off (SYFT_CHECK_FOR_APP_UPDATE=false).
#   hack/syft.sh            -> the path of the syft binary on stdout (build log on stderr)
set -euo pipefail
SYFT_VERSION=v1.57.2
export PATH="/usr/local/go/bin:$PATH"
cache=${AKROBATEO_CACHE:-$HOME/.cache/akrobateo}
dir="$cache/syft-$SYFT_VERSION"
if [ -x "$dir/syft" ]; then echo "$dir/syft"; exit 0; fi
command -v go >/dev/null || { echo "syft.sh: go not found (make deps installs it in /usr/local/go)" >&2; exit 1; }
mkdir -p "$dir"
start=$SECONDS
echo "syft.sh: building github.com/anchore/syft/cmd/syft@$SYFT_VERSION (once per machine)" >&2
# CGO off, as syft's own releases are built. The version is stamped the way its release
# build does (main.version), so `syft version` and the SBOMs it writes name it.
GOBIN="$dir.tmp" CGO_ENABLED=0 GOFLAGS=-mod=mod go install -trimpath \
  -ldflags="-s -w -X main.version=${SYFT_VERSION#v}" "github.com/anchore/syft/cmd/syft@$SYFT_VERSION" >&2
mv "$dir.tmp/syft" "$dir/syft"
rmdir "$dir.tmp"
echo "syft.sh: built in $((SECONDS - start)) s" >&2
echo "$dir/syft"
