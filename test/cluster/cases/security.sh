# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Case (sourced by e2e.sh): what a tenant's Service may not take, against the real API server
# (docs/security.md). A port on the kubelet's port is refused (Warning ReservedPort, no hostPort)
# and the status the API server accepts carries ports[].error and ipMode Proxy; annotations of
# an untrusted namespace are ignored with a Warning; spec.loadBalancerIP is warned about; a
# Service whose DaemonSet the API refuses (an admission policy of the test's) hears the API's
# message, and a newer Service on its port is served; a Service whose balancer pods the API refuses
# (an admission policy on pods, as a quota or Pod Security would) hears that message too.
lb_svc sec-kubelet 10250 '{"ports": [{"name": "kubelet", "port": 10250, "protocol": "TCP"}, {"name": "web", "port": 9500, "protocol": "TCP"}], "loadBalancerIP": "192.0.2.77"}'
kc annotate svc sec-kubelet akrobateo.dev/priority-class=system-node-critical >/dev/null
check "sec-kubelet: Warning ReservedPort names TCP/10250 (kubelet)" until_ok 30 has_event default sec-kubelet ReservedPort
check "sec-kubelet: Warning AnnotationNotAllowed (default is not a trusted namespace)" until_ok 30 has_event default sec-kubelet AnnotationNotAllowed
check "sec-kubelet: Warning UnsupportedField for spec.loadBalancerIP" until_ok 30 has_event default sec-kubelet UnsupportedField
check "sec-kubelet: its DaemonSet" until_ok 30 ds_one default sec-kubelet
check_eq "sec-kubelet: hostPort 9500 only" "$(ds_json default sec-kubelet | jq -c '[.spec.template.spec.containers[0].ports[].hostPort]')" '[9500]'
check_eq "sec-kubelet: the admin's priority class" "$(ds_json default sec-kubelet | jq -r '.spec.template.spec.priorityClassName')" akrobateo-balancer
check "sec-kubelet: addresses published" until_ok 60 has_ingress default sec-kubelet
sec_status() { kc get svc sec-kubelet -o json | jq -c '[.status.loadBalancer.ingress[] | {ipMode, ports: [.ports[] | [.port, .error // ""]]}] | unique'; }
check_eq "sec-kubelet: the API server keeps ports[].error and ipMode Proxy on each address" "$(sec_status)" \
  '[{"ipMode":"Proxy","ports":[[10250,"akrobateo.dev/ReservedPort"],[9500,""]]}]'
echo "# kubectl describe svc sec-kubelet (events): $(kc get events --field-selector involvedObject.name=sec-kubelet,type=Warning -o jsonpath='{range .items[*]}{.reason}: {.message}{" | "}{end}')"
kc delete svc sec-kubelet >/dev/null
check "sec-kubelet deleted: DaemonSet gone" until_ok 30 ds_gone default sec-kubelet

# The API refuses one Service's DaemonSet.
refuse_writes akrobateo-test-refuse apps daemonsets sec-refused \
  "the test's admission policy refuses the DaemonSet of Service sec-refused"
sec_policy_denies() {
  local probe
  probe=$(jq -n '{apiVersion: "apps/v1", kind: "DaemonSet", metadata: {name: "probe", namespace: "default",
      labels: {"akrobateo.dev/service-name": "sec-refused"}},
    spec: {selector: {matchLabels: {a: "b"}}, template: {metadata: {labels: {a: "b"}},
      spec: {containers: [{name: "c", image: "x"}]}}}}')
  ! kc create --dry-run=server -f - <<<"$probe" >/dev/null 2>&1
}
check "the test's admission policy is in force" until_ok 30 sec_policy_denies
lb_svc sec-refused 9510
refused_named() {
  kc get events --field-selector involvedObject.name=sec-refused,reason=FailedApplyDaemonSet,type=Warning -o jsonpath='{.items[*].message}' |
    grep -F "the test's admission policy refuses the DaemonSet of Service sec-refused" >/dev/null
}
check "sec-refused: Warning FailedApplyDaemonSet with the API's message" until_ok 30 refused_named
lb_svc sec-later 9510
check "sec-later (newer, same port) is served: its DaemonSet" until_ok 30 ds_one default sec-later
check "sec-later: addresses published" until_ok 60 has_ingress default sec-later
if has_event default sec-later PortConflict; then bad "sec-later: no PortConflict"; else ok "sec-later: no PortConflict"; fi
check_eq "sec-refused: one Warning for the repeated refusal (the queue backs off)" \
  "$(kc get events --field-selector involvedObject.name=sec-refused,reason=FailedApplyDaemonSet -o name | wc -l)" 1
allow_writes akrobateo-test-refuse
kc delete svc sec-refused sec-later >/dev/null
check "sec-refused, sec-later deleted: DaemonSets gone" until_ok 30 ds_gone default sec-later

# The DaemonSet controller cannot create one Service's balancer pods (an admission policy of the
# test's on pods, refusing them as a ResourceQuota or Pod Security would): the Service hears the
# API's message, and is served once the refusal goes.
refuse_writes akrobateo-test-refuse-pods "" pods sec-nopods \
  "the test's admission policy refuses the balancer pods of Service sec-nopods"
sec_pod_policy_denies() {
  local probe
  probe=$(jq -n '{apiVersion: "v1", kind: "Pod", metadata: {name: "probe", namespace: "default",
      labels: {"akrobateo.dev/service-name": "sec-nopods"}}, spec: {containers: [{name: "c", image: "x"}]}}')
  ! kc create --dry-run=server -f - <<<"$probe" >/dev/null 2>&1
}
check "the test's pod admission policy is in force" until_ok 30 sec_pod_policy_denies
lb_svc sec-nopods 9520
nopods_named() {
  kc get events --field-selector involvedObject.name=sec-nopods,reason=FailedCreatePod,type=Warning -o jsonpath='{.items[*].message}' |
    grep -F "the test's admission policy refuses the balancer pods of Service sec-nopods" >/dev/null
}
check "sec-nopods: Warning FailedCreatePod with the API's message" until_ok 60 nopods_named
echo "# sec-nopods: $(kc get events --field-selector involvedObject.name=sec-nopods,reason=FailedCreatePod -o jsonpath='{.items[0].message}')"
# The controller retries with another generated pod name each time; the Service hears it once.
nopods_retried() {
  [ "$(kc -n "$OPNS" get events --field-selector reason=FailedCreate,involvedObject.kind=DaemonSet -o name | wc -l)" -ge 2 ]
}
check "sec-nopods: the DaemonSet controller retried (several FailedCreate Events)" until_ok 30 nopods_retried
check_eq "sec-nopods: one Warning FailedCreatePod for the repeated refusal" \
  "$(kc get events --field-selector involvedObject.name=sec-nopods,reason=FailedCreatePod -o name | wc -l)" 1
allow_writes akrobateo-test-refuse-pods
check "sec-nopods: served once the refusal is gone (addresses published)" until_ok 120 has_ingress default sec-nopods
kc delete svc sec-nopods >/dev/null
check "sec-nopods deleted: DaemonSet gone" until_ok 30 ds_gone default sec-nopods
