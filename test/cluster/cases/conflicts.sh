# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Case (sourced by e2e.sh): two Services on one protocol/port (Warning PortConflict on the
# second, naming the first), and a hostPort held on one node by a pod that is not ours (the
# Service answers on the other nodes, with a Warning quoting the scheduler, once; freeing the port
# brings node-b back).
lb_svc conflict-one 9006
check "conflict-one gets its DaemonSet" until_ok 30 ds_one default conflict-one
lb_svc conflict-two 9006
conflict_named() {
  kc -n default get events -o json | jq -r '.items[] | select(.reason == "PortConflict" and .type == "Warning" and .involvedObject.name == "conflict-two") | .message' | grep conflict-one >/dev/null
}
check "two Services on TCP 9006: Warning PortConflict on the second, naming the first" until_ok 30 conflict_named

# A hostPort held on one node by something else: the scheduler's reason on the Service.
# A plain pod (think: an ingress controller) of another namespace holds TCP 9008 on node-b, at
# the default priority 0. The balancer's PriorityClass (deploy/, value 1000000) never preempts,
# so the holder keeps its port: node-b's balancer pod stays Pending and the Service answers on
# node-a and node-c only.
kc create namespace holder-ns >/dev/null 2>&1 || true
kc apply -f - >/dev/null <<'EOF'
{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "port-holder", "namespace": "holder-ns"},
 "spec": {"nodeName": "node-b",
  "containers": [{"name": "c", "image": "example.com/ingress", "ports": [{"containerPort": 9008, "hostPort": 9008, "protocol": "TCP"}]}]}}
EOF
pod_running() { [ "$(kc -n holder-ns get pod "$1" -o jsonpath='{.status.phase}')" = Running ]; }
check "port-holder (not from akrobateo) Running on node-b with hostPort 9008" until_ok 30 pod_running port-holder
lb_svc hostport-busy 9008
check "hostport-busy: balancer pods Ready on node-a node-c" until_ok 60 nodes_are default hostport-busy "node-a node-c"
pending_on_b() {
  kc -n "$OPNS" get pods -l akrobateo.dev/service-name=hostport-busy -o json | jq -e '[.items[] | select(.status.phase == "Pending" and
    any(.status.conditions[]?; .type == "PodScheduled" and .reason == "Unschedulable" and (.message | contains("free ports"))))] | length == 1' >/dev/null
}
check "hostport-busy: one balancer pod Pending, the scheduler says: didn't have free ports" until_ok 30 pending_on_b
check "hostport-busy: ingress = 192.0.2.10 192.0.2.12 (node-b's pod cannot run)" until_ok 30 ingress_set_is default hostport-busy "192.0.2.10 192.0.2.12"
unavailable_notes() {
  kc -n default get events --field-selector involvedObject.name=hostport-busy,reason=UnavailableLoadBalancer,type=Warning -o json | jq -r '.items[].message'
}
partial_b="2 of 3 balancer pods are ready; 1 of 3 pods is Pending, cannot be scheduled on node node-b, .*didn't have free ports"
warned_port_b() { unavailable_notes | grep "$partial_b" >/dev/null; }
check "hostport-busy: Warning UnavailableLoadBalancer names node-b and quotes the scheduler" until_ok 30 warned_port_b
holder_kept() { pod_running port-holder && [ -z "$(kc -n holder-ns get pod port-holder -o jsonpath='{.metadata.deletionTimestamp}')" ]; }
check "port-holder (priority 0, another namespace) was not preempted by the balancer" holder_kept
echo "# kubectl get events reason=UnavailableLoadBalancer: $(unavailable_notes | grep "$partial_b" | sed -n 1p)"
sleep 3
check_eq "hostport-busy: that Warning is emitted once, not on every reconcile" "$(unavailable_notes | grep -c "$partial_b")" 1
kc -n holder-ns delete pod port-holder --wait=false >/dev/null
check "port freed: node-b's balancer pod runs, ingress = 203.0.113.11" until_ok 60 ingress_is default hostport-busy "203.0.113.11"
kc delete svc hostport-busy >/dev/null
check "hostport-busy deleted: DaemonSet gone" until_ok 30 ds_gone default hostport-busy
