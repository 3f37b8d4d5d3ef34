# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Helpers shared by the nftlb benchmarks (sourced, not run).

# median: the median of the numbers on stdin, one per line.
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# ratio A B: A / B with two decimals (0 when B is 0).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }

# forward_args N: N --forward flags, tcp, udp and sctp in turn, ports from 10000.
forward_args() {
  local n=$1 i proto
  for ((i = 0; i < n; i++)); do
    case $((i % 3)) in 0) proto=tcp ;; 1) proto=udp ;; 2) proto=sctp ;; esac
    printf -- '--forward %s/%d=198.51.100.2:%d ' "$proto" $((10000 + i)) $((20000 + i))
  done
}
