# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Case: loadBalancerSourceRanges admits one client container of the kind network and drops
# another.
e2e_source_ranges() {
  # Two clients on the kind network with addresses of their own: one inside the range.
  local allowed denied target
  allowed=$(client_container "$CLUSTER-client-allowed")
  denied=$(client_container "$CLUSTER-client-denied")
  lb_service echo-ranges 8120 "$(jq -nc --arg r "$allowed/32" '{loadBalancerSourceRanges: [$r]}')"
  until_ok "$TIMEOUT" ingress_count_is default echo-ranges "$(node_ips 4 | wc -l)" || true
  for target in $(ingress_of default echo-ranges); do
    check "source ranges: $allowed -> $target:8120 answers" until_ok 30 from_client "$CLUSTER-client-allowed" "$target" 8120
    check "source ranges: $denied -> $target:8120 is dropped" bash -c "! docker exec $CLUSTER-client-denied curl -fsS --max-time 3 http://$target:8120/hostname 2>/dev/null"
  done
  kubectl delete svc echo-ranges --wait >/dev/null
  docker rm -f "$CLUSTER-client-allowed" "$CLUSTER-client-denied" >/dev/null
}
