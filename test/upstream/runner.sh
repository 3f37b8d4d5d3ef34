# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# The network namespace e2e.test runs in (sourced by test/upstream/run.sh, not run).
#
# Why: from the host, a client reaches the kind nodes from the Docker network's gateway, an address
# inside the nodes' own /16. "ExternalTrafficPolicy: Local should work for type=LoadBalancer"
# fails any client it sees from there ("Source IP was NOT preserved"), whatever the load balancer
# does. A real external client comes from elsewhere: so the runner gets a namespace of its own,
# with a routed address outside the nodes', the pod and the Service networks (RUNNER_ADDR on a
# veth pair, the host side RUNNER_GW), and reaches the API server and the nodes through the
# host's routing, unmasqueraded. Docker's FORWARD policy drops what enters its bridge from other
# interfaces, so one rule in DOCKER-USER lets the runner's new connections in; replies take
# Docker's own RELATED,ESTABLISHED rule. runner_down removes all of it (run.sh's EXIT trap).
RUNNER_NS=akrobateo-runner
RUNNER_LINK=akr-runner
RUNNER_GW=10.254.254.1
RUNNER_ADDR=10.254.254.2

# runner_bridge: the Linux bridge of the kind Docker network.
runner_bridge() {
  local name
  name=$(docker network inspect kind -f '{{index .Options "com.docker.network.bridge.name"}}' 2>/dev/null || true)
  [ -n "$name" ] || name="br-$(docker network inspect kind -f '{{.Id}}' | cut -c1-12)"
  echo "$name"
}

runner_up() {
  local bridge
  runner_down
  bridge=$(runner_bridge)
  ip link show "$bridge" >/dev/null || return 1
  ip netns add "$RUNNER_NS"
  ip link add "$RUNNER_LINK" type veth peer name eth0 netns "$RUNNER_NS"
  ip addr add "$RUNNER_GW/30" dev "$RUNNER_LINK"
  ip link set "$RUNNER_LINK" up
  ip -n "$RUNNER_NS" link set lo up
  ip -n "$RUNNER_NS" addr add "$RUNNER_ADDR/30" dev eth0
  ip -n "$RUNNER_NS" link set eth0 up
  ip -n "$RUNNER_NS" route add default via "$RUNNER_GW"
  iptables -I DOCKER-USER -i "$RUNNER_LINK" -o "$bridge" -j ACCEPT
}

runner_down() {
  local bridge
  bridge=$(runner_bridge 2>/dev/null || true)
  while [ -n "$bridge" ] && iptables -D DOCKER-USER -i "$RUNNER_LINK" -o "$bridge" -j ACCEPT 2>/dev/null; do :; done
  ip link del "$RUNNER_LINK" 2>/dev/null || true
  ip netns del "$RUNNER_NS" 2>/dev/null || true
}

# runner_kubeconfig IN OUT: IN with the API server addressed by the control-plane node's own
# address on the kind network (in its certificate), which the runner's namespace can route to.
runner_kubeconfig() {
  local ip
  ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$KIND_CLUSTER-control-plane")
  [ -n "$ip" ] || return 1
  sed "s#server: https://.*#server: https://$ip:6443#" "$1" >"$2"
}
