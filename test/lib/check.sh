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
# until_ok SECONDS CMD...: retries CMD (output discarded) every half second until it succeeds, or
# fails once SECONDS have passed.
until_ok() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.5
  done
}
finish() {
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
  exit
}
