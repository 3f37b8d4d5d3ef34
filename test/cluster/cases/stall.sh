# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Case (sourced by e2e.sh): leader election with a stalled API connection. Operator d reaches
# kube-apiserver through stallproxy.py (SIGUSR1 stops relaying on every connection, SIGUSR2
# resumes and delivers what was held), operator e directly, both with 8 s / 5 s / 1 s Lease
# timings. Once d leads and has handled a Service, the proxy stalls: d must exit by itself
# within its renew deadline (+1 s), saying why, and e take the Lease only after that, then
# handle a Service created meanwhile. The proxy then delivers d's held requests late: the audit
# log must show no write of d received after e's first Lease write (its held renewal gets 409,
# printed, not counted) and no non-Lease write of d since the stall.
# Needs: leader.sh ($follower still running).
# d must stop writing at its renew deadline and exit (it cannot know whether it still holds the
# Lease), before e, which waits the lease duration, takes over. Shorter timings than the default
# 15s/10s/2s keep the case short; the ratio is the same.
op_stop "$follower" TERM
timings=(--leader-elect-lease-duration=8s --leader-elect-renew-deadline=5s --leader-elect-retry-period=1s)
rm -f "$dir/stallproxy.port"
setsid python3 "$here/stallproxy.py" "$dir/stallproxy.port" "$api_port" >>"$dir/stallproxy.log" 2>&1 </dev/null &
echo $! > "$dir/pids/stallproxy.pid"
disown
proxy_pid=$(cat "$dir/pids/stallproxy.pid")
until_ok 10 test -s "$dir/stallproxy.port" || true
pport=$(cat "$dir/stallproxy.port")
jti_d=$(op_kubeconfig d)
"$kbin/kubectl" config --kubeconfig="$dir/op-d.kubeconfig" set-cluster akrobateo --server="https://127.0.0.1:$pport" >/dev/null
jti_e=$(op_kubeconfig e)
identity_of() { sed -n 's/.*leader election started .* identity=\([^ ]*\).*/\1/p' "$dir/operator-$1.log" | tail -1; }
op_start d $((opp + 14)) $((opp + 15)) -v 1 --leader-elect "${timings[@]}"
check "stall: operator d (through the proxy on 127.0.0.1:$pport) logs its identity" until_ok 30 grep -q 'leader election started' "$dir/operator-d.log"
id_d=$(identity_of d)
d_leads() { [ -n "$id_d" ] && [ "$(lease_holder)" = "$id_d" ]; }
check "stall: d holds the Lease" until_ok 30 d_leads
op_start e $((opp + 16)) $((opp + 17)) -v 1 --leader-elect "${timings[@]}"
check "stall: operator e ready" until_ok 60 op_ready $((opp + 17))
check "stall: e follows" until_ok 30 grep -q 'leader is another instance' "$dir/operator-e.log"
id_e=$(identity_of e)
lb_svc stall-1 9310
check "stall: the leader d handles a Service" until_ok 30 ingress_is default stall-1 203.0.113.11
sleep 1
t_stall=$(date +%s.%N)
kill -USR1 "$proxy_pid"
since() { awk -v a="$t_stall" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}'; }
# The times are measured: until_ok (test/lib/poll.sh) polls every 0.25 s.
pid_d=$(op_pid d)
exited() { ! kill -0 "$1" 2>/dev/null; }
if until_ok 15 exited "$pid_d"; then
  t_exit=$(since)
  if awk -v t="$t_exit" 'BEGIN {exit !(t <= 5 + 1)}'; then ok "stall: d stops and exits by itself ${t_exit}s after the stall (renew deadline 5s)"
  else bad "stall: d exits by its renew deadline" "took ${t_exit}s > 5s + 1s"; fi
else t_exit=99; bad "stall: d exits by itself" "still running 15s after the stall"; fi
check_eq "stall: d's log says why" "$(grep -c 'leader lost .*reason="renew deadline passed' "$dir/operator-d.log")/$(grep -c 'exit=1 leadership lost' "$dir/operator-d.log")" 1/1
e_leads() { [ -n "$id_e" ] && [ "$(lease_holder)" = "$id_e" ]; }
if until_ok 30 e_leads; then
  t_take=$(since)
  echo "# stalled at 0s: d exited at ${t_exit}s, e holds the Lease at ${t_take}s (lease duration 8s)"
  if awk -v x="$t_exit" -v t="$t_take" 'BEGIN {exit !(x < t)}'; then ok "stall: e takes over only after d stopped (${t_exit}s < ${t_take}s)"
  else bad "stall: e takes over only after d stopped" "d exited at ${t_exit}s, e took over at ${t_take}s"; fi
else bad "stall: e takes over" "not within 30s"; fi
lb_svc stall-2 9311
check "stall: the new leader e handles a Service created after the takeover" until_ok 30 ingress_is default stall-2 203.0.113.11
# Resume: whatever d had sent before it stopped reaches kube-apiserver now, late.
kill -USR2 "$proxy_pid"
sleep 3
took_over=$(audit_events | audit_by_jti "$jti_e" |
  jq -r 'select(.objectRef.resource == "leases" and (.verb | IN("create", "update")) and .responseStatus.code < 300) | .requestReceivedTimestamp' | sort | sed -n 1p)
late=$(audit_events | audit_by_jti "$jti_d" | audit_since "$took_over")
echo "# e's first Lease write at $took_over; d's requests that reached kube-apiserver after it: $(echo "$late" | jq -c 'select(. != null)' | audit_requests | sort | uniq -c | tr -s ' \n' ' ')"
late_writes=$(echo "$late" | jq -c 'select(. != null and (.verb | IN("create", "update", "patch", "delete")) and (.objectRef.resource != "leases" or .responseStatus.code < 300))' | audit_count)
if [ -n "$took_over" ]; then check_eq "stall: audit log: no write by d after e took over (and no Lease write of d that succeeded)" "$late_writes" 0
else bad "stall: audit log shows e's Lease write"; fi
check_eq "stall: audit log: no write by d at all since the stall" \
  "$(audit_events | audit_by_jti "$jti_d" | audit_since "$(date -u -d "@$t_stall" +%Y-%m-%dT%H:%M:%S.%6NZ)" | audit_writes | audit_count)" 0
op_stop e TERM
op_stop d KILL
