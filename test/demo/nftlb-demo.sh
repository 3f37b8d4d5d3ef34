#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# nftlb on its own: client ns -> pod ns (nftlb) -> backend ns (an echo server), all on this
# machine. `nftlb-demo.sh` sets it up and leaves it running; `nftlb-demo.sh down` removes the
# namespaces, the processes and the state directory. Needs root and build/bin/nftlb (make build).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
nftlb=${NFTLB:-$root/build/bin/nftlb}
state=/run/akrobateo-nftlb-demo
c=akb-demo-client p=akb-demo-pod b=akb-demo-backend

down() {
  # nftlb removes its table on SIGTERM; then the namespaces go, and with them the veths.
  for f in "$state"/*.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  for ns in $c $p $b; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$state"
}

if [ "${1:-}" = down ]; then
  down
  echo "nftlb demo: removed (namespaces $c, $p, $b; nftlb and the echo server stopped)"
  exit 0
fi

[ "$(id -u)" = 0 ] || { echo "nftlb demo needs root (network namespaces)" >&2; exit 1; }
[ -x "$nftlb" ] || { echo "missing $nftlb: run make build" >&2; exit 1; }
down  # start from nothing, also after an interrupted run
trap 'echo "nftlb demo failed; cleaning up" >&2; down' ERR
mkdir -p "$state"

for ns in $c $p $b; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip -n $c link add eth0 type veth peer name eth0 netns $p
ip -n $p link add eth1 type veth peer name eth0 netns $b
ip -n $c addr add 192.0.2.1/24 dev eth0
ip -n $p addr add 192.0.2.2/24 dev eth0
ip -n $p addr add 198.51.100.1/24 dev eth1
ip -n $b addr add 198.51.100.2/24 dev eth0
ip -n $c link set eth0 up
ip -n $p link set eth0 up
ip -n $p link set eth1 up
ip -n $b link set eth0 up
# Like a pod: global IPv4 forwarding off. nftlb turns it on per interface via rtnetlink.
ip netns exec $p sysctl -q -w net.ipv4.ip_forward=0

# shellcheck disable=SC2016  # $line is for the shell socat starts
ip netns exec $b socat -T 2 TCP-LISTEN:8080,bind=198.51.100.2,fork,reuseaddr \
  SYSTEM:'read line; echo "backend 198.51.100.2:8080 answers: $line"' \
  </dev/null >"$state/socat.log" 2>&1 &
echo $! > "$state/socat.pid"

echo "== nftlb in the pod namespace: tcp/80 -> 198.51.100.2:8080"
ip netns exec $p "$nftlb" --forward tcp/80=198.51.100.2:8080 </dev/null >"$state/nftlb.log" 2>&1 &
echo $! > "$state/nftlb.pid"
for _ in $(seq 50); do
  ip netns exec $p nft list table inet akrobateo >/dev/null 2>&1 && break
  sleep 0.1
done
head -n 2 "$state/nftlb.log"
echo
echo "== ip netns exec $p nft list table inet akrobateo"
ip netns exec $p nft list table inet akrobateo
echo
echo "== pod: net.ipv4.ip_forward=$(ip netns exec $p cat /proc/sys/net/ipv4/ip_forward)," \
  "eth0 forwarding=$(ip netns exec $p cat /proc/sys/net/ipv4/conf/eth0/forwarding)," \
  "eth1 forwarding=$(ip netns exec $p cat /proc/sys/net/ipv4/conf/eth1/forwarding)"
echo
echo "== client 192.0.2.1 -> pod 192.0.2.2:80 (a real TCP request through nftlb)"
answer=$(echo "hello through nftlb" | ip netns exec $c socat -T 2 - TCP:192.0.2.2:80,connect-timeout=2)
echo "$answer"
trap - ERR
echo
echo "Left running: namespaces $c, $p, $b; nftlb (log $state/nftlb.log)."
echo "Try: echo hi | ip netns exec $c socat - TCP:192.0.2.2:80"
echo "Stop and remove everything: bash test/demo/nftlb-demo.sh down"
