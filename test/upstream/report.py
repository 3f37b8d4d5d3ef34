#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Summarises one e2e.test run (test/upstream/run.sh) from ginkgo's JSON report.

usage: report.py REPORT.json SKIPS.txt FOCUS MODE RESULTS.tsv

Prints, for every spec whose full name FOCUS matches, one line: PASS/FAIL with its duration, or
SKIP with the reason (the skip list's, or the one the spec gave when it skipped itself); a spec
that failed also gets the first line of its failure and where it was raised. Suite-level nodes
that failed (BeforeSuite, AfterSuite, ...) are FAIL lines too. Then `N passed, N failed` (`, N
skipped` when some were). Writes the same as a table (mode, spec, result, seconds, note) to
RESULTS.tsv. Exits 1 when anything failed or when FOCUS matched no spec.
"""
import json
import re
import sys


def main():
    report_path, skips_path, focus, mode, tsv_path = sys.argv[1:6]
    skips = []
    with open(skips_path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#") or " :: " not in line:
                continue
            pattern, reason = line.split(" :: ", 1)
            skips.append((re.compile(pattern), reason.strip()))
    focus_re = re.compile(focus)
    with open(report_path) as f:
        reports = json.load(f)

    passed = failed = skipped = 0
    rows = []
    for suite in reports:
        for spec in suite.get("SpecReports") or []:
            kind = spec.get("LeafNodeType", "")
            state = spec.get("State", "")
            failure = spec.get("Failure") or {}
            message = (failure.get("Message") or "").strip()
            where = failure.get("Location") or {}
            at = f" ({where.get('FileName', '').split('/test/e2e/')[-1]}:{where.get('LineNumber')})" if where.get("FileName") else ""
            first = message.splitlines()[0] if message else ""
            seconds = (spec.get("RunTime") or 0) / 1e9
            if kind != "It":
                # Suite-level nodes: only their failures are worth a line.
                if state not in ("passed", "skipped", ""):
                    failed += 1
                    print(f"FAIL {kind} ({mode}): {state}: {first}{at}")
                    rows.append((mode, kind, "failed", f"{seconds:.0f}", first))
                continue
            name = " ".join((spec.get("ContainerHierarchyTexts") or []) + [spec.get("LeafNodeText", "")])
            if not focus_re.search(name):
                continue
            if state == "passed":
                passed += 1
                print(f"PASS {name} ({seconds:.0f} s)")
                rows.append((mode, name, "passed", f"{seconds:.0f}", ""))
            elif state == "skipped":
                reason = next((r for p, r in skips if p.search(name)), None)
                if reason is None and message:
                    reason = f"the spec skipped itself: {first}"
                if reason is None:
                    # Neither listed nor skipped by the spec: not run (an aborted or timed-out
                    # suite skips what is left).
                    failed += 1
                    print(f"FAIL {name}: not run (the suite stopped before it)")
                    rows.append((mode, name, "not run", "0", "the suite stopped before it"))
                    continue
                skipped += 1
                print(f"SKIP {name}: {reason}")
                rows.append((mode, name, "skipped", "0", reason))
            else:
                failed += 1
                print(f"FAIL {name} ({seconds:.0f} s): {state}: {first}{at}")
                rows.append((mode, name, state, f"{seconds:.0f}", f"{first}{at}"))

    with open(tsv_path, "w") as f:
        f.write("mode\tspec\tresult\tseconds\tnote\n")
        for row in rows:
            f.write("\t".join(c.replace("\t", " ") for c in row) + "\n")
    if passed + failed + skipped == 0:
        print(f"FAIL the focus {focus!r} matched no spec of the report")
        failed = 1
    totals = f"{passed} passed, {failed} failed"
    if skipped:
        totals += f", {skipped} skipped"
    print(totals)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
