# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# kubectl helpers shared by the test scripts (sourced, not run). Set kube_kubectl (default
# `kubectl` on PATH) and kube_config (default: kubectl's own choice) before calling them.

# kc ARGS...: kubectl with the script's binary and kubeconfig.
kc() { "${kube_kubectl:-kubectl}" ${kube_config:+--kubeconfig="$kube_config"} "$@"; }

# ingress_of NS NAME: the Service's status.loadBalancer.ingress IPs in their order, space-separated.
ingress_of() {
  kc -n "$1" get svc "$2" -o jsonpath='{range .status.loadBalancer.ingress[*]}{.ip}{" "}{end}' | sed 's/ $//'
}
# ingress_is NS NAME "IP IP...": the ingress is exactly that, in that order.
ingress_is() { [ "$(ingress_of "$1" "$2")" == "$3" ]; }
# has_ingress NS NAME: the Service has at least one ingress address.
has_ingress() { [ -n "$(ingress_of "$1" "$2")" ]; }
