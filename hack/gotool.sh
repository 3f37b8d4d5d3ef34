#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds a Go command from the Go module proxy once per machine into ~/.cache/akrobateo/NAME-VERSION/
# and prints the binary's path (the build's own output goes to stderr). A second run only prints
# the path. The tools and their versions are named here, in one place:
#   hack/gotool.sh helm         helm.sh/helm/v4 (the chart's lint, template and install)
#   hack/gotool.sh actionlint   github.com/rhysd/actionlint (make lint: the GitHub workflows)
set -euo pipefail
export PATH="/usr/local/go/bin:$PATH"
tool=${1:?usage: hack/gotool.sh helm|actionlint}
case "$tool" in
  helm)
    version=v4.3.2
    pkg=helm.sh/helm/v4/cmd/helm
    # helm stamps its version through internal/version; without it `helm version` says v4.0+unreleased
    # and a chart's kubeVersion check compares against that.
    ldflags="-s -w -X helm.sh/helm/v4/internal/version.version=$version"
    ;;
  actionlint)
    version=v1.7.12
    pkg=github.com/rhysd/actionlint/cmd/actionlint
    ldflags="-s -w -X github.com/rhysd/actionlint.version=$version"
    ;;
  *) echo "gotool.sh: unknown tool $tool (helm, actionlint)" >&2; exit 2 ;;
esac
cache=${AKROBATEO_CACHE:-$HOME/.cache/akrobateo}
dir="$cache/$tool-$version"
if [ -x "$dir/$tool" ]; then echo "$dir/$tool"; exit 0; fi
command -v go >/dev/null || { echo "gotool.sh: go not found (make deps expects it in /usr/local/go)" >&2; exit 1; }
mkdir -p "$dir"
rm -rf "$dir.tmp"
start=$SECONDS
echo "gotool.sh: building $pkg@$version (once per machine)" >&2
GOBIN="$dir.tmp" CGO_ENABLED=0 GOFLAGS=-mod=mod nice -n 10 go install -trimpath -ldflags="$ldflags" "$pkg@$version" >&2
mv "$dir.tmp/$tool" "$dir/$tool"
rmdir "$dir.tmp"
echo "gotool.sh: $tool built in $((SECONDS - start)) s" >&2
echo "$dir/$tool"
