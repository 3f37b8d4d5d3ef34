#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# nftlb install latency, side by side with its peers in the same run, printed as ratios:
# `nftlb --once` vs `nft -f` given nftlb's own --dry-run text vs `iptables-legacy-restore
# --noflush` given its legacy --dry-run text, with 1, 16 and 256 forwards (median of REPS).
#
# Two situations, because the kernel treats them differently:
#  - first install: no table yet (a new balancer pod). `nft -f` gets the --dry-run text as is.
#  - replacement: the table is there and is replaced atomically. `nft -f` gets the same text
#    prefixed with `table inet akrobateo` + `delete table inet akrobateo`, i.e. the same
#    transaction nftlb sends.
# Before each timed run the namespace is put into its state and left 50 ms, so the kernel's
# deferred clean-up of the previous run is not charged to the next one.
# `nftlb` is --backend nftables; `nftlb auto` adds the auto probe (GETGEN and the
# validate-only batch of docs/nftlb.md, "How the backend is chosen", whose abort costs the kernel an RCU grace period). The exec floor is
# /bin/true and `nftlb --help`: starting a process, nothing else; each row is followed by the
# same times minus /bin/true's. Uses the release build (build/bin/nftlb).
# Everything runs in one network namespace made here and removed on exit. The raw results go to
# build/bench/nftlb-install-<UTC time>.json (docs/benchmarks.md). Env: REPS (default 15).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/lib/bench.sh
source "$root/test/lib/bench.sh"
nftlb=${NFTLB:-$root/build/bin/nftlb}
reps=${REPS:-15}
ns=akb-bench-install-$$
work=$(mktemp -d /tmp/akb-bench-install.XXXXXX)
cleanup() {
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work" "${bench_tsv:-}"
}
trap cleanup EXIT
[ -x "$nftlb" ] || { echo "missing $nftlb (make build)" >&2; exit 1; }
ip netns add "$ns"
ip -n "$ns" link set lo up
bench_begin nftlb-install reps="$reps"


# Times `cmd` $reps times inside the namespace, `before` (untimed) and a 50 ms pause ahead
# of each run; prints the median in ms. With a third argument, the single times go to
# $work/samples-<it>, one line.
# shellcheck disable=SC2016  # the inner script is built from quoted pieces on purpose
timed() {
  local cmd=$1 before=$2
  ip netns exec "$ns" bash -c '
    for ((r = 0; r < '"$reps"'; r++)); do
      { '"$before"'; } >/dev/null 2>&1 || true
      sleep 0.05
      s=$EPOCHREALTIME
      '"$cmd"' >/dev/null 2>&1 || { echo "FAILED: '"${cmd//\'/}"'" >&2; exit 1; }
      e=$EPOCHREALTIME
      awk -v s="$s" -v e="$e" "BEGIN {printf \"%.3f\n\", (e - s) * 1000}"
    done' | tee "$work/samples-${3:-last}" | median
  [ -z "${3:-}" ] || tr '\n' ' ' <"$work/samples-$3" >"$work/samples-$3.line"
}
samples() { cat "$work/samples-$1.line"; }

clear_all="nft delete table inet akrobateo; $nftlb --backend iptables-legacy --delete"
floor=$(timed "$nftlb --help" true help)
true_floor=$(timed /bin/true true true)
measure "exec floor: /bin/true" "$true_floor" ms "" "" "" "starting a process, nothing else" "$(samples true)"
measure "exec floor: nftlb --help" "$floor" ms "/bin/true" "$true_floor" "$(ratio "$floor" "$true_floor")" \
  "process start only" "$(samples help)"
echo "## nftlb install latency, median of $reps runs, ms (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
echo "## exec floor: /bin/true $true_floor ms, nftlb --help (process start only) $floor ms"
header() {
  printf '%-9s %8s %11s %8s %12s %13s %18s %18s\n' forwards nftlb "nftlb auto" "nft -f" \
    ipt-restore "nftlb/nft -f" "nftlb auto/nft -f" "nftlb/ipt-restore"
}
# row FORWARDS NFTLB AUTO NFT IPT: prints the row and its row above /bin/true, and records both
# ($situation names the measures).
row() {
  printf '%-9s %8s %11s %8s %12s %13s %18s %18s\n' "$1" "$2" "$3" "$4" "$5" \
    "$(ratio "$2" "$4")x" "$(ratio "$3" "$4")x" "$(ratio "$2" "$5")x"
  record "$1" "" "$2" "$3" "$4" "$5"
  # The same above the cost of starting any process (/bin/true), which no tool can avoid.
  above() { awk -v a="$1" -v f="$true_floor" 'BEGIN {printf "%.3f", (a > f ? a - f : 0)}'; }
  local a b c d
  a=$(above "$2") b=$(above "$3") c=$(above "$4") d=$(above "$5")
  printf '%-9s %8s %11s %8s %12s %13s %18s %18s\n' "  -/bin/true" "$a" "$b" "$c" "$d" \
    "$(ratio "$a" "$c")x" "$(ratio "$b" "$c")x" "$(ratio "$a" "$d")x"
  record "$1" " above /bin/true" "$a" "$b" "$c" "$d"
}
ipt_peer() {
  if [ "$situation" = first-install ]; then echo "iptables-legacy-restore --noflush"
  else echo "nftlb --backend iptables-legacy --once"; fi
}
# record FORWARDS SUFFIX NFTLB AUTO NFT IPT: the row's three ratios as measures (with the single
# times when SUFFIX is empty).
record() {
  local n=$1 sfx=$2 s1="" s2="" s3=""
  [ -n "$sfx" ] || s1=$(samples nftlb) s2=$(samples auto) s3=$(samples nft)
  measure "$situation, $n forwards: nftlb$sfx" "$3" ms "nft -f$sfx" "$5" "$(ratio "$3" "$5")" \
    "nftlb --backend nftables --once" "$s1"
  measure "$situation, $n forwards: nftlb auto$sfx" "$4" ms "nft -f$sfx" "$5" "$(ratio "$4" "$5")" \
    "nftlb --once (backend probe included)" "$s2"
  measure "$situation, $n forwards: nftlb vs iptables-legacy$sfx" "$3" ms "$(ipt_peer)$sfx" "$6" \
    "$(ratio "$3" "$6")" "" ""
  [ -n "$sfx" ] || measure "$situation, $n forwards: nft -f" "$5" ms "" "" "" \
    "nft -f of nftlb's --dry-run text$([ "$situation" = first-install ] || echo ', after table + delete table')" "$s3"
}
for situation in first-install replacement; do
  echo "### $situation"
  header
  for n in 1 16 256; do
    args=$(forward_args "$n")
    # shellcheck disable=SC2086
    "$nftlb" --backend nftables --dry-run $args >"$work/dry-$n.nft" 2>/dev/null
    { echo "table inet akrobateo"; echo "delete table inet akrobateo"; cat "$work/dry-$n.nft"; } \
      >"$work/replace-$n.nft"
    # shellcheck disable=SC2086
    "$nftlb" --backend iptables-legacy --dry-run $args 2>/dev/null |
      awk '/^# ip6tables/ {exit} {print}' >"$work/legacy-$n.txt"
    if [ "$situation" = first-install ]; then
      prep_nft=$clear_all
      prep_ipt=$clear_all
      nft_file=$work/dry-$n.nft
    else
      prep_nft="$clear_all; nft -f $work/dry-$n.nft"
      prep_ipt="$clear_all; iptables-legacy-restore --noflush $work/legacy-$n.txt"
      nft_file=$work/replace-$n.nft
    fi
    t_nftlb=$(timed "$nftlb --backend nftables --once $args" "$prep_nft" nftlb)
    t_auto=$(timed "$nftlb --once $args" "$prep_nft" auto)
    t_nft=$(timed "nft -f $nft_file" "$prep_nft" nft)
    if [ "$situation" = first-install ]; then
      t_ipt=$(timed "iptables-legacy-restore --noflush $work/legacy-$n.txt" "$prep_ipt")
    else
      # A second restore of the same text would add a second jump; the replacement nftlb
      # does is its own chains flushed and refilled, which is what it is timed doing.
      t_ipt=$(timed "$nftlb --backend iptables-legacy --once $args" "$prep_ipt")
    fi
    row "$n" "$t_nftlb" "$t_auto" "$t_nft" "$t_ipt"
  done
done
ip netns exec "$ns" bash -c "$clear_all" >/dev/null 2>&1 || true
echo "(ipt-restore: iptables-legacy-restore of the legacy --dry-run text into an empty table for"
echo " the first install; nftlb --backend iptables-legacy --once over its own chains for the"
echo " replacement, since restoring the same text twice is not a replacement)"
bench_write
