#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make kind-image`: a kind node image built on this machine from Debian's archive and the Go
# module proxy alone, since no registry is reachable here and kindest/node cannot be pulled.
# Prints the image's name on stdout. Built once per machine: a second run with the same inputs
# (versions.env, test/kind/node/, this script) only prints the name.
#
# What goes in, and where from (docs/testing.md, "The kind node image", has the why of each):
#   rootfs      the project's Debian bookworm base (hack/base-image.sh) plus systemd, iptables,
#               nftables, conntrack, ... from Debian's archive
#   kind's part kind's own base-image files (entrypoint, systemd units, containerd config), read
#               from the kind module of the version kind.sh runs, at build time (not committed)
#   binaries    kubelet, kubeadm, kubectl from k8s.io/kubernetes (test/cluster/build.sh node);
#               containerd, runc and the CNI plugins (host-local, loopback, ptp, portmap) from
#               their modules, at the versions kind's own node image carries
#   images      kube-apiserver, kube-controller-manager, kube-scheduler, etcd and CoreDNS (from
#               its module, at the version kubeadm deploys) as FROM-scratch images of those
#               static binaries; kube-proxy on the Debian base with iptables and nftables (it
#               runs them); agnhost on the Debian base with the shell and network tools
#               Kubernetes' e2e specs exec in it; pause compiled from the kubernetes module's
#               pause.c. They travel as archives under /kind/images and are imported at boot
#               (test/kind/node/preload).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=test/cluster/versions.env
. "$root/test/cluster/versions.env"
export PATH="/usr/local/go/bin:$PATH" GOFLAGS=-mod=mod
cache=${AKROBATEO_CACHE:-$HOME/.cache/akrobateo}
BASE_IMAGE="${AKROBATEO_BASE_IMAGE:-localhost/akrobateo-debian:bookworm-minbase}"
IMAGE="${KIND_LOCAL_NODE_IMAGE:-localhost/akrobateo-kind-node:$K8S_VERSION}"
# The tag kind.sh's kubeadm patch names for etcd: the version built, not kubeadm's default.
ETCD_TAG="${ETCD_VERSION#v}-0"

log() { echo "node-image: $*" >&2; }

inputs=$(cat "$root/test/cluster/versions.env" "$0" "$here"/node/* | sha256sum | cut -c1-16)
if [ "$(docker image inspect -f '{{index .Config.Labels "akrobateo.node-image.inputs"}}' "$IMAGE" 2>/dev/null)" = "$inputs" ]; then
  echo "$IMAGE"
  exit 0
fi
start=$SECONDS

# --- binaries ---------------------------------------------------------------------------------
kbin=$(bash "$root/test/cluster/build.sh" node)
nbin="$cache/node-containerd-$CONTAINERD_VERSION-runc-$RUNC_VERSION-cni-$CNI_PLUGINS_VERSION/bin"
mkdir -p "$nbin"
if [ ! -x "$nbin/containerd" ] || [ ! -x "$nbin/ctr" ] || [ ! -x "$nbin/containerd-shim-runc-v2" ]; then
  log "building containerd $CONTAINERD_VERSION"
  for c in containerd ctr containerd-shim-runc-v2; do
    GOBIN="$nbin" CGO_ENABLED=0 go install -trimpath -tags "no_btrfs no_devmapper no_zfs no_aufs" \
      -ldflags "-s -w -X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION" \
      "github.com/containerd/containerd/v2/cmd/$c@$CONTAINERD_VERSION" >&2
  done
fi
if [ ! -x "$nbin/runc" ]; then
  # runc's nsenter is C: cgo, and libseccomp for its seccomp filters (both from Debian).
  log "building runc $RUNC_VERSION"
  GOBIN="$nbin" CGO_ENABLED=1 go install -trimpath -tags seccomp \
    -ldflags "-s -w -X main.version=${RUNC_VERSION#v}" "github.com/opencontainers/runc@$RUNC_VERSION" >&2
fi
for p in ipam/host-local main/loopback main/ptp meta/portmap; do
  if [ ! -x "$nbin/${p#*/}" ]; then
    log "building the CNI plugin ${p#*/} $CNI_PLUGINS_VERSION"
    GOBIN="$nbin" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" \
      "github.com/containernetworking/plugins/plugins/$p@$CNI_PLUGINS_VERSION" >&2
  fi
done
kmod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')
kind_files=$(go mod download -json "sigs.k8s.io/kind@$KIND_VERSION" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')/images/base/files
pause_version=$(sed -n 's/^TAG ?= //p' "$kmod/build/pause/Makefile")
if [ ! -x "$nbin/pause-$pause_version" ]; then
  log "compiling pause $pause_version"
  gcc -Os -Wall -Werror -static -DVERSION="v$pause_version-akrobateo" -o "$nbin/pause-$pause_version" \
    "$kmod/build/pause/linux/pause.c"
fi

# --- the build context ------------------------------------------------------------------------
ctx="$root/build/kind-node"
rm -rf "$ctx"
mkdir -p "$ctx"/{bin,cni,images,kind}
cp -r "$kind_files"/. "$ctx/kind/"
cp "$here"/node/* "$ctx/"
cp "$nbin"/{containerd,ctr,containerd-shim-runc-v2,runc} "$kbin"/{kubelet,kubeadm,kubectl} "$ctx/bin/"
cp "$nbin"/{host-local,loopback,ptp,portmap} "$ctx/cni/"
echo "$K8S_VERSION" >"$ctx/version"

# scratch_image NAME:TAG BINARY...: an image of static binaries in /usr/local/bin, the first one
# its entrypoint, saved as an archive for the node.
scratch_image() {
  local ref=$1 fs
  shift
  fs=$(mktemp -d)
  mkdir -p "$fs/usr/local/bin" "$fs/tmp" "$fs/etc"
  cp "$@" "$fs/usr/local/bin/"
  echo 'nobody:x:65534:65534:nobody:/:/sbin/nologin' >"$fs/etc/passwd"
  tar --numeric-owner --owner=0 --group=0 -C "$fs" -c . |
    docker import --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
      --change "ENTRYPOINT [\"/usr/local/bin/$(basename "$1")\"]" - "$ref" >/dev/null
  rm -rf "$fs"
  save_image "$ref"
}
# save_image NAME:TAG: into the node's archives; the host's Docker keeps no registry.k8s.io/ tag
# (removed at the end), since these are not the registry's images.
saved=()
save_image() {
  docker save -o "$ctx/images/$(echo "${1%:*}" | tr '/' '_').tar" "$1"
  saved+=("$1")
}

log "control-plane, etcd, pause and CoreDNS images"
for c in kube-apiserver kube-controller-manager kube-scheduler; do
  scratch_image "registry.k8s.io/$c:$K8S_VERSION" "$kbin/$c"
done
scratch_image "registry.k8s.io/etcd:$ETCD_TAG" "$kbin/etcd"
# root_image NAME:TAG BINARY: an image of one static binary at /<its name>, its entrypoint: the
# layout the pause and CoreDNS images have (Kubernetes' manifests run /pause, /coredns).
root_image() {
  local fs
  fs=$(mktemp -d)
  cp "$2" "$fs/${2##*/}"
  tar --numeric-owner --owner=0 --group=0 -C "$fs" -c . |
    docker import --change "ENTRYPOINT [\"/${2##*/}\"]" - "$1" >/dev/null
  rm -rf "$fs"
  save_image "$1"
}
cp "$nbin/pause-$pause_version" "$ctx/pause"
root_image "registry.k8s.io/pause:$pause_version" "$ctx/pause"
rm "$ctx/pause"
# CoreDNS at the version kubeadm deploys, tagged as kubeadm names it, so that its addon/coredns
# phase runs it and Service names resolve in pods (Kubernetes' specs reach Services by name).
coredns_version=$(sed -n 's/^[[:space:]]*CoreDNSVersion = "\(.*\)"/\1/p' "$kmod/cmd/kubeadm/app/constants/constants.go")
[ -n "$coredns_version" ] || { log "no CoreDNSVersion in kubeadm's constants.go"; exit 1; }
cbin="$cache/coredns-$coredns_version"
if [ ! -x "$cbin/coredns" ]; then
  log "building CoreDNS $coredns_version"
  GOBIN="$cbin" CGO_ENABLED=0 go install -trimpath \
    -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$coredns_version" \
    "github.com/coredns/coredns@$coredns_version" >&2
fi
cp "$cbin/coredns" "$ctx/coredns"
root_image "registry.k8s.io/coredns/coredns:$coredns_version" "$ctx/coredns"
rm "$ctx/coredns"

AKROBATEO_BASE_IMAGE="$BASE_IMAGE" bash "$root/hack/base-image.sh" >&2
if ! docker buildx version >/dev/null 2>&1; then export DOCKER_BUILDKIT=0; fi
# agnhost as Kubernetes' e2e image ships it: the binary on Debian with a shell and the network
# tools the specs exec (test/kind/node/agnhost.Dockerfile).
log "agnhost image (log: build/kind-node.log)"
actx=$(mktemp -d)
cp "$kbin/agnhost" "$actx/agnhost"
cp -r "$kmod/test/images/agnhost/porter" "$actx/porter"
chmod -R u+w "$actx"
agnhost_ref="registry.k8s.io/e2e-test-images/agnhost:$(cat "$kmod/test/images/agnhost/VERSION")"
docker build -f "$here/node/agnhost.Dockerfile" --build-arg "BASE_IMAGE=$BASE_IMAGE" \
  -t "$agnhost_ref" "$actx" >"$root/build/kind-node.log" 2>&1 ||
  { tail -20 "$root/build/kind-node.log" >&2; exit 1; }
rm -rf "$actx"
save_image "$agnhost_ref"
log "kube-proxy image (log: build/kind-node.log)"
cp "$kbin/kube-proxy" "$ctx/kube-proxy"
docker build -f "$here/node/kube-proxy.Dockerfile" --build-arg "BASE_IMAGE=$BASE_IMAGE" \
  -t "registry.k8s.io/kube-proxy:$K8S_VERSION" "$ctx" >>"$root/build/kind-node.log" 2>&1 ||
  { tail -20 "$root/build/kind-node.log" >&2; exit 1; }
rm "$ctx/kube-proxy"
save_image "registry.k8s.io/kube-proxy:$K8S_VERSION"

log "node image $IMAGE (log: build/kind-node.log)"
docker build -f "$here/node/Dockerfile" --build-arg "BASE_IMAGE=$BASE_IMAGE" \
  --build-arg "PAUSE_IMAGE=registry.k8s.io/pause:$pause_version" \
  --label "akrobateo.node-image.inputs=$inputs" -t "$IMAGE" "$ctx" >>"$root/build/kind-node.log" 2>&1 ||
  { tail -30 "$root/build/kind-node.log" >&2; exit 1; }
rm -rf "$ctx"
docker rmi "${saved[@]}" >/dev/null
log "$IMAGE built in $((SECONDS - start)) s ($(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
echo "$IMAGE"
