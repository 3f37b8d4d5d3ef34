#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# MetalLB (L2 mode) beside akrobateo on the bench's kind cluster (test/bench/kind.sh), built here,
# since no registry is reachable:
#
#   metallb.sh build    its controller and speaker from the Go module proxy, once per machine, into
#                       ~/.cache/akrobateo/metallb-VERSION/; two images FROM scratch holding the
#                       static binary and the module's LICENSE (tags below); the module's own
#                       manifest (CRDs, RBAC, webhook, controller, speaker) copied from the module
#                       cache into build/metallb/ and rendered there with these images and the class
#   metallb.sh deploy   build, `kind load` the images into $KIND_CLUSTER (test/kind/kind.sh), apply the manifest, wait
#                       for the controller and every speaker, then an IPAddressPool (`pool` below)
#                       and an L2Advertisement
#   metallb.sh pool     prints the pool: the top 100 addresses of the kind Docker network's IPv4
#                       subnet but its broadcast address (Docker gives nodes addresses from the
#                       bottom); fails if a container on the network holds one of them
#   metallb.sh down     deletes what deploy applied
#
# MetalLB serves only Services whose spec.loadBalancerClass is $METALLB_CLASS (its --lb-class);
# akrobateo, deployed as deploy/ has it (--default-class=true, --load-balancer-class
# akrobateo.dev/nftlb), serves those without a class and ignores these.
#
# Env: METALLB_VERSION (v0.15.2), METALLB_FRRK8S (v0.0.21), METALLB_CLASS (metallb.io/metallb),
# KIND_CLUSTER (akrobateo). Why v0.15.2 and the frr-k8s replacement: docs/testing.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
log_name=metallb.sh
# shellcheck source=test/lib/log.sh
source test/lib/log.sh
# shellcheck source=test/lib/poll.sh
source test/lib/poll.sh

VERSION=${METALLB_VERSION:-v0.15.2}
FRRK8S=${METALLB_FRRK8S:-v0.0.21}
CLASS=${METALLB_CLASS:-metallb.io/metallb}
CONTROLLER_IMAGE="akrobateo-bench/metallb-controller:$VERSION"
SPEAKER_IMAGE="akrobateo-bench/metallb-speaker:$VERSION"
cache=${AKROBATEO_CACHE:-$HOME/.cache/akrobateo}
bin="$cache/metallb-$VERSION"
out="$root/build/metallb"
export PATH="/usr/local/go/bin:$PATH"
export KUBECONFIG="$root/build/kind/kubeconfig"

# The binaries. The module's go.mod names github.com/metallb/frr-k8s (the API of its BGP
# frr-k8s mode, compiled in but unused in L2 mode) at a version the proxy does not serve
# (v0.15.2: v0.0.20; v0.16.x: v0.0.24-v0.0.27, "403 not available"), so a helper module builds
# it with that one dependency replaced by $FRRK8S, the nearest served one. Flags as MetalLB's
# own Dockerfiles: CGO off; plus -trimpath -s -w as this project builds every Go tool.
binaries() {
  if [ -x "$bin/controller" ] && [ -x "$bin/speaker" ]; then return; fi
  local src="$cache/src/metallb-$VERSION" start=$SECONDS ld
  mkdir -p "$src" "$bin"
  log "building MetalLB $VERSION's controller and speaker from the Go module proxy (once per machine)"
  (
    cd "$src"
    export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
    printf 'module local/metallb\n\ngo 1.26\n' >go.mod
    go mod edit "-replace=github.com/metallb/frr-k8s=github.com/metallb/frr-k8s@$FRRK8S"
    go get "go.universe.tf/metallb@$VERSION" >&2
    ld="-s -w -X go.universe.tf/metallb/internal/version.gitCommit=$VERSION"
    ld+=" -X go.universe.tf/metallb/internal/version.gitBranch=$VERSION"
    nice -n 19 go build -trimpath -ldflags="$ld" -o "$bin.tmp/" \
      go.universe.tf/metallb/controller go.universe.tf/metallb/speaker >&2
  )
  mv "$bin.tmp/controller" "$bin.tmp/speaker" "$bin/"
  rmdir "$bin.tmp"
  log "MetalLB $VERSION built in $((SECONDS - start)) s"
}

# The module's directory in the module cache (downloaded by binaries()).
module_dir() { go mod download -json "go.universe.tf/metallb@$VERSION" | jq -r .Dir; }

build() {
  binaries
  local dir ctx p
  dir=$(module_dir)
  mkdir -p "$out"
  ctx=$(mktemp -d)
  for p in controller speaker; do
    cp "$bin/$p" "$dir/LICENSE" "$ctx/"
    chmod u+w "$ctx/LICENSE"
    local tag=$CONTROLLER_IMAGE
    [ "$p" = controller ] || tag=$SPEAKER_IMAGE
    # MetalLB's own images are distroless/static with the binary; here FROM scratch (no registry).
    printf 'FROM scratch\nCOPY %s LICENSE /\nENTRYPOINT ["/%s"]\n' "$p" "$p" |
      nice -n 19 docker build -q -t "$tag" -f - "$ctx" >/dev/null
    rm -f "$ctx/$p"
  done
  rm -rf "$ctx"
  cp "$dir/config/manifests/metallb-native.yaml" "$out/metallb-native.yaml"
  chmod u+w "$out/metallb-native.yaml"
  # The module's manifest, with the images built here (never pulled) and the class.
  local python=/usr/bin/python3
  [ -x "$python" ] || python=python3
  CONTROLLER_IMAGE=$CONTROLLER_IMAGE SPEAKER_IMAGE=$SPEAKER_IMAGE CLASS=$CLASS \
    "$python" - "$out/metallb-native.yaml" >"$out/metallb.yaml" <<'PY'
import os, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
images = {"controller": os.environ["CONTROLLER_IMAGE"], "speaker": os.environ["SPEAKER_IMAGE"]}
for d in docs:
    if d["kind"] in ("Deployment", "DaemonSet") and d["metadata"]["name"] in images:
        for c in d["spec"]["template"]["spec"]["containers"]:
            if c["name"] in images:
                c["image"] = images[c["name"]]
                c["imagePullPolicy"] = "Never"
                c.setdefault("args", []).append("--lb-class=" + os.environ["CLASS"])
yaml.safe_dump_all(docs, sys.stdout, sort_keys=False)
PY
  log "MetalLB $VERSION: images $CONTROLLER_IMAGE, $SPEAKER_IMAGE; manifest build/metallb/metallb.yaml (class $CLASS)"
}

pool() {
  local subnet used
  subnet=$(docker network inspect kind -f '{{range .IPAM.Config}}{{.Subnet}} {{end}}' | tr ' ' '\n' | grep -v : | grep .) ||
    die "the kind Docker network has no IPv4 subnet"
  used=$(docker network inspect kind -f '{{range .Containers}}{{.IPv4Address}} {{end}}')
  python3 - "$subnet" "$used" <<'PY'
import ipaddress, sys
net = ipaddress.ip_network(sys.argv[1].split()[0])
last = net.broadcast_address - 1
first = last - 99
held = [a for a in sys.argv[2].split() if first <= ipaddress.ip_interface(a).ip <= last]
if held:
    sys.exit("metallb.sh: the pool %s-%s holds container addresses: %s" % (first, last, " ".join(held)))
print("%s-%s" % (first, last))
PY
}

config_applied() {
  kubectl apply -f - <<EOF
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: bench, namespace: metallb-system}
spec:
  addresses: ["$1"]
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: bench, namespace: metallb-system}
spec:
  ipAddressPools: [bench]
EOF
}

deploy() {
  build
  local range
  range=$(pool)
  KIND_LOAD_IMAGES="$CONTROLLER_IMAGE $SPEAKER_IMAGE" bash test/kind/kind.sh load >/dev/null
  kubectl apply --server-side -f "$out/metallb.yaml" >/dev/null
  kubectl -n metallb-system rollout status deployment/controller --timeout=180s >/dev/null
  kubectl -n metallb-system rollout status daemonset/speaker --timeout=180s >/dev/null
  # The pool goes through MetalLB's admission webhook, served once the controller has its cert.
  until_ok 120 config_applied "$range" || die "the IPAddressPool was not accepted: $(config_applied "$range" 2>&1)"
  log "MetalLB $VERSION deployed (L2, pool $range, class $CLASS)"
}

down() {
  [ -f "$out/metallb.yaml" ] || return 0
  kubectl delete -f "$out/metallb.yaml" --ignore-not-found --wait=false >/dev/null
}

case "${1:-}" in
  build) build ;;
  deploy) deploy ;;
  pool) pool ;;
  down) down ;;
  *)
    echo "usage: $0 build | deploy | pool | down" >&2
    exit 2
    ;;
esac
