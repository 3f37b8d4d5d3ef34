#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the real control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
# kubectl, kwok) from Go modules into a cache keyed by version. A second run is a no-op.
# Usage: test/cluster/build.sh            -> prints the bin directory on stdout
#        test/cluster/build.sh node       -> the same, and also what a real node runs (kubelet,
#                                            kubeadm, kube-proxy) and agnhost, the e2e image's
#                                            program, from the same module and version
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"
export PATH="/usr/local/go/bin:$PATH"
export GOFLAGS=-mod=mod
cache=${AKROBATEO_CACHE:-$HOME/.cache/akrobateo}
bin="$cache/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION/bin"
want=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok)
# Go packages of k8s.io/kubernetes, each building the binary its last path element names.
pkgs=(cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler cmd/kubectl)
if [ "${1:-}" = node ]; then
  # agnhost (Kubernetes' own e2e test server and client) lives in the same module.
  pkgs+=(cmd/kubelet cmd/kubeadm cmd/kube-proxy test/images/agnhost)
  want+=(kubelet kubeadm kube-proxy agnhost)
fi

complete() { for b in "${want[@]}"; do [ -x "$bin/$b" ] || return 1; done; }
if complete; then echo "$bin"; exit 0; fi

# shellcheck source=test/lib/log.sh
. "$here/../lib/log.sh"
log_name=build.sh
mkdir -p "$bin"
src="$cache/src"
mkdir -p "$src"
start=$(date +%s)

# kube-* from k8s.io/kubernetes. Its go.mod pins the staging modules at v0.0.0 and replaces
# them with local paths, so a helper module replaces each with its published v0.X.Y.
missing=(); for p in "${pkgs[@]}"; do [ -x "$bin/${p##*/}" ] || missing+=("k8s.io/kubernetes/$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  staging_version="v0.${K8S_VERSION#v1.}"
  d="$src/k8s-$K8S_VERSION"; mkdir -p "$d"; cd "$d"
  printf 'module local/kbin\n\ngo 1.26\n\ngodebug default=go1.24\n' > go.mod
  # The staging set changes between releases, so read it from kubernetes' own go.mod.
  mod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')
  # shellcheck disable=SC2013  # module paths: one word each
  for m in $(awk '$2 == "=>" && $3 ~ /^\.\/staging\// {print $1}' "$mod"); do
    go mod edit "-replace=$m=$m@$staging_version"
  done
  log "resolving k8s.io/kubernetes@$K8S_VERSION"
  go get "k8s.io/kubernetes@$K8S_VERSION" >&2
  ld="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  log "building ${missing[*]##*/} (the first build takes 15-30 minutes on 2 cores)"
  CGO_ENABLED=0 go build -trimpath -tags=selinux,notest,grpcnotrace -ldflags="$ld" -o "$bin/" "${missing[@]}" >&2
fi

if [ ! -x "$bin/etcd" ]; then
  d="$src/etcd-$ETCD_VERSION"; mkdir -p "$d"; cd "$d"
  printf 'module local/etcdbin\n\ngo 1.26\n' > go.mod
  log "building etcd $ETCD_VERSION"
  go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2
  CGO_ENABLED=0 go build -trimpath -o "$bin/etcd" go.etcd.io/etcd/server/v3 >&2
fi

if [ ! -x "$bin/kwok" ]; then
  log "building kwok $KWOK_VERSION"
  GOBIN="$bin" CGO_ENABLED=0 go install "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" >&2
fi

# kwok's standalone binary has no default stages: take them from its module (not committed).
if [ ! -f "$bin/../kwok-stages.yaml" ]; then
  dir=$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')
  for f in stage/node/fast/node-initialize.yaml stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
           stage/pod/fast/pod-ready.yaml stage/pod/fast/pod-complete.yaml stage/pod/fast/pod-delete.yaml; do
    cat "$dir/kustomize/$f"; echo '---'
  done > "$bin/../kwok-stages.yaml"
fi

complete || { log "incomplete build in $bin"; exit 1; }
log "control plane built in $(( $(date +%s) - start ))s"
echo "$bin"
