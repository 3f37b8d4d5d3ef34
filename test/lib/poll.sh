# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Waiting for a condition, shared by every test script (sourced, not run; test/lib/check.sh
# sources it too).

# until_ok SECONDS CMD...: runs CMD (output discarded) every 0.25 s until it succeeds (status 0),
# or returns 1 once SECONDS have passed. CMD exiting with 255 ends the wait at once with 1: what
# it waits for can no longer happen. Scripts that measure a time with it count on the 0.25 s.
until_ok() {
  local deadline=$((SECONDS + $1)) rc
  shift
  while :; do
    rc=0
    "$@" >/dev/null 2>&1 || rc=$?
    [ "$rc" -ne 0 ] || return 0
    [ "$rc" -ne 255 ] && [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.25
  done
}
