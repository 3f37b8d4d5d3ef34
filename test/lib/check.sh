# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# PASS/FAIL bookkeeping shared by the test scripts (sourced, not run): each check prints one
# line, and finish prints the totals and exits non-zero when anything failed. With poll.sh's
# until_ok: `check NAME until_ok SECONDS CMD...`.
# shellcheck source=test/lib/poll.sh
. "$(dirname "${BASH_SOURCE[0]}")/poll.sh"
pass=0
fail=0
skip=0
ok() { echo "PASS $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1${2:+: $2}"; fail=$((fail + 1)); }
# skipped NAME REASON: a check that cannot run here, and why.
skipped() { echo "SKIP $1${2:+: $2}"; skip=$((skip + 1)); }
# check NAME CMD...: passes when CMD succeeds.
check() {
  local name="$1"
  shift
  if "$@"; then ok "$name"; else bad "$name"; fi
}
# check_eq NAME GOT WANT: passes when GOT is WANT; a failure shows both.
check_eq() {
  if [ "$2" == "$3" ]; then ok "$1"; else bad "$1" "got '$2', want '$3'"; fi
}
# The totals (`, K skipped` only when something was), and the exit status: 0 when nothing failed.
finish() {
  local totals="$pass passed, $fail failed"
  [ "$skip" -eq 0 ] || totals="$totals, $skip skipped"
  echo "$totals"
  [ "$fail" -eq 0 ]
  exit
}
