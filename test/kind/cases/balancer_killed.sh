# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Case: a balancer killed with SIGKILL is restarted with its table back, and no address is
# lost from the status or the wire.
e2e_balancer_killed() {
  # SIGKILL leaves nftlb no time to remove its table; the kubelet restarts the container, and
  # the new process replaces the table. Meanwhile every address keeps answering, and the node
  # stays in the status: its pod is not Ready for a moment, but a listed node is held through a
  # short restart (docs/design.md, "Status through a balancer restart").
  local node="$CLUSTER-worker2" before pod node_ip ip unanswered="" deadline=$((SECONDS + 90))
  # shellcheck disable=SC2154  # root: set by kind.sh, which sources this file
  local seen="$root/build/kind/killed-status" watcher missing
  before=$(ingress_of default echoserver)
  node_ip=$(kubectl get node "$node" -o jsonpath='{.status.addresses[?(@.type=="InternalIP")].address}' | tr ' ' '\n' | grep -v : | head -1)
  pod=$(kubectl -n akrobateo-system get pods -l akrobateo.dev/service-name=echoserver \
    --field-selector "spec.nodeName=$node" -o jsonpath='{.items[0].metadata.name}')
  # Every version of the status while the balancer restarts, one line each.
  kubectl get svc echoserver -w -o jsonpath='{.status.loadBalancer.ingress[*].ip}{"\n"}' >"$seen" 2>/dev/null &
  watcher=$!
  until_ok 10 test -s "$seen" || true
  docker exec "$node" pkill -KILL -x nftlb
  # Until the container has restarted and is Ready again: every address is asked every 0.5 s.
  until restarted_ready "$pod"; do
    for ip in $before; do http_hostname "$ip" 8080 || unanswered="$unanswered $ip"; done
    [ "$SECONDS" -lt "$deadline" ] || break
    sleep 0.5
  done
  check "balancer killed on $node: the kubelet restarts it and it is Ready again" restarted_ready "$pod"
  check "balancer killed on $node: its table is back" until_ok 60 table_present "$node"
  check "balancer killed on $node: every address answered throughout${unanswered:+ (not:$unanswered)}" test -z "$unanswered"
  check "balancer killed on $node: all addresses listed" until_ok 30 ingress_set_is default echoserver "$before"
  sleep 2 # a late removal would show up here
  kill "$watcher" 2>/dev/null || true
  wait "$watcher" 2>/dev/null || true
  missing=$(grep -cvw -- "$node_ip" "$seen" || true)
  check "balancer killed on $node: $node_ip never left the status ($(wc -l <"$seen") versions seen, $missing without it)" \
    test "$missing" = 0
}

# restarted_ready POD: the balancer container restarted at least once and the pod is Ready.
restarted_ready() {
  local restarts ready
  restarts=$(kubectl -n akrobateo-system get pod "$1" -o jsonpath='{.status.containerStatuses[0].restartCount}')
  ready=$(kubectl -n akrobateo-system get pod "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')
  [ "${restarts:-0}" -ge 1 ] && [ "$ready" = True ]
}
# table_present NODE: nftlb's table is in the balancer pod's network namespace on that node.
table_present() {
  local pid
  pid=$(docker exec "$1" pgrep -n -x nftlb) || return 1
  docker exec "$1" nsenter -t "$pid" -n nft list table inet akrobateo >/dev/null
}
