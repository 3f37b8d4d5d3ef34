# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# PASS/FAIL bookkeeping shared by the test scripts (sourced, not run): each check prints one
# line, and finish prints the totals and exits non-zero when anything failed.
pass=0
fail=0
ok() { echo "PASS $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1${2:+: $2}"; fail=$((fail + 1)); }
# check NAME CMD...: passes when CMD succeeds.
check() {
  local name="$1"
  shift
  if "$@"; then ok "$name"; else bad "$name"; fi
}
finish() {
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
  exit
}
