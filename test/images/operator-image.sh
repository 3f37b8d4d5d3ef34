#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The operator IMAGE as its pod runs it, against a real kube-apiserver: in-cluster configuration
# (KUBERNETES_SERVICE_HOST/PORT and a mounted ServiceAccount token, CA and namespace, as the
# kubelet provides them), the token of deploy/'s ServiceAccount (so exactly deploy/'s roles), the
# Deployment's arguments, non-root, read-only root fs, no capabilities.
#
# It starts its own control plane (test/cluster/cluster.sh with a private directory and ports, so
# it never touches `make cluster-up`'s) and always stops it again. kwok stands in for kubelets:
# the balancer pods are not run, only marked Ready, which is what the operator watches.
# Checks: test/images/deploy-check.sh (server dry run of deploy/, RBAC = docs/design.md) on the
# fresh server; then /readyz; the leader Lease; the echoserver LoadBalancer Service gets its DaemonSet and
# addresses; the Service's deletion removes the DaemonSet; no request of the operator was
# forbidden; `kubectl delete -k deploy/` removes everything, a balancer DaemonSet included. Prints SKIP (exit 0) where Docker, the image or the control-plane binaries are absent.
# shellcheck disable=SC2317  # functions called through check, until_ok and the EXIT trap
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
root="$PWD"

# shellcheck source=test/lib/check.sh
source test/lib/check.sh
# shellcheck source=test/lib/kube.sh
source test/lib/kube.sh
skip() { echo "SKIP operator image against a control plane: $*"; exit 0; }

image=akrobateo/operator:${AKROBATEO_IMAGE_TAG:-dev}
docker info >/dev/null 2>&1 || skip "no Docker engine answers (docker info failed)"
docker image inspect "$image" >/dev/null 2>&1 || skip "$image not built (make images)"
# shellcheck source=/dev/null
. test/cluster/versions.env
bin="${AKROBATEO_CACHE:-$HOME/.cache/akrobateo}/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION/bin"
for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok; do
  [ -x "$bin/$b" ] || skip "control-plane binaries not built yet ($bin/$b; test/cluster/build.sh builds them)"
done

# A private control plane: its own directory and port range (29xxx, below the
# ephemeral ports), never `make cluster-up`'s.
export AKROBATEO_CLUSTER_DIR="$root/build/images/cluster"
export AKROBATEO_ETCD_PORT=29379 AKROBATEO_ETCD_PEER_PORT=29380 AKROBATEO_APISERVER_PORT=29443
export AKROBATEO_KCM_PORT=29257 AKROBATEO_SCHEDULER_PORT=29259 AKROBATEO_KWOK_PORT=29247
health_port=29081
metrics_port=29080
container="akrobateo-operator-image-$$"
sa_dir=""
cleanup() {
  docker rm -f "$container" >/dev/null 2>&1
  [ -n "$sa_dir" ] && rm -rf "$sa_dir"
  bash test/cluster/cluster.sh down >/dev/null 2>&1
  true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if ! bash test/cluster/cluster.sh up >"$root/build/images/cluster-up.log" 2>&1; then
  echo "FAIL private control plane starts (see build/images/cluster-up.log)"
  tail -5 "$root/build/images/cluster-up.log"
  fail=$((fail + 1))
  finish
fi
kube_kubectl="$bin/kubectl"
kube_config="$AKROBATEO_CLUSTER_DIR/admin.kubeconfig"
ns=akrobateo-system

# First the read-only proof on a fresh server (no akrobateo-system yet): server-side dry run of
# deploy/ and its RBAC against docs/design.md's table.
deploy_check() {
  KUBECTL="$bin/kubectl" bash test/images/deploy-check.sh "$AKROBATEO_CLUSTER_DIR/admin.kubeconfig" 2>&1 |
    sed 's/^/  /'
  return "${PIPESTATUS[0]}"
}
check "test/images/deploy-check.sh on a fresh API server" deploy_check

# deploy/ for real. kwok marks the Deployment's own pods Running but runs nothing.
check "kubectl apply -k deploy/" bash -c "$(printf '%q ' "$bin/kubectl" --kubeconfig "$AKROBATEO_CLUSTER_DIR/admin.kubeconfig") apply -k deploy/ >/dev/null"

# What the kubelet mounts into the pod: token, CA, namespace, readable by the image's user.
sa_dir="$(mktemp -d)"
kc -n "$ns" create token akrobateo-operator --duration=20m >"$sa_dir/token"
kc config view --raw --minify -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' | base64 -d >"$sa_dir/ca.crt"
printf '%s' "$ns" >"$sa_dir/namespace"
chown -R 65532:65532 "$sa_dir"
chmod 0500 "$sa_dir"

# The Deployment's arguments, with POD_NAMESPACE expanded and the probe/metrics ports moved off
# the host's (the container shares the host network to reach the API server on 127.0.0.1).
mapfile -t args < <(kc kustomize deploy/ | kc create --dry-run=client -o json -f - |
  jq -r 'select(.kind == "Deployment") | .spec.template.spec.containers[0].args[]')
for i in "${!args[@]}"; do
  case "${args[$i]}" in
    --namespace=*) args[i]="--namespace=$ns" ;;
    --health-probe-bind-address=*) args[i]="--health-probe-bind-address=127.0.0.1:$health_port" ;;
    --metrics-bind-address=*) args[i]="--metrics-bind-address=127.0.0.1:$metrics_port" ;;
  esac
done
echo "operator args: ${args[*]}"
docker run -d --name "$container" --network host --read-only --cap-drop ALL \
  --security-opt no-new-privileges \
  -e KUBERNETES_SERVICE_HOST=127.0.0.1 -e KUBERNETES_SERVICE_PORT="$AKROBATEO_APISERVER_PORT" \
  -v "$sa_dir:/var/run/secrets/kubernetes.io/serviceaccount:ro" "$image" "${args[@]}" >/dev/null

ready() { curl -fsS --max-time 1 "http://127.0.0.1:$health_port/readyz"; }
leader() { [ -n "$(kc -n "$ns" get lease akrobateo-operator -o jsonpath='{.spec.holderIdentity}')" ]; }
ds_exists() { [ -n "$(kc -n "$ns" get ds -l akrobateo.dev/service-name=echoserver -o name)" ]; }
ds_gone() { [ -z "$(kc -n "$ns" get ds -l akrobateo.dev/service-name=echoserver -o name)" ]; }

check "operator image in-cluster: /readyz answers" until_ok 60 ready
check "operator image holds the leader Lease (--leader-elect)" until_ok 60 leader
kc apply -f test/cluster/manifests/echoserver.yaml >/dev/null
check "LoadBalancer Service -> DaemonSet in $ns" until_ok 60 ds_exists
until_ok 90 has_ingress default echoserver
check "LoadBalancer Service -> status.loadBalancer.ingress ($(kc get svc echoserver -o jsonpath='{.status.loadBalancer.ingress[*].ip}'))" \
  has_ingress default echoserver
kc get svc echoserver
kc delete svc echoserver >/dev/null
check "Service deleted -> DaemonSet deleted" until_ok 60 ds_gone
check "/metrics serves akrobateo_reconcile_total" bash -c \
  "curl -fsS --max-time 2 http://127.0.0.1:$metrics_port/metrics | grep -q '^akrobateo_reconcile_total'"
logs="$(docker logs "$container" 2>&1)"
# A whole-word 403: spec hashes in the log are hex and may contain the digits 403.
check "operator log shows no forbidden request (deploy/'s roles suffice)" bash -c "! grep -qiE 'forbidden|\\b403\\b' <<<\"\$1\"" _ "$logs"
check "operator still running" test "$(docker inspect -f '{{.State.Running}}' "$container")" = true

# Uninstall with a balancer DaemonSet present: `kubectl delete -k deploy/` removes the operator
# (here: its container stops, as its Deployment's pods would) and the namespace, and with the
# namespace the DaemonSet.
kc apply -f test/cluster/manifests/echoserver.yaml >/dev/null
check "before uninstall: the Service has its DaemonSet again" until_ok 60 ds_exists
docker stop -t 10 "$container" >/dev/null
ns_gone() { ! kc get namespace "$ns" >/dev/null 2>&1; }
kc delete -k deploy/ --wait=false >/dev/null
check "kubectl delete -k deploy/ removes the namespace and the balancer DaemonSet in it" until_ok 120 ns_gone
check "no managed DaemonSet left anywhere" test -z "$(kc get ds -A -l app.kubernetes.io/managed-by=akrobateo -o name)"
kc delete -f test/cluster/manifests/echoserver.yaml --ignore-not-found >/dev/null
if [ "$fail" -gt 0 ]; then tail -20 <<<"$logs" | sed 's/^/  operator: /'; fi
finish
