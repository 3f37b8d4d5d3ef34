# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Case (sourced by e2e.sh): a Service that stops being a LoadBalancer loses its DaemonSet, its
# status (DeletedDaemonSet event) and the cleanup finalizer (operator a runs with
# --cleanup-finalizer); a deleted Service's DaemonSet goes, and then the Service.
# Needs: classes.sh (the Service after-other).
lb_svc to-clusterip 9007
check "to-clusterip: ingress set" until_ok 30 has_ingress default to-clusterip
finalizers_of() { kc get svc "$1" -o jsonpath='{.metadata.finalizers}'; }
check_eq "to-clusterip: the cleanup finalizer is on it" "$(finalizers_of to-clusterip)" '["service.kubernetes.io/load-balancer-cleanup"]'
no_finalizer() { [ -z "$(finalizers_of "$1")" ]; }
kc patch svc to-clusterip --type=merge -p '{"spec": {"type": "ClusterIP"}}' >/dev/null
check "type LoadBalancer -> ClusterIP: DaemonSet gone" until_ok 30 ds_gone default to-clusterip
check "type LoadBalancer -> ClusterIP: status cleared" until_ok 30 ingress_is default to-clusterip ""
check "event DeletedDaemonSet" until_ok 10 has_event default to-clusterip DeletedDaemonSet
check "type LoadBalancer -> ClusterIP: cleanup finalizer removed" until_ok 30 no_finalizer to-clusterip
svc_gone() { ! kc get svc "$1" >/dev/null 2>&1; }
kc delete svc after-other --wait=false >/dev/null
check "Service deleted: DaemonSet gone" until_ok 30 ds_gone default after-other
check "Service deleted: gone once its DaemonSet is (the finalizer removed)" until_ok 30 svc_gone after-other
