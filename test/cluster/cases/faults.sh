# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Case (sourced by e2e.sh): faults. Operator a SIGKILLed as soon as it made the first DaemonSet
# of ten Services created in one request stream, two Services deleted and one created while it
# is down: after its restart, every Service has exactly one DaemonSet and its ingress, no orphan,
# no duplicate. Then kube-apiserver restarted: later Services and changes are still applied.
# Needs: operator a, the echoserver. Sets: restart_from, restart_to (the restart's window, in
# which rbac.sh and logs.sh forgive 403s: the new server's RBAC cache is not synced yet).

# Operator killed mid-way.
# Ten Services in one request stream, and the kill right behind them: the operator is mid-way.
for i in $(seq 0 9); do
  jq -n --arg n "burst-$i" --argjson p $((9100 + i)) \
    '{apiVersion: "v1", kind: "Service", metadata: {name: $n, namespace: "default"}, spec: {type: "LoadBalancer", ports: [{name: "p", port: $p, protocol: "TCP"}]}}'
done | jq -s '{apiVersion: "v1", kind: "List", items: .}' > "$dir/burst.json"
kc create -f "$dir/burst.json" >/dev/null &
creating=$!
# SIGKILL as soon as it has created the first of them.
timeout 10 bash -c "until grep -q 'created daemonset=.* service=default/burst-' '$dir/operator-a.log'; do sleep 0.01; done" || true
op_stop a KILL
wait "$creating" || true # the checks below tell whether every Service is there
echo "# operator SIGKILLed with $(for i in $(seq 0 9); do ds_count default "burst-$i"; done | awk '{s += $1} END {print s}') of 10 new DaemonSets made"
# Deleted while no operator runs: they wait for the restarted one to take the finalizer off.
kc delete svc echoserver burst-0 --wait=false >/dev/null
lb_svc burst-10 9110
op_start a "$opp" $((opp + 1)) -v 1 --cleanup-finalizer
check "operator restarted after SIGKILL is ready" until_ok 60 op_ready $((opp + 1))
all_burst_ok() {
  local i
  for i in $(seq 1 10); do ds_one default "burst-$i" && [ -n "$(ingress_of default "burst-$i")" ] || return 1; done
}
check "after restart: every Service has exactly one DaemonSet and its ingress" until_ok 60 all_burst_ok
deleted_ones_gone() { ds_gone default echoserver && ds_gone default burst-0; }
check "after restart: the DaemonSets of Services deleted while it was down are gone" until_ok 30 deleted_ones_gone
orphans() { # managed DaemonSets whose Service UID names no handled Service
  local uids
  uids=$(kc get svc -A -o json | jq -r '.items[] | select(.spec.type == "LoadBalancer" and (.spec.loadBalancerClass // "akrobateo.dev/nftlb") == "akrobateo.dev/nftlb") | .metadata.uid')
  kc -n "$OPNS" get ds -l app.kubernetes.io/managed-by=akrobateo -o json |
    jq -r '.items[] | "\(.metadata.labels["akrobateo.dev/service-uid"]) \(.metadata.name)"' |
    while read -r u n; do grep -qx "$u" <<<"$uids" || echo "$n"; done
}
check_eq "no orphan DaemonSet" "$(orphans | tr '\n' ' ')" ""
dups=$(kc -n "$OPNS" get ds -l app.kubernetes.io/managed-by=akrobateo -o json | jq -r '[.items[].metadata.labels["akrobateo.dev/service-uid"]] | group_by(.) | map(select(length > 1)) | length')
check_eq "no duplicate DaemonSet" "$dups" 0

# kube-apiserver restarted.
# While a restarted kube-apiserver starts, its RBAC authorizer has not synced yet and denies
# everyone (403) until /readyz passes; those 403s are the server's, counted apart below.
restart_from=$(audit_now)
if bash "$here/cluster.sh" restart-apiserver; then ok "kube-apiserver restarted"; else bad "kube-apiserver restarted"; fi
restart_to=$(audit_now)
lb_svc after-restart 9200
check "after the apiserver restart: a new Service gets its DaemonSet and ingress" until_ok 60 has_ingress default after-restart
kc patch svc burst-1 --type=json -p '[{"op": "replace", "path": "/spec/ports/0/port", "value": 9201}]' >/dev/null
check "after the apiserver restart: a port change is still applied" until_ok 30 ds_has_arg default burst-1 "tcp/9201="
echo "# watch restarts counted by the operator: $(op_metric "$opp" '^akrobateo_watch_restarts_total')"
