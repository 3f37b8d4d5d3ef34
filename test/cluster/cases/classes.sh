# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Case (sourced by e2e.sh): a Service of another loadBalancerClass gets no DaemonSet and keeps
# the status another controller wrote; a later Service of ours is handled meanwhile.
# Sets: the Service after-other (cleanup.sh deletes it).
lb_svc other-class 9003 '{"loadBalancerClass": "example.com/other"}'
kc patch svc other-class --subresource=status --type=merge -p '{"status": {"loadBalancer": {"ingress": [{"ip": "198.51.100.99"}]}}}' >/dev/null
lb_svc after-other 9004
check "a later handled Service gets its DaemonSet" until_ok 30 ds_one default after-other
check_eq "other loadBalancerClass: no DaemonSet" "$(ds_count default other-class)" 0
check_eq "other loadBalancerClass: status untouched" "$(ingress_of default other-class)" 198.51.100.99
