# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Case: a RequireDualStack Service gets the nodes' addresses of both families, IPv6 first, and
# answers on each.
e2e_dual_stack() {
  lb_service echo-dual 8100 '{"ipFamilyPolicy": "RequireDualStack", "ipFamilies": ["IPv6", "IPv4"]}'
  check "dual-stack: EXTERNAL-IPs of both families" until_ok "$TIMEOUT" \
    ingress_set_is default echo-dual "$(node_ips 6) $(node_ips 4)"
  check "dual-stack: IPv6 addresses first (spec.ipFamilies order)" \
    bash -c "kubectl get svc echo-dual -o jsonpath='{.status.loadBalancer.ingress[0].ip}' | grep -q :"
  for ip in $(ingress_of default echo-dual); do
    check "dual-stack: host -> $(url_host "$ip"):8100" until_ok 30 http_hostname "$ip" 8100
  done
  kubectl delete svc echo-dual --wait >/dev/null
}
