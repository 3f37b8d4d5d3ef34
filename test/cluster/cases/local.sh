# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Case (sourced by e2e.sh): externalTrafficPolicy: Local. The DaemonSet forwards to the node's
# own address and the nodePort (node IPs from the downward API's status.hostIPs, read by nftlb
# itself, so no $(VAR) in the args), and the ingress lists only the node holding
# the ready endpoint (a Deployment pinned to node-b; kwok makes its pod Ready and the real
# EndpointSlice controller writes the slice), following the endpoint to node-a.
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
check "ETP Local: DaemonSet" until_ok 30 ds_one default etp-local
np=$(kc get svc etp-local -o jsonpath='{.spec.ports[0].nodePort}')
if ds_has_arg default etp-local "--forward tcp/9005=node:$np" && ds_has_arg default etp-local '--node-ips-env AKROBATEO_HOST_IPS'; then
  ok "ETP Local: forwards to node:$np with the node IPs from env AKROBATEO_HOST_IPS"
else bad "ETP Local: forwards to node:$np" "got '$(ds_args default etp-local)'"; fi
check_eq "ETP Local: AKROBATEO_HOST_IPS from status.hostIPs" \
  "$(ds_json default etp-local | jq -r '.spec.template.spec.containers[0].env[]? | select(.name == "AKROBATEO_HOST_IPS") | .valueFrom.fieldRef.fieldPath')" "status.hostIPs"
check_eq "ETP Local: no \$(VAR) in the container's args (nftlb reads the variable itself)" \
  "$(ds_json default etp-local | jq -r '[.spec.template.spec.containers[0].args[] | contains("$(")] | any | tostring')" "false"
# node-b holds the only endpoint; it has an ExternalIP.
check "ETP Local: ingress = 203.0.113.11 (only node-b has a ready endpoint)" until_ok 45 ingress_is default etp-local "203.0.113.11"
kc patch deploy local-app --type=merge -p '{"spec": {"template": {"spec": {"nodeSelector": {"kubernetes.io/hostname": "node-a"}}}}}' >/dev/null
check "ETP Local: endpoint moved to node-a -> ingress 192.0.2.10" until_ok 45 ingress_is default etp-local "192.0.2.10"
