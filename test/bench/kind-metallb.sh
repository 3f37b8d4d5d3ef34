# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# The MetalLB side of test/bench/kind.sh (sourced by it, after its set-up: uses $node_ips,
# $n_nodes, $TOOLS_IMAGE's bench-server, test/lib/bench.sh and test/lib/poll.sh). MetalLB itself
# is built and deployed by test/bench/metallb.sh; these are the measures taken beside akrobateo.
# shellcheck disable=SC2154  # node_ips, n_nodes, client_node, mlb_vip, batch, kill_rounds: kind.sh's
MLB_CLASS=${METALLB_CLASS:-metallb.io/metallb}

# lb_service NAME PORT TARGET_PORT LABEL CLASS: the JSON of a LoadBalancer Service of bench-server
# labelled LABEL (k=v); CLASS empty: no spec.loadBalancerClass (akrobateo's, by --default-class).
lb_service() {
  jq -n --arg n "$1" --argjson p "$2" --argjson tp "$3" --arg l "$4" --arg c "$5" '
    {apiVersion: "v1", kind: "Service",
     metadata: {name: $n, namespace: "default", labels: {($l | split("=")[0]): ($l | split("=")[1])}},
     spec: ({type: "LoadBalancer", selector: {app: "bench-server"},
             ports: [{name: "accept", port: $p, targetPort: $tp, protocol: "TCP"}]}
            + (if $c == "" then {} else {loadBalancerClass: $c} end))}'
}
# addresses_of KIND: how many addresses a Service of akrobateo (every node) or MetalLB (one VIP) lists.
addresses_of() { if [ "$1" = metallb ]; then echo 1; else echo "$n_nodes"; fi; }
class_of() { if [ "$1" = metallb ]; then echo "$MLB_CLASS"; fi; }
node_csv() { tr '\n' ',' <<<"$node_ips"; }

# publish_time KIND NAME PORT: creates one Service, prints "PUBLISHED_S NODEPORT_S" (answer.py).
publish_time() {
  local t0
  t0=$(date +%s.%N)
  lb_service "$2" "$3" 7000 "bench-ttfa=$2" "$(class_of "$1")" | kubectl apply -f - >/dev/null
  python3 test/bench/answer.py publish "$t0" "bench-ttfa=$2" 1 "$(addresses_of "$1")" "$(node_csv)" 120 |
    awk '{print $2, $3} END {if (NR == 0) print "timeout timeout"}'
}

# batch_publish KIND COUNT: COUNT Services created at once (one `kubectl apply` of a List),
# labelled bench-batch=KIND; prints "ALL_PUBLISHED_S ALL_NODEPORTS_S": until the last one's
# every address answered, and its nodePort on every node (the slowest of each; "timeout" if any did).
batch_publish() {
  local i t0
  t0=$(date +%s.%N)
  for ((i = 0; i < $2; i++)); do
    lb_service "batch-$1-$i" $((7400 + i)) 7000 "bench-batch=$1" "$(class_of "$1")"
  done | jq -s '{apiVersion: "v1", kind: "List", items: .}' | kubectl apply -f - >/dev/null
  python3 test/bench/answer.py publish "$t0" "bench-batch=$1" "$2" "$(addresses_of "$1")" "$(node_csv)" 300 |
    awk -v c="$2" '$2 == "timeout" {pt = 1} $3 == "timeout" {nt = 1} $2 + 0 > p {p = $2 + 0} $3 + 0 > n {n = $3 + 0}
      END {print (pt || NR < c ? "timeout" : p), (nt || NR < c ? "timeout" : n)}'
}

# --- memory: the containers' working set, from the kubelets' summary API --------------------------
# pod_memory NAMESPACE: "POD WORKING_SET_BYTES" for every pod of NAMESPACE, over every node.
pod_memory() {
  local n
  for n in $(kubectl get nodes -o name | sed 's#^node/##'); do
    kubectl get --raw "/api/v1/nodes/$n/proxy/stats/summary" |
      jq -r --arg ns "$1" '.pods[] | select(.podRef.namespace == $ns)
        | "\(.podRef.name) \([.containers[]?.memory.workingSetBytes // 0] | add // 0)"'
  done
}
# stats_complete NAMESPACE: the summary has a non-zero working set for every Running pod there.
stats_complete() {
  local running seen
  running=$(kubectl -n "$1" get pods --field-selector=status.phase=Running -o name | sed 's#^pod/##' | sort)
  seen=$(pod_memory "$1" | awk '$2 > 0 {print $1}' | sort)
  [ -n "$running" ] && [ -z "$(comm -23 <(echo "$running") <(echo "$seen"))" ]
}
# memory_mib KIND: "TOTAL_MIB CONTROL_MIB CONTROL_PODS PER_NODE_MIB PER_NODE_PODS": akrobateo's
# operator pods and balancer pods, or MetalLB's controller and speakers.
memory_mib() {
  local ns=akrobateo-system control='^akrobateo-operator-'
  [ "$1" != metallb ] || { ns=metallb-system control='^controller-'; }
  until_ok 90 stats_complete "$ns" || log "kubelet stats: not every $ns pod has a working set yet"
  pod_memory "$ns" | awk -v c="$control" '
    $1 ~ c {cm += $2; cn++; next} {bm += $2; bn++}
    END {printf "%.1f %.1f %d %.1f %d\n", (cm + bm) / 1048576, cm / 1048576, cn, bm / 1048576, bn}'
}

# --- a balancer / speaker killed ------------------------------------------------------------------
# recovered KIND POD NODE: the killed POD is gone, its successor on NODE is Ready, and (akrobateo)
# the bench Service lists every node again / (MetalLB) a speaker announces its VIP.
recovered() {
  local ns=akrobateo-system sel=akrobateo.dev/service-name=bench
  [ "$1" != metallb ] || { ns=metallb-system sel=component=speaker; }
  ! kubectl -n "$ns" get pod "$2" >/dev/null 2>&1 || return 1
  kubectl -n "$ns" get pods -l "$sel" --field-selector "spec.nodeName=$3" -o json |
    jq -e '[.items[] | select(any(.status.conditions[]?; .type == "Ready" and .status == "True"))] | length == 1' >/dev/null ||
    return 1
  [ "$1" = metallb ] ||
    [ "$(kubectl get svc bench -o jsonpath='{.status.loadBalancer.ingress[*].ip}' | tr ' ' '\n' | grep -vc :)" -eq "$n_nodes" ]
}
# announcer: the node whose speaker answers ARP for bench-metallb's VIP, as the host sees it: the
# MAC address of its neighbour entry after a request, matched to a node container's. (Not MetalLB's
# ServiceL2Status: owned by the speaker pod, it goes with it, and v0.15.2 does not re-create it.)
announcer() {
  local mac n
  answers "$mlb_vip" 7000 || return 1
  mac=$(ip neigh show "$mlb_vip" | awk '/lladdr/ {print $5}')
  [ -n "$mac" ] || return 1
  for n in $(kubectl get nodes -o name | sed 's#^node/##'); do
    [ "$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.MacAddress}}{{end}}' "$n")" != "$mac" ] || echo "$n"
  done
}
# kill_round KIND: a steady loop of requests from the host to every address of the bench Service
# (akrobateo: every node's; MetalLB: the VIP), then the balancer pod on $client_node (akrobateo) or
# the speaker announcing the VIP (MetalLB) is deleted; prints "RECOVERED_S LOST REQUESTS NODE
# LOST_BY_ADDRESS" (answer.py steady: until every address answers again; the requests lost meanwhile).
kill_round() {
  local ns pod node targets="" ip dir t0 prober out
  if [ "$1" = metallb ]; then
    ns=metallb-system node=$(announcer) || log "kill metallb: no node answers ARP for $mlb_vip"
    pod=$(kubectl -n "$ns" get pods -l component=speaker --field-selector "spec.nodeName=$node" -o jsonpath='{.items[0].metadata.name}')
    targets="$mlb_vip:7000"
  else
    ns=akrobateo-system node=$client_node
    pod=$(kubectl -n "$ns" get pods -l akrobateo.dev/service-name=bench --field-selector "spec.nodeName=$node" -o jsonpath='{.items[0].metadata.name}')
    for ip in $(kubectl get svc bench -o jsonpath='{.status.loadBalancer.ingress[*].ip}' | tr ' ' '\n' | grep -v :); do targets+="$ip:7000,"; done
  fi
  dir=$(mktemp -d)
  python3 test/bench/answer.py steady "${targets%,}" "$dir/t0" "$dir/stop" 150 >"$dir/out" &
  prober=$!
  # Every address answers before the kill (the prober's requests until then do not count).
  until_ok 30 all_answer "${targets%,}" || log "kill $1: not every address answered before the kill"
  t0=$(date +%s.%N)
  echo "$t0" >"$dir/t0"
  kubectl -n "$ns" delete pod "$pod" --wait=false >/dev/null
  until_ok 120 recovered "$1" "$pod" "$node" || log "kill $1: $pod's replacement not Ready/listed within 120 s"
  touch "$dir/stop"
  wait "$prober" || true
  out=$(cat "$dir/out")
  rm -rf "$dir"
  echo "${out:-0 0 timeout -}" | awk -v n="$node" '{print $3, $2, $1, n, $4}'
}
all_answer() {
  local t
  for t in ${1//,/ }; do answers "${t%:*}" "${t##*:}" || return 1; done
}

# --- 3. and 4. of test/bench/kind.sh ------------------------------------------------------------
# only_bench_balancers: no akrobateo DaemonSet left but the bench Service's, nor any other pod of one.
only_bench_balancers() {
  [ "$(kubectl -n akrobateo-system get ds -o name | wc -l)" -eq 1 ] &&
    [ "$(kubectl -n akrobateo-system get pods -l app.kubernetes.io/managed-by=akrobateo -o name | wc -l)" -eq "$n_nodes" ]
}
# print_memory LABEL KIND "TOTAL CONTROL_MIB CONTROL_PODS PER_NODE_MIB PER_NODE_PODS"
print_memory() {
  local parts=("operator" "balancer")
  [ "$2" != metallb ] || parts=("controller" "speaker")
  local tot cm cn bm bn
  read -r tot cm cn bm bn <<<"$3"
  printf '%-28s %8s MiB   (%s: %s MiB in %s pods; %s: %s MiB in %s pods)\n' "$1" "$tot" \
    "${parts[0]}" "$cm" "$cn" "${parts[1]}" "$bm" "$bn"
}
# part_batch_memory: prints part 3; sets batch_a, batch_m ("ALL_PUBLISHED_S ALL_NODEPORTS_S") and
# mem1_a, mem1_m, memn_a, memn_m (memory_mib's fields).
part_batch_memory() {
  until_ok 300 only_bench_balancers || log "part 3: the earlier Services' balancers are still there"
  mem1_a=$(memory_mib akrobateo) mem1_m=$(memory_mib metallb) batch_a="" batch_m="" memn_a="" memn_m=""
  if [ "$batch" -eq 0 ]; then
    print_memory "akrobateo, 1 Service" akrobateo "$mem1_a"
    print_memory "MetalLB, 1 Service" metallb "$mem1_m"
    return 0
  fi
  echo
  echo "## 3. $batch Services created at once -> every address of every one answers (MetalLB's, then akrobateo's)"
  batch_m=$(batch_publish metallb "$batch")
  batch_a=$(batch_publish akrobateo "$batch")
  memn_a=$(memory_mib akrobateo) memn_m=$(memory_mib metallb)
  local a_pub a_np m_pub m_np
  read -r a_pub a_np <<<"$batch_a"
  read -r m_pub m_np <<<"$batch_m"
  printf '%-40s %8s s   (their nodePorts on every node: %s s)\n' "akrobateo: all $batch answer" "$a_pub" "$a_np" \
    "MetalLB: all $batch answer" "$m_pub" "$m_np"
  printf '%-40s %8sx\n' "akrobateo / MetalLB" "$(ratio "$a_pub" "$m_pub")" \
    "akrobateo / its nodePorts" "$(ratio "$a_pub" "$a_np")" "MetalLB / its nodePorts" "$(ratio "$m_pub" "$m_np")"
  echo "## memory: the containers' working set (kubelet summary API), 1 and $batch Services each"
  print_memory "akrobateo, 1 Service" akrobateo "$mem1_a"
  print_memory "MetalLB, 1 Service" metallb "$mem1_m"
  print_memory "akrobateo, $((batch + 1)) Services" akrobateo "$memn_a"
  print_memory "MetalLB, $((batch + 1)) Services" metallb "$memn_m"
  printf '%-40s %8sx   (%s Services: %sx)\n' "akrobateo / MetalLB, 1 Service" \
    "$(ratio "${mem1_a%% *}" "${mem1_m%% *}")" "$((batch + 1))" "$(ratio "${memn_a%% *}" "${memn_m%% *}")"
  printf 'pods per Service: akrobateo %s (balancer pods / Services), MetalLB 0 (1 controller and %s speakers, whatever the count)\n' \
    "$(ratio "$(awk '{print $5}' <<<"$memn_a")" $((batch + 1)))" "$(awk '{print $5}' <<<"$memn_m")"
  kubectl delete svc -l bench-batch --wait=false >/dev/null
  until_ok 300 only_bench_balancers || log "part 3: the batch's balancers are still there"
}
# part_killed: prints part 4; sets the arrays kill_a, kill_m (kill_round's lines).
part_killed() {
  local r k
  kill_a=() kill_m=()
  echo
  echo "## 4. a node's balancer pod (akrobateo) / the speaker announcing the VIP (MetalLB) deleted, $kill_rounds rounds:"
  echo "##    requests from the host to every address every 0.1 s; until every address answers again"
  for ((r = 0; r < kill_rounds; r++)); do
    for k in $(if ((r % 2)); then echo metallb akrobateo; else echo akrobateo metallb; fi); do
      if [ "$k" = akrobateo ]; then kill_a+=("$(kill_round akrobateo)"); else kill_m+=("$(kill_round metallb)"); fi
    done
  done
  local a_rec m_rec a_lost m_lost
  a_rec=$(printf '%s\n' "${kill_a[@]}" | awk '{print $1}' | grep -v timeout | median)
  m_rec=$(printf '%s\n' "${kill_m[@]}" | awk '{print $1}' | grep -v timeout | median)
  a_lost=$(printf '%s\n' "${kill_a[@]}" | awk '{print $2}' | median)
  m_lost=$(printf '%s\n' "${kill_m[@]}" | awk '{print $2}' | median)
  printf '%-40s %8s s, %s requests lost   (each: s lost sent node lost-by-address: %s)\n' \
    "akrobateo: every address answers again" "$a_rec" "$a_lost" "$(printf '%s, ' "${kill_a[@]}" | sed 's/, $//')" \
    "MetalLB: its VIP answers again" "$m_rec" "$m_lost" "$(printf '%s, ' "${kill_m[@]}" | sed 's/, $//')"
}
# metallb_json: the MetalLB side's raw results, one JSON object (merged into kind.sh's file).
metallb_json() {
  jq -n --arg version "${METALLB_VERSION:-v0.15.2}" --arg class "$MLB_CLASS" --arg vip "$mlb_vip" \
    --argjson batch "$batch" --arg ba "$batch_a" --arg bm "$batch_m" \
    --arg m1a "$mem1_a" --arg m1m "$mem1_m" --arg mna "$memn_a" --arg mnm "$memn_m" \
    --arg ka "$(printf '%s\n' "${kill_a[@]}")" --arg km "$(printf '%s\n' "${kill_m[@]}")" '
    def mem: if . == "" then null else split(" ") | {total_mib: (.[0] | tonumber), control_mib: (.[1] | tonumber), control_pods: (.[2] | tonumber),
                           per_node_mib: (.[3] | tonumber), per_node_pods: (.[4] | tonumber)} end;
    def batch: if . == "" then null else split(" ") | {all_published_s: .[0], all_node_ports_s: .[1]} end;
    def kills: split("\n") | map(select(. != "") | split(" ") | {recovered_s: .[0], lost: (.[1] | tonumber),
                                                              requests: (.[2] | tonumber), node: .[3],
                                                              lost_by_address: .[4]});
    {metallb: {version: $version, class: $class, bench_vip: $vip},
     batch: {services: $batch, akrobateo: ($ba | batch), metallb: ($bm | batch)},
     memory: ({"1": {akrobateo: ($m1a | mem), metallb: ($m1m | mem)}}
              + if $batch > 0 then {($batch + 1 | tostring): {akrobateo: ($mna | mem), metallb: ($mnm | mem)}} else {} end),
     killed: {akrobateo: ($ka | kills), metallb: ($km | kills)}}'
}
