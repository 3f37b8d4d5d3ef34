#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The operator benchmark (part of `make bench`), on the real control plane of test/cluster/:
# N (default 1000) LoadBalancer Services created at once; 3 kwok Nodes -> 3N balancer pods.
# Measures the time until every Service has its ingress, the operator's peak RSS (VmHWM), CPU
# seconds and API requests (its /metrics, and the audit log as a cross-check). The floor, in the
# same run on the same API server: the same 2N writes (N DaemonSet creates, copies of the one the
# operator wrote, + N status patches) made by a bare parallel client (test/cluster/apiload); and
# the pipeline floor: that client doing the whole job itself on the same cluster (Service, then
# its DaemonSet with real pods via KCM, scheduler and kwok, status patch as soon as its pods are
# Ready, 16 writes in flight): a simple perfect operator, for scale.
# Also the operator's reconciles (its /metrics: akrobateo_reconcile_total over every result, and
# the akrobateo_reconcile_duration_seconds histogram), its CPU per reconcile (target <= 1 ms)
# and the mean wall time of one reconcile (API writes included).
# Env: AKROBATEO_BIN (default build/bin), AKROBATEO_BENCH_SERVICES, AKROBATEO_BENCH_WORKERS;
# AKROBATEO_BENCH_PERF=FILE records a CPU profile of the operator's run into FILE (`perf report
# -i FILE`; needs perf). The raw results go to build/bench/operator-<UTC time>.json
# (docs/benchmarks.md).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=test/lib/bench.sh
. "$here/../lib/bench.sh"
# Its own cluster (build/cluster-bench, ports 28xxx): a running `make demo` is left alone.
export AKROBATEO_CLUSTER_PROFILE=${AKROBATEO_CLUSTER_PROFILE-bench}
# shellcheck source=test/cluster/lib.sh
. "$here/../cluster/lib.sh"
n=${AKROBATEO_BENCH_SERVICES:-1000}
workers=${AKROBATEO_BENCH_WORKERS:-16}
# The operator's client-side rate limit (default --qps 20) would set the pace on its own; the
# benchmark lifts it so that the operator's own work is measured. Override to measure others.
read -r -a op_args <<< "${AKROBATEO_BENCH_OPERATOR_ARGS:---qps=1000 --burst=2000}"
[ -x "$AKROBATEO_BIN/akrobateo-operator" ] || { echo "bench: $AKROBATEO_BIN/akrobateo-operator missing (make build)" >&2; exit 1; }

cleanup() {
  op_stop bench 2>/dev/null || true
  bash "$here/../cluster/cluster.sh" down >/dev/null 2>&1 || true
  rm -f "${bench_tsv:-}"
}
trap cleanup EXIT

tools=$root/build/bench-tools
mkdir -p "$tools"
(cd "$root/test/cluster/apiload" && go build -o "$tools/apiload" .)
apiload() { "$tools/apiload" -dir "$dir" -server "https://127.0.0.1:$api_port" -workers "$workers" "$@"; }

bash "$here/../cluster/cluster.sh" down >/dev/null 2>&1 || true
bench_begin operator services="$n" workers="$workers" operator_args="${op_args[*]}"
bash "$here/../cluster/cluster.sh" up
apply_rbac
op_kubeconfig bench >/dev/null

# One Service handled first, to copy the DaemonSet the operator writes for the floor.
op_start bench 28050 28051
until_ok 60 op_ready 28051 || { tail "$dir/operator-bench.log" >&2; exit 1; }
kc create namespace bench-probe >/dev/null
kc -n bench-probe create service loadbalancer probe --tcp=19999:19999 >/dev/null
until_ok 60 ds_one bench-probe probe ||
  { echo "bench: the operator made no DaemonSet for the probe Service" >&2; exit 1; }
kc -n "$OPNS" get ds -l akrobateo.dev/service-name=probe -o jsonpath='{.items[0]}' > "$tools/ds.json"
kc delete namespace bench-probe --wait=true >/dev/null
no_daemonsets() { [ -z "$(kc -n "$OPNS" get ds -o name)" ]; }
until_ok 60 no_daemonsets || true
op_stop bench

echo "== floor: $n DaemonSet creates + $n status patches from a bare client ($workers in parallel)"
floor=$(apiload floor -ns bench-floor -n "$n" -ds "$tools/ds.json")
echo "$floor"
floor_total=$(echo "$floor" | awk '{print $7}')

echo "== pipeline floor: a perfect operator from a bare client ($n Services + DaemonSets with real pods, status when Ready)"
pipe=$(apiload pipeline -ns bench-pipeline -n "$n" -ds "$tools/ds.json")
echo "$pipe"
pipe_conv=$(echo "$pipe" | awk '/^converged/ {print $2}')
pipe_pods=$(echo "$pipe" | awk '/^pods-ready/ {print $2}')
kc delete namespace bench-floor bench-pipeline --wait=true --timeout=600s >/dev/null

echo "== operator (${op_args[*]}): $n LoadBalancer Services created at once ($workers in parallel), 3 Nodes"
op_start bench 28050 28051 "${op_args[@]}"
until_ok 60 op_ready 28051 || { tail "$dir/operator-bench.log" >&2; exit 1; }
pid=$(op_pid bench)
tck=$(getconf CLK_TCK)
cpu() { awk -v t="$tck" '{printf "%.2f", ($14 + $15) / t}' "/proc/$1/stat"; }
# PORT REGEX : the sum of the matching samples, as a decimal (op_metric rounds to an integer).
metric() {
  curl -fsS "http://127.0.0.1:$1/metrics" | awk -v re="$2" '$0 !~ /^#/ && $1 ~ re {s += $NF} END {printf "%.6f\n", s}'
}
req0=$(op_metric 28050 '^akrobateo_api_requests_total')
rec0=$(metric 28050 '^akrobateo_reconcile_total')
rsum0=$(metric 28050 '^akrobateo_reconcile_duration_seconds_sum')
rcount0=$(metric 28050 '^akrobateo_reconcile_duration_seconds_count')
cpu0=$(cpu "$pid")
perf_pid=
if [ -n "${AKROBATEO_BENCH_PERF:-}" ]; then
  perf record -q -g -F 499 -p "$pid" -o "$AKROBATEO_BENCH_PERF" >/dev/null 2>&1 &
  perf_pid=$!
fi
out=$(apiload services -ns bench -n "$n")
echo "$out"
conv=$(echo "$out" | awk '/^converged/ {print $2}')
made=$(echo "$out" | awk '/^created/ {sub(/s$/, "", $5); print $5}')
t_ds=$(echo "$out" | awk '/^daemonsets/ {print $2}')
t_pods=$(echo "$out" | awk '/^pods-ready/ {print $2}')
cpu1=$(cpu "$pid")
req1=$(op_metric 28050 '^akrobateo_api_requests_total')
rec1=$(metric 28050 '^akrobateo_reconcile_total')
rsum1=$(metric 28050 '^akrobateo_reconcile_duration_seconds_sum')
rcount1=$(metric 28050 '^akrobateo_reconcile_duration_seconds_count')
if [ -n "$perf_pid" ]; then kill -INT "$perf_pid" 2>/dev/null || true; wait "$perf_pid" || true; fi
hwm_kb=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
rss_kb=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
dss=$(kc -n "$OPNS" get ds -l app.kubernetes.io/managed-by=akrobateo -o name | grep -c . || true)
pods=$(kc -n "$OPNS" get pods -l app.kubernetes.io/managed-by=akrobateo --no-headers 2>/dev/null | grep -c Running || true)
audited=$(audit_completed | audit_count)
reqs=$((req1 - req0))

hwm_mib=$(awk -v k="$hwm_kb" 'BEGIN {printf "%.1f", k / 1024}')
cpus=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN {printf "%.2f", b - a}')
ratio=$(awk -v c="$conv" -v f="$floor_total" 'BEGIN {printf "%.2f", c / f}')
per=$(awk -v r="$reqs" -v n="$n" 'BEGIN {printf "%.2f", r / n}')
recs=$(awk -v a="$rec0" -v b="$rec1" 'BEGIN {printf "%d", b - a}')
cpu_per_rec=$(awk -v c="$cpus" -v r="$recs" 'BEGIN {if (r > 0) printf "%.3f", c * 1000 / r; else print "n/a"}')
rec_mean=$(awk -v s0="$rsum0" -v s1="$rsum1" -v c0="$rcount0" -v c1="$rcount1" \
  'BEGIN {if (c1 > c0) printf "%.3f", (s1 - s0) * 1000 / (c1 - c0); else print "n/a"}')
rec_busy=$(awk -v s0="$rsum0" -v s1="$rsum1" 'BEGIN {printf "%.2f", s1 - s0}')
machine="$(nproc) cores $(awk -F': *' '/model name/ {print $2; exit}' /proc/cpuinfo), $(free -g | awk '/Mem:/ {print $2}') GiB"
echo
echo "== results ($(date -u +%F), $machine; kube-apiserver $(kc version -o json | jq -r .serverVersion.gitVersion))"
echo "DaemonSets: $dss, Running balancer pods: $pods"
printf '| %-42s | %s |\n' "Services" "$n" \
  "time until every Service has its ingress" "${conv} s" \
  "  the Services' own creation took (parallel client)" "${made} s" \
  "  operator lag after the last Service was created" "$(awk -v c="$conv" -v m="$made" 'BEGIN {printf "%.2f", c - m}') s" \
  "  every DaemonSet created (by the operator)" "${t_ds} s" \
  "  every balancer pod Ready (KCM, scheduler, kwok)" "${t_pods} s" \
  "floor: same 2N writes, bare client" "${floor_total} s ($(echo "$floor" | awk '{print $3 " s creates + " $5 " s patches"}'))" \
  "convergence / floor (target <= 1.5)" "$ratio" \
  "pipeline floor: perfect operator, same cluster" "${pipe_conv} s (every pod Ready at ${pipe_pods} s)" \
  "convergence / pipeline floor" "$(awk -v c="$conv" -v f="$pipe_conv" 'BEGIN {printf "%.2f", c / f}')" \
  "operator peak RSS (VmHWM; target <= 25 MiB)" "$hwm_mib MiB (now $(awk -v k="$rss_kb" 'BEGIN {printf "%.1f", k / 1024}') MiB)" \
  "operator CPU seconds during the run" "$cpus" \
  "reconciles (akrobateo_reconcile_total)" "$recs ($(awk -v r="$recs" -v n="$n" 'BEGIN {printf "%.2f", r / n}') per Service)" \
  "operator CPU per reconcile (target <= 1 ms)" "$cpu_per_rec ms" \
  "mean reconcile wall time (API writes incl.)" "$rec_mean ms (sum $rec_busy s over the workers)" \
  "API requests (its /metrics)" "$reqs" \
  "API requests per Service" "$per" \
  "audit log entries of the ServiceAccount (whole run)" "$audited"
echo "operator's API requests by verb, resource and HTTP code (audit log, whole run):"
audit_completed | audit_requests | sort | uniq -c | sort -rn | sed 's/^/  /'
echo "of them refused (first 5):"
audit_completed | jq -r 'select(.responseStatus.code >= 400) |
  "\(.requestReceivedTimestamp) \(.verb) \(.objectRef.resource) ns=\(.objectRef.namespace) \(.responseStatus.code) \(.responseStatus.message // "")"' |
  sed -n 1,5p | sed 's/^/  /'
pipe_ratio=$(awk -v c="$conv" -v f="$pipe_conv" 'BEGIN {printf "%.2f", c / f}')
lag=$(awk -v c="$conv" -v m="$made" 'BEGIN {printf "%.2f", c - m}')
measure "time until every Service has its ingress" "$conv" s "floor: the same 2N writes from a bare client" \
  "$floor_total" "$ratio" "$n Services, 3 Nodes; target <= 1.5x the floor"
measure "time until every Service has its ingress" "$conv" s "pipeline floor: a perfect operator from a bare client" \
  "$pipe_conv" "$pipe_ratio" "the pipeline floor had every pod Ready at $pipe_pods s"
measure "the Services' own creation (parallel client)" "$made" s
measure "operator lag after the last Service was created" "$lag" s
measure "every DaemonSet created" "$t_ds" s
measure "every balancer pod Ready" "$t_pods" s "" "" "" "KCM, scheduler, kwok"
measure "operator peak RSS" "$hwm_mib" MiB "" "" "" "VmHWM; VmRSS at the end $(awk -v k="$rss_kb" 'BEGIN {printf "%.1f", k / 1024}') MiB; target <= 25 MiB"
measure "operator CPU seconds during the run" "$cpus" s
measure "reconciles" "$recs" reconciles "" "" "" "akrobateo_reconcile_total"
measure "operator CPU per reconcile" "$cpu_per_rec" ms "" "" "" "target <= 1 ms"
measure "mean reconcile wall time" "$rec_mean" ms "" "" "" "API writes included; sum $rec_busy s over the workers"
measure "API requests" "$reqs" requests "" "" "" "the operator's /metrics"
measure "API requests per Service" "$per" requests
measure "audit log entries of the ServiceAccount" "$audited" requests "" "" "" "whole run"
measure "DaemonSets" "$dss" DaemonSets "" "" "" "Running balancer pods: $pods"
bench_write
[ "$dss" = "$n" ] || { echo "bench: expected $n DaemonSets, found $dss" >&2; exit 1; }
