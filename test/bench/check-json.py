# SPDX-License-Identifier: Apache-2.0
"""Checks raw benchmark results written by test/bench/lib.sh's bench_write (the fields are in
docs/benchmarks.md): check-json.py FILE... prints one line per problem and exits 1 if any."""
import json
import sys

TOP = {"benchmark": str, "date": str, "revision": str, "revision_short": str, "dirty": bool,
       "machine": dict, "parameters": dict, "measures": list}
MACHINE = {"nproc": int, "kernel": str}
MEASURE = ("name", "value", "unit", "peer", "peer_value", "ratio", "notes", "samples")
NUMBER = (int, float)


def problems(path):
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        yield f"not readable JSON: {e}"
        return
    for key, kind in TOP.items():
        if not isinstance(doc.get(key), kind):
            yield f"{key}: missing or not a {kind.__name__}"
    if problems_seen(doc):
        return
    for key, kind in MACHINE.items():
        if not isinstance(doc["machine"].get(key), kind):
            yield f"machine.{key}: missing or not a {kind.__name__}"
    if not doc["measures"]:
        yield "measures: empty"
    for i, m in enumerate(doc["measures"]):
        where = f"measures[{i}] ({m.get('name')!r})"
        missing = [k for k in MEASURE if k not in m]
        if missing:
            yield f"{where}: missing {', '.join(missing)}"
            continue
        if not m["name"] or not m["unit"]:
            yield f"{where}: no name or unit"
        if not isinstance(m["value"], NUMBER):
            yield f"{where}: value {m['value']!r} is not a number"
        if m["peer"] is not None:
            if not isinstance(m["peer_value"], NUMBER) or not isinstance(m["ratio"], NUMBER):
                yield f"{where}: a peer without a numeric peer_value and ratio"
            elif m["peer_value"] > 0 and abs(m["value"] / m["peer_value"] - m["ratio"]) > 0.006:
                yield f"{where}: ratio {m['ratio']} is not value / peer_value"
        if m["samples"] is not None and not all(isinstance(s, NUMBER) for s in m["samples"]):
            yield f"{where}: a sample is not a number"


def problems_seen(doc):
    return not all(isinstance(doc.get(k), v) for k, v in TOP.items())


bad = 0
for path in sys.argv[1:]:
    for p in problems(path):
        print(f"{path}: {p}")
        bad += 1
sys.exit(1 if bad else 0)
