#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make test-cluster`: the operator end to end on the real control plane of cluster.sh, run as
# users run it (deploy/'s ServiceAccount and RBAC, a token from `kubectl create token`), with
# kubectl as the client. One line per check; the last line is `N passed, M failed[, K skipped]`.
# Env: AKROBATEO_BIN (default build/bin) holds akrobateo-operator and nftlb;
#      AKROBATEO_CLUSTER_PROFILE (default e2e; see profile.sh) picks the cluster's dir and ports;
#      AKROBATEO_OPERATOR_PORT (default 36080): the operators' /metrics and /healthz ports are
#        this one and the next 17 (move it when two runs share the machine);
#      AKROBATEO_KEEP_CLUSTER=1 leaves the cluster up afterwards for inspection.
set -uo pipefail
# With pipefail, `producer | grep -q` fails now and then: grep exits at its first match and the
# producer may get SIGPIPE. Checks here let grep read everything (`grep ... >/dev/null`) or read
# from a here-string instead.
here=$(cd "$(dirname "$0")" && pwd)
# Its own cluster (build/cluster-e2e, ports 37xxx): a running `make demo` is left alone.
export AKROBATEO_CLUSTER_PROFILE=${AKROBATEO_CLUSTER_PROFILE-e2e}
# shellcheck source=lib.sh
. "$here/lib.sh"
# shellcheck source=chain.sh
. "$here/chain.sh"
opp=${AKROBATEO_OPERATOR_PORT:-36080}
pass=0 fail=0 skip=0
ok() { echo "ok   - $*"; pass=$((pass + 1)); }
bad() { echo "FAIL - $*"; fail=$((fail + 1)); }
skipped() { echo "skip - $*"; skip=$((skip + 1)); }
expect_eq() { # DESC GOT WANT
  if [ "$2" == "$3" ]; then ok "$1"; else bad "$1: got '$2', want '$3'"; fi
}
within() { # SECONDS DESC command... : the condition becomes true within SECONDS
  local t=$1 d=$2; shift 2
  if wait_until "$t" "$@"; then ok "$d"; else bad "$d (not within ${t}s)"; fi
}
finish() {
  local s="$pass passed, $fail failed"
  [ "$skip" -gt 0 ] && s="$s, $skip skipped"
  echo "$s"
}
cleanup() {
  local rc=$?
  chain_down 2>/dev/null
  if [ "${AKROBATEO_KEEP_CLUSTER:-0}" = 1 ]; then
    echo "cluster kept: KUBECONFIG=$dir/admin.kubeconfig; logs in $dir; stop it with: AKROBATEO_CLUSTER_PROFILE=$AKROBATEO_CLUSTER_PROFILE bash test/cluster/cluster.sh down"
  else
    [ "$fail" -gt 0 ] && mkdir -p "$root/build" && rm -rf "$root/build/cluster-failed" &&
      cp -r "$dir" "$root/build/cluster-failed" 2>/dev/null && echo "logs of the failed run: build/cluster-failed/"
    bash "$here/cluster.sh" down >/dev/null 2>&1
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

svc_uid() { kc -n "$1" get svc "$2" -o jsonpath='{.metadata.uid}'; }
ds_json() { kc -n "$OPNS" get ds "$(ds_names "$1" "$2" | head -1)" -o json; }
# The DaemonSet's args as one line, `--flag=value` and `--flag value` written alike.
ds_args() { ds_json "$1" "$2" | jq -r '.spec.template.spec.containers[0].args | join(" ")' | sed 's/--\([a-z-]*\)=/--\1 /g'; }
ds_has_arg() { ds_args "$1" "$2" | grep -F -- "$3" >/dev/null; }
ds_ready_nodes() { # NS NAME : the nodes of the DaemonSet's Ready pods, sorted, space separated
  local sel
  sel="akrobateo.dev/service-namespace=$1,akrobateo.dev/service-name=$2"
  kc -n "$OPNS" get pods -l "$sel" -o json |
    jq -r '[.items[] | select(.metadata.deletionTimestamp == null) | select(any(.status.conditions[]?; .type == "Ready" and .status == "True")) | .spec.nodeName] | sort | join(" ")'
}
ingress_is() { [ "$(ingress_of "$1" "$2")" == "$3" ]; }
ds_gone() { [ "$(ds_count "$1" "$2")" = 0 ]; }
ds_one() { [ "$(ds_count "$1" "$2")" = 1 ]; }
nodes_are() { [ "$(ds_ready_nodes "$1" "$2")" == "$3" ]; }
event_reasons() { # NS NAME : reasons of the events about a Service
  kc -n "$1" get events -o json |
    jq -r --arg n "$2" '.items[] | select(.involvedObject.name == $n and .involvedObject.kind == "Service") | .reason' | sort -u
}
has_event() { event_reasons "$1" "$2" | grep -x "$3" >/dev/null; }
lb_svc() { # NAME PORT [extra spec JSON] [labels JSON] : a LoadBalancer Service without selector
  kc apply -f - >/dev/null <<EOF
{"apiVersion": "v1", "kind": "Service",
 "metadata": {"name": "$1", "namespace": "default", "labels": ${4:-{\}}},
 "spec": $(jq -n --argjson x "${3:-{\}}" --argjson p "$2" '{type: "LoadBalancer", ports: [{name: "p", port: $p, protocol: "TCP"}]} + $x')}
EOF
}
audit() { jq -c 'select(.user.groups // [] | index("system:serviceaccounts:akrobateo-system"))' "$dir/audit.log"; }
writes_by() { # JTI : non-Lease writes made with that token
  audit | jq -c --arg j "JTI=$1" 'select((.user.extra["authentication.kubernetes.io/credential-id"] // [])[0] == $j and
    (.verb | IN("create", "update", "patch", "delete")) and .objectRef.resource != "leases")' | grep -c . || true
}

# --- preconditions -----------------------------------------------------------------------------
for b in akrobateo-operator nftlb; do
  if [ ! -x "$AKROBATEO_BIN/$b" ]; then
    bad "binary $AKROBATEO_BIN/$b exists (build it first: make build / make build-asan)"
    finish; exit 1
  fi
done

echo "# control plane $(grep K8S_VERSION "$here/versions.env" | cut -d= -f2), operator $AKROBATEO_BIN/akrobateo-operator"
bash "$here/cluster.sh" down >/dev/null 2>&1
if bash "$here/cluster.sh" up; then ok "control plane up, 3 kwok Nodes Ready"; else bad "control plane up"; finish; exit 1; fi

apply_rbac
SA=$(operator_sa)
op_kubeconfig a >/dev/null
op_a_started=$(date +%s)
op_start a "$opp" "$((opp + 1))" -v 1
within 60 "operator (ServiceAccount $OPNS/$SA, token from kubectl create token) ready" op_ready "$((opp + 1))"

# --- the seed's echoserver ----------------------------------------------------------------------
kc apply -f "$here/manifests/echoserver.yaml" >/dev/null
within 30 "echoserver: exactly one DaemonSet" ds_one default echoserver
ds=$(ds_names default echoserver | head -1)
cip=$(kc get svc echoserver -o jsonpath='{.spec.clusterIP}')
uid=$(svc_uid default echoserver)
j=$(ds_json default echoserver)
expect_eq "DaemonSet name is at most 63 characters" "$([ ${#ds} -le 63 ] && echo yes)" yes
expect_eq "DaemonSet labels name the Service" \
  "$(echo "$j" | jq -r '.metadata.labels | [."app.kubernetes.io/managed-by", ."akrobateo.dev/service-namespace", ."akrobateo.dev/service-name", ."akrobateo.dev/service-uid"] | join(",")')" \
  "akrobateo,default,echoserver,$uid"
expect_eq "pod labels name the Service" \
  "$(echo "$j" | jq -r '.spec.template.metadata.labels | [."app.kubernetes.io/managed-by", ."akrobateo.dev/service-namespace", ."akrobateo.dev/service-name", ."akrobateo.dev/service-uid"] | join(",")')" \
  "akrobateo,default,echoserver,$uid"
expect_eq "no ownerReference (cross-namespace)" "$(echo "$j" | jq -r '.metadata.ownerReferences // [] | length')" 0
expect_eq "one container, nftlb" "$(echo "$j" | jq -r '[.spec.template.spec.containers[].name] | join(",")')" nftlb
expect_eq "container image" "$(echo "$j" | jq -r '.spec.template.spec.containers[0].image')" akrobateo/nftlb:dev
expect_eq "hostPort per Service port with its protocol" \
  "$(echo "$j" | jq -r '[.spec.template.spec.containers[0].ports[] | "\(.protocol)/\(.containerPort)/\(.hostPort)"] | join(",")')" TCP/8080/8080
if ds_has_arg default echoserver "--forward tcp/8080=$cip:8080"; then ok "args forward tcp/8080 to the ClusterIP $cip:8080"; else bad "args forward tcp/8080=$cip:8080: got '$(ds_args default echoserver)'"; fi
expect_eq "startup and readiness probes run nftlb <the container's args> --check (periods 1 s and 30 s)" \
  "$(echo "$j" | jq -r '.spec.template.spec.containers[0] as $c | (["/usr/local/bin/nftlb"] + $c.args + ["--check"]) as $w |
     [$c.command == ["/usr/local/bin/nftlb"], $c.startupProbe.exec.command == $w, $c.readinessProbe.exec.command == $w,
      $c.startupProbe.periodSeconds, $c.readinessProbe.periodSeconds] | map(tostring) | join(",")')" \
  "true,true,true,1,30"
expect_eq "securityContext: drop ALL, add NET_ADMIN, not privileged, read-only root, no escalation, seccomp RuntimeDefault" \
  "$(echo "$j" | jq -r '.spec.template.spec as $s | $s.containers[0].securityContext as $c |
     [($c.capabilities.drop | join("+")), ($c.capabilities.add | join("+")), ($c.privileged // false), $c.readOnlyRootFilesystem,
      $c.allowPrivilegeEscalation, ($c.seccompProfile.type // $s.securityContext.seccompProfile.type)] | map(tostring) | join(",")')" \
  "ALL,NET_ADMIN,false,true,false,RuntimeDefault"
expect_eq "no service-account token, no service links" \
  "$(echo "$j" | jq -r '.spec.template.spec | [.automountServiceAccountToken, .enableServiceLinks] | map(tostring) | join(",")')" "false,false"
expect_eq "requests and a memory limit" \
  "$(echo "$j" | jq -r '.spec.template.spec.containers[0].resources | [(.requests | length > 0), (.limits.memory != null)] | map(tostring) | join(",")')" "true,true"
expect_eq "tolerates control-plane/master NoSchedule and CriticalAddonsOnly" \
  "$(echo "$j" | jq -r '[.spec.template.spec.tolerations[]? | .key] | [index("node-role.kubernetes.io/control-plane") != null, index("node-role.kubernetes.io/master") != null, index("CriticalAddonsOnly") != null] | map(tostring) | join(",")')" \
  "true,true,true"
expect_eq "priorityClassName system-node-critical" "$(echo "$j" | jq -r '.spec.template.spec.priorityClassName')" system-node-critical
expect_eq "RollingUpdate, maxUnavailable 1" \
  "$(echo "$j" | jq -r '.spec.updateStrategy | "\(.type)/\(.rollingUpdate.maxUnavailable)"')" "RollingUpdate/1"
within 60 "Ready balancer pods on node-a node-b node-c" nodes_are default echoserver "node-a node-b node-c"
# SPEC: ExternalIP if any of the nodes has one (node-b), else InternalIP; IPv4 only (single-stack).
within 30 "status.loadBalancer.ingress = 203.0.113.11 (node-b's ExternalIP)" ingress_is default echoserver "203.0.113.11"
line=$(kc get svc echoserver --no-headers)
echo "# kubectl get svc echoserver: $line"
expect_eq "kubectl get svc shows the EXTERNAL-IP" "$(echo "$line" | awk '{print $4}')" 203.0.113.11
within 10 "event AppliedDaemonSet on the Service" has_event default echoserver AppliedDaemonSet
within 10 "event UpdatedLoadBalancer on the Service" has_event default echoserver UpdatedLoadBalancer

# --- the whole chain: real nftlb in a namespace per Node, ClusterIP to a backend echo server --------
if [ "$(id -u)" != 0 ] || ! ip netns add "$netns_prefix-probe" 2>/dev/null; then
  skipped "data path through nftlb: needs root and network namespaces"
else
  ip netns del "$netns_prefix-probe"
  if chain_up default echoserver > "$dir/chain.out" 2>&1; then
    for a in $(ingress_of default echoserver); do
      reply=$(chain_request "$a" 8080 2>&1)
      if grep -q "answered on $cip port 8080" <<<"$reply"; then ok "request to $a:8080 answered through nftlb: $reply"
      else bad "request to $a:8080 answered through nftlb: got '$reply'"; fi
    done
  else
    bad "data-path chain set up: $(tail -3 "$dir/chain.out" | tr '\n' ' ')"
  fi
  chain_down
fi

# --- updates in place, and no write when nothing differs --------------------------------------------
ds_uid=$(echo "$j" | jq -r .metadata.uid)
gen=$(kc -n "$OPNS" get ds "$ds" -o jsonpath='{.metadata.generation}')
status_writes() { audit | jq -c 'select(.objectRef.resource == "services" and .objectRef.subresource == "status" and .objectRef.name == "echoserver" and .verb == "patch")' | grep -c . || true; }
sw=$(status_writes)
sleep 3
expect_eq "no DaemonSet write when nothing differs (generation steady)" "$(kc -n "$OPNS" get ds "$ds" -o jsonpath='{.metadata.generation}')" "$gen"
expect_eq "no status write when nothing differs (audit: no services/status patch)" "$(status_writes)" "$sw"
kc patch svc echoserver --type=json -p '[{"op": "replace", "path": "/spec/ports/0/port", "value": 8081}]' >/dev/null
within 30 "port change 8080 -> 8081: args updated" ds_has_arg default echoserver "--forward tcp/8081=$cip:8081"
expect_eq "port change: hostPort updated" "$(ds_json default echoserver | jq -r '[.spec.template.spec.containers[0].ports[] | "\(.protocol)/\(.hostPort)"] | join(",")')" TCP/8081
expect_eq "port change: same DaemonSet, updated in place" "$(ds_json default echoserver | jq -r .metadata.uid)/$(ds_count default echoserver)" "$ds_uid/1"

# --- enablelb: only labelled nodes ----------------------------------------------------------------
kc label node node-c akrobateo.dev/enablelb=true >/dev/null
within 30 "enablelb on node-c: balancer pods only on node-c" nodes_are default echoserver "node-c"
within 30 "enablelb on node-c: ingress = 192.0.2.12 (node-c has no ExternalIP)" ingress_is default echoserver "192.0.2.12"
kc label node node-c akrobateo.dev/enablelb- >/dev/null
within 30 "enablelb removed: back on all nodes, ingress 203.0.113.11" ingress_is default echoserver "203.0.113.11"

# --- lbpool and dual-stack ordering -------------------------------------------------------------------
kc label node node-a node-c akrobateo.dev/lbpool=blue >/dev/null
lb_svc pool-v6first 9001 '{"ipFamilyPolicy": "RequireDualStack", "ipFamilies": ["IPv6", "IPv4"]}' '{"akrobateo.dev/lbpool": "blue"}'
lb_svc pool-v4first 9002 '{"ipFamilyPolicy": "RequireDualStack", "ipFamilies": ["IPv4", "IPv6"]}' '{"akrobateo.dev/lbpool": "blue"}'
within 30 "lbpool blue: pods only on node-a node-c" nodes_are default pool-v6first "node-a node-c"
within 30 "dual-stack [IPv6, IPv4]: ingress 2001:db8::12 192.0.2.10 192.0.2.12" ingress_is default pool-v6first "2001:db8::12 192.0.2.10 192.0.2.12"
within 30 "dual-stack [IPv4, IPv6]: ingress 192.0.2.10 192.0.2.12 2001:db8::12" ingress_is default pool-v4first "192.0.2.10 192.0.2.12 2001:db8::12"
v6cip=$(kc get svc pool-v4first -o jsonpath='{.spec.clusterIPs[1]}')
v4cip=$(kc get svc pool-v4first -o jsonpath='{.spec.clusterIPs[0]}')
if ds_has_arg default pool-v4first "--forward tcp/9002=$v4cip:9002" && ds_has_arg default pool-v4first "--forward tcp/9002=[$v6cip]:9002"; then
  ok "dual-stack: one --forward per family ($v4cip, [$v6cip])"
else bad "dual-stack: one --forward per family: got '$(ds_args default pool-v4first)'"; fi
expect_eq "IPv6 family asks for the ipv6 forwarding sysctl" \
  "$(ds_json default pool-v4first | jq -r '[.spec.template.spec.securityContext.sysctls[]? | "\(.name)=\(.value)"] | join(",")')" "net.ipv6.conf.all.forwarding=1"

# --- another loadBalancerClass: not ours ----------------------------------------------------------------
lb_svc other-class 9003 '{"loadBalancerClass": "example.com/other"}'
kc patch svc other-class --subresource=status --type=merge -p '{"status": {"loadBalancer": {"ingress": [{"ip": "198.51.100.99"}]}}}' >/dev/null
lb_svc after-other 9004
within 30 "a later handled Service gets its DaemonSet" ds_one default after-other
expect_eq "other loadBalancerClass: no DaemonSet" "$(ds_count default other-class)" 0
expect_eq "other loadBalancerClass: status untouched" "$(ingress_of default other-class)" 198.51.100.99

# --- externalTrafficPolicy Local: only the node with a ready endpoint -------------------------------------
kc apply -f - >/dev/null <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata: {name: local-app, namespace: default}
spec:
  replicas: 1
  selector: {matchLabels: {app: local-app}}
  template:
    metadata: {labels: {app: local-app}}
    spec:
      nodeSelector: {kubernetes.io/hostname: node-b}
      containers: [{name: app, image: registry.k8s.io/echoserver:1.4}]
---
apiVersion: v1
kind: Service
metadata: {name: etp-local, namespace: default}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  selector: {app: local-app}
  ports: [{name: http, port: 9005, targetPort: 8080, protocol: TCP}]
EOF
within 30 "ETP Local: DaemonSet" ds_one default etp-local
np=$(kc get svc etp-local -o jsonpath='{.spec.ports[0].nodePort}')
if ds_has_arg default etp-local "--forward tcp/9005=node:$np" && ds_has_arg default etp-local '--node-ips-env AKROBATEO_HOST_IPS'; then
  ok "ETP Local: forwards to node:$np with the node IPs from env AKROBATEO_HOST_IPS"
else bad "ETP Local: forwards to node:$np: got '$(ds_args default etp-local)'"; fi
expect_eq "ETP Local: AKROBATEO_HOST_IPS from status.hostIPs" \
  "$(ds_json default etp-local | jq -r '.spec.template.spec.containers[0].env[]? | select(.name == "AKROBATEO_HOST_IPS") | .valueFrom.fieldRef.fieldPath')" "status.hostIPs"
expect_eq "ETP Local: the readiness probe is the container's args + --check, no \$(VAR) in it" \
  "$(ds_json default etp-local | jq -r '.spec.template.spec.containers[0] as $c | [$c.readinessProbe.exec.command == (["/usr/local/bin/nftlb"] + $c.args + ["--check"]),
     ($c.readinessProbe.exec.command | map(contains("$(")) | any)] | map(tostring) | join(",")')" "true,false"
# node-b holds the only endpoint; it has an ExternalIP.
within 45 "ETP Local: ingress = 203.0.113.11 (only node-b has a ready endpoint)" ingress_is default etp-local "203.0.113.11"
kc patch deploy local-app --type=merge -p '{"spec": {"template": {"spec": {"nodeSelector": {"kubernetes.io/hostname": "node-a"}}}}}' >/dev/null
within 45 "ETP Local: endpoint moved to node-a -> ingress 192.0.2.10" ingress_is default etp-local "192.0.2.10"

# --- port conflict ----------------------------------------------------------------------------------------
lb_svc conflict-one 9006
within 30 "conflict-one gets its DaemonSet" ds_one default conflict-one
lb_svc conflict-two 9006
conflict_named() {
  kc -n default get events -o json | jq -r '.items[] | select(.reason == "PortConflict" and .type == "Warning" and .involvedObject.name == "conflict-two") | .message' | grep conflict-one >/dev/null
}
within 30 "two Services on TCP 9006: Warning PortConflict on the second, naming the first" conflict_named

# --- a hostPort held on one node by something else: the scheduler's reason on the Service ------------
# A plain pod (think: an ingress controller) holds TCP 9008 on node-b. Its priority equals the
# balancer's (system-node-critical), so the scheduler cannot preempt it: node-b's balancer pod
# stays Pending and the Service answers on node-a and node-c only.
kc apply -f - >/dev/null <<'EOF'
{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "port-holder", "namespace": "default"},
 "spec": {"nodeName": "node-b", "priorityClassName": "system-node-critical",
  "containers": [{"name": "c", "image": "example.com/ingress", "ports": [{"containerPort": 9008, "hostPort": 9008, "protocol": "TCP"}]}]}}
EOF
within 30 "port-holder (not from akrobateo) Running on node-b with hostPort 9008" \
  bash -c "[ \"\$(\"$kbin/kubectl\" --kubeconfig=$dir/admin.kubeconfig get pod port-holder -o jsonpath='{.status.phase}')\" = Running ]"
lb_svc hostport-busy 9008
within 60 "hostport-busy: balancer pods Ready on node-a node-c" nodes_are default hostport-busy "node-a node-c"
pending_on_b() {
  kc -n "$OPNS" get pods -l akrobateo.dev/service-name=hostport-busy -o json | jq -e '[.items[] | select(.status.phase == "Pending" and
    any(.status.conditions[]?; .type == "PodScheduled" and .reason == "Unschedulable" and (.message | contains("free ports"))))] | length == 1' >/dev/null
}
within 30 "hostport-busy: one balancer pod Pending, the scheduler says: didn't have free ports" pending_on_b
within 30 "hostport-busy: ingress = 192.0.2.10 192.0.2.12 (node-b's pod cannot run)" ingress_is default hostport-busy "192.0.2.10 192.0.2.12"
unavailable_notes() {
  kc -n default get events --field-selector involvedObject.name=hostport-busy,reason=UnavailableLoadBalancer,type=Warning -o json | jq -r '.items[].message'
}
partial_b="2 of 3 balancer pods are ready; 1 of 3 pods is Pending, cannot be scheduled on node node-b, .*didn't have free ports"
warned_port_b() { unavailable_notes | grep "$partial_b" >/dev/null; }
within 30 "hostport-busy: Warning UnavailableLoadBalancer names node-b and quotes the scheduler" warned_port_b
echo "# kubectl get events reason=UnavailableLoadBalancer: $(unavailable_notes | grep "$partial_b" | head -1)"
sleep 3
expect_eq "hostport-busy: that Warning is emitted once, not on every reconcile" "$(unavailable_notes | grep -c "$partial_b")" 1
kc delete pod port-holder --wait=false >/dev/null
within 60 "port freed: node-b's balancer pod runs, ingress = 203.0.113.11" ingress_is default hostport-busy "203.0.113.11"
kc delete svc hostport-busy >/dev/null
within 30 "hostport-busy deleted: DaemonSet gone" ds_gone default hostport-busy

# --- type change and deletion --------------------------------------------------------------------------------
lb_svc to-clusterip 9007
within 30 "to-clusterip: ingress set" bash -c "[ -n \"\$(\"$kbin/kubectl\" --kubeconfig=$dir/admin.kubeconfig get svc to-clusterip -o jsonpath='{.status.loadBalancer.ingress}')\" ]"
kc patch svc to-clusterip --type=merge -p '{"spec": {"type": "ClusterIP"}}' >/dev/null
within 30 "type LoadBalancer -> ClusterIP: DaemonSet gone" ds_gone default to-clusterip
within 30 "type LoadBalancer -> ClusterIP: status cleared" ingress_is default to-clusterip ""
within 10 "event DeletedDaemonSet" has_event default to-clusterip DeletedDaemonSet
kc delete svc after-other >/dev/null
within 30 "Service deleted: DaemonSet gone" ds_gone default after-other

# --- controller metrics of operator a, after the Services above were reconciled ------------------------------------
metrics_of() { curl -fsS "http://127.0.0.1:$1/metrics"; }
sample() { awk -v s="$2" '$1 == s {print $2}' <<<"$1"; }       # TEXT SERIES : its value
sum_of() { awk -v re="$2" '$0 !~ /^#/ && $1 ~ re {s += $NF} END {printf "%d\n", s}' <<<"$1"; }  # TEXT REGEX
m=$(metrics_of "$opp")
missing=""
for t in "akrobateo_workqueue_depth gauge" "akrobateo_workqueue_adds_total counter" \
  "akrobateo_workqueue_retries_total counter" "akrobateo_workqueue_queue_duration_seconds histogram" \
  "akrobateo_workqueue_work_duration_seconds histogram" "akrobateo_api_request_duration_seconds histogram" \
  "process_start_time_seconds gauge" "akrobateo_reconcile_total counter" "akrobateo_api_requests_total counter"; do
  grep -qxF "# TYPE $t" <<<"$m" || missing="$missing ${t% *}"
done
expect_eq "/metrics: the workqueue, API latency and process start series with their types" "$missing" ""
# Once the queue is idle: nothing waits, every key added was taken by a worker once, and every
# key taken was reconciled once (the queue's work count equals the reconciles counted).
queue_settled() {
  local m; m=$(metrics_of "$opp")
  [ "$(sample "$m" akrobateo_workqueue_depth)" = 0 ] &&
    [ "$(sample "$m" akrobateo_workqueue_adds_total)" -gt 10 ] &&
    [ "$(sample "$m" akrobateo_workqueue_queue_duration_seconds_count)" = "$(sample "$m" akrobateo_workqueue_adds_total)" ] &&
    [ "$(sample "$m" akrobateo_workqueue_work_duration_seconds_count)" = "$(sum_of "$m" '^akrobateo_reconcile_total')" ]
}
within 30 "workqueue: depth back to 0; queue_duration count = adds_total (> 10); work_duration count = reconcile_total" queue_settled
m=$(metrics_of "$opp")
echo "# workqueue: adds $(sample "$m" akrobateo_workqueue_adds_total), retries $(sample "$m" akrobateo_workqueue_retries_total), reconciles $(sum_of "$m" '^akrobateo_reconcile_total'), queue wait sum $(sample "$m" akrobateo_workqueue_queue_duration_seconds_sum) s, work sum $(sample "$m" akrobateo_workqueue_work_duration_seconds_sum) s"
expect_eq "workqueue: retries_total is a number" "$(sample "$m" akrobateo_workqueue_retries_total | grep -cE '^[0-9]+$')" 1
# Every request counted by verb (watch streams aside) was timed once, and took a sane time.
api_timed() {
  local m v bad=0; m=$(metrics_of "$opp")
  for v in $(grep -oE '^akrobateo_api_requests_total\{verb="[a-z]+"' <<<"$m" | sed 's/.*verb="//; s/"$//' | sort -u | grep -vx watch); do
    [ "$(sum_of "$m" "^akrobateo_api_requests_total[{]verb=\"$v\"")" = "$(sample "$m" "akrobateo_api_request_duration_seconds_count{verb=\"$v\"}")" ] || bad=1
    [ "$(sample "$m" "akrobateo_api_request_duration_seconds_bucket{verb=\"$v\",le=\"+Inf\"}")" = "$(sample "$m" "akrobateo_api_request_duration_seconds_count{verb=\"$v\"}")" ] || bad=1
  done
  for v in list create update patch delete; do
    [ "$(sample "$m" "akrobateo_api_request_duration_seconds_count{verb=\"$v\"}")" -ge 1 ] 2>/dev/null || bad=1
  done
  [ "$bad" = 0 ]
}
within 10 "api_request_duration_seconds{verb}: count = api_requests_total per verb (watch aside), list/create/update/patch/delete each timed" api_timed
m=$(metrics_of "$opp")
api_n=$(sum_of "$m" '^akrobateo_api_request_duration_seconds_count')
api_mean=$(awk -v re='^akrobateo_api_request_duration_seconds_sum' '$0 !~ /^#/ && $1 ~ re {s += $2} END {print s}' <<<"$m" | awk -v n="$api_n" '{printf "%.4f", $1 / n}')
echo "# API requests timed: $api_n, mean $api_mean s"
expect_eq "api_request_duration_seconds: mean under 1 s" "$(awk -v x="$api_mean" 'BEGIN {print (x > 0 && x < 1) ? "yes" : "no"}')" yes
pst=$(sample "$m" process_start_time_seconds)
expect_eq "process_start_time_seconds ($pst) is when operator a started ($op_a_started)" \
  "$(awk -v p="$pst" -v s="$op_a_started" 'BEGIN {print (p >= s - 2 && p <= s + 5) ? "yes" : "no"}')" yes

# --- fault: operator killed mid-way -----------------------------------------------------------------------------
# Ten Services in one request stream, and the kill right behind them: the operator is mid-way.
for i in $(seq 0 9); do
  jq -n --arg n "burst-$i" --argjson p $((9100 + i)) \
    '{apiVersion: "v1", kind: "Service", metadata: {name: $n, namespace: "default"}, spec: {type: "LoadBalancer", ports: [{name: "p", port: $p, protocol: "TCP"}]}}'
done | jq -s '{apiVersion: "v1", kind: "List", items: .}' > "$dir/burst.json"
kc create -f "$dir/burst.json" >/dev/null &
creating=$!
# SIGKILL as soon as it has created the first of them.
timeout 10 bash -c "until grep -q 'created daemonset=.* service=default/burst-' '$dir/operator-a.log'; do sleep 0.01; done"
op_stop a KILL
wait "$creating"
echo "# operator SIGKILLed with $(for i in $(seq 0 9); do ds_count default "burst-$i"; done | awk '{s += $1} END {print s}') of 10 new DaemonSets made"
kc delete svc echoserver burst-0 >/dev/null
lb_svc burst-10 9110
op_start a "$opp" $((opp + 1)) -v 1
within 60 "operator restarted after SIGKILL is ready" op_ready $((opp + 1))
all_burst_ok() {
  local i
  for i in $(seq 1 10); do ds_one default "burst-$i" && [ -n "$(ingress_of default "burst-$i")" ] || return 1; done
}
within 60 "after restart: every Service has exactly one DaemonSet and its ingress" all_burst_ok
within 30 "after restart: the DaemonSets of Services deleted while it was down are gone" \
  bash -c "[ -z \"\$(\"$kbin/kubectl\" --kubeconfig=$dir/admin.kubeconfig -n $OPNS get ds -l 'akrobateo.dev/service-name in (echoserver,burst-0)' -o name)\" ]"
orphans() { # managed DaemonSets whose Service UID names no handled Service
  local uids
  uids=$(kc get svc -A -o json | jq -r '.items[] | select(.spec.type == "LoadBalancer" and (.spec.loadBalancerClass // "akrobateo.dev/nftlb") == "akrobateo.dev/nftlb") | .metadata.uid')
  kc -n "$OPNS" get ds -l app.kubernetes.io/managed-by=akrobateo -o json |
    jq -r '.items[] | "\(.metadata.labels["akrobateo.dev/service-uid"]) \(.metadata.name)"' |
    while read -r u n; do grep -qx "$u" <<<"$uids" || echo "$n"; done
}
expect_eq "no orphan DaemonSet" "$(orphans | tr '\n' ' ')" ""
dups=$(kc -n "$OPNS" get ds -l app.kubernetes.io/managed-by=akrobateo -o json | jq -r '[.items[].metadata.labels["akrobateo.dev/service-uid"]] | group_by(.) | map(select(length > 1)) | length')
expect_eq "no duplicate DaemonSet" "$dups" 0

# --- fault: kube-apiserver restarted ------------------------------------------------------------------------------
# While a restarted kube-apiserver starts, its RBAC authorizer has not synced yet and denies
# everyone (403) until /readyz passes; those 403s are the server's, counted apart below.
restart_from=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)
if bash "$here/cluster.sh" restart-apiserver; then ok "kube-apiserver restarted"; else bad "kube-apiserver restarted"; fi
restart_to=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)
lb_svc after-restart 9200
within 60 "after the apiserver restart: a new Service gets its DaemonSet and ingress" \
  bash -c "[ -n \"\$(\"$kbin/kubectl\" --kubeconfig=$dir/admin.kubeconfig get svc after-restart -o jsonpath='{.status.loadBalancer.ingress}')\" ]"
kc patch svc burst-1 --type=json -p '[{"op": "replace", "path": "/spec/ports/0/port", "value": 9201}]' >/dev/null
within 30 "after the apiserver restart: a port change is still applied" ds_has_arg default burst-1 "tcp/9201="
echo "# watch restarts counted by the operator: $(op_metric "$opp" '^akrobateo_watch_restarts_total')"

# --- a foreign DaemonSet holding the name the operator wants: left alone, never taken over ------------------------
lb_svc squat 9400
within 30 "squat: DaemonSet" ds_one default squat
sq=$(ds_names default squat | head -1)
op_stop a TERM
kc -n "$OPNS" delete ds "$sq" --wait=true >/dev/null
kc apply -f - >/dev/null <<EOF
{"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "$sq", "namespace": "$OPNS", "labels": {"app": "someone-else"}},
 "spec": {"selector": {"matchLabels": {"app": "someone-else"}}, "template": {"metadata": {"labels": {"app": "someone-else"}},
  "spec": {"nodeSelector": {"akrobateo.dev/none": "none"}, "containers": [{"name": "c", "image": "example.com/other"}]}}}}
EOF
jti_b=$(op_kubeconfig b)
jti_c=$(op_kubeconfig c)
op_start b "$((opp + 10))" "$((opp + 11))" -v 1 --leader-elect
op_start c "$((opp + 12))" "$((opp + 13))" -v 1 --leader-elect --log-format json
lease_holder() { kc -n "$OPNS" get lease -o json | jq -r '[.items[] | select(.spec.holderIdentity // "" != "")][0].spec.holderIdentity // ""'; }
within 60 "--leader-elect: a Lease in $OPNS has a holder" bash -c "[ -n \"\$(\"$kbin/kubectl\" --kubeconfig=$dir/admin.kubeconfig -n $OPNS get lease -o jsonpath='{.items[*].spec.holderIdentity}')\" ]"
lb_svc leader-1 9300
within 60 "--leader-elect: a new Service is handled" ingress_is default leader-1 "203.0.113.11"
# The leader wanted that name for squat (create: 409 -> GET -> another owner): it must not touch it.
sleep 2
expect_eq "a foreign DaemonSet with the wanted name is left untouched" \
  "$(kc -n "$OPNS" get ds "$sq" -o json | jq -r '[.metadata.generation, (.metadata.labels["app.kubernetes.io/managed-by"] // "-"), .spec.template.spec.containers[0].image] | map(tostring) | join(",")')" \
  "1,-,example.com/other"
kc -n "$OPNS" delete ds "$sq" --wait=true >/dev/null
within 60 "once the foreign DaemonSet is gone, squat gets its own" ds_one default squat
wb=$(writes_by "$jti_b"); wc_=$(writes_by "$jti_c")
echo "# non-Lease writes: operator b $wb, operator c $wc_"
if { [ "$wb" -gt 0 ] && [ "$wc_" = 0 ]; } || { [ "$wc_" -gt 0 ] && [ "$wb" = 0 ]; }; then ok "only the leader writes"
else bad "only the leader writes (b: $wb writes, c: $wc_ writes)"; fi
if [ "$wb" -gt 0 ]; then leader=b follower=c fjti=$jti_c; else leader=c follower=b fjti=$jti_b; fi
holder=$(lease_holder)
dur=$(kc -n "$OPNS" get lease -o json | jq -r '[.items[] | select(.spec.holderIdentity // "" != "")][0].spec.leaseDurationSeconds')
t0=$(date +%s.%N)
op_stop "$leader" KILL
lb_svc leader-2 9301
holder_changed() { local h; h=$(lease_holder); [ -n "$h" ] && [ "$h" != "$holder" ]; }
if wait_until $((dur * 3)) holder_changed; then
  t1=$(date +%s.%N)
  took=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')
  echo "# leader $leader killed; $follower holds the Lease after ${took}s (lease duration ${dur}s, holder was '$holder', now '$(lease_holder)')"
  if awk -v t="$took" -v d="$dur" 'BEGIN {exit !(t <= d + 5)}'; then ok "follower takes the Lease within its duration (${took}s <= ${dur}s + 5s of retry period)"
  else bad "follower takes the Lease within its duration (${took}s > ${dur}s + 5s)"; fi
else bad "follower takes over after the leader is killed (not within $((dur * 3))s)"; fi
within 30 "new leader handles the Service created after the kill" ds_one default leader-2
within 30 "new leader writes status" ingress_is default leader-2 "203.0.113.11"
expect_eq "the new leader is the former follower" "$([ "$(writes_by "$fjti")" -gt 0 ] && echo yes)" yes

# --- leader election: the leader's API connection stalls -------------------------------------------------------
# Operator d reaches kube-apiserver through a TCP proxy (stallproxy.py) that the test stalls:
# d's renewals hang. d must stop writing at its renew deadline and exit (it cannot know whether
# it still holds the Lease), before e, which waits the lease duration, takes over. Shorter
# timings than the default 15s/10s/2s keep the case short; the ratio is the same.
op_stop "$follower" TERM
timings=(--leader-elect-lease-duration=8s --leader-elect-renew-deadline=5s --leader-elect-retry-period=1s)
rm -f "$dir/stallproxy.port"
setsid python3 "$here/stallproxy.py" "$dir/stallproxy.port" "$api_port" >>"$dir/stallproxy.log" 2>&1 </dev/null &
echo $! > "$dir/pids/stallproxy.pid"
disown
proxy_pid=$(cat "$dir/pids/stallproxy.pid")
wait_until 10 test -s "$dir/stallproxy.port"
pport=$(cat "$dir/stallproxy.port" 2>/dev/null)
jti_d=$(op_kubeconfig d)
"$kbin/kubectl" config --kubeconfig="$dir/op-d.kubeconfig" set-cluster akrobateo --server="https://127.0.0.1:$pport" >/dev/null
jti_e=$(op_kubeconfig e)
identity_of() { sed -n 's/.*leader election started .* identity=\([^ ]*\).*/\1/p' "$dir/operator-$1.log" | tail -1; }
op_start d $((opp + 14)) $((opp + 15)) -v 1 --leader-elect "${timings[@]}"
within 30 "stall: operator d (through the proxy on 127.0.0.1:$pport) logs its identity" bash -c "grep -q 'leader election started' '$dir/operator-d.log'"
id_d=$(identity_of d)
d_leads() { [ -n "$id_d" ] && [ "$(lease_holder)" = "$id_d" ]; }
within 30 "stall: d holds the Lease" d_leads
op_start e $((opp + 16)) $((opp + 17)) -v 1 --leader-elect "${timings[@]}"
within 30 "stall: e follows" bash -c "grep -q 'leader is another instance' '$dir/operator-e.log'"
id_e=$(identity_of e)
lb_svc stall-1 9310
within 30 "stall: the leader d handles a Service" ingress_is default stall-1 203.0.113.11
sleep 1
t_stall=$(date +%s.%N)
kill -USR1 "$proxy_pid"
since() { awk -v a="$t_stall" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}'; }
if wait_until 15 bash -c "! kill -0 $(op_pid d) 2>/dev/null"; then
  t_exit=$(since)
  if awk -v t="$t_exit" 'BEGIN {exit !(t <= 5 + 1)}'; then ok "stall: d stops and exits by itself ${t_exit}s after the stall (renew deadline 5s)"
  else bad "stall: d exits by its renew deadline (took ${t_exit}s > 5s + 1s)"; fi
else t_exit=99; bad "stall: d exits by itself (still running 15s after the stall)"; fi
expect_eq "stall: d's log says why" "$(grep -c 'leader lost .*reason="renew deadline passed' "$dir/operator-d.log")/$(grep -c 'exit=1 leadership lost' "$dir/operator-d.log")" 1/1
e_leads() { [ -n "$id_e" ] && [ "$(lease_holder)" = "$id_e" ]; }
if wait_until 30 e_leads; then
  t_take=$(since)
  echo "# stalled at 0s: d exited at ${t_exit}s, e holds the Lease at ${t_take}s (lease duration 8s)"
  if awk -v x="$t_exit" -v t="$t_take" 'BEGIN {exit !(x < t)}'; then ok "stall: e takes over only after d stopped (${t_exit}s < ${t_take}s)"
  else bad "stall: e takes over only after d stopped (d exited at ${t_exit}s, e took over at ${t_take}s)"; fi
else bad "stall: e takes over (not within 30s)"; fi
lb_svc stall-2 9311
within 30 "stall: the new leader e handles a Service created after the takeover" ingress_is default stall-2 203.0.113.11
# Resume: whatever d had sent before it stopped reaches kube-apiserver now, late.
kill -USR2 "$proxy_pid"
sleep 3
by_jti() { audit | jq -c --arg j "JTI=$1" 'select((.user.extra["authentication.kubernetes.io/credential-id"] // [])[0] == $j)'; }
took_over=$(by_jti "$jti_e" | jq -r 'select(.objectRef.resource == "leases" and (.verb | IN("create", "update")) and .responseStatus.code < 300) | .requestReceivedTimestamp' | sort | head -1)
late=$(by_jti "$jti_d" | jq -c --arg t "$took_over" 'select(.requestReceivedTimestamp >= $t)')
echo "# e's first Lease write at $took_over; d's requests that reached kube-apiserver after it: $(echo "$late" | jq -r 'select(. != null) | "\(.verb) \(.objectRef.resource) \(.responseStatus.code)"' | sort | uniq -c | tr -s ' \n' ' ')"
late_writes=$(echo "$late" | jq -c 'select(. != null and (.verb | IN("create", "update", "patch", "delete")) and (.objectRef.resource != "leases" or .responseStatus.code < 300))' | grep -c . || true)
if [ -n "$took_over" ]; then expect_eq "stall: audit log: no write by d after e took over (and no Lease write of d that succeeded)" "$late_writes" 0
else bad "stall: audit log shows e's Lease write"; fi
expect_eq "stall: audit log: no write by d at all since the stall" \
  "$(by_jti "$jti_d" | jq -c --arg t "$(date -u -d "@$t_stall" +%Y-%m-%dT%H:%M:%S.%6NZ)" 'select(.requestReceivedTimestamp >= $t and (.verb | IN("create", "update", "patch", "delete")) and .objectRef.resource != "leases")' | grep -c . || true)" 0
op_stop e TERM
op_stop d KILL

# --- RBAC: no 403, and the role grants only what the code uses ---------------------------------------------------------
in_restart='.requestReceivedTimestamp >= $a and .requestReceivedTimestamp <= $b'
startup403=$(audit | jq -c --arg a "$restart_from" --arg b "$restart_to" "select(.responseStatus.code == 403 and ($in_restart))" | grep -c . || true)
echo "# 403s while the restarted kube-apiserver was not ready yet ($restart_from .. $restart_to; RBAC cache unsynced): $startup403, not counted"
n403=$(audit | jq -c --arg a "$restart_from" --arg b "$restart_to" "select(.responseStatus.code == 403 and ($in_restart | not))" | grep -c . || true)
expect_eq "no 403 in the audit log of the operator's ServiceAccount" "$n403" 0
[ "$n403" = 0 ] || audit | jq -c 'select(.responseStatus.code == 403) | {requestReceivedTimestamp, verb, objectRef}' | head -5
# The timestamp is the first word of a text line, the "ts" member of a JSON one (operator c).
n403=$(cat "$dir"/operator-*.log | grep -iE '\b403\b|forbidden' |
  awk -v a="$restart_from" -v b="$restart_to" '{t = $1; if (match($0, /^\{"ts":"[^"]*"/)) t = substr($0, 8, RLENGTH - 8)} !(t >= a && t <= b)' | grep -c . || true)
expect_eq "no 403 / Forbidden in the operator logs (outside that window)" "$n403" 0
nsan=$(cat "$dir"/operator-*.log | grep -cE 'AddressSanitizer|LeakSanitizer|runtime error:' || true)
expect_eq "no sanitizer report in the operator logs" "$nsan" 0
# --log-format json (operator c): every line one JSON object with ts, level, msg; fields as members.
bad_json=$(jq -rR '(fromjson? | select(type == "object" and (.ts | type) == "string" and (.level | IN("debug", "info", "warn", "error"))
  and (.msg | type) == "string") | "ok") // "bad: \(.)"' "$dir/operator-c.log" | grep -v '^ok$' | head -3)
expect_eq "operator c's --log-format json: $(grep -c . "$dir/operator-c.log") lines, each an object with ts, level, msg" "$bad_json" ""
expect_eq "json log: the fields are members (watch started: resource; leader election started: lease, identity)" \
  "$(jq -rR 'fromjson? | select(.msg == "watch started" and .resource == "services") | .level' "$dir/operator-c.log" | head -1),$(jq -rR 'fromjson? | select(.msg == "leader election started") | [.lease, (.identity | length > 0)] | map(tostring) | join(" ")' "$dir/operator-c.log" | head -1)" \
  "info,$OPNS/akrobateo-operator true"
grants() { # NAMESPACE : "resource verb" lines the ServiceAccount may do there (minus what every user may)
  kc auth can-i --list --as="system:serviceaccount:$OPNS:$SA" -n "$1" | awk 'NR > 1 && $1 !~ /^\[/ {
      r = $1; v = $0; sub(/.*\[/, "", v); sub(/\].*/, "", v); n = split(v, vs, " ");
      for (i = 1; i <= n; i++) print r, vs[i] }' |
    grep -vE '^self(subject)?[a-z]*reviews\.' | sort -u
}
want_cluster="endpointslices.discovery.k8s.io list
endpointslices.discovery.k8s.io watch
events.events.k8s.io create
nodes list
nodes watch
services list
services watch
services/status patch"
want_ns=$(printf '%s\n' "$want_cluster" "daemonsets.apps get" "daemonsets.apps list" "daemonsets.apps watch" \
  "daemonsets.apps create" "daemonsets.apps update" "daemonsets.apps delete" "pods list" "pods watch" \
  "leases.coordination.k8s.io get" "leases.coordination.k8s.io create" "leases.coordination.k8s.io update" | sort -u)
expect_eq "can-i --list in default matches the docs/design.md table" "$(grants default | tr '\n' ';')" "$(echo "$want_cluster" | sort -u | tr '\n' ';')"
expect_eq "can-i --list in $OPNS matches the docs/design.md table" "$(grants "$OPNS" | tr '\n' ';')" "$(echo "$want_ns" | tr '\n' ';')"
used=$(audit | jq -r '"\(.objectRef.resource)\(if .objectRef.subresource then "/" + .objectRef.subresource else "" end)\(if (.objectRef.apiGroup // "") != "" then "." + .objectRef.apiGroup else "" end) \(.verb)"' | sort -u)
unused=$(comm -23 <(grants "$OPNS") <(echo "$used"))
expect_eq "every granted verb was used by the operator in this run (audit log)" "$(echo "$unused" | tr '\n' ';' | sed 's/;$//')" ""

finish
[ "$fail" = 0 ]
