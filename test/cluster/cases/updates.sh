# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Case (sourced by e2e.sh): nothing is written when nothing differs (the DaemonSet's generation
# stays, the audit log shows no status patch), and a port change updates the same DaemonSet in
# place. Needs: daemonset.sh ($ds, $cip, $j of the echoserver).
ds_uid=$(echo "$j" | jq -r .metadata.uid)
gen=$(kc -n "$OPNS" get ds "$ds" -o jsonpath='{.metadata.generation}')
echoserver_status_patches() {
  audit_events | jq -c 'select(.objectRef.resource == "services" and .objectRef.subresource == "status" and .objectRef.name == "echoserver" and .verb == "patch")' | audit_count
}
sw=$(echoserver_status_patches)
sleep 3
check_eq "no DaemonSet write when nothing differs (generation steady)" "$(kc -n "$OPNS" get ds "$ds" -o jsonpath='{.metadata.generation}')" "$gen"
check_eq "no status write when nothing differs (audit: no services/status patch)" "$(echoserver_status_patches)" "$sw"
kc patch svc echoserver --type=json -p '[{"op": "replace", "path": "/spec/ports/0/port", "value": 8081}]' >/dev/null
check "port change 8080 -> 8081: args updated" until_ok 30 ds_has_arg default echoserver "--forward tcp/8081=$cip:8081"
check_eq "port change: hostPort updated" "$(ds_json default echoserver | jq -r '[.spec.template.spec.containers[0].ports[] | "\(.protocol)/\(.hostPort)"] | join(",")')" TCP/8081
check_eq "port change: same DaemonSet, updated in place" "$(ds_json default echoserver | jq -r .metadata.uid)/$(ds_count default echoserver)" "$ds_uid/1"
