#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The raw results of `make bench`, checked quickly: runs the named benchmarks (default: only
# nftlb-install, 15-25 s) at their smallest size into a temporary directory, and checks that
# each wrote <name>-<UTC time>.json and <name>-latest.json pointing at it, with every field
# docs/benchmarks.md lists (test/bench/check-json.py). The numbers mean nothing at this size.
#   test/bench/smoke.sh [nftlb-install] [nftlb] [operator]
# nftlb takes about 40 s; operator (10 Services) starts the bench control plane. Needs root
# (network namespaces) and the release build (make build). Prints what failed; exit 1 then.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d /tmp/akb-bench-smoke.XXXXXX)
trap 'rm -rf "$out"' EXIT
[ $# -gt 0 ] || set -- nftlb-install
py=python3
[ ! -x /usr/bin/python3 ] || py=/usr/bin/python3
status=0
for b in "$@"; do
  log="$out/$b.log"
  if ! AKROBATEO_BENCH_OUT="$out" REPS=1 ROUNDS=1 SECONDS_PER_RUN=1 NICE=0 \
      AKROBATEO_BENCH_SERVICES=10 bash "$here/$b.sh" >"$log" 2>&1; then
    echo "smoke: $b.sh failed; its last lines:"
    tail -15 "$log"
    status=1
    continue
  fi
  latest="$out/$b-latest.json"
  file=$(readlink "$latest" || true)
  if [[ ! "$file" =~ ^$b-[0-9]{8}T[0-9]{6}Z\.json$ ]] || [ ! -f "$out/$file" ]; then
    echo "smoke: $b-latest.json does not point at a $b-<UTC time>.json (${file:-no link})"
    status=1
    continue
  fi
  grep -q "^raw results: .*$file$" "$log" || { echo "smoke: $b.sh did not print where its results went"; status=1; }
  "$py" "$here/check-json.py" "$latest" || status=1
  "$py" - "$latest" "$b" <<'PY' || status=1
import json, sys
d = json.load(open(sys.argv[1]))
ok = d["benchmark"] == sys.argv[2] and any(m["peer"] for m in d["measures"])
print(f"smoke: {sys.argv[2]}: {len(d['measures'])} measures, "
      f"{sum(1 for m in d['measures'] if m['peer'])} against a peer, revision {d['revision_short']}")
sys.exit(0 if ok else 1)
PY
done
exit $status
