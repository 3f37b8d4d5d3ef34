# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Case: externalTrafficPolicy Local lists and serves only the node with an endpoint.
one_echoserver() { [ "$(kubectl get pods -l app=echoserver -o name | wc -l)" = 1 ]; }
e2e_local_policy() {
  # One echoserver pod, on one node: only that node may be listed, and it answers.
  kubectl scale deployment echoserver --replicas=1 >/dev/null
  kubectl rollout status deployment/echoserver --timeout="${TIMEOUT}s" >/dev/null
  local node node_ip
  until_ok 60 one_echoserver || true
  node=$(kubectl get pods -l app=echoserver --field-selector=status.phase=Running -o jsonpath='{.items[0].spec.nodeName}')
  node_ip=$(kubectl get node "$node" -o jsonpath='{.status.addresses[?(@.type=="InternalIP")].address}' | tr ' ' '\n' | grep -v : | head -1)
  lb_service echo-local 8110 '{"externalTrafficPolicy": "Local"}'
  check "Local: the only EXTERNAL-IP is $node's ($node_ip)" until_ok "$TIMEOUT" ingress_is default echo-local "$node_ip"
  check "Local: $node_ip:8110 answers" until_ok 30 http_hostname "$node_ip" 8110
  kubectl delete svc echo-local --wait >/dev/null
  kubectl scale deployment echoserver --replicas=2 >/dev/null
  kubectl rollout status deployment/echoserver --timeout="${TIMEOUT}s" >/dev/null
}
