# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Case (sourced by e2e.sh): the demo's echoserver gets exactly one DaemonSet, shaped as
# docs/operator.md "DaemonSet" says field by field; its pods turn Ready on the three Nodes and the Service gets
# its ingress and events.
# Needs: operator a running. Sets: ds, cip, j (the echoserver's DaemonSet name, ClusterIP, JSON).
kc apply -f "$here/manifests/echoserver.yaml" >/dev/null
check "echoserver: exactly one DaemonSet" until_ok 30 ds_one default echoserver
ds=$(ds_names default echoserver | sed -n 1p)
cip=$(kc get svc echoserver -o jsonpath='{.spec.clusterIP}')
uid=$(svc_uid default echoserver)
j=$(ds_json default echoserver)
check_eq "DaemonSet name is at most 63 characters" "$([ ${#ds} -le 63 ] && echo yes)" yes
check_eq "DaemonSet labels name the Service" \
  "$(echo "$j" | jq -r '.metadata.labels | [."app.kubernetes.io/managed-by", ."akrobateo.dev/service-namespace", ."akrobateo.dev/service-name", ."akrobateo.dev/service-uid"] | join(",")')" \
  "akrobateo,default,echoserver,$uid"
check_eq "pod labels name the Service" \
  "$(echo "$j" | jq -r '.spec.template.metadata.labels | [."app.kubernetes.io/managed-by", ."akrobateo.dev/service-namespace", ."akrobateo.dev/service-name", ."akrobateo.dev/service-uid"] | join(",")')" \
  "akrobateo,default,echoserver,$uid"
check_eq "no ownerReference (cross-namespace)" "$(echo "$j" | jq -r '.metadata.ownerReferences // [] | length')" 0
check_eq "one container, nftlb" "$(echo "$j" | jq -r '[.spec.template.spec.containers[].name] | join(",")')" nftlb
check_eq "container image" "$(echo "$j" | jq -r '.spec.template.spec.containers[0].image')" akrobateo/nftlb:dev
check_eq "hostPort per Service port with its protocol" \
  "$(echo "$j" | jq -r '[.spec.template.spec.containers[0].ports[] | "\(.protocol)/\(.containerPort)/\(.hostPort)"] | join(",")')" TCP/8080/8080
if ds_has_arg default echoserver "--forward tcp/8080=$cip:8080"; then ok "args forward tcp/8080 to the ClusterIP $cip:8080"
else bad "args forward tcp/8080=$cip:8080" "got '$(ds_args default echoserver)'"; fi
check_eq "readiness: a tcpSocket probe every 1 s on nftlb's --ready-port, which no hostPort publishes; no startup probe, no exec" \
  "$(echo "$j" | jq -r '.spec.template.spec.containers[0] as $c |
     ($c.args | map(select(startswith("--ready-port="))) | .[0] // "" | ltrimstr("--ready-port=")) as $p |
     [$c.command == ["/usr/local/bin/nftlb"], ($p != "" and $c.readinessProbe.tcpSocket.port == ($p | tonumber)),
      $c.readinessProbe.periodSeconds, ($c | has("startupProbe")), ($c.readinessProbe | has("exec")),
      ([$c.ports[].hostPort | tostring] | index($p) != null)] | map(tostring) | join(",")')" \
  "true,true,1,false,false,false"
check_eq "securityContext: drop ALL, add NET_ADMIN, not privileged, read-only root, no escalation, seccomp RuntimeDefault" \
  "$(echo "$j" | jq -r '.spec.template.spec as $s | $s.containers[0].securityContext as $c |
     [($c.capabilities.drop | join("+")), ($c.capabilities.add | join("+")), ($c.privileged // false), $c.readOnlyRootFilesystem,
      $c.allowPrivilegeEscalation, ($c.seccompProfile.type // $s.securityContext.seccompProfile.type)] | map(tostring) | join(",")')" \
  "ALL,NET_ADMIN,false,true,false,RuntimeDefault"
check_eq "no service-account token, no service links" \
  "$(echo "$j" | jq -r '.spec.template.spec | [.automountServiceAccountToken, .enableServiceLinks] | map(tostring) | join(",")')" "false,false"
check_eq "requests and a memory limit" \
  "$(echo "$j" | jq -r '.spec.template.spec.containers[0].resources | [(.requests | length > 0), (.limits.memory != null)] | map(tostring) | join(",")')" "true,true"
check_eq "tolerates control-plane/master NoSchedule and CriticalAddonsOnly" \
  "$(echo "$j" | jq -r '[.spec.template.spec.tolerations[]? | .key] | [index("node-role.kubernetes.io/control-plane") != null, index("node-role.kubernetes.io/master") != null, index("CriticalAddonsOnly") != null] | map(tostring) | join(",")')" \
  "true,true,true"
check_eq "priorityClassName akrobateo-balancer (deploy/'s, which never preempts)" "$(echo "$j" | jq -r '.spec.template.spec.priorityClassName')" akrobateo-balancer
check_eq "RollingUpdate, maxUnavailable 1" \
  "$(echo "$j" | jq -r '.spec.updateStrategy | "\(.type)/\(.rollingUpdate.maxUnavailable)"')" "RollingUpdate/1"
check "Ready balancer pods on node-a node-b node-c" until_ok 60 nodes_are default echoserver "node-a node-b node-c"
# docs/operator.md, "Reconcile" step 5: ExternalIP if any of the nodes has one (node-b), else InternalIP; IPv4 only (single-stack).
check "status.loadBalancer.ingress = 203.0.113.11 (node-b's ExternalIP)" until_ok 30 ingress_is default echoserver "203.0.113.11"
line=$(kc get svc echoserver --no-headers)
echo "# kubectl get svc echoserver: $line"
check_eq "kubectl get svc shows the EXTERNAL-IP" "$(echo "$line" | awk '{print $4}')" 203.0.113.11
check "event AppliedDaemonSet on the Service" until_ok 10 has_event default echoserver AppliedDaemonSet
check "event UpdatedLoadBalancer on the Service" until_ok 10 has_event default echoserver UpdatedLoadBalancer
