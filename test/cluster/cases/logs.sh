# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Case (sourced by e2e.sh): the logs of every operator of this run: no 403 / Forbidden outside
# the kube-apiserver restart's window, no sanitizer report, and operator c's --log-format json:
# every line an object with ts, level (debug/info/warn/error) and msg, the fields as members
# (`watch started` has `resource`, `leader election started` has `lease`).
# Needs: faults.sh's restart_from, restart_to; leader.sh's operator c.
# The timestamp is the first word of a text line, the "ts" member of a JSON one (operator c).
# security.sh's admission policy refuses one DaemonSet on purpose ("is forbidden:
# ValidatingAdmissionPolicy ...", HTTP 422): those lines name the policy and do not count.
n403=$(cat "$dir"/operator-*.log | grep -iE '\b403\b|forbidden' | grep -vF "the test's admission policy refuses" |
  awk -v a="$restart_from" -v b="$restart_to" '{t = $1; if (match($0, /^\{"ts":"[^"]*"/)) t = substr($0, 8, RLENGTH - 8)} !(t >= a && t <= b)' | grep -c . || true)
check_eq "no 403 / Forbidden in the operator logs (outside that window)" "$n403" 0
nsan=$(cat "$dir"/operator-*.log | grep -cE 'AddressSanitizer|LeakSanitizer|runtime error:' || true)
check_eq "no sanitizer report in the operator logs" "$nsan" 0
# --log-format json (operator c): every line one JSON object with ts, level, msg; fields as members.
bad_json=$(jq -rR '(fromjson? | select(type == "object" and (.ts | type) == "string" and (.level | IN("debug", "info", "warn", "error"))
  and (.msg | type) == "string") | "ok") // "bad: \(.)"' "$dir/operator-c.log" | grep -v '^ok$' | sed -n 1,3p || true)
check_eq "operator c's --log-format json: $(grep -c . "$dir/operator-c.log") lines, each an object with ts, level, msg" "$bad_json" ""
check_eq "json log: the fields are members (watch started: resource; leader election started: lease, identity)" \
  "$(jq -rR 'fromjson? | select(.msg == "watch started" and .resource == "services") | .level' "$dir/operator-c.log" | head -1),$(jq -rR 'fromjson? | select(.msg == "leader election started") | [.lease, (.identity | length > 0)] | map(tostring) | join(" ")' "$dir/operator-c.log" | head -1)" \
  "info,$OPNS/akrobateo-operator true"
