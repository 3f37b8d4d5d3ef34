#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make bench`: every benchmark, each printing its ratios against the peer it ran side by side
# and writing its raw results to build/bench/<name>-<UTC time>.json (+ <name>-latest.json).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
status=0
for b in nftlb-install nftlb operator; do
  if [ -f "$here/$b.sh" ]; then
    echo "=== bench: $b"
    bash "$here/$b.sh" || status=1
  fi
done
exit $status
