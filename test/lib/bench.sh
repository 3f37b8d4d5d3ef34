# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Helpers shared by the benchmarks under test/bench/ (sourced, not run).

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

# iperf3_gbps: the Gbit/s received, from iperf3 -J's report on stdin.
iperf3_gbps() {
  python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))'
}

# Measures by path and round, in associative arrays indexed "PATH,ROUND" (rounds 0..$rounds-1):
# per_round ARRAY PATH: that path's values, space-separated, in round order.
per_round() {
  local -n vals=$1
  local r out=""
  for ((r = 0; r < ${rounds:?}; r++)); do out+="${vals[$2,$r]} "; done
  echo "${out% }"
}
# med ARRAY PATH: their median.
med() { per_round "$1" "$2" | tr ' ' '\n' | median; }
# round_ratios ARRAY PATH_A PATH_B: A / B within each round, space-separated.
round_ratios() {
  local -n vals=$1
  local r out=""
  for ((r = 0; r < rounds; r++)); do out+="$(ratio "${vals[$2,$r]}" "${vals[$3,$r]}") "; done
  echo "${out% }"
}

# --- Raw results, for comparing runs: build/bench/<name>-<UTC time>.json -----------------------
# bench_begin NAME [KEY=VALUE...]: starts collecting the measures of benchmark NAME; the KEY=VALUE
# pairs are its parameters (repetitions, seconds per run, ...), kept in the file as they are.
# measure NAME VALUE UNIT [PEER PEER_VALUE RATIO [NOTES [SAMPLES]]]: one measure; PEER names what ran
# beside it in the same run, RATIO is the printed one (VALUE / PEER_VALUE), NOTES the path or
# anything else that says what was measured, SAMPLES the single values it is the median of,
# space-separated. Empty or missing fields become null.
# bench_write: writes $AKROBATEO_BENCH_OUT (default build/bench)/NAME-<UTC time>.json and points
# NAME-latest.json at it; prints the path. The file's fields: docs/benchmarks.md.
bench_begin() {
  bench_name=$1
  shift
  bench_params=("$@")
  bench_started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  bench_load=$(cut -d' ' -f1-3 /proc/loadavg)
  bench_tsv=$(mktemp "/tmp/akb-bench-$bench_name.XXXXXX")
}
measure() {
  local f out=""
  for f in "${1:-}" "${2:-}" "${3:-}" "${4:-}" "${5:-}" "${6:-}" "${7:-}" "${8:-}"; do
    out+="${f//[$'\t\n']/ }"$'\t'
  done
  printf '%s\n' "${out%$'\t'}" >>"$bench_tsv"
}
bench_write() {
  local bench_root out stamp file
  bench_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  out=${AKROBATEO_BENCH_OUT:-$bench_root/build/bench}
  stamp=$(date -u -d "$bench_started" +%Y%m%dT%H%M%SZ)
  file="$out/$bench_name-$stamp.json"
  mkdir -p "$out"
  local py=python3
  [ ! -x /usr/bin/python3 ] || py=/usr/bin/python3
  BENCH_NAME=$bench_name BENCH_DATE=$bench_started BENCH_LOAD=$bench_load \
    BENCH_REV=$(git -C "$bench_root" rev-parse HEAD 2>/dev/null || echo unknown) \
    BENCH_DIRTY=$(git -C "$bench_root" status --porcelain --untracked-files=no 2>/dev/null | grep -c . || true) \
    BENCH_CPU=$(awk -F': *' '/model name/ {print $2; exit}' /proc/cpuinfo) \
    BENCH_NPROC=$(nproc) BENCH_MEM=$(awk '/^MemTotal/ {print $2}' /proc/meminfo) \
    "$py" - "$bench_tsv" "${bench_params[@]}" >"$file.tmp" <<'PY'
import json, os, platform, sys

def num(s):
    """A number where the text is one, else the text; empty -> None."""
    if s == "":
        return None
    try:
        v = float(s)
    except ValueError:
        return s
    return int(v) if v.is_integer() and "." not in s and "e" not in s.lower() else v

measures = []
with open(sys.argv[1]) as f:
    for line in f:
        fields = (line.rstrip("\n").split("\t") + [""] * 8)[:8]
        name, value, unit, peer, peer_value, ratio, notes, samples = fields
        measures.append({
            "name": name, "value": num(value), "unit": unit or None,
            "peer": peer or None, "peer_value": num(peer_value), "ratio": num(ratio),
            "notes": notes or None,
            "samples": [num(s) for s in samples.split()] if samples.strip() else None,
        })
params = {}
for kv in sys.argv[2:]:
    k, _, v = kv.partition("=")
    params[k] = num(v)
rev = os.environ["BENCH_REV"]
doc = {
    "benchmark": os.environ["BENCH_NAME"],
    "date": os.environ["BENCH_DATE"],
    "revision": rev,
    "revision_short": rev[:7],
    "dirty": os.environ["BENCH_DIRTY"] not in ("", "0"),
    "machine": {
        "nproc": num(os.environ["BENCH_NPROC"]),
        "kernel": platform.release(),
        "cpu": os.environ["BENCH_CPU"] or None,
        "memory_kib": num(os.environ["BENCH_MEM"]),
        "load_average": [num(x) for x in os.environ["BENCH_LOAD"].split()],
    },
    "parameters": params,
    "measures": measures,
}
json.dump(doc, sys.stdout, indent=2)
sys.stdout.write("\n")
PY
  mv "$file.tmp" "$file"
  ln -sfn "$(basename "$file")" "$out/$bench_name-latest.json"
  rm -f "$bench_tsv"
  echo "raw results: ${file#"$bench_root"/}"
}
