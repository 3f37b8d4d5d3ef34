#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# nftlb benchmarks, each side by side with its peer in the same run, printed as ratios
# (install latency is test/bench/nftlb-install.sh):
#  1. data path: iperf3 bulk TCP throughput and a new-connection rate over five paths, in
#     ROUNDS rounds (paths interleaved, order rotated each round; medians and per-round ratios):
#       direct            client -> backend over their own veth (the issue's baseline)
#       routed            client -> pod -> backend, the pod only forwards: per-interface
#                         forwarding, no nftables/iptables rule in the pod, the client
#                         addresses the backend, the backend routes back via the pod
#       routed+conntrack  the same plus one `ct state new counter` rule in a filter forward
#                         chain, which turns conntrack on in the pod (no NAT)
#       nftlb <backend>   client -> pod address, nftlb's DNAT + masquerade, both backends
#     The pod namespace is made afresh for each measurement, so no path inherits another's
#     state (iptables-legacy tables, once used in a namespace, stay hooked in it; conntrack
#     entries); the pod's conntrack entry count after each run shows whether it tracked.
#  2. nftlb's peak RSS (VmHWM) while running as a daemon.
# Uses the release build (build/bin/nftlb; NFTLB=/path/to/nftlb overrides it). Everything runs
# in network namespaces made here and removed on exit. The raw results go to
# build/bench/nftlb-<UTC time>.json (docs/benchmarks.md). Env: ROUNDS (default 3),
# SECONDS_PER_RUN (default 3, each data-path measurement), NICE (default -10: the data-path
# clients and servers run at this niceness, so that other work on a shared machine disturbs
# them less; 0 to turn off).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/lib/bench.sh
source "$root/test/lib/bench.sh"
nftlb=${NFTLB:-$root/build/bin/nftlb}
secs=${SECONDS_PER_RUN:-3}
rounds=${ROUNDS:-3}
nice=${NICE:--10}
pre=akb-bench-$$-
c=${pre}client p=${pre}pod b=${pre}backend
work=$(mktemp -d /tmp/akb-bench-nftlb.XXXXXX)
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for ns in $c $p $b; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$work" "${bench_tsv:-}"
}
trap cleanup EXIT
[ -x "$nftlb" ] || { echo "missing $nftlb (make build)" >&2; exit 1; }
bench_begin nftlb rounds="$rounds" seconds_per_run="$secs" nice="$nice"

# The pod namespace and its two veth pairs (client eth0 <-> pod eth0, pod eth1 <-> backend
# eth0), with the routes of the "routed" paths (client -> backend via the pod and back). The pod
# forwards nothing until nftlb (or the routed paths) switch forwarding on per interface.
make_pod() {
  ip netns add $p
  ip -n $p link set lo up
  ip netns exec $p sysctl -q -w net.ipv4.ip_forward=0
  ip -n $c link add eth0 type veth peer name eth0 netns $p
  ip -n $p link add eth1 type veth peer name eth0 netns $b
  ip -n $c addr add 192.0.2.1/24 dev eth0
  ip -n $p addr add 192.0.2.2/24 dev eth0
  ip -n $p addr add 198.51.100.1/24 dev eth1
  ip -n $b addr add 198.51.100.2/24 dev eth0
  for l in "$c eth0" "$p eth0" "$p eth1" "$b eth0"; do
    read -r ns dev <<<"$l"; ip -n "$ns" link set "$dev" up
  done
  ip -n $c route add 198.51.100.0/24 via 192.0.2.2
  ip -n $b route add 192.0.2.0/24 via 198.51.100.1
}
remake_pod() {  # deleting the veths first frees their names at once (netns exit is deferred)
  ip -n $c link del eth0 2>/dev/null || true
  ip -n $b link del eth0 2>/dev/null || true
  ip netns del $p
  make_pod
}

for ns in $c $b; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip -n $c link add eth1 type veth peer name eth1 netns $b   # the direct path
ip -n $c addr add 203.0.113.1/24 dev eth1
ip -n $b addr add 203.0.113.2/24 dev eth1
ip -n $c link set eth1 up
ip -n $b link set eth1 up
make_pod


# ---------------------------------------------------------------- 1. data path
ip netns exec $b nice -n "$nice" iperf3 -s -p 5201 >/dev/null 2>&1 &
pids+=($!)
ip netns exec $b nice -n "$nice" python3 "$root/test/bench/accept.py" 7000 &
pids+=($!)
sleep 1

iperf_gbps() { ip netns exec $c nice -n "$nice" iperf3 -c "$1" -p 5201 -t "$secs" -J | iperf3_gbps; }
conn_rate() { ip netns exec $c nice -n "$nice" python3 "$root/test/bench/connect.py" "$1" 7000 "$secs"; }

paths=(direct routed routed+conntrack nftlb-nftables nftlb-iptables-legacy)
declare -A bw cr ct
failed=0
# Puts the fresh pod in the state of path $1 (nothing for direct).
setup_path() {
  case $1 in
    routed | routed+conntrack)
      for dev in eth0 eth1; do  # what nftlb does through rtnetlink, and nothing else
        ip netns exec $p sysctl -q -w "net.ipv4.conf.$dev.forwarding=1" \
          "net.ipv4.conf.$dev.send_redirects=0"
      done
      if [ -n "$(ip netns exec $p sh -c 'nft list ruleset; cat /proc/net/ip_tables_names')" ]; then
        echo "WARNING: the fresh pod namespace has netfilter tables" >&2
      fi
      if [ "$1" = routed+conntrack ]; then
        ip netns exec $p nft -f - <<<'table inet bench_ct {
          chain forward {
            type filter hook forward priority filter; policy accept;
            ct state new counter
          }
        }'
      fi ;;
    nftlb-*)
      ip netns exec $p "$nftlb" --backend "${1#nftlb-}" --once \
        --forward tcp/5201=198.51.100.2:5201 --forward tcp/7000=198.51.100.2:7000 2>/dev/null ;;
  esac
}
target_of() {
  case $1 in
    direct) echo 203.0.113.2 ;;
    routed | routed+conntrack) echo 198.51.100.2 ;;
    nftlb-*) echo 192.0.2.2 ;;
  esac
}
pod_ct_count() {  # conntrack entries in the pod namespace (nf_conntrack loaded by part 1)
  ip netns exec $p cat /proc/sys/net/netfilter/nf_conntrack_count 2>/dev/null || echo n/a
}

echo
echo "## data path: $rounds rounds x ${secs}s per measurement, the five paths interleaved (order"
echo "## rotated each round), a fresh pod namespace for each measurement"
# shellcheck disable=SC2034  # bw and cr are read through namerefs below
for ((r = 0; r < rounds; r++)); do
  for ((i = 0; i < ${#paths[@]}; i++)); do
    path=${paths[$(((i + r) % ${#paths[@]}))]}
    remake_pod
    setup_path "$path"
    sleep 0.3
    dst=$(target_of "$path")
    bw[$path,$r]=$(iperf_gbps "$dst")
    read -r rate fails <<<"$(conn_rate "$dst")"
    cr[$path,$r]=$rate
    failed=$((failed + fails))
    if [ "$path" = direct ]; then ct[$path,$r]=-; else ct[$path,$r]=$(pod_ct_count); fi
  done
done

printf '%-22s %11s %-22s %10s %-22s %s\n' path "TCP Gbit/s" "(each round)" "new conn/s" \
  "(each round)" "pod conntrack entries after each round"
for path in "${paths[@]}"; do
  printf '%-22s %11s %-22s %10s %-22s %s\n' "$path" "$(med bw "$path")" "($(per_round bw "$path"))" \
    "$(med cr "$path")" "($(per_round cr "$path"))" "$(per_round ct "$path")"
  measure "$path: TCP throughput" "$(med bw "$path")" Gbit/s "" "" "" \
    "path $path; pod conntrack entries after each round: $(per_round ct "$path")" "$(per_round bw "$path")"
  measure "$path: new connections" "$(med cr "$path")" conn/s "" "" "" "path $path" "$(per_round cr "$path")"
done
echo
echo "## ratios of the medians (the ratio within each round in brackets)"
printf '%-44s %-26s %s\n' "" "TCP Gbit/s" "new conn/s"
show_ratio() {
  printf '%-44s %-26s %s\n' "$1 / $2" \
    "$(ratio "$(med bw "$1")" "$(med bw "$2")")x ($(round_ratios bw "$1" "$2"))" \
    "$(ratio "$(med cr "$1")" "$(med cr "$2")")x ($(round_ratios cr "$1" "$2"))"
  measure "TCP throughput: $1 / $2" "$(med bw "$1")" Gbit/s "$2" "$(med bw "$2")" \
    "$(ratio "$(med bw "$1")" "$(med bw "$2")")" "ratios of the medians; within each round: $(round_ratios bw "$1" "$2")" \
    "$(per_round bw "$1")"
  measure "new connections: $1 / $2" "$(med cr "$1")" conn/s "$2" "$(med cr "$2")" \
    "$(ratio "$(med cr "$1")" "$(med cr "$2")")" "ratios of the medians; within each round: $(round_ratios cr "$1" "$2")" \
    "$(per_round cr "$1")"
}
for backend in nftables iptables-legacy; do
  for base in direct routed routed+conntrack; do show_ratio "nftlb-$backend" "$base"; done
done
show_ratio routed direct
show_ratio routed+conntrack routed
[ "$failed" = 0 ] || echo "(failed connections over all runs: $failed)"
measure "failed connections over all runs" "$failed" connections
for ((r = 0; r < rounds; r++)); do
  [ "${ct[routed,$r]}" = 0 ] || echo "WARNING: conntrack entries in the routed pod: ${ct[routed,$r]}"
  for path in routed+conntrack nftlb-nftables nftlb-iptables-legacy; do
    [ "${ct[$path,$r]}" != 0 ] || echo "WARNING: no conntrack entries in the $path pod"
  done
done

# ---------------------------------------------------------------- 2. memory
remake_pod
echo
echo "## nftlb peak RSS as a daemon (VmHWM after 3 resync checks)"
for backend in nftables iptables-legacy; do
  for n in 1 256; do
    # shellcheck disable=SC2046
    ip netns exec $p "$nftlb" --backend $backend --resync 1 $(forward_args $n) 2>/dev/null &
    pid=$!
    sleep 3.5
    hwm=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
    kill -TERM $pid; wait $pid || true
    printf '%-16s forwards=%-4s VmHWM=%5s KiB (%.2f MiB; target <= 4 MiB)\n' "$backend" "$n" "$hwm" \
      "$(awk -v k="$hwm" 'BEGIN {print k / 1024}')"
    measure "nftlb peak RSS, $backend, $n forwards" "$hwm" KiB "" "" "" \
      "VmHWM of the daemon after 3 resync checks; target <= 4 MiB"
  done
done
bench_write
