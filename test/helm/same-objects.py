#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# same-objects.py A.yaml B.yaml: exits 0 when both multi-document YAML files hold the same
# Kubernetes objects, and 1 with a diff of each object that differs (or is only on one side).
# Compared as data: comments, key order, quoting and the order of the objects do not matter.
# The labels only a Helm release adds (helm.sh/chart, app.kubernetes.io/instance) are dropped
# from metadata.labels first; everything else must be equal.
import difflib
import json
import sys

import yaml

HELM_ONLY_LABELS = ("helm.sh/chart", "app.kubernetes.io/instance")


def objects(path):
    out = {}
    with open(path, encoding="utf-8") as f:
        for doc in yaml.safe_load_all(f):
            if not doc:
                continue
            labels = doc.get("metadata", {}).get("labels")
            if labels:
                for key in HELM_ONLY_LABELS:
                    labels.pop(key, None)
            meta = doc.get("metadata", {})
            key = f'{doc.get("kind")} {meta.get("namespace", "-")}/{meta.get("name")}'
            if key in out:
                sys.exit(f"{path}: {key} twice")
            out[key] = doc
    return out


def main():
    a_path, b_path = sys.argv[1], sys.argv[2]
    a, b = objects(a_path), objects(b_path)
    differ = 0
    for key in sorted(set(a) | set(b)):
        if key not in a or key not in b:
            print(f"{key}: only in {a_path if key in a else b_path}")
            differ += 1
            continue
        if a[key] != b[key]:
            differ += 1
            left = json.dumps(a[key], indent=2, sort_keys=True).splitlines()
            right = json.dumps(b[key], indent=2, sort_keys=True).splitlines()
            print(f"{key} differs:")
            print("\n".join(difflib.unified_diff(left, right, a_path, b_path, lineterm="")))
    print(f"{len(a)} and {len(b)} objects, {differ} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
