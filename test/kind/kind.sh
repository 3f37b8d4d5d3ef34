#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# akrobateo on a real kind cluster: real kubelets, containerd, the CNI portmap plugin and
# kube-proxy (kind-config.yaml: one control-plane node, two workers).
#
#   kind.sh image    the node image: $KIND_NODE_IMAGE if set (e.g. a kindest/node where Docker
#                    can pull), else one built on this machine (test/kind/node-image.sh, cached)
#   kind.sh up       create the cluster (kept if it exists); kubeconfig in build/kind/kubeconfig
#   kind.sh deploy   `make release` (version-tagged images, build/release/akrobateo.yaml), `kind
#                    load` the images, `kubectl apply -f akrobateo.yaml`, wait for the operator
#   kind.sh all      up + deploy + the end-to-end checks below, then delete the cluster and
#                    everything the checks started, also when a check or a command fails
#                    (KIND_KEEP=1 keeps the cluster); `make e2e-kind`
#   kind.sh load     `kind load docker-image $KIND_LOAD_IMAGES` (space-separated) into the cluster
#   kind.sh down     delete the cluster and the checks' client containers
#
# Settings: KIND_IP_FAMILY (dual, the default, ipv4 or ipv6), KIND_PROXY_MODE (kube-proxy's
# mode: iptables, kind's default, or nftables), KIND_TIMEOUT (seconds per wait, 180),
# KIND_INSTALL (manifest, the default: kubectl apply -f akrobateo.yaml; helm: helm install of
# deploy/helm/akrobateo).
#
# The checks (test/kind/cases/, helpers in cases/lib.sh): the echoserver (test/kind/echoserver.yaml, TCP and UDP) gets an EXTERNAL-IP for
# every node only once forwarding works; each address answers from the host and from a pod; a
# dual-stack Service answers over IPv6; externalTrafficPolicy Local lists and serves only nodes
# with an endpoint; loadBalancerSourceRanges admits one client container and drops another; a
# port already held on one node gives the UnavailableLoadBalancer warning while the other nodes
# answer; a tenant's Service cannot take the kubelet's, sshd's or a nodePort's port, nor
# tolerations or a preempting priority, and a Service the API refuses blocks nobody; a killed
# balancer is restarted by the kubelet with its table back and no address lost;
# a changed port moves; deleting the Service removes its DaemonSet; `kubectl delete -f
# akrobateo.yaml` with a Service present removes everything, and that Service still deletes.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
# shellcheck source=test/cluster/versions.env
. test/cluster/versions.env

CLUSTER="${KIND_CLUSTER:-akrobateo}"
KUBECONFIG="$root/build/kind/kubeconfig"
export KUBECONFIG
TIMEOUT="${KIND_TIMEOUT:-180}"
IP_FAMILY="${KIND_IP_FAMILY:-dual}"
PROXY_MODE="${KIND_PROXY_MODE:-}"
cache="${AKROBATEO_CACHE:-$HOME/.cache/akrobateo}"
# The checks' own containers on the kind network (source-range clients) carry this label.
CLIENT_LABEL="akrobateo.test/kind-cluster=$CLUSTER"

log_name=kind.sh
# shellcheck source=test/lib/log.sh
source test/lib/log.sh

# --- tools and the node image ------------------------------------------------------------------
tools() {
  export PATH="/usr/local/go/bin:$PATH"
  if ! command -v docker >/dev/null || ! docker info >/dev/null 2>&1; then
    die "no Docker engine answers (docker info failed)"
  fi
  if [ "$(kind version 2>/dev/null | awk '{ print $2 }')" != "$KIND_VERSION" ]; then
    if [ ! -x "$cache/kind-$KIND_VERSION/kind" ]; then
      log "installing kind $KIND_VERSION from the Go module proxy"
      GOBIN="$cache/kind-$KIND_VERSION" go install "sigs.k8s.io/kind@$KIND_VERSION" >&2
    fi
    PATH="$cache/kind-$KIND_VERSION:$PATH"
  fi
  # kubectl of the cluster's own version where this machine builds it, else the one installed.
  if [ -z "${KIND_NODE_IMAGE:-}" ]; then PATH="$(bash test/cluster/build.sh node):$PATH"; fi
  command -v kubectl >/dev/null || die "kubectl is not installed"
}

node_image() {
  if [ -n "${KIND_NODE_IMAGE:-}" ]; then
    docker image inspect "$KIND_NODE_IMAGE" >/dev/null 2>&1 || docker pull "$KIND_NODE_IMAGE" >&2 ||
      die "the node image $KIND_NODE_IMAGE is neither present nor pullable; unset KIND_NODE_IMAGE to build one here"
    echo "$KIND_NODE_IMAGE"
  else
    bash test/kind/node-image.sh
  fi
}

# kind starts its nodes with `docker run --privileged` and runs commands in them with
# `docker exec --privileged`. Where that fails (root without CAP_SYS_RESOURCE, as on this
# project's build machine), kind runs through test/kind/unprivileged/docker, which asks for what
# --privileged grants less that capability. The probe: an exec in the cluster's node where there
# is one, else a run of the node image IMAGE.
docker_for_kind() {
  # `return 0`, not `return`: in the EXIT trap (down) a bare return would return the status the
  # script was exiting with, and end `down` under set -e.
  local out
  if docker inspect "$CLUSTER-control-plane" >/dev/null 2>&1; then
    out=$(docker exec --privileged "$CLUSTER-control-plane" true 2>&1) && return 0
  elif [ -n "${1:-}" ]; then
    out=$(docker run --rm --privileged --entrypoint true "$1" 2>&1) && return 0
  else
    return 0
  fi
  log "\`docker --privileged\` fails here ($(grep -m1 -o 'unable to apply caps[^:]*: [^:]*' <<<"$out" || tail -1 <<<"$out"));"
  log "kind's nodes get every capability but CAP_SYS_RESOURCE instead (test/kind/unprivileged/docker)"
  AKROBATEO_REAL_DOCKER="$(command -v docker)"
  export AKROBATEO_REAL_DOCKER
  PATH="$root/test/kind/unprivileged:$PATH"
}

# The cluster's configuration: kind-config.yaml with the IP family and kube-proxy mode asked for,
# and, for the node image built here, what that image needs: no kindnetd (its image is not in
# it; install_cni below gives each node ptp + host-local + portmap instead) and etcd's tag as
# built. CoreDNS is kubeadm's addon, from the image node-image.sh builds with kubeadm's tag.
write_config() {
  # Debian's python3, which `make deps` gives PyYAML (python3-yaml), before any other on PATH.
  local python=/usr/bin/python3
  [ -x "$python" ] || python=python3
  IP_FAMILY="$IP_FAMILY" PROXY_MODE="$PROXY_MODE" LOCAL_IMAGE="$1" ETCD_TAG="${ETCD_VERSION#v}-0" \
    "$python" - kind-config.yaml >build/kind/config.yaml <<'PY'
import os, sys, yaml
cfg = yaml.safe_load(open(sys.argv[1]))
net = cfg.setdefault("networking", {}) or {}
cfg["networking"] = net
net["ipFamily"] = os.environ["IP_FAMILY"]
if os.environ["PROXY_MODE"]:
    net["kubeProxyMode"] = os.environ["PROXY_MODE"]
if os.environ["LOCAL_IMAGE"] == "1":
    net["disableDefaultCNI"] = True
    cfg.setdefault("kubeadmConfigPatches", []).extend([
        "kind: InitConfiguration\nskipPhases: [preflight]\n",
        "kind: ClusterConfiguration\netcd:\n  local:\n    imageTag: \"%s\"\n" % os.environ["ETCD_TAG"],
    ])
yaml.safe_dump(cfg, sys.stdout, sort_keys=False)
PY
}

cluster_exists() { kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; }

# Each node: a ptp + host-local + portmap CNI configuration for its pod CIDRs, and a route to
# every other node's pod CIDRs through that node's address of the same family.
install_cni() {
  local n m cidr ip family ranges deadline=$((SECONDS + TIMEOUT))
  local -a nodes
  mapfile -t nodes < <(kubectl get nodes -o name | sed 's#^node/##')
  for n in "${nodes[@]}"; do
    until [ -n "$(kubectl get node "$n" -o jsonpath='{.spec.podCIDRs}')" ]; do
      [ "$SECONDS" -lt "$deadline" ] || die "node $n got no pod CIDR"
      sleep 1
    done
  done
  for n in "${nodes[@]}"; do
    ranges=$(kubectl get node "$n" -o json | jq -c '[.spec.podCIDRs[] | [{subnet: .}]]')
    docker exec -i "$n" sh -c 'cat >/etc/cni/net.d/10-akrobateo-kind.conflist' <<EOF
{
  "cniVersion": "1.0.0",
  "name": "kind",
  "plugins": [
    {"type": "ptp", "mtu": 1500,
     "ipam": {"type": "host-local", "ranges": $ranges,
              "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
    docker exec "$n" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
    for m in "${nodes[@]}"; do
      [ "$m" != "$n" ] || continue
      for cidr in $(kubectl get node "$m" -o jsonpath='{.spec.podCIDRs[*]}'); do
        case "$cidr" in *:*) family='*:*' ;; *) family='*.*' ;; esac
        for ip in $(kubectl get node "$m" -o jsonpath='{.status.addresses[?(@.type=="InternalIP")].address}'); do
          # shellcheck disable=SC2254  # $family is a pattern
          case "$ip" in $family) docker exec "$n" ip route replace "$cidr" via "$ip" ;; esac
        done
      done
    done
  done
}

up() {
  tools
  mkdir -p build/kind
  docker_for_kind ""
  if cluster_exists; then
    log "cluster $CLUSTER exists; kept"
    kind get kubeconfig --name "$CLUSTER" >"$KUBECONFIG"
    return
  fi
  local image local_image=1 start=$SECONDS
  [ -z "${KIND_NODE_IMAGE:-}" ] || local_image=0
  image=$(node_image)
  write_config "$local_image"
  docker_for_kind "$image"
  # The node's /var is a Docker volume on the host's own filesystem; kind's entrypoint would pick
  # fuse-overlayfs where Docker's storage driver is fuse-overlayfs (as here).
  if [ "$local_image" = 1 ] && [ "$(docker info -f '{{.Driver}}')" = fuse-overlayfs ]; then
    export KIND_EXPERIMENTAL_CONTAINERD_SNAPSHOTTER="${KIND_EXPERIMENTAL_CONTAINERD_SNAPSHOTTER:-overlayfs}"
  fi
  kind create cluster --name "$CLUSTER" --config build/kind/config.yaml --image "$image" \
    --kubeconfig "$KUBECONFIG" --retain || {
    log "kind create cluster failed; the nodes' logs are in build/kind/logs"
    kind export logs build/kind/logs --name "$CLUSTER" >/dev/null 2>&1 || true
    return 1
  }
  [ "$local_image" = 0 ] || install_cni
  kubectl wait --for=condition=Ready nodes --all --timeout="${TIMEOUT}s" >/dev/null
  kubectl -n kube-system rollout status daemonset/kube-proxy --timeout="${TIMEOUT}s" >/dev/null
  # Cluster DNS: Kubernetes' own specs reach Services by name.
  kubectl -n kube-system rollout status deployment/coredns --timeout="${TIMEOUT}s" >/dev/null
  log "cluster $CLUSTER is up in $((SECONDS - start)) s ($IP_FAMILY, kube-proxy ${PROXY_MODE:-iptables}); export KUBECONFIG=$KUBECONFIG"
}

# Installs as users do, from the release's one file: `make release` builds the images tagged
# with the project version and renders deploy/ into build/release/akrobateo.yaml.
deploy() {
  tools
  docker_for_kind ""
  cluster_exists || die "no kind cluster $CLUSTER: run \`make kind-up\` first"
  kind get kubeconfig --name "$CLUSTER" >"$KUBECONFIG"
  # The SBOMs, the chart archive and the arm64 side are not needed to install (and would build
  # syft and the cross build first on a fresh machine).
  RELEASE_SBOM=0 RELEASE_CHART=0 RELEASE_OCI=0 bash hack/release.sh
  local version
  version=$(sed -nE 's/^project\(akrobateo .*VERSION ([0-9]+\.[0-9]+\.[0-9]+).*/\1/p' CMakeLists.txt)
  kind load docker-image --name "$CLUSTER" "akrobateo/operator:$version" "akrobateo/nftlb:$version"
  # KIND_INSTALL=helm: the same objects from the Helm chart (its defaults are the release file's;
  # test/helm/run.sh), `helm install` as its users run it.
  if [ "${KIND_INSTALL:-manifest}" = helm ]; then
    "$(bash hack/gotool.sh helm)" install akrobateo deploy/helm/akrobateo --namespace default
  else
    kubectl apply -f build/release/akrobateo.yaml
  fi
  kubectl -n akrobateo-system rollout status deployment/akrobateo-operator --timeout="${TIMEOUT}s"
  log "deployed akrobateo $version (${KIND_INSTALL:-manifest}); the operator runs in akrobateo-system"
}

down() {
  export PATH="/usr/local/go/bin:$cache/kind-$KIND_VERSION:$PATH"
  docker_for_kind ""
  docker ps -aq --filter "label=$CLIENT_LABEL" | xargs -r docker rm -f >/dev/null
  if cluster_exists; then kind delete cluster --name "$CLUSTER"; fi
  # kind leaves its Docker network behind; remove it once no container uses it.
  if docker network inspect kind >/dev/null 2>&1 &&
    [ "$(docker network inspect kind -f '{{len .Containers}}')" = 0 ]; then
    docker network rm kind >/dev/null
  fi
}

# --- end-to-end checks (test/kind/cases/) ------------------------------------------------------
# shellcheck source=test/lib/check.sh
source test/lib/check.sh
# shellcheck source=test/kind/cases/lib.sh
source test/kind/cases/lib.sh
for c in test/kind/cases/[a-z]*.sh; do
  [ "$c" = test/kind/cases/lib.sh ] && continue
  # shellcheck source=/dev/null
  source "$c"
done

e2e() {
  check "the operator's metrics answer through the akrobateo-operator-metrics Service" until_ok 60 metrics_served
  # The Service starts as a ClusterIP one and becomes a LoadBalancer once kube-proxy serves it:
  # the first-request check below is about the balancers, and a brand-new Service is refused
  # by kube-proxy until its endpoints reach it (seen once: a reset at the first address).
  sed 's/type: LoadBalancer/type: ClusterIP/' test/kind/echoserver.yaml | kubectl apply -f -
  kubectl rollout status deployment/echoserver --timeout="${TIMEOUT}s"
  check "the echoserver's ClusterIP answers on a node" until_ok 60 cluster_ip_answers
  kubectl patch svc echoserver -p '{"spec": {"type": "LoadBalancer"}}'
  check "each EXTERNAL-IP answers the first request sent the moment it is listed" \
    watch_publication echoserver 8080 "$(node_ips 4 | wc -l)"
  check "EXTERNAL-IPs are the nodes' IPv4 InternalIPs" until_ok 30 ingress_set_is default echoserver "$(node_ips 4)"
  kubectl get svc echoserver
  local ip
  for ip in $(ingress_of default echoserver); do
    check "host -> $ip:8080 (TCP, HTTP /hostname)" until_ok 30 http_hostname "$ip" 8080
    check "host -> $ip:8081 (UDP)" until_ok 30 udp_hostname "$ip" 8081
    check "pod -> $ip:8080 (TCP)" from_pod "$ip" 8080
  done

  if [ "$IP_FAMILY" = dual ]; then e2e_dual_stack; fi
  e2e_local_policy
  e2e_source_ranges
  e2e_port_held
  e2e_security
  e2e_balancer_killed

  kubectl patch svc echoserver --type=json -p '[{"op":"replace","path":"/spec/ports/0/port","value":8090}]'
  for ip in $(ingress_of default echoserver); do
    check "port changed: $ip:8090 answers" until_ok 90 http_hostname "$ip" 8090
    check "port changed: $ip:8080 no longer answers" until_ok 30 http_fails "$ip" 8080
  done
  kubectl delete svc echoserver --wait
  check "Service deleted: no balancer DaemonSet left" until_ok 60 no_daemonsets
  kubectl delete -f test/kind/echoserver.yaml --ignore-not-found >/dev/null
  e2e_uninstall
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ] || {
    diagnostics
    return 1
  }
}


case "${1:-}" in
  image)
    tools
    node_image
    ;;
  up) up ;;
  deploy) deploy ;;
  load)
    tools
    docker_for_kind ""
    # shellcheck disable=SC2086  # a list of image names
    kind load docker-image --name "$CLUSTER" ${KIND_LOAD_IMAGES:?name the images to load}
    ;;
  down) down ;;
  all)
    if [ "${AKROBATEO_SKIP_WITHOUT_DOCKER:-0}" = 1 ] && ! docker info >/dev/null 2>&1; then
      echo "SKIP kind end to end: no Docker engine answers here (docker info failed)"
      exit 0
    fi
    [ "${KIND_KEEP:-0}" = 1 ] || trap down EXIT
    up
    deploy
    e2e
    ;;
  *)
    echo "usage: $0 image | up | deploy | load | all | down" >&2
    exit 2
    ;;
esac
