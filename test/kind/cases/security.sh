# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Case: what a tenant's Service may not take through the operator, on real nodes
# (docs/security.md). A tenant in a Pod Security "baseline" namespace asks for the kubelet's
# port, sshd's port and another Service's nodePort next to an ordinary one, and for tolerations
# and a priority its namespace is not trusted with. The refused ports reach the tenant (Warning,
# status ports[].error); the ordinary one is served; the kubelet, sshd's port and the nodePort
# stay the nodes' (kubectl logs and exec reach pods on every node); the annotations are ignored.
# Then a Service whose DaemonSet the API refuses (a test admission policy) hears the API's
# message and does not keep a newer Service off its port.
tenant_app() { # NS NAME: agnhost netexec on 8080, a plain HTTP server that would answer anything
  jq -n --arg ns "$1" --arg name "$2" --arg image "$(agnhost_image)" '{
    apiVersion: "apps/v1", kind: "Deployment", metadata: {name: $name, namespace: $ns},
    spec: {replicas: 1, selector: {matchLabels: {app: $name}},
      template: {metadata: {labels: {app: $name}}, spec: {
        securityContext: {runAsNonRoot: true, runAsUser: 65534},
        containers: [{name: "app", image: $image, imagePullPolicy: "IfNotPresent",
                      args: ["netexec", "--http-port=8080"],
                      readinessProbe: {httpGet: {path: "/healthz", port: 8080}}}]}}}}' |
    kubectl apply -f - >/dev/null
  kubectl -n "$1" rollout status "deployment/$2" --timeout="${TIMEOUT}s" >/dev/null
}
# tenant_service NS NAME SELECTOR PORTS-JSON [ANNOTATIONS-JSON]
tenant_service() {
  jq -n --arg ns "$1" --arg name "$2" --arg app "$3" --argjson ports "$4" --argjson ann "${5:-{\}}" '{
    apiVersion: "v1", kind: "Service", metadata: {name: $name, namespace: $ns, annotations: $ann},
    spec: {type: "LoadBalancer", selector: {app: $app}, ports: $ports}}' | kubectl apply -f - >/dev/null
}
ns_warning() { # NS SVC REASON TEXT
  kubectl -n "$1" get events --field-selector "involvedObject.name=$2,reason=$3,type=Warning" \
    -o jsonpath='{range .items[*]}{.message}{"\n"}{end}' | grep -qF "$4"
}
answers() { curl -fsS --max-time 3 "http://$(url_host "$1"):$2/hostname" | grep -q "^$3"; }
# The kubelet answers on IP:10250 over TLS and refuses an anonymous request (401/403); the
# tenant's plain-HTTP pod would fail the TLS handshake instead (status 000).
kubelet_answers() {
  local code
  code=$(curl -sk --max-time 3 -o /dev/null -w '%{http_code}' "https://$(url_host "$1"):10250/pods")
  [ "$code" = 401 ] || [ "$code" = 403 ]
}
logs_and_exec_everywhere() { # kubectl logs and exec into the fake Service's balancer pod on every node
  local pod n=0
  for pod in $(kubectl -n akrobateo-system get pods -l akrobateo.dev/service-name=fake -o name); do
    kubectl -n akrobateo-system logs "$pod" >/dev/null || return 1
    kubectl -n akrobateo-system exec "$pod" -- /usr/local/bin/nftlb --version >/dev/null || return 1
    n=$((n + 1))
  done
  [ "$n" = "$(node_ips 4 | wc -l)" ]
}

e2e_security() {
  local ip nodes status ds
  nodes=$(node_ips 4 | wc -l)
  kubectl create namespace tenant-x >/dev/null
  kubectl label namespace tenant-x pod-security.kubernetes.io/enforce=baseline >/dev/null
  tenant_app tenant-x fake
  # Another namespace's NodePort Service on 31234, served by the echoserver.
  jq -n '{apiVersion: "v1", kind: "Service", metadata: {name: "np", namespace: "default"},
      spec: {type: "NodePort", selector: {app: "echoserver"},
             ports: [{port: 8080, targetPort: "http", nodePort: 31234}]}}' | kubectl apply -f - >/dev/null
  tenant_service tenant-x fake fake '[
      {"name": "kubelet", "port": 10250, "targetPort": 8080},
      {"name": "ssh", "port": 22, "targetPort": 8080},
      {"name": "nodeport", "port": 31234, "targetPort": 8080},
      {"name": "web", "port": 8140, "targetPort": 8080}]' \
    '{"akrobateo.dev/tolerations": "[{\"operator\":\"Exists\"}]", "akrobateo.dev/priority-class": "system-node-critical"}'
  check "tenant: Warning ReservedPort names TCP/10250 (kubelet)" \
    until_ok 60 ns_warning tenant-x fake ReservedPort "TCP/10250 is not served: it is reserved for the nodes' own services (kubelet)"
  check "tenant: Warning ReservedPort names TCP/22 (sshd)" until_ok 10 ns_warning tenant-x fake ReservedPort "TCP/22"
  check "tenant: Warning ReservedPort names TCP/31234 (another Service's nodePort, in the NodePort range)" \
    until_ok 10 ns_warning tenant-x fake ReservedPort "TCP/31234"
  check "tenant: Warning AnnotationNotAllowed for tolerations and priority-class" \
    until_ok 10 ns_warning tenant-x fake AnnotationNotAllowed "tenant-x is not one"
  check "tenant: every node is an EXTERNAL-IP (the other port is served)" until_ok "$TIMEOUT" ingress_count_is tenant-x fake "$nodes"
  kubectl -n tenant-x get svc fake
  status=$(kubectl -n tenant-x get svc fake -o json | jq -c '.status.loadBalancer.ingress[0]')
  echo "# status.loadBalancer.ingress[0]: $status"
  check_eq "tenant: ports[].error on the refused ports, none on the served one" \
    "$(jq -c '[.ports[] | [.port, .error // ""]]' <<<"$status")" \
    '[[10250,"akrobateo.dev/ReservedPort"],[22,"akrobateo.dev/ReservedPort"],[31234,"akrobateo.dev/ReservedPort"],[8140,""]]'
  check_eq "tenant: ipMode Proxy, so kube-proxy leaves the refused ports to the nodes" "$(jq -r .ipMode <<<"$status")" Proxy
  ds=$(kubectl -n akrobateo-system get ds -l akrobateo.dev/service-name=fake -o json | jq -c '.items[0].spec.template.spec')
  check_eq "tenant: the DaemonSet holds hostPort 8140 only" "$(jq -c '[.containers[0].ports[].hostPort]' <<<"$ds")" '[8140]'
  check_eq "tenant: priority is the admin's, not the annotation's" "$(jq -r .priorityClassName <<<"$ds")" akrobateo-balancer
  check_eq "tenant: no toleration of every taint" "$(jq '[.tolerations[] | select((.key // "") == "" and .operator == "Exists")] | length' <<<"$ds")" 0
  for ip in $(kubectl -n tenant-x get svc fake -o jsonpath='{.status.loadBalancer.ingress[*].ip}'); do
    check "tenant: $ip:8140 answers (the tenant's pod)" until_ok 60 answers "$ip" 8140 fake-
    check "tenant: $ip:10250 is still the kubelet (TLS, 401/403)" kubelet_answers "$ip"
    check "tenant: $ip:22 is not the tenant's pod" bash -c "! curl -fsS --max-time 3 http://$ip:22/hostname"
    check "tenant: $ip:31234 is still Service np's nodePort" until_ok 30 answers "$ip" 31234 echoserver-
  done
  check "kubectl logs and exec reach pods on every node" logs_and_exec_everywhere

  # A Service whose DaemonSet the API refuses: an admission policy of the test denies it.
  refuse_writes akrobateo-test-refuse-broken apps daemonsets broken \
    "the test's admission policy refuses the DaemonSet of Service broken"
  check "the admission policy is in force" until_ok 60 policy_denies
  kubectl create namespace tenant-y >/dev/null
  tenant_app tenant-y broken
  tenant_service tenant-y broken broken '[{"name": "web", "port": 8150, "targetPort": 8080}]'
  check "refused DaemonSet: Warning FailedApplyDaemonSet on the Service, with the API's message" \
    until_ok 60 ns_warning tenant-y broken FailedApplyDaemonSet "the test's admission policy refuses the DaemonSet of Service broken"
  tenant_service tenant-x later fake '[{"name": "web", "port": 8150, "targetPort": 8080}]'
  check "refused DaemonSet: a newer Service on the same port is served" until_ok "$TIMEOUT" ingress_count_is tenant-x later "$nodes"
  check "refused DaemonSet: no PortConflict on the newer Service" bash -c "! kubectl -n tenant-x get events --field-selector involvedObject.name=later,reason=PortConflict -o name | grep -q ."
  for ip in $(kubectl -n tenant-x get svc later -o jsonpath='{.status.loadBalancer.ingress[*].ip}'); do
    check "refused DaemonSet: $ip:8150 answers for the newer Service" until_ok 60 answers "$ip" 8150 fake-
  done
  allow_writes akrobateo-test-refuse-broken
  kubectl delete svc np --wait >/dev/null
  kubectl delete namespace tenant-x tenant-y --wait=false >/dev/null
}

# A server-side dry run of a DaemonSet labelled for Service broken is denied.
policy_denies() {
  local probe
  probe=$(jq -n '{apiVersion: "apps/v1", kind: "DaemonSet", metadata: {name: "probe", namespace: "default",
      labels: {"akrobateo.dev/service-name": "broken"}},
    spec: {selector: {matchLabels: {a: "b"}}, template: {metadata: {labels: {a: "b"}},
      spec: {containers: [{name: "c", image: "x"}]}}}}')
  ! kubectl create --dry-run=server -f - <<<"$probe" >/dev/null 2>&1
}
