#!/usr/bin/env bash
# `make demo` / `make demo-down`. Until the control-plane demo lands, this shows nftlb alone.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec bash "$here/nftlb-demo.sh" "$@"
