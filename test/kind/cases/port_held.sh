# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Case: a hostPort held on one node by a pod that is not ours. The holder is an ordinary pod of
# another namespace at the default priority 0. The balancers run at deploy/'s PriorityClass
# akrobateo-balancer (value 1000000, preemptionPolicy Never): the scheduler must not preempt the
# holder to place a balancer (at system-node-critical, the default before, it did). So that
# node's balancer stays Pending, the Service says so, the other nodes answer, and the holder
# keeps running.
e2e_port_held() {
  local node="$CLUSTER-worker" ip
  kubectl create namespace holder-ns >/dev/null
  kubectl -n holder-ns run port-holder --restart=Never --image="$(agnhost_image)" \
    --image-pull-policy=IfNotPresent --overrides="$(jq -nc --arg n "$node" --arg i "$(agnhost_image)" '{
      spec: {nodeName: $n,
             containers: [{name: "port-holder", image: $i, args: ["pause"],
                           ports: [{containerPort: 8130, hostPort: 8130, protocol: "TCP"}]}]}}')" >/dev/null
  kubectl -n holder-ns wait --for=condition=Ready pod/port-holder --timeout="${TIMEOUT}s" >/dev/null
  check_eq "port holder runs at priority 0" \
    "$(kubectl -n holder-ns get pod port-holder -o jsonpath='{.spec.priority}')" 0
  lb_service echo-held 8130
  check_eq "balancer pods run at akrobateo-balancer (preemptionPolicy Never)" \
    "$(kubectl -n akrobateo-system get ds -l akrobateo.dev/service-name=echo-held -o jsonpath='{.items[0].spec.template.spec.priorityClassName}')" \
    akrobateo-balancer
  check "port held on $node: Warning UnavailableLoadBalancer names it" \
    until_ok "$TIMEOUT" warning_names echo-held UnavailableLoadBalancer "$node"
  check "port held on $node: the other two nodes are the EXTERNAL-IPs" \
    until_ok "$TIMEOUT" ingress_count_is default echo-held 2
  for ip in $(ingress_of default echo-held); do
    check "port held on $node: $ip:8130 answers" until_ok 30 http_hostname "$ip" 8130
  done
  check "port held on $node: the holder (another namespace, priority 0) was not preempted" \
    holder_untouched
  kubectl delete svc echo-held --wait >/dev/null
  kubectl delete namespace holder-ns --wait=false >/dev/null
}

# The holder is Ready, not being deleted, and no Preempted event names it.
holder_untouched() {
  kubectl -n holder-ns wait --for=condition=Ready pod/port-holder --timeout=1s >/dev/null &&
    [ -z "$(kubectl -n holder-ns get pod port-holder -o jsonpath='{.metadata.deletionTimestamp}')" ] &&
    [ -z "$(kubectl -n holder-ns get events --field-selector reason=Preempted -o name)" ]
}
