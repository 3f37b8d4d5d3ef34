# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Case: `kubectl delete -f akrobateo.yaml` while a LoadBalancer Service is still there. The
# uninstall removes everything of akrobateo's, cluster-wide, and the Service it leaves behind can
# still be deleted afterwards: no finalizer of a controller that is gone keeps it Terminating
# (docs/conformance.md, "Failing with the defaults: the cleanup finalizer").
e2e_uninstall() {
  kubectl apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Service
metadata:
  name: outlives-uninstall
  namespace: default
spec:
  type: LoadBalancer
  selector:
    app: outlives-uninstall
  ports:
    - name: http
      port: 8097
      protocol: TCP
EOF
  check "uninstall: a Service present at uninstall time has its address first" \
    until_ok 120 has_ingress default outlives-uninstall
  kubectl delete -f build/release/akrobateo.yaml --wait --timeout="${TIMEOUT}s"
  check "kubectl delete -f akrobateo.yaml removes the namespace" until_ok "$TIMEOUT" namespace_gone
  check "uninstall: no balancer DaemonSet in any namespace" no_daemonsets_anywhere
  check "uninstall: no ClusterRole, ClusterRoleBinding or PriorityClass of akrobateo's left" \
    no_cluster_objects
  check "uninstall: the Service is still there, without the cleanup finalizer" \
    no_cleanup_finalizer default outlives-uninstall
  kubectl delete svc outlives-uninstall --wait=false >/dev/null
  check "uninstall: the Service deleted afterwards is gone within 30 s (not stuck Terminating)" \
    until_ok 30 svc_gone default outlives-uninstall
}

no_daemonsets_anywhere() {
  [ -z "$(kubectl get ds -A -l app.kubernetes.io/managed-by=akrobateo -o name)" ]
}
no_cluster_objects() {
  ! kubectl get clusterroles,clusterrolebindings,priorityclasses -o name | grep -q akrobateo
}
# no_cleanup_finalizer NS NAME: the Service exists and has no load-balancer-cleanup finalizer.
no_cleanup_finalizer() {
  local fins
  fins=$(kubectl -n "$1" get svc "$2" -o jsonpath='{.metadata.finalizers}') || return 1
  [[ $fins != *load-balancer-cleanup* ]]
}
svc_gone() { ! kubectl -n "$1" get svc "$2" >/dev/null 2>&1; }
