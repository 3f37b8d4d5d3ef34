#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Records real API JSON, byte for byte as this kube-apiserver returns it (`kubectl get --raw`),
# into test/operator/testdata/recorded/ for the operator's decoding tests: the echoserver
# Service after the operator handled it, its DaemonSet and one of its pods, the Nodes, the
# Service's EndpointSlice, and a watch stream of Services.
# Usage: test/cluster/record-fixtures.sh [OUT_DIR]. Brings the cluster up (and down again) when it
# is not running; runs the operator from $AKROBATEO_BIN (default build/bin).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export AKROBATEO_CLUSTER_PROFILE=${AKROBATEO_CLUSTER_PROFILE-record}
# shellcheck source=lib.sh
. "$here/lib.sh"
out=${1:-$root/test/operator/testdata/recorded}
mkdir -p "$out"

started=0
if ! bash "$here/cluster.sh" status | grep -q 'kube-apiserver running'; then
  bash "$here/cluster.sh" up
  started=1
fi
cleanup() {
  op_stop record
  if [ "$started" = 1 ]; then bash "$here/cluster.sh" down; fi
}
trap cleanup EXIT

apply_rbac
op_kubeconfig record >/dev/null
op_start record 29060 29061
until_ok 60 op_ready 29061 || { echo "record: operator not ready" >&2; exit 1; }
kc apply -f "$here/manifests/echoserver.yaml" >/dev/null
until_ok 60 has_ingress default echoserver ||
  { echo "record: echoserver got no ingress" >&2; exit 1; }

raw() { kc get --raw "$1" > "$out/$2"; echo "recorded $2 <- $1"; }
ds=$(ds_names default echoserver | head -1)
pod=$(kc -n "$OPNS" get pods -l "akrobateo.dev/service-name=echoserver" -o jsonpath='{.items[0].metadata.name}')
slice=$(kc -n default get endpointslices -l kubernetes.io/service-name=echoserver -o jsonpath='{.items[0].metadata.name}')
raw /api/v1/namespaces/default/services/echoserver service.json
raw "/apis/apps/v1/namespaces/$OPNS/daemonsets/$ds" daemonset.json
raw "/api/v1/namespaces/$OPNS/pods/$pod" pod.json
raw /api/v1/nodes/node-c node-dual-stack.json
raw /api/v1/nodes/node-b node-external-ip.json
raw /api/v1/nodes node-list.json
raw "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/$slice" endpointslice.json
raw "/api/v1/services?limit=500" service-list.json
# A watch from resourceVersion 0: one JSON event per line.
timeout 10 "$kbin/kubectl" --kubeconfig="$dir/admin.kubeconfig" get --raw \
  "/api/v1/namespaces/default/services?watch=1&timeoutSeconds=2&resourceVersion=0" > "$out/service-watch.jsonl" || true
echo "recorded service-watch.jsonl"
kc version -o json | jq -r '"recorded from kube-apiserver \(.serverVersion.gitVersion)"' | tee "$out/README"
