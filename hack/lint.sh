#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The shell half of `make lint`: `bash -n` and shellcheck of every shell script in the
# repository, found by git (every tracked `*.sh`, and every tracked file without that suffix
# whose first line is a bash or sh shebang), so that no list is kept by hand. Exits non-zero,
# naming the scripts, when one fails.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
command -v shellcheck >/dev/null || { echo "lint: shellcheck not installed (make deps)" >&2; exit 1; }

scripts=()
while IFS= read -r f; do
  case $f in
    *.sh) scripts+=("$f") ;;
    *) [ -f "$f" ] && head -n1 "$f" | grep -qE '^#!.*[/ ](ba)?sh( |$)' && scripts+=("$f") ;;
  esac
done < <(git ls-files)

failed=()
for s in "${scripts[@]}"; do
  bash -n "$s" && shellcheck -x "$s" || failed+=("$s")
done
echo "lint: ${#scripts[@]} shell scripts, ${#failed[@]} failed${failed:+: ${failed[*]}}"
[ "${#failed[@]}" -eq 0 ]
