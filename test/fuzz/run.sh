#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the libFuzzer targets of a fuzz build for a bounded time each, starting from the seed
# corpus (real-looking API JSON). Exits non-zero on a crash, a leak, a timeout or a sanitizer
# report; crash inputs are kept under <fuzz-build-dir>/fuzz-artifacts/.
# Usage: test/fuzz/run.sh <fuzz-build-dir> [seconds per target, default 30]
set -euo pipefail
build=${1:?usage: test/fuzz/run.sh <fuzz-build-dir> [seconds]}
seconds=${2:-${FUZZ_SECONDS:-30}}
here=$(cd "$(dirname "$0")" && pwd)
fuzzer=$build/bin/operator_decode_fuzz
if [[ ! -x $fuzzer ]]; then
  echo "fuzz: $fuzzer not found; build it with 'make build-fuzz'" >&2
  exit 2
fi
artifacts=$build/fuzz-artifacts
mkdir -p "$artifacts"
work=$(mktemp -d /tmp/akrobateo-fuzz-XXXXXX)
trap 'rm -rf "$work"' EXIT
# The working corpus grows during the run; the seeds in the repository stay untouched.
cp "$here"/corpus/* "$work"/
echo "fuzz: operator_decode_fuzz for ${seconds}s, seeds: $(find "$here/corpus" -type f | wc -l)"
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -artifact_prefix="$artifacts/" -print_final_stats=1 "$work" 2>"$work/log.txt" || {
  rc=$?
  tail -n 60 "$work/log.txt" >&2
  echo "fuzz: operator_decode_fuzz FAILED (exit $rc); inputs in $artifacts" >&2
  exit 1
}
grep -E "^(Done|stat::number_of_executed_units|stat::peak_rss_mb)" "$work/log.txt" || true
echo "fuzz: operator_decode_fuzz passed"
