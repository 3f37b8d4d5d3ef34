# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Case (sourced by e2e.sh): operator a's /metrics once the Services of the cases before were
# reconciled: the workqueue, API latency and process start series with their TYPE lines; the
# queue idle with its counts consistent with the reconciles counted; every API request of a verb
# timed, with a sane mean; the start time equal to the operator's.
# Needs: operator a started at $op_a_started, on port $opp, with > 10 keys handled.
metrics_of() { curl -fsS "http://127.0.0.1:$1/metrics"; }
sample() { awk -v s="$2" '$1 == s {print $2}' <<<"$1"; }       # TEXT SERIES : its value
sum_of() { awk -v re="$2" '$0 !~ /^#/ && $1 ~ re {s += $NF} END {printf "%d\n", s}' <<<"$1"; }  # TEXT REGEX
m=$(metrics_of "$opp")
missing=""
for t in "akrobateo_workqueue_depth gauge" "akrobateo_workqueue_adds_total counter" \
  "akrobateo_workqueue_retries_total counter" "akrobateo_workqueue_queue_duration_seconds histogram" \
  "akrobateo_workqueue_work_duration_seconds histogram" "akrobateo_api_request_duration_seconds histogram" \
  "process_start_time_seconds gauge" "akrobateo_reconcile_total counter" "akrobateo_api_requests_total counter"; do
  grep -qxF "# TYPE $t" <<<"$m" || missing="$missing ${t% *}"
done
check_eq "/metrics: the workqueue, API latency and process start series with their types" "$missing" ""
# Once the queue is idle: nothing waits, every key added was taken by a worker once, and every
# key taken was reconciled once (the queue's work count equals the reconciles counted).
queue_settled() {
  local m; m=$(metrics_of "$opp")
  [ "$(sample "$m" akrobateo_workqueue_depth)" = 0 ] &&
    [ "$(sample "$m" akrobateo_workqueue_adds_total)" -gt 10 ] &&
    [ "$(sample "$m" akrobateo_workqueue_queue_duration_seconds_count)" = "$(sample "$m" akrobateo_workqueue_adds_total)" ] &&
    [ "$(sample "$m" akrobateo_workqueue_work_duration_seconds_count)" = "$(sum_of "$m" '^akrobateo_reconcile_total')" ]
}
check "workqueue: depth back to 0; queue_duration count = adds_total (> 10); work_duration count = reconcile_total" until_ok 30 queue_settled
m=$(metrics_of "$opp")
echo "# workqueue: adds $(sample "$m" akrobateo_workqueue_adds_total), retries $(sample "$m" akrobateo_workqueue_retries_total), reconciles $(sum_of "$m" '^akrobateo_reconcile_total'), queue wait sum $(sample "$m" akrobateo_workqueue_queue_duration_seconds_sum) s, work sum $(sample "$m" akrobateo_workqueue_work_duration_seconds_sum) s"
check_eq "workqueue: retries_total is a number" "$(sample "$m" akrobateo_workqueue_retries_total | grep -cE '^[0-9]+$')" 1
# Every request counted by verb (watch streams aside) was timed once, and took a sane time.
api_timed() {
  local m v bad=0; m=$(metrics_of "$opp")
  for v in $(grep -oE '^akrobateo_api_requests_total\{verb="[a-z]+"' <<<"$m" | sed 's/.*verb="//; s/"$//' | sort -u | grep -vx watch); do
    [ "$(sum_of "$m" "^akrobateo_api_requests_total[{]verb=\"$v\"")" = "$(sample "$m" "akrobateo_api_request_duration_seconds_count{verb=\"$v\"}")" ] || bad=1
    [ "$(sample "$m" "akrobateo_api_request_duration_seconds_bucket{verb=\"$v\",le=\"+Inf\"}")" = "$(sample "$m" "akrobateo_api_request_duration_seconds_count{verb=\"$v\"}")" ] || bad=1
  done
  for v in list create update patch delete; do
    [ "$(sample "$m" "akrobateo_api_request_duration_seconds_count{verb=\"$v\"}")" -ge 1 ] 2>/dev/null || bad=1
  done
  [ "$bad" = 0 ]
}
check "api_request_duration_seconds{verb}: count = api_requests_total per verb (watch aside), list/create/update/patch/delete each timed" until_ok 10 api_timed
m=$(metrics_of "$opp")
api_n=$(sum_of "$m" '^akrobateo_api_request_duration_seconds_count')
api_mean=$(awk -v re='^akrobateo_api_request_duration_seconds_sum' '$0 !~ /^#/ && $1 ~ re {s += $2} END {print s}' <<<"$m" | awk -v n="$api_n" '{printf "%.4f", (n > 0 ? $1 / n : 0)}')
echo "# API requests timed: $api_n, mean $api_mean s"
check_eq "api_request_duration_seconds: mean under 1 s" "$(awk -v x="$api_mean" 'BEGIN {print (x > 0 && x < 1) ? "yes" : "no"}')" yes
pst=$(sample "$m" process_start_time_seconds)
check_eq "process_start_time_seconds ($pst) is when operator a started ($op_a_started)" \
  "$(awk -v p="$pst" -v s="$op_a_started" 'BEGIN {print (p >= s - 2 && p <= s + 5) ? "yes" : "no"}')" yes
