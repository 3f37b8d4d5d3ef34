# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Case (sourced by e2e.sh): which nodes run the balancer pods and which addresses the Service
# gets: akrobateo.dev/enablelb on a node, the akrobateo.dev/lbpool label on Service and nodes,
# and dual-stack Services (ingress ordered by spec.ipFamilies, one --forward per family, the
# IPv6 forwarding sysctl). Needs: daemonset.sh (the echoserver). Leaves node-a and node-c in
# pool blue.

# enablelb: only labelled nodes.
kc label node node-c akrobateo.dev/enablelb=true >/dev/null
check "enablelb on node-c: balancer pods only on node-c" until_ok 30 nodes_are default echoserver "node-c"
check "enablelb on node-c: ingress = 192.0.2.12 (node-c has no ExternalIP)" until_ok 30 ingress_is default echoserver "192.0.2.12"
kc label node node-c akrobateo.dev/enablelb- >/dev/null
check "enablelb removed: back on all nodes, ingress 203.0.113.11" until_ok 30 ingress_is default echoserver "203.0.113.11"

# lbpool and dual-stack ordering.
kc label node node-a node-c akrobateo.dev/lbpool=blue >/dev/null
lb_svc pool-v6first 9001 '{"ipFamilyPolicy": "RequireDualStack", "ipFamilies": ["IPv6", "IPv4"]}' '{"akrobateo.dev/lbpool": "blue"}'
lb_svc pool-v4first 9002 '{"ipFamilyPolicy": "RequireDualStack", "ipFamilies": ["IPv4", "IPv6"]}' '{"akrobateo.dev/lbpool": "blue"}'
check "lbpool blue: pods only on node-a node-c" until_ok 30 nodes_are default pool-v6first "node-a node-c"
check "dual-stack [IPv6, IPv4]: ingress 2001:db8::12 192.0.2.10 192.0.2.12" until_ok 30 ingress_set_is default pool-v6first "2001:db8::12 192.0.2.10 192.0.2.12"
check "dual-stack [IPv4, IPv6]: ingress 192.0.2.10 192.0.2.12 2001:db8::12" until_ok 30 ingress_set_is default pool-v4first "192.0.2.10 192.0.2.12 2001:db8::12"
v6cip=$(kc get svc pool-v4first -o jsonpath='{.spec.clusterIPs[1]}')
v4cip=$(kc get svc pool-v4first -o jsonpath='{.spec.clusterIPs[0]}')
if ds_has_arg default pool-v4first "--forward tcp/9002=$v4cip:9002" && ds_has_arg default pool-v4first "--forward tcp/9002=[$v6cip]:9002"; then
  ok "dual-stack: one --forward per family ($v4cip, [$v6cip])"
else bad "dual-stack: one --forward per family" "got '$(ds_args default pool-v4first)'"; fi
check_eq "IPv6 family asks for the ipv6 forwarding sysctl" \
  "$(ds_json default pool-v4first | jq -r '[.spec.template.spec.securityContext.sysctls[]? | "\(.name)=\(.value)"] | join(",")')" "net.ipv6.conf.all.forwarding=1"
