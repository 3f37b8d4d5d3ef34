# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Case (sourced by e2e.sh): RBAC. No 403 for the operator's ServiceAccount in the audit log but
# while the restarted kube-apiserver was not ready yet (its RBAC authorizer answers 403 to
# everyone until /readyz passes: printed, not counted); `kubectl auth can-i --list` in default
# and in akrobateo-system equals the table in docs/design.md (minus the self-review APIs every
# user has); and every granted (resource, verb) shows up in the audit log of this run: the role
# grants nothing the code does not use.
# Needs: every case before it (they exercise the verbs); faults.sh's restart_from, restart_to.
startup403=$(audit_events | audit_status 403 | audit_between "$restart_from" "$restart_to" | audit_count)
echo "# 403s while the restarted kube-apiserver was not ready yet ($restart_from .. $restart_to; RBAC cache unsynced): $startup403, not counted"
n403=$(audit_events | audit_status 403 | audit_outside "$restart_from" "$restart_to" | audit_count)
check_eq "no 403 in the audit log of the operator's ServiceAccount" "$n403" 0
[ "$n403" = 0 ] || audit_events | audit_status 403 | jq -c '{requestReceivedTimestamp, verb, objectRef}' | sed -n 1,5p
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
priorityclasses.scheduling.k8s.io get
services list
services patch
services watch
services/status patch"
want_ns=$(printf '%s\n' "$want_cluster" "daemonsets.apps get" "daemonsets.apps list" "daemonsets.apps watch" \
  "daemonsets.apps create" "daemonsets.apps update" "daemonsets.apps delete" "pods list" "pods watch" \
  "events list" "events watch" \
  "leases.coordination.k8s.io get" "leases.coordination.k8s.io create" "leases.coordination.k8s.io update" | sort -u)
check_eq "can-i --list in default matches the docs/design.md table" "$(grants default | tr '\n' ';')" "$(echo "$want_cluster" | sort -u | tr '\n' ';')"
check_eq "can-i --list in $OPNS matches the docs/design.md table" "$(grants "$OPNS" | tr '\n' ';')" "$(echo "$want_ns" | tr '\n' ';')"
used=$(audit_events | audit_grants_used | sort -u)
unused=$(comm -23 <(grants "$OPNS") <(echo "$used"))
check_eq "every granted verb was used by the operator in this run (audit log)" "$(echo "$unused" | tr '\n' ';' | sed 's/;$//')" ""
