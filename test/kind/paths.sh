#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Which path does traffic to an EXTERNAL-IP take on a real kind cluster? (docs/design.md,
# "The data path on real nodes", records the answer.) Run on a cluster from `make kind-up` with
# akrobateo deployed (`make kind-deploy`); it changes kube-proxy's mode in place, so use a
# cluster of its own:
#   bash test/kind/paths.sh            both kube-proxy modes, every case; a table on stdout
#
# For each case it sends REQUESTS requests from the host to one node's EXTERNAL-IP and then reads
# the node's conntrack table, which records for every connection where it was sent:
#   reply from the balancer pod's address  -> the CNI portmap hostPort DNAT, then nftlb
#   reply from an echoserver pod's address -> kube-proxy's own rules for the LoadBalancer IP
# and, in the balancer pod's network namespace, how many connections nftlb forwarded.
# Cases: ipMode unset (VIP) and Proxy; externalTrafficPolicy Cluster and Local; with and
# without loadBalancerSourceRanges (the host's address allowed, so requests are answered).
set -euo pipefail
cd "$(dirname "$0")/../.."
export KUBECONFIG="$PWD/build/kind/kubeconfig"
CLUSTER="${KIND_CLUSTER:-akrobateo}"
REQUESTS="${REQUESTS:-20}"
PORT=8150
NODE="$CLUSTER-worker"
# shellcheck source=test/cluster/versions.env
. test/cluster/versions.env
PATH="$(bash test/cluster/build.sh node):$PATH"

log_name=paths.sh
# shellcheck source=test/lib/log.sh
source test/lib/log.sh

node_ip() { kubectl get node "$NODE" -o jsonpath='{.status.addresses[?(@.type=="InternalIP")].address}' | tr ' ' '\n' | grep -v : | head -1; }
balancer_ip() {
  kubectl -n akrobateo-system get pods -l akrobateo.dev/service-name=paths \
    --field-selector "spec.nodeName=$NODE" -o jsonpath='{.items[0].status.podIP}'
}
endpoint_ips() { kubectl get pods -l app=echoserver -o jsonpath='{range .items[*]}{.status.podIP}{"\n"}{end}'; }

# conntrack_replies: for each connection to NODE_IP:PORT on the node, the address that replied.
conntrack_replies() {
  docker exec "$NODE" conntrack -L -p tcp -d "$1" --dport "$PORT" 2>/dev/null |
    sed -n 's/.* src=\([^ ]*\) dst=[^ ]* sport=[0-9]* dport=[0-9]* .*src=\([^ ]*\) dst=.*/\2/p'
}
nftlb_forwarded() { # connections in the balancer pod's own conntrack table
  local pid
  pid=$(docker exec "$NODE" sh -c "pgrep -x nftlb | while read -r p; do
      [ \"\$(nsenter -t \$p -n ip -4 -o addr show eth0 | awk '{print \$4}' | cut -d/ -f1)\" = $(balancer_ip) ] && echo \$p; done" | head -1)
  [ -n "$pid" ] || { echo 0; return; }
  docker exec "$NODE" nsenter -t "$pid" -n conntrack -L -p tcp --dport "$PORT" 2>/dev/null | grep -c . || true
}
flush() { docker exec "$NODE" conntrack -F >/dev/null 2>&1 || true; }

service() { # service SPEC-JSON
  jq -n --argjson port "$PORT" --argjson spec "$1" '{apiVersion: "v1", kind: "Service",
      metadata: {name: "paths", namespace: "default"},
      spec: ({type: "LoadBalancer", selector: {app: "echoserver"},
              ports: [{name: "http", port: $port, targetPort: "http", protocol: "TCP"}]} + $spec)}' |
    kubectl apply -f - >/dev/null
}
wait_ingress() {
  for _ in $(seq 120); do
    kubectl get svc paths -o jsonpath='{.status.loadBalancer.ingress[*].ip}' | grep -qw "$(node_ip)" && return 0
    sleep 1
  done
  return 1
}

measure() { # measure LABEL: requests, then where they went
  local ip ok=0 via_nftlb via_proxy other reply bal
  ip=$(node_ip)
  bal=$(balancer_ip)
  flush
  for _ in $(seq "$REQUESTS"); do
    curl -fsS --max-time 2 -o /dev/null "http://$ip:$PORT/hostname" && ok=$((ok + 1))
  done
  via_nftlb=0 via_proxy=0 other=0
  while read -r reply; do
    [ -n "$reply" ] || continue
    if [ "$reply" = "$bal" ]; then
      via_nftlb=$((via_nftlb + 1))
    elif endpoint_ips | grep -qx "$reply"; then
      via_proxy=$((via_proxy + 1))
    else other=$((other + 1)); fi
  done < <(conntrack_replies "$ip")
  printf '| %s | %s | %d/%d | %d | %d | %d | %s |\n' "$mode" "$1" "$ok" "$REQUESTS" "$via_nftlb" "$via_proxy" "$other" "$(nftlb_forwarded)"
}

set_ipmode() { # patch the status as the operator would write it, with the operator stopped
  local ingress
  ingress=$(kubectl get svc paths -o json | jq -c --arg m "$1" '[.status.loadBalancer.ingress[] | {ip} + (if $m == "" then {} else {ipMode: $m} end)]')
  kubectl patch svc paths --subresource=status --type=merge -p "{\"status\":{\"loadBalancer\":{\"ingress\":$ingress}}}" >/dev/null
  sleep 3 # kube-proxy's sync
}

proxy_mode() {
  kubectl -n kube-system get cm kube-proxy -o jsonpath='{.data.config\.conf}' | sed -n 's/^mode: *//p' | tr -d '"'
}
set_proxy_mode() {
  kubectl -n kube-system get cm kube-proxy -o json |
    jq --arg m "$1" '.data["config.conf"] |= sub("\nmode: [^\n]*"; "\nmode: " + $m)' | kubectl apply -f - >/dev/null
  kubectl -n kube-system rollout restart daemonset/kube-proxy >/dev/null
  kubectl -n kube-system rollout status daemonset/kube-proxy --timeout=120s >/dev/null
  sleep 5
}

kubectl apply -f test/kind/echoserver.yaml >/dev/null
kubectl rollout status deployment/echoserver --timeout=120s >/dev/null
echo "| kube-proxy | case | answered | via portmap+nftlb | via kube-proxy | other | nftlb conntrack entries |"
echo "|---|---|---|---|---|---|---|"
host_ip=$(docker network inspect kind -f '{{range .IPAM.Config}}{{.Gateway}} {{end}}' | tr ' ' '\n' | grep -v : | head -1)
for mode in iptables nftables; do
  [ "$(proxy_mode)" = "$mode" ] || set_proxy_mode "$mode"
  for policy in Cluster Local; do
    for ranges in none "$host_ip/32"; do
      spec=$(jq -nc --arg p "$policy" --arg r "$ranges" '{externalTrafficPolicy: $p} +
        (if $r == "none" then {} else {loadBalancerSourceRanges: [$r]} end)')
      kubectl -n akrobateo-system scale deployment/akrobateo-operator --replicas=2 >/dev/null
      kubectl delete svc paths --ignore-not-found --wait >/dev/null
      service "$spec"
      if ! wait_ingress; then
        log "no EXTERNAL-IP on $NODE for $spec (Local needs an echoserver pod there)"
        continue
      fi
      kubectl -n akrobateo-system scale deployment/akrobateo-operator --replicas=0 >/dev/null
      kubectl -n akrobateo-system wait --for=delete pod -l app.kubernetes.io/name=akrobateo --timeout=60s >/dev/null 2>&1 || true
      label="$policy, ranges ${ranges/none/-}"
      set_ipmode ""
      measure "$label, ipMode unset (VIP)"
      set_ipmode Proxy
      measure "$label, ipMode Proxy"
    done
  done
done
kubectl delete svc paths --ignore-not-found >/dev/null
kubectl -n akrobateo-system scale deployment/akrobateo-operator --replicas=2 >/dev/null
