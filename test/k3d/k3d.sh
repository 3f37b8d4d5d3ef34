#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# akrobateo on k3d (k3s in Docker), installed with Helm, as a k3d user would: the GitHub workflow's
# k3d job (.github/workflows/e2e.yml). k3s cannot be built on the project's own build machine
# (its module is not served there, nor its images), so this runs where Docker can pull.
#
#   k3d.sh all     create the cluster, install, check, delete the cluster (also on failure)
#   k3d.sh up | deploy | check | down    the steps
#
# The cluster: one server and two agents, k3s' own ServiceLB (klipper-lb) disabled, so that
# akrobateo is the only load-balancer controller; k3d's load balancer container maps host port
# 18080 to port 8080 of every node (-p 18080:8080@loadbalancer), the README's recipe.
# deploy: `make release`'s images (akrobateo/{operator,nftlb}:VERSION, built with
# AKROBATEO_BASE_IMAGE where the local base cannot be made) imported with `k3d image import`,
# then `helm install` of deploy/helm/akrobateo.
# The checks (those of the kind end to end that apply to k3s): no ServiceLB pods; the echoserver
# (test/kind/echoserver.yaml) gets every node's address; each answers over TCP and UDP from the
# host; the k3d load balancer's host port reaches it; a changed port moves; deleting the Service
# removes its DaemonSet; `helm uninstall` removes the namespace.
# Settings: K3D_CLUSTER (akrobateo), K3D_TIMEOUT (seconds per wait, 180). Needs docker, k3d,
# kubectl and curl; helm comes from hack/gotool.sh unless one is on PATH.
set -euo pipefail
cd "$(dirname "$0")/../.."
CLUSTER="${K3D_CLUSTER:-akrobateo}"
TIMEOUT="${K3D_TIMEOUT:-180}"
KUBECONFIG="$PWD/build/k3d/kubeconfig"
export KUBECONFIG
version=$(sed -nE 's/^project\(akrobateo .*VERSION ([0-9]+\.[0-9]+\.[0-9]+).*/\1/p' CMakeLists.txt)
log_name=k3d.sh
# shellcheck source=test/lib/log.sh
source test/lib/log.sh
helm_bin() { if command -v helm >/dev/null; then command -v helm; else bash hack/gotool.sh helm; fi; }

up() {
  for t in docker k3d kubectl curl; do command -v "$t" >/dev/null || { log "$t is not installed"; exit 1; }; done
  mkdir -p build/k3d
  if ! k3d cluster list "$CLUSTER" >/dev/null 2>&1; then
    k3d cluster create "$CLUSTER" --agents 2 --wait --timeout "${TIMEOUT}s" \
      --k3s-arg '--disable=servicelb@server:*' -p '18080:8080@loadbalancer'
  fi
  k3d kubeconfig get "$CLUSTER" >"$KUBECONFIG"
  kubectl wait --for=condition=Ready nodes --all --timeout="${TIMEOUT}s"
}

deploy() {
  RELEASE_SBOM=0 RELEASE_CHART=0 RELEASE_OCI=0 bash hack/release.sh
  k3d image import --cluster "$CLUSTER" "akrobateo/operator:$version" "akrobateo/nftlb:$version"
  "$(helm_bin)" install akrobateo deploy/helm/akrobateo --namespace default
  kubectl -n akrobateo-system rollout status deployment/akrobateo-operator --timeout="${TIMEOUT}s"
}

down() {
  if k3d cluster list "$CLUSTER" >/dev/null 2>&1; then k3d cluster delete "$CLUSTER"; fi
}

# shellcheck source=test/lib/check.sh
source test/lib/check.sh
# shellcheck source=test/lib/kube.sh
source test/lib/kube.sh
# shellcheck source=test/lib/echo.sh
source test/lib/echo.sh
ingress_is_nodes() { ingress_set_is default echoserver "$(node_ips 4)"; }
no_servicelb() { [ -z "$(kubectl -n kube-system get ds -o name | grep svclb || true)" ]; }
no_daemonsets() { [ -z "$(kubectl -n akrobateo-system get ds -l app.kubernetes.io/managed-by=akrobateo -o name)" ]; }
namespace_gone() { ! kubectl get namespace akrobateo-system >/dev/null 2>&1; }

checks() {
  check "k3s' ServiceLB is off: no svclb DaemonSet" no_servicelb
  kubectl apply -f test/kind/echoserver.yaml >/dev/null
  kubectl rollout status deployment/echoserver --timeout="${TIMEOUT}s" >/dev/null
  check "echoserver: EXTERNAL-IP = every node's InternalIP" until_ok "$TIMEOUT" ingress_is_nodes
  kubectl get svc echoserver
  for ip in $(ingress_of default echoserver); do
    check "$ip:8080 (TCP) answers from the host" until_ok 30 http_hostname "$ip" 8080
    check "$ip:8081 (UDP) answers from the host" until_ok 30 udp_hostname "$ip" 8081
  done
  check "k3d's load balancer: localhost:18080 reaches the echoserver" until_ok 60 http_hostname 127.0.0.1 18080
  kubectl patch svc echoserver --type=json -p '[{"op":"replace","path":"/spec/ports/0/port","value":8090}]' >/dev/null
  for ip in $(ingress_of default echoserver); do
    check "port changed: $ip:8090 answers" until_ok 90 http_hostname "$ip" 8090
    check "port changed: $ip:8080 no longer answers" until_ok 30 http_fails "$ip" 8080
  done
  kubectl delete svc echoserver --wait >/dev/null
  check "Service deleted: no balancer DaemonSet left" until_ok 60 no_daemonsets
  kubectl delete -f test/kind/echoserver.yaml --ignore-not-found >/dev/null
  "$(helm_bin)" uninstall akrobateo --namespace default --wait --timeout "${TIMEOUT}s" >/dev/null
  check "helm uninstall removes the namespace" until_ok "$TIMEOUT" namespace_gone
  if [ "$fail" -ne 0 ]; then
    kubectl get nodes,pods -A -o wide || true
    kubectl get events -A --sort-by=.lastTimestamp | tail -40 || true
    kubectl -n akrobateo-system logs deployment/akrobateo-operator --tail=50 || true
  fi
  finish
}

case "${1:-all}" in
  up) up ;;
  deploy) deploy ;;
  check) checks ;;
  down) down ;;
  all)
    trap down EXIT
    up
    deploy
    checks
    ;;
  *)
    echo "usage: $0 up | deploy | check | down | all" >&2
    exit 2
    ;;
esac
