# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Case (sourced by e2e.sh): a Service that stops being a LoadBalancer loses its DaemonSet and
# its status (DeletedDaemonSet event); a deleted Service's DaemonSet goes.
# Needs: classes.sh (the Service after-other).
lb_svc to-clusterip 9007
check "to-clusterip: ingress set" until_ok 30 has_ingress default to-clusterip
kc patch svc to-clusterip --type=merge -p '{"spec": {"type": "ClusterIP"}}' >/dev/null
check "type LoadBalancer -> ClusterIP: DaemonSet gone" until_ok 30 ds_gone default to-clusterip
check "type LoadBalancer -> ClusterIP: status cleared" until_ok 30 ingress_is default to-clusterip ""
check "event DeletedDaemonSet" until_ok 10 has_event default to-clusterip DeletedDaemonSet
kc delete svc after-other >/dev/null
check "Service deleted: DaemonSet gone" until_ok 30 ds_gone default after-other
