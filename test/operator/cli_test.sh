#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The operator's command line as a user meets it, before it talks to any API server: exit
# status 2 and a message naming the problem for configurations it refuses.
# Usage: cli_test.sh PATH/TO/akrobateo-operator VERSION [REVISION]   (ctest operator_cli, label
# unit; VERSION and REVISION come from CMake: project(... VERSION) and git at configure time)
set -uo pipefail
op=$1 version=$2 revision=${3:-}
tmp=$(mktemp -d)
holder=
trap 'if [ -n "$holder" ]; then kill "$holder" 2>/dev/null; fi; rm -rf "$tmp"' EXIT
# shellcheck source=test/lib/check.sh
. "$(dirname "$0")/../lib/check.sh"
# expect NAME STATUS PATTERN -- command... : the exit status and a line of output matching PATTERN.
expect() {
  local name=$1 want=$2 pattern=$3 out rc
  shift 4
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" = "$want" ] && grep -qE -- "$pattern" <<<"$out"; then
    ok "$name"
  else
    bad "$name" "exit $rc (want $want), output:"
    while IFS= read -r line; do echo "    $line"; done <<<"$out" | head -5
  fi
}
kubeconfig() { # FILE CLUSTER_EXTRA USER_EXTRA
  cat > "$1" <<YAML
current-context: t
contexts: [{name: t, context: {cluster: c, user: u}}]
clusters: [{name: c, cluster: {server: 'https://127.0.0.1:6443'$2}}]
users: [{name: u, user: {token: x$3}}]
YAML
}
kubeconfig "$tmp/exec" "" ", exec: {apiVersion: client.authentication.k8s.io/v1, command: aws}"
kubeconfig "$tmp/auth" "" ", auth-provider: {name: oidc}"
kubeconfig "$tmp/proxy" ", proxy-url: 'http://proxy:3128'" ""
# The message is one quoted log field (Quoted(): its own quotes escaped), so that a log parser
# gets it back whole.
expect "--kubeconfig with a user using exec: exit 2, names it" 2 'config error="[^"]*user \\"u\\" uses exec' -- \
  "$op" --kubeconfig "$tmp/exec" --metrics-bind-address=0 --health-probe-bind-address=0
expect "\$KUBECONFIG (a missing file skipped) with auth-provider: exit 2, names it" 2 \
  "$tmp/auth: user \\\\\"u\\\\\" uses auth-provider" -- \
  env KUBECONFIG="$tmp/missing:$tmp/auth" "$op" --metrics-bind-address=0 --health-probe-bind-address=0
expect "--kubeconfig with a cluster using proxy-url: exit 2, names it" 2 'cluster \\"c\\" sets proxy-url' -- \
  "$op" --kubeconfig "$tmp/proxy" --metrics-bind-address=0 --health-probe-bind-address=0
expect "\$KUBECONFIG of missing files only: exit 2" 2 'none of its files exists' -- \
  env KUBECONFIG="$tmp/missing" "$op" --metrics-bind-address=0 --health-probe-bind-address=0
expect "leader election timings out of order: exit 2" 2 'renew deadline must be longer' -- \
  "$op" --kubeconfig "$tmp/exec" --leader-elect-renew-deadline=1s --leader-elect-retry-period=2s
expect "a bad duration: exit 2, names it" 2 'bad duration "soon"' -- \
  "$op" --kubeconfig "$tmp/exec" --leader-elect-lease-duration=soon
expect "--reserved-ports with a bad range: exit 2, names it" 2 '^--reserved-ports: "2380-" is not a port' -- \
  "$op" --kubeconfig "$tmp/exec" --reserved-ports=22,2380-
expect "--reserved-ports beyond 65535: exit 2, names it" 2 '"70000" is not a port' -- \
  "$op" --kubeconfig "$tmp/exec" --reserved-ports=70000
expect "--trusted-namespaces with a bad name: exit 2, names it" 2 '"Bad_NS" is not a namespace name' -- \
  "$op" --kubeconfig "$tmp/exec" --trusted-namespaces=team-a,Bad_NS
expect "--balancer-priority-class with a bad name: exit 2, names it" 2 '"Not A Class" is not a PriorityClass name' -- \
  "$op" --kubeconfig "$tmp/exec" "--balancer-priority-class=Not A Class"
# A port another socket holds: the message says which and why (the errno text).
kubeconfig "$tmp/plain" "" ""
python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True); time.sleep(120)' > "$tmp/port" &
holder=$!
until_ok 10 test -s "$tmp/port"
port=$(cat "$tmp/port")
expect "--metrics-bind-address on a port in use: exit 2, names it and the errno text" 2 \
  "cannot listen on 127\.0\.0\.1:$port: Address already in use" -- \
  "$op" --kubeconfig "$tmp/plain" --metrics-bind-address="127.0.0.1:$port" --health-probe-bind-address=0
want="akrobateo-operator $version${revision:+ ($revision)}"
# shellcheck disable=SC2001  # sed puts a backslash before each of the characters
expect "--version prints '$want', exits 0" 0 "^$(sed 's/[.()]/\\&/g' <<<"$want")\$" -- "$op" --version
expect "the default --nftlb-image is akrobateo/nftlb:$version" 0 "--nftlb-image TEXT=akrobateo/nftlb:$version( |\$)" -- \
  "$op" --help
finish
