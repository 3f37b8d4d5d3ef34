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
# Scale (docs/benchmarks.md, "At scale, simulated (kwok)"): AKROBATEO_BENCH_NODES=N adds N uniform
# kwok Nodes (InternalIP only, labelled akrobateo.dev/enablelb=true, so the balancers run on them
# alone and the three seed Nodes carry none); unset, the three seed Nodes carry them, as before.
# Then the run also waits until every Service lists all N addresses, and reports the control
# plane's own cost (peak RSS and CPU seconds of etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler and kwok, etcd's database size, the pods stored). AKROBATEO_BENCH_PIPELINE=0
# skips the pipeline floor (it would make another Services x Nodes pods);
# AKROBATEO_BENCH_TIMEOUT (Go duration, default 20m) bounds the wait for convergence.
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
nodes_param=${AKROBATEO_BENCH_NODES:-}
pipeline=${AKROBATEO_BENCH_PIPELINE:-1}
conv_timeout=${AKROBATEO_BENCH_TIMEOUT:-20m}
# The operator's client-side rate limit (default --qps 20) would set the pace on its own; the
# benchmark lifts it so that the operator's own work is measured. Override to measure others.
read -r -a op_args <<< "${AKROBATEO_BENCH_OPERATOR_ARGS:---qps=1000 --burst=2000}"
[ -x "$AKROBATEO_BIN/akrobateo-operator" ] || { echo "bench: $AKROBATEO_BIN/akrobateo-operator missing (make build)" >&2; exit 1; }

cleanup() {
  [ -z "${rss_pid:-}" ] || kill "$rss_pid" 2>/dev/null || true
  op_stop bench 2>/dev/null || true
  bash "$here/../cluster/cluster.sh" down >/dev/null 2>&1 || true
  rm -f "${bench_tsv:-}"
}
trap cleanup EXIT

tools=$root/build/bench-tools
mkdir -p "$tools"
(cd "$root/test/cluster/apiload" && go build -o "$tools/apiload" .)
apiload() { "$tools/apiload" -dir "$dir" -server "https://127.0.0.1:$api_port" -workers "$workers" "$@"; }

# bench_nodes N : N kwok Nodes bench-node-NNN (198.18.0.0/15, InternalIP only) labelled
# akrobateo.dev/enablelb=true, so that the balancer pods run on them alone; waits until they are
# Ready.
bench_nodes() {
  local i
  for ((i = 1; i <= $1; i++)); do
    jq -n --arg name "$(printf 'bench-node-%03d' "$i")" --arg ip "198.18.$((i / 250)).$((i % 250 + 1))" '{
      apiVersion: "v1", kind: "Node",
      metadata: {name: $name, annotations: {"kwok.x-k8s.io/node": "fake"},
        labels: {"kubernetes.io/hostname": $name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                 type: "kwok", "akrobateo.dev/enablelb": "true"}},
      status: {addresses: [{type: "InternalIP", address: $ip}, {type: "Hostname", address: $name}]}}'
  done | jq -s '{apiVersion: "v1", kind: "List", items: .}' | kc apply -f - >/dev/null
  until_ok 300 nodes_ready "$1" || { echo "bench: $1 kwok Nodes not Ready after 300 s" >&2; exit 1; }
}
nodes_ready() {
  [ "$(kc get nodes -l akrobateo.dev/enablelb=true -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True)" -ge "$1" ]
}

# The control plane's processes (cluster.sh's pid files): peak and current RSS, CPU seconds.
components=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)
comp_pid() { cat "$dir/pids/$1.pid"; }
kib() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }
cpu_s() { awk -v t="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / t}' "/proc/$1/stat"; }
# rss_sampler FILE : every 2 s, "seconds RSS-KiB..." of the components and the operator (when it
# runs), until killed: the peak within the measured phase, which VmHWM (since start) is not.
rss_sampler() {
  local c line op
  while :; do
    line=$(date +%s.%N | cut -c1-14)
    for c in "${components[@]}"; do line+=" $(kib "$(comp_pid "$c")" VmRSS 2>/dev/null || echo 0)"; done
    op=$(op_pid bench 2>/dev/null || true)
    line+=" $( [ -n "$op" ] && kib "$op" VmRSS 2>/dev/null || echo 0)"
    echo "$line" >>"$1"
    sleep 2 # the sampling interval
  done
}

bash "$here/../cluster/cluster.sh" down >/dev/null 2>&1 || true
bench_begin operator services="$n" workers="$workers" operator_args="${op_args[*]}" \
  nodes="${nodes_param:-3}" node_set="$([ -n "$nodes_param" ] && echo uniform || echo seed)" pipeline="$pipeline"
bash "$here/../cluster/cluster.sh" up
apply_rbac
op_kubeconfig bench >/dev/null
n_nodes=3
if [ -n "$nodes_param" ]; then
  bench_nodes "$nodes_param"
  n_nodes=$nodes_param
fi

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

pipe_conv="" pipe_pods=""
if [ "$pipeline" = 1 ]; then
  echo "== pipeline floor: a perfect operator from a bare client ($n Services + DaemonSets with real pods, status when Ready)"
  pipe=$(apiload pipeline -ns bench-pipeline -n "$n" -ds "$tools/ds.json")
  echo "$pipe"
  pipe_conv=$(echo "$pipe" | awk '/^converged/ {print $2}')
  pipe_pods=$(echo "$pipe" | awk '/^pods-ready/ {print $2}')
fi
kc delete namespace bench-floor bench-pipeline --ignore-not-found --wait=true --timeout=600s >/dev/null

echo "== operator (${op_args[*]}): $n LoadBalancer Services created at once ($workers in parallel), $n_nodes Nodes"
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
declare -A comp_cpu0
for c in "${components[@]}"; do comp_cpu0[$c]=$(cpu_s "$(comp_pid "$c")"); done
rss_tsv=$(mktemp /tmp/akb-bench-rss.XXXXXX)
rss_sampler "$rss_tsv" &
rss_pid=$!
addr_args=()
[ -z "$nodes_param" ] || addr_args=(-addresses "$n_nodes")
out=$(apiload services -ns bench -n "$n" -timeout "$conv_timeout" "${addr_args[@]}")
echo "$out"
conv=$(echo "$out" | awk '/^converged/ {print $2}')
complete=$(echo "$out" | awk '/^complete/ {print $2}')
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
kill "$rss_pid" 2>/dev/null || true
wait "$rss_pid" 2>/dev/null || true
declare -A comp_cpu comp_hwm comp_peak
for c in "${components[@]}"; do
  comp_cpu[$c]=$(awk -v a="${comp_cpu0[$c]}" -v b="$(cpu_s "$(comp_pid "$c")")" 'BEGIN {printf "%.1f", b - a}')
  comp_hwm[$c]=$(awk -v k="$(kib "$(comp_pid "$c")" VmHWM)" 'BEGIN {printf "%.0f", k / 1024}')
done
# Column i+1 of the samples is components[i-1]; the last one is the operator.
for ((i = 0; i < ${#components[@]}; i++)); do
  comp_peak[${components[$i]}]=$(awk -v col=$((i + 2)) '$col > m {m = $col} END {printf "%.0f", m / 1024}' "$rss_tsv")
done
samples=$(grep -c . "$rss_tsv" || true)
rm -f "$rss_tsv"
# shellcheck disable=SC2154  # etcd_port comes from test/cluster/profile.sh, through lib.sh
etcd_metrics=$(curl -fsS "http://127.0.0.1:$((etcd_port + 2))/metrics")
etcd_db=$(awk '$1 == "etcd_mvcc_db_total_size_in_bytes" {printf "%.0f", $2 / 1048576}' <<<"$etcd_metrics")
etcd_keys=$(awk '$1 == "etcd_debugging_mvcc_keys_total" {printf "%d", $2}' <<<"$etcd_metrics")
dss=$(kc -n "$OPNS" get ds -l app.kubernetes.io/managed-by=akrobateo -o name | grep -c . || true)
pods=$(kc -n "$OPNS" get pods -l app.kubernetes.io/managed-by=akrobateo --field-selector=status.phase=Running -o name 2>/dev/null | grep -c . || true)
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
echo "DaemonSets: $dss, Running balancer pods: $pods, Nodes carrying balancers: $n_nodes"
printf '| %-42s | %s |\n' "Services" "$n" \
  "time until every Service has its ingress" "${conv} s" \
  "  every Service lists all $n_nodes Nodes" "${complete:-not measured (seed Nodes)}${complete:+ s}" \
  "  the Services' own creation took (parallel client)" "${made} s" \
  "  operator lag after the last Service was created" "$(awk -v c="$conv" -v m="$made" 'BEGIN {printf "%.2f", c - m}') s" \
  "  every DaemonSet created (by the operator)" "${t_ds} s" \
  "  every balancer pod Ready (KCM, scheduler, kwok)" "${t_pods} s" \
  "floor: same 2N writes, bare client" "${floor_total} s ($(echo "$floor" | awk '{print $3 " s creates + " $5 " s patches"}'))" \
  "convergence / floor (target <= 1.5)" "$ratio" \
  "pipeline floor: perfect operator, same cluster" "$([ -n "$pipe_conv" ] && echo "${pipe_conv} s (every pod Ready at ${pipe_pods} s)" || echo skipped)" \
  "convergence / pipeline floor" "$([ -n "$pipe_conv" ] && awk -v c="$conv" -v f="$pipe_conv" 'BEGIN {printf "%.2f", c / f}')" \
  "operator peak RSS (VmHWM; target <= 25 MiB)" "$hwm_mib MiB (now $(awk -v k="$rss_kb" 'BEGIN {printf "%.1f", k / 1024}') MiB)" \
  "operator CPU seconds during the run" "$cpus" \
  "reconciles (akrobateo_reconcile_total)" "$recs ($(awk -v r="$recs" -v n="$n" 'BEGIN {printf "%.2f", r / n}') per Service)" \
  "operator CPU per reconcile (target <= 1 ms)" "$cpu_per_rec ms" \
  "mean reconcile wall time (API writes incl.)" "$rec_mean ms (sum $rec_busy s over the workers)" \
  "API requests (its /metrics)" "$reqs" \
  "API requests per Service" "$per" \
  "audit log entries of the ServiceAccount (whole run)" "$audited"
echo "control plane during the operator's run ($samples RSS samples, every 2 s; VmHWM = peak since start):"
printf '  %-24s %12s %12s %14s\n' component "peak RSS" "VmHWM" "CPU seconds"
for c in "${components[@]}"; do
  printf '  %-24s %8s MiB %8s MiB %14s\n' "$c" "${comp_peak[$c]}" "${comp_hwm[$c]}" "${comp_cpu[$c]}"
done
echo "  etcd database: ${etcd_db} MiB, ${etcd_keys:-?} keys"
echo "operator's API requests by verb, resource and HTTP code (audit log, whole run):"
audit_completed | audit_requests | sort | uniq -c | sort -rn | sed 's/^/  /'
echo "of them refused (first 5):"
audit_completed | jq -r 'select(.responseStatus.code >= 400) |
  "\(.requestReceivedTimestamp) \(.verb) \(.objectRef.resource) ns=\(.objectRef.namespace) \(.responseStatus.code) \(.responseStatus.message // "")"' |
  sed -n 1,5p | sed 's/^/  /'
lag=$(awk -v c="$conv" -v m="$made" 'BEGIN {printf "%.2f", c - m}')
measure "time until every Service has its ingress" "$conv" s "floor: the same 2N writes from a bare client" \
  "$floor_total" "$ratio" "$n Services, $n_nodes Nodes; target <= 1.5x the floor"
if [ -n "$pipe_conv" ]; then
  pipe_ratio=$(awk -v c="$conv" -v f="$pipe_conv" 'BEGIN {printf "%.2f", c / f}')
  measure "time until every Service has its ingress" "$conv" s "pipeline floor: a perfect operator from a bare client" \
    "$pipe_conv" "$pipe_ratio" "the pipeline floor had every pod Ready at $pipe_pods s"
fi
[ -z "$complete" ] || measure "time until every Service lists every Node" "$complete" s "" "" "" "$n_nodes Nodes"
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
measure "Running balancer pods" "$pods" pods "" "" "" "$n Services x $n_nodes Nodes"
for c in "${components[@]}"; do
  measure "$c peak RSS" "${comp_peak[$c]}" MiB "" "" "" "VmRSS sampled every 2 s during the operator's run; VmHWM since start ${comp_hwm[$c]} MiB"
  measure "$c CPU seconds during the run" "${comp_cpu[$c]}" s
done
measure "etcd database size" "$etcd_db" MiB "" "" "" "etcd_mvcc_db_total_size_in_bytes after convergence"
[ -z "$etcd_keys" ] || measure "etcd keys" "${etcd_keys:-}" keys "" "" "" "etcd_debugging_mvcc_keys_total after convergence"
bench_write
[ "$dss" = "$n" ] || { echo "bench: expected $n DaemonSets, found $dss" >&2; exit 1; }
