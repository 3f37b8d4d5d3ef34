#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds Kubernetes' own end-to-end test binary, e2e.test (`go test -c` of the package
# k8s.io/kubernetes/test/e2e), at the version test/cluster/versions.env names, from the Go module
# proxy, into a cache keyed by that version. A second run is a no-op.
# Usage: test/upstream/build.sh   -> prints the path of e2e.test on stdout
#
# Like test/cluster/build.sh: k8s.io/kubernetes pins its staging modules at v0.0.0 and replaces
# them with ./staging paths, so a helper module (its own directory, apart from the control
# plane's) replaces each with its published v0.X.Y, read from kubernetes' own go.mod. The flags
# are the control plane's (and upstream's own release build's: -trimpath, tags
# selinux,notest,grpcnotrace, CGO off), so the packages both share come from Go's build cache.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=test/cluster/versions.env
. "$here/../cluster/versions.env"
export PATH="/usr/local/go/bin:$PATH"
export GOFLAGS=-mod=mod
cache=${AKROBATEO_CACHE:-$HOME/.cache/akrobateo}
out="$cache/e2e-test-$K8S_VERSION/e2e.test"
if [ -x "$out" ]; then echo "$out"; exit 0; fi

# shellcheck source=test/lib/log.sh
log_name=upstream/build.sh
. "$here/../lib/log.sh"
start=$SECONDS
minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
staging_version="v0.${K8S_VERSION#v1.}"
d="$cache/src/e2e-$K8S_VERSION"
mkdir -p "$d" "${out%/*}"
cd "$d"
printf 'module local/e2etest\n\ngo 1.26\n\ngodebug default=go1.24\n' >go.mod
mod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')
while read -r m; do
  go mod edit "-replace=$m=$m@$staging_version"
done < <(awk '$2 == "=>" && $3 ~ /^\.\/staging\// {print $1}' "$mod")
log "resolving k8s.io/kubernetes@$K8S_VERSION and the e2e suite's dependencies"
go get "k8s.io/kubernetes@$K8S_VERSION" >&2
ld="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ld="$ld -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
done
log "building e2e.test (the first build takes about 10 minutes on 2 cores with the control plane already built)"
CGO_ENABLED=0 go test -c -trimpath -tags=selinux,notest,grpcnotrace -ldflags="$ld" \
  -o "$out.tmp" k8s.io/kubernetes/test/e2e >&2
mv "$out.tmp" "$out"
log "e2e.test $K8S_VERSION built in $((SECONDS - start)) s"
echo "$out"
