#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make demo` / `make demo-down`: the whole chain on this machine. A real control plane
# (test/cluster/cluster.sh), the operator from build/bin running as deploy/'s ServiceAccount,
# the echoserver LoadBalancer Service (test/cluster/manifests/echoserver.yaml), `kubectl get svc` with its EXTERNAL-IP, then one
# network namespace per Node running the real nftlb with the args the operator generated, and a
# request to each ingress address answered through it. Leaves everything running.
# (The nftlb-only demo is test/demo/nftlb-demo.sh.)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cluster=$(cd "$here/../cluster" && pwd)
# shellcheck source=../cluster/lib.sh
. "$cluster/lib.sh"
# shellcheck source=../cluster/chain.sh
. "$cluster/chain.sh"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

down() {
  chain_down 2>/dev/null || true
  bash "$cluster/cluster.sh" down
}

if [ "${1:-}" = down ]; then down; exit 0; fi
[ -z "${1:-}" ] || { echo "usage: $0 [down]" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "demo: needs root (network namespaces, nftables)" >&2; exit 1; }
for b in akrobateo-operator nftlb; do
  [ -x "$AKROBATEO_BIN/$b" ] || { echo "demo: $AKROBATEO_BIN/$b is missing (make build)" >&2; exit 1; }
done

t0=$(date +%s)
# A failed demo leaves nothing running.
trap 'echo "demo: failed; cleaning up (logs were in $dir)" >&2; down >/dev/null 2>&1' ERR
down >/dev/null 2>&1

say "control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok (3 Nodes)"
bash "$cluster/cluster.sh" up
kc get nodes -o wide

say "operator: deploy/ RBAC, ServiceAccount token from kubectl create token"
apply_rbac
op_kubeconfig demo >/dev/null
op_start demo 26070 26071
until_ok 60 op_ready 26071 || { tail "$dir/operator-demo.log" >&2; false; }
echo "akrobateo-operator running (pid $(op_pid demo)), log $dir/operator-demo.log"

say "the echoserver (test/cluster/manifests/echoserver.yaml): a Deployment and a type: LoadBalancer Service"
kc apply -f "$cluster/manifests/echoserver.yaml"
until_ok 60 has_ingress default echoserver ||
  { echo "demo: echoserver got no ingress" >&2; false; }
kc -n "$OPNS" get daemonset,pods -o wide
echo
kc get svc echoserver

say "the data path: one network namespace per Node running nftlb with the DaemonSet's args"
chain_up default echoserver
port=$(kc get svc echoserver -o jsonpath='{.spec.ports[0].port}')
for a in $(ingress_of default echoserver); do
  echo "\$ curl http://$a:$port/   (from the client namespace)"
  chain_request "$a" "$port"
done

say "running (took $(( $(date +%s) - t0 ))s)"
cat <<EOF
  export KUBECONFIG=$dir/admin.kubeconfig PATH=$kbin:\$PATH
  kubectl get svc echoserver
  ip netns exec $netns_prefix-client curl http://$(ingress_of default echoserver | awk '{print $1}'):$port/
  logs: $dir/*.log
Stop everything with: make demo-down
EOF
trap - ERR
