# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Case (sourced by e2e.sh): operator a makes way for two operators with --leader-elect (b, and c
# with --log-format json), each with its own token. While none runs, a foreign DaemonSet (not
# labelled as ours) takes the name the operator wants for the Service squat: the leader leaves it
# untouched (its create gets 409, it reads the object, sees another owner and stops), and once it
# is deleted the Service gets its own. The audit log, keyed by each token's JTI, shows that only
# the leader writes; SIGKILL the leader and the follower holds the Lease within its duration
# (+5 s of retry period), then handles a Service created after the kill.
# Needs: operator a. Sets: follower (b or c, still running; stall.sh stops it).
writes_by() { audit_events | audit_by_jti "$1" | audit_writes | audit_count; } # JTI : its non-Lease writes

# A foreign DaemonSet holding the name the operator wants: left alone, never taken over.
lb_svc squat 9400
check "squat: DaemonSet" until_ok 30 ds_one default squat
sq=$(ds_names default squat | sed -n 1p)
op_stop a TERM
kc -n "$OPNS" delete ds "$sq" --wait=true >/dev/null
kc apply -f - >/dev/null <<EOF
{"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "$sq", "namespace": "$OPNS", "labels": {"app": "someone-else"}},
 "spec": {"selector": {"matchLabels": {"app": "someone-else"}}, "template": {"metadata": {"labels": {"app": "someone-else"}},
  "spec": {"nodeSelector": {"akrobateo.dev/none": "none"}, "containers": [{"name": "c", "image": "example.com/other"}]}}}}
EOF

# Two operators with --leader-elect.
jti_b=$(op_kubeconfig b)
jti_c=$(op_kubeconfig c)
op_start b "$((opp + 10))" "$((opp + 11))" -v 1 --leader-elect
op_start c "$((opp + 12))" "$((opp + 13))" -v 1 --leader-elect --log-format json
check "--leader-elect: operator b ready" until_ok 60 op_ready "$((opp + 11))"
check "--leader-elect: operator c ready" until_ok 60 op_ready "$((opp + 13))"
lease_held() { [ -n "$(lease_holder)" ]; }
check "--leader-elect: a Lease in $OPNS has a holder" until_ok 60 lease_held
lb_svc leader-1 9300
check "--leader-elect: a new Service is handled" until_ok 60 ingress_is default leader-1 "203.0.113.11"
# The leader wanted that name for squat (create: 409 -> GET -> another owner): it must not touch it.
sleep 2
check_eq "a foreign DaemonSet with the wanted name is left untouched" \
  "$(kc -n "$OPNS" get ds "$sq" -o json | jq -r '[.metadata.generation, (.metadata.labels["app.kubernetes.io/managed-by"] // "-"), .spec.template.spec.containers[0].image] | map(tostring) | join(",")')" \
  "1,-,example.com/other"
kc -n "$OPNS" delete ds "$sq" --wait=true >/dev/null
check "once the foreign DaemonSet is gone, squat gets its own" until_ok 60 ds_one default squat
wb=$(writes_by "$jti_b"); wc_=$(writes_by "$jti_c")
echo "# non-Lease writes: operator b $wb, operator c $wc_"
if { [ "$wb" -gt 0 ] && [ "$wc_" = 0 ]; } || { [ "$wc_" -gt 0 ] && [ "$wb" = 0 ]; }; then ok "only the leader writes"
else bad "only the leader writes" "b: $wb writes, c: $wc_ writes"; fi
if [ "$wb" -gt 0 ]; then leader=b follower=c fjti=$jti_c; else leader=c follower=b fjti=$jti_b; fi
holder=$(lease_holder)
dur=$(kc -n "$OPNS" get lease -o json | jq -r '[.items[] | select(.spec.holderIdentity // "" != "")][0].spec.leaseDurationSeconds')
t0=$(date +%s.%N)
op_stop "$leader" KILL
lb_svc leader-2 9301
holder_changed() { local h; h=$(lease_holder); [ -n "$h" ] && [ "$h" != "$holder" ]; }
# The time is measured: until_ok (test/lib/poll.sh) polls every 0.25 s.
if until_ok $((dur * 3)) holder_changed; then
  t1=$(date +%s.%N)
  took=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')
  echo "# leader $leader killed; $follower holds the Lease after ${took}s (lease duration ${dur}s, holder was '$holder', now '$(lease_holder)')"
  if awk -v t="$took" -v d="$dur" 'BEGIN {exit !(t <= d + 5)}'; then ok "follower takes the Lease within its duration (${took}s <= ${dur}s + 5s of retry period)"
  else bad "follower takes the Lease within its duration" "${took}s > ${dur}s + 5s"; fi
else bad "follower takes over after the leader is killed" "not within $((dur * 3))s"; fi
check "new leader handles the Service created after the kill" until_ok 30 ds_one default leader-2
check "new leader writes status" until_ok 30 ingress_is default leader-2 "203.0.113.11"
check_eq "the new leader is the former follower" "$([ "$(writes_by "$fjti")" -gt 0 ] && echo yes)" yes
