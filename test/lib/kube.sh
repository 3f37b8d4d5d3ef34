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
# ingress_set_is NS NAME "IP IP...": the same addresses, the families in the same order, each
# family's addresses in any order (which address of a family comes first depends on which
# balancer was Ready first: docs/design.md, "The order of the addresses").
ingress_set_is() { [ "$(family_sorted "$(ingress_of "$1" "$2")")" == "$(family_sorted "$3")" ]; }
# family_sorted "IP IP...": IPv4 and IPv6 runs kept in their order, each run sorted.
family_sorted() {
  local ip fam last="" fs_run=() fs_out=()
  for ip in $1; do
    fam=4
    [[ $ip == *:* ]] && fam=6
    if [ -n "$last" ] && [ "$fam" != "$last" ]; then
      mapfile -t fs_run < <(printf '%s\n' "${fs_run[@]}" | sort -V)
      fs_out+=("${fs_run[@]}")
      fs_run=()
    fi
    fs_run+=("$ip")
    last=$fam
  done
  [ "${#fs_run[@]}" -eq 0 ] || mapfile -t fs_run < <(printf '%s\n' "${fs_run[@]}" | sort -V)
  fs_out+=("${fs_run[@]}")
  echo "${fs_out[*]}"
}
# has_ingress NS NAME: the Service has at least one ingress address.
has_ingress() { [ -n "$(ingress_of "$1" "$2")" ]; }
# node_ips FAMILY: the nodes' InternalIPs of that family (4 or 6), sorted, one a line.
node_ips() {
  kc get nodes -o jsonpath='{range .items[*]}{range .status.addresses[?(@.type=="InternalIP")]}{.address}{"\n"}{end}{end}' |
    if [ "$1" = 6 ]; then grep ':'; else grep -v ':'; fi | sort
}
# ingress_count_is NS NAME N: the Service lists exactly N ingress addresses.
ingress_count_is() { [ "$(wc -w <<<"$(ingress_of "$1" "$2")")" -eq "$3" ]; }

# refuse_writes NAME GROUP RESOURCE SERVICE MESSAGE: a ValidatingAdmissionPolicy and its binding,
# both named NAME, that deny CREATE and UPDATE of GROUP/RESOURCE (GROUP "" for the core group)
# when the object is labelled akrobateo.dev/service-name=SERVICE, with MESSAGE. How the tests make
# the API refuse one Service's DaemonSet or balancer pods, as a quota, Pod Security or a webhook
# would. `allow_writes NAME` removes them.
refuse_writes() {
  jq -n --arg name "$1" --arg group "$2" --arg res "$3" --arg svc "$4" --arg msg "$5" '
    {apiVersion: "v1", kind: "List", items: [
      {apiVersion: "admissionregistration.k8s.io/v1", kind: "ValidatingAdmissionPolicy",
       metadata: {name: $name},
       spec: {failurePolicy: "Fail",
              matchConstraints: {resourceRules: [{apiGroups: [$group], apiVersions: ["v1"],
                                                  operations: ["CREATE", "UPDATE"], resources: [$res]}]},
              validations: [{expression: ("!has(object.metadata.labels) || !(\u0027akrobateo.dev/service-name\u0027 in object.metadata.labels) || object.metadata.labels[\u0027akrobateo.dev/service-name\u0027] != \u0027" + $svc + "\u0027"),
                             message: $msg}]}},
      {apiVersion: "admissionregistration.k8s.io/v1", kind: "ValidatingAdmissionPolicyBinding",
       metadata: {name: $name}, spec: {policyName: $name, validationActions: ["Deny"]}}]}' |
    kc apply -f - >/dev/null
}
allow_writes() { kc delete validatingadmissionpolicybinding,validatingadmissionpolicy "$1" >/dev/null; }
