#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# akrobateo on a real kind cluster (kind-config.yaml: one control-plane node, two workers).
#
#   kind.sh up       create the cluster (kept if it exists); kubeconfig in build/kind/kubeconfig
#   kind.sh deploy   build the images, `kind load` them, `kubectl apply -k deploy/`, wait for it
#   kind.sh all      up + deploy + the end-to-end checks below, then delete the cluster
#                    (KIND_KEEP=1 keeps it); `make e2e-kind`
#   kind.sh down     delete the cluster
#
# The checks: the echoserver (test/e2e/echoserver.yaml, TCP and UDP) gets an EXTERNAL-IP for
# every node; each address answers from the host and from a pod; a changed port moves; the
# Service's deletion removes its DaemonSet; `kubectl delete -k deploy/` removes everything.
#
# kind needs its node image (kindest/node). Where none is present and none can be pulled (this
# project's build machine has no registry), the script refuses with exit status 3 and says so,
# before creating anything. .github/workflows/e2e.yml runs it where Docker can pull.
set -euo pipefail
cd "$(dirname "$0")/../.."

CLUSTER="${KIND_CLUSTER:-akrobateo}"
# The node image kind v0.33.0 defaults to, pinned with the kind version of the workflow.
NODE_IMAGE="${KIND_NODE_IMAGE:-kindest/node:v1.37.0@sha256:a1ed56cfb0e7b93589bdf97c8cd566405a265939e3620fc4f5de89adff580ae5}"
KUBECONFIG="$PWD/build/kind/kubeconfig"
export KUBECONFIG
TIMEOUT="${KIND_TIMEOUT:-180}"

log() { echo "kind.sh: $*" >&2; }
die() { echo "kind.sh: error: $*" >&2; exit 1; }

preflight() {
  if ! command -v docker >/dev/null || ! docker info >/dev/null 2>&1; then
    die "no Docker engine answers (docker info failed)"
  fi
  if ! docker image inspect "$NODE_IMAGE" >/dev/null 2>&1; then
    log "pulling the kind node image $NODE_IMAGE"
    local out
    if ! out="$(docker pull "$NODE_IMAGE" 2>&1)"; then
      echo "kind.sh: REFUSED: no kind node image can be had here." >&2
      echo "kind.sh:   $NODE_IMAGE is not present locally and \`docker pull\` failed:" >&2
      echo "$out" | tail -2 | sed 's/^/kind.sh:     /' >&2
      echo "kind.sh:   kind runs its nodes from that image, so no kind cluster can start on this machine." >&2
      echo "kind.sh:   Run \`make e2e-kind\` where Docker can pull (.github/workflows/e2e.yml does), or" >&2
      echo "kind.sh:   \`docker load\` a kindest/node image and set KIND_NODE_IMAGE to it." >&2
      exit 3
    fi
  fi
  command -v kind >/dev/null || die "kind is not installed: go install sigs.k8s.io/kind@v0.33.0 (then put \$(go env GOPATH)/bin on PATH)"
  command -v kubectl >/dev/null || die "kubectl is not installed"
}

cluster_exists() { kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; }

up() {
  preflight
  mkdir -p build/kind
  if cluster_exists; then
    log "cluster $CLUSTER exists; kept"
    kind get kubeconfig --name "$CLUSTER" >"$KUBECONFIG"
  else
    kind create cluster --name "$CLUSTER" --config kind-config.yaml --image "$NODE_IMAGE" \
      --kubeconfig "$KUBECONFIG" --wait "${TIMEOUT}s"
  fi
  log "cluster $CLUSTER is up; export KUBECONFIG=$KUBECONFIG"
}

deploy() {
  cluster_exists || die "no kind cluster $CLUSTER: run \`make kind-up\` first"
  kind get kubeconfig --name "$CLUSTER" >"$KUBECONFIG"
  bash hack/images.sh
  kind load docker-image --name "$CLUSTER" akrobateo/operator:dev akrobateo/nftlb:dev
  kubectl apply -k deploy/
  kubectl -n akrobateo-system rollout status deployment/akrobateo-operator --timeout="${TIMEOUT}s"
  log "deployed; the operator runs in akrobateo-system"
}

down() {
  if cluster_exists; then kind delete cluster --name "$CLUSTER"; fi
}

# --- end-to-end checks -----------------------------------------------------------------------
# shellcheck source=test/lib/check.sh
source test/lib/check.sh
# until_ok SECONDS CMD...: retries CMD once a second until it succeeds or time runs out.
until_ok() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 1
  done
}
ingress() { kubectl get svc echoserver -o jsonpath='{range .status.loadBalancer.ingress[*]}{.ip}{"\n"}{end}' | sort; }
node_ips() { kubectl get nodes -o jsonpath='{range .items[*]}{.status.addresses[?(@.type=="InternalIP")].address}{"\n"}{end}' | sort; }
has_ingress() { [ -n "$(ingress)" ]; }
http_hostname() { curl -fsS --max-time 3 "http://$1:$2/hostname" | grep -q '^echoserver-'; }
http_fails() { ! curl -fsS --max-time 3 "http://$1:$2/hostname" >/dev/null 2>&1; }
udp_hostname() {  # bash's /dev/udp: no extra tool on the host
  local reply
  # dd reads once: exactly one datagram, the reply.
  reply="$(timeout 3 bash -c "exec 3<>/dev/udp/$1/$2; printf hostname >&3; dd bs=512 count=1 status=none <&3")" ||
    return 1
  [[ "$reply" == echoserver-* ]]
}
from_pod() {  # from_pod IP PORT: a client pod connects to the address over TCP
  local name="lbprobe-$RANDOM"
  kubectl run "$name" --restart=Never --image=registry.k8s.io/e2e-test-images/agnhost:2.53 \
    --command -- /agnhost connect --timeout=5s "$1:$2" >/dev/null
  local phase=""
  for _ in $(seq 60); do
    phase="$(kubectl get pod "$name" -o jsonpath='{.status.phase}')"
    case "$phase" in Succeeded | Failed) break ;; esac
    sleep 1
  done
  kubectl delete pod "$name" --wait=false >/dev/null
  [ "$phase" = Succeeded ]
}
no_daemonsets() { [ -z "$(kubectl -n akrobateo-system get ds -l app.kubernetes.io/managed-by=akrobateo -o name)" ]; }
namespace_gone() { ! kubectl get namespace akrobateo-system >/dev/null 2>&1; }

e2e() {
  kubectl apply -f test/e2e/echoserver.yaml
  kubectl rollout status deployment/echoserver --timeout="${TIMEOUT}s"
  check "echoserver gets an EXTERNAL-IP" until_ok "$TIMEOUT" has_ingress
  kubectl get svc echoserver
  check "EXTERNAL-IPs are the nodes' InternalIPs ($(ingress | tr '\n' ' '))" test "$(ingress)" = "$(node_ips)"
  local ip
  for ip in $(ingress); do
    check "host -> $ip:8080 (TCP, HTTP /hostname)" until_ok 30 http_hostname "$ip" 8080
    check "host -> $ip:8081 (UDP)" until_ok 30 udp_hostname "$ip" 8081
    check "pod -> $ip:8080 (TCP)" from_pod "$ip" 8080
  done
  kubectl patch svc echoserver --type=json -p '[{"op":"replace","path":"/spec/ports/0/port","value":8090}]'
  for ip in $(ingress); do
    check "port changed: $ip:8090 answers" until_ok 90 http_hostname "$ip" 8090
    check "port changed: $ip:8080 no longer answers" until_ok 30 http_fails "$ip" 8080
  done
  kubectl delete svc echoserver --wait
  check "Service deleted: no balancer DaemonSet left" until_ok 60 no_daemonsets
  kubectl delete -f test/e2e/echoserver.yaml --ignore-not-found >/dev/null
  kubectl delete -k deploy/ --wait --timeout="${TIMEOUT}s"
  check "kubectl delete -k deploy/ removes the namespace" until_ok "$TIMEOUT" namespace_gone
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ] || { diagnostics; return 1; }
}

diagnostics() {  # before the cluster goes: what a user would look at
  kubectl get nodes,svc,ds,pods -A -o wide || true
  kubectl get events -A --sort-by=.lastTimestamp | tail -40 || true
  kubectl -n akrobateo-system logs -l app.kubernetes.io/name=akrobateo --all-containers --tail=100 || true
  kubectl -n akrobateo-system logs -l app.kubernetes.io/managed-by=akrobateo --all-containers --tail=20 || true
}

case "${1:-}" in
  up) up ;;
  deploy) deploy ;;
  down) down ;;
  all)
    up
    [ "${KIND_KEEP:-0}" = 1 ] || trap down EXIT
    deploy
    e2e
    ;;
  *)
    echo "usage: $0 up | deploy | all | down" >&2
    exit 2
    ;;
esac
