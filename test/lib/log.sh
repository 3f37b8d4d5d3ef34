# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Messages of the scripts that set up and tear down (sourced, not run).

# log MSG...: "NAME: MSG" on stderr; die MSG...: "NAME: error: MSG", then exit 1. NAME is
# $log_name, by default the script's file name.
log() { echo "${log_name:-$(basename "$0")}: $*" >&2; }
die() {
  echo "${log_name:-$(basename "$0")}: error: $*" >&2
  exit 1
}
