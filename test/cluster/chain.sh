# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# shellcheck disable=SC2154  # dir, netns_prefix, lib_here: from profile.sh and lib.sh
# The data path of one LoadBalancer Service on this machine (sourced after lib.sh, not run):
# one network namespace per kwok Node holding that Node's addresses, the real nftlb in each run
# with the args of the pod spec the operator generated (read back from the DaemonSet), the
# Service's ClusterIP(s) held by a backend namespace with an echo server, and a client namespace
# that sends requests to the ingress addresses. All namespaces hang off one bridge in <prefix>-lan (profile.sh: akb- for the demo, akt- for e2e).
# Only documentation ranges and the cluster's Service range are used; nothing leaves these
# namespaces. Every namespace is recorded in $dir/netns.list (cluster.sh down deletes them).
chain_ns=("$netns_prefix-lan" "$netns_prefix-client" "$netns_prefix-backend")

chain_netns() { # NAME : create it (and record it for cleanup)
  ip netns add "$1"
  echo "$1" >> "$dir/netns.list"
  ip -n "$1" link set lo up
}

chain_port() { # NS : a veth from the bridge into NS, named eth0 there
  local ns=$1 p="p${#chain_ports[@]}"
  chain_ports+=("$p")
  ip -n "$netns_prefix-lan" link add "$p" type veth peer name eth0 netns "$ns"
  ip -n "$netns_prefix-lan" link set "$p" master br0 up
  ip -n "$ns" link set eth0 up
}

chain_start() { # NAME NS command... : a background process inside NS, pid file in $dir/pids
  local name=$1 ns=$2; shift 2
  setsid ip netns exec "$ns" "$@" >>"$dir/$name.log" 2>&1 </dev/null &
  echo $! > "$dir/pids/$name.pid"
  disown
}

chain_is_v6() { case $1 in *:*) return 0 ;; *) return 1 ;; esac; }

# chain_up SERVICE_NAMESPACE SERVICE_NAME : builds everything; prints what it does.
chain_up() {
  local sns=$1 sname=$2 ds node a ns args ips cips port
  chain_ports=()
  mkdir -p "$dir/pids"
  ds=$(ds_names "$sns" "$sname" | head -1)
  [ -n "$ds" ] || { echo "chain: no DaemonSet for $sns/$sname" >&2; return 1; }
  for ns in "${chain_ns[@]}"; do chain_netns "$ns"; done
  ip -n "$netns_prefix-lan" link add br0 type bridge
  ip -n "$netns_prefix-lan" link set br0 up

  # Backend: the ClusterIP(s) on its interface, an echo server on each ClusterIP:port.
  chain_port "$netns_prefix-backend"
  cips=$(kc -n "$sns" get svc "$sname" -o jsonpath='{range .spec.clusterIPs[*]}{@}{" "}{end}')
  for a in $cips; do
    if chain_is_v6 "$a"; then ip -n "$netns_prefix-backend" addr add "$a/128" dev eth0 nodad
    else ip -n "$netns_prefix-backend" addr add "$a/32" dev eth0; fi
  done
  ip -n "$netns_prefix-backend" route add 192.0.2.0/24 dev eth0
  ip -n "$netns_prefix-backend" route add 203.0.113.0/24 dev eth0
  ip -n "$netns_prefix-backend" -6 route add 2001:db8::/32 dev eth0
  local listen=()
  for port in $(kc -n "$sns" get svc "$sname" -o jsonpath='{range .spec.ports[*]}{.port}{" "}{end}'); do
    for a in $cips; do listen+=("$a" "$port"); done
  done
  chain_start echo-backend "$netns_prefix-backend" python3 "$lib_here/echo.py" "${listen[@]}"

  # Client: an address in each node range.
  chain_port "$netns_prefix-client"
  ip -n "$netns_prefix-client" addr add 192.0.2.200/24 dev eth0
  ip -n "$netns_prefix-client" addr add 203.0.113.200/24 dev eth0
  ip -n "$netns_prefix-client" addr add 2001:db8::200/64 dev eth0 nodad

  # One namespace per Node: its addresses, the Service range on-link, nftlb with the DS's args.
  local dsjson probe_port
  dsjson=$(kc -n "$OPNS" get ds "$ds" -o json)
  args=$(echo "$dsjson" | jq -r '.spec.template.spec.containers[0].args[]')
  # The readiness probe's port (a tcpSocket probe on nftlb's --ready-port).
  probe_port=$(echo "$dsjson" | jq -r '.spec.template.spec.containers[0].readinessProbe.tcpSocket.port // empty')
  echo "chain: nftlb args from DaemonSet $OPNS/$ds: $(echo "$args" | tr '\n' ' ')"
  for node in $(kc get nodes -o jsonpath='{range .items[*]}{.metadata.name}{" "}{end}'); do
    ns=$netns_prefix-$node
    chain_netns "$ns"
    chain_port "$ns"
    ips=$(kc get node "$node" -o jsonpath='{range .status.addresses[?(@.type!="Hostname")]}{.address}{" "}{end}')
    for a in $ips; do
      if chain_is_v6 "$a"; then ip -n "$ns" addr add "$a/64" dev eth0 nodad
      else ip -n "$ns" addr add "$a/24" dev eth0; fi
    done
    ip -n "$ns" route add 10.96.0.0/16 dev eth0
    ip -n "$ns" -6 route add fd00:96::/112 dev eth0
    # What the kubelet would do: AKROBATEO_HOST_IPS from status.hostIPs, in the container's
    # environment (nftlb reads it for --node-ips-env).
    local hostips; hostips=$(echo "$ips" | tr ' ' '\n' | grep -v '^$' | paste -sd, -)
    mapfile -t argv <<<"$args"
    chain_start "nftlb-$node" "$ns" env "AKROBATEO_HOST_IPS=$hostips" "$AKROBATEO_BIN/nftlb" "${argv[@]}"
    echo "chain: $ns holds $ips; nftlb running in it"
  done
  # Ready as the kubelet would see it: the DaemonSet's readiness probe, a TCP connect to the
  # port, answers at each node's first address (nftlb listens there once its rules are in). Then
  # the echo server.
  [ -n "$probe_port" ] || { echo "chain: the DaemonSet has no tcpSocket readiness probe" >&2; return 1; }
  local first
  for node in $(kc get nodes -o jsonpath='{range .items[*]}{.metadata.name}{" "}{end}'); do
    ns=$netns_prefix-$node
    first=$(kc get node "$node" -o jsonpath='{.status.addresses[?(@.type!="Hostname")].address}' | awk '{print $1}')
    if ! until_ok 20 ip netns exec "$ns" timeout 1 bash -c "exec 3<>/dev/tcp/$first/$probe_port"; then
      echo "chain: the readiness probe ($first:$probe_port) never answered on $node:" >&2
      cat "$dir/nftlb-$node.log" >&2
      return 1
    fi
    echo "chain: $node: the readiness probe (tcp $first:$probe_port) answers"
  done
  until_ok 20 grep -q 'listening' "$dir/echo-backend.log" || { echo "chain: echo server did not start" >&2; return 1; }
}

# chain_request ADDR PORT : one HTTP request from the client namespace; prints the answer.
chain_request() {
  local a=$1 port=$2 url
  if chain_is_v6 "$a"; then url="http://[$a]:$port/"; else url="http://$a:$port/"; fi
  ip netns exec "$netns_prefix-client" curl -sS --max-time 5 "$url"
}

chain_down() {
  local f n alive pids=()
  for f in "$dir"/pids/nftlb-*.pid "$dir"/pids/echo-backend.pid; do
    [ -e "$f" ] || continue
    pids+=("$(cat "$f")")
    rm -f "$f"
  done
  # nftlb removes its table on SIGTERM; all at once, SIGKILL after 5 s.
  for n in "${pids[@]}"; do kill -TERM "$n" 2>/dev/null || true; done
  for _ in $(seq 50); do
    alive=0
    for n in "${pids[@]}"; do kill -0 "$n" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for n in "${pids[@]}"; do kill -KILL "$n" 2>/dev/null || true; done
  if [ -f "$dir/netns.list" ]; then
    while read -r n; do ip netns del "$n" 2>/dev/null || true; done < "$dir/netns.list"
    rm -f "$dir/netns.list"
  fi
}
