#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make bench-kind`: akrobateo on the real kind cluster (test/kind/kind.sh; created and deleted
# here unless one is running, KIND_KEEP=1 keeps it), with MetalLB (L2 mode, its own
# loadBalancerClass; test/bench/metallb.sh) beside it on the same cluster, each measure side by
# side with its peers in the same run:
#  1. time from a Service's creation to the first answered request through every EXTERNAL-IP
#     (from the host, test/bench/answer.py), for an akrobateo and a MetalLB Service in turn,
#     against the same wait for its nodePort on every node: kube-proxy's programming of a new
#     Service, which any address has to wait for too;
#  2. from a client pod on one worker to a server pod on the other, TCP throughput (iperf3) and
#     new connections/s (test/bench/connect.py against accept.py) over five paths, in ROUNDS
#     rounds with the paths interleaved (order rotated each round):
#       pod direct       the server pod's own address (the CNI's route, no NAT)
#       nodePort         the server's node address and the Service's nodePort (kube-proxy)
#       EXTERNAL-IP      the server's node address and the Service port, with the ipMode the
#                        operator leaves (VIP): kube-proxy's LoadBalancer-IP rules carry it
#       hostPort+nftlb   the same address with ipMode Proxy (the operator stopped meanwhile):
#                        portmap's DNAT to the balancer pod, nftlb's DNAT + masquerade to the
#                        ClusterIP, kube-proxy to the server
#       MetalLB-VIP      MetalLB's address for the Service (kube-proxy's LoadBalancer-IP rules)
#     docs/design.md says which path a real cluster takes and why.
#  3. BATCH Services created at once, for each; the memory of akrobateo (operator and balancer
#     pods) and MetalLB (controller and speakers) at 1 and at BATCH Services (test/bench/kind-metallb.sh);
#  4. a balancer pod (akrobateo) or the speaker announcing the VIP (MetalLB) deleted: the time until
#     every address answers again and the requests lost meanwhile, KILL_ROUNDS times each;
#  5. where one new Service's seconds go, step by step (test/bench/timeline.sh, TIMELINE_ROUNDS).
# Env: ROUNDS (3), SECONDS_PER_RUN (3), SERVICES (5, part 1's Services), BATCH (50), KILL_ROUNDS (3).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
# shellcheck source=test/lib/bench.sh
source test/lib/bench.sh
# shellcheck source=test/lib/poll.sh
source test/lib/poll.sh
# shellcheck source=test/lib/log.sh
source test/lib/log.sh
# shellcheck source=test/bench/kind-metallb.sh
source test/bench/kind-metallb.sh
rounds=${ROUNDS:-3}
secs=${SECONDS_PER_RUN:-3}
services=${SERVICES:-5}
batch=${BATCH:-50}
kill_rounds=${KILL_ROUNDS:-3}
CLUSTER="${KIND_CLUSTER:-akrobateo}"
export KUBECONFIG="$root/build/kind/kubeconfig"
TOOLS_IMAGE=akrobateo-bench/tools:dev
server_node="$CLUSTER-worker2" client_node="$CLUSTER-worker"

# shellcheck source=test/cluster/versions.env
. test/cluster/versions.env
PATH="/usr/local/go/bin:${AKROBATEO_CACHE:-$HOME/.cache/akrobateo}/kind-$KIND_VERSION:$PATH"
if ! kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  [ "${KIND_KEEP:-0}" = 1 ] || trap 'bash test/kind/kind.sh down' EXIT
  bash test/kind/kind.sh up
fi
bash test/kind/kind.sh deploy >/dev/null
PATH="$(bash test/cluster/build.sh node):$PATH"

docker build -q -f test/bench/kind-tools.Dockerfile \
  --build-arg "BASE_IMAGE=${AKROBATEO_BASE_IMAGE:-localhost/akrobateo-debian:bookworm-minbase}" \
  -t "$TOOLS_IMAGE" test/bench >/dev/null
# kind load runs `docker exec --privileged`: through test/kind/kind.sh's choice of docker.
KIND_LOAD_IMAGES="$TOOLS_IMAGE" bash test/kind/kind.sh load >/dev/null
# --- MetalLB beside akrobateo ------------------------------------------------------------------
bash test/bench/metallb.sh deploy

# --- the server, its Service and the client ----------------------------------------------------
kubectl apply -f - >/dev/null <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: bench-server, namespace: default}
spec:
  replicas: 1
  selector: {matchLabels: {app: bench-server}}
  template:
    metadata: {labels: {app: bench-server}}
    spec:
      nodeName: $server_node
      containers:
        - {name: iperf3, image: $TOOLS_IMAGE, imagePullPolicy: Never, command: [iperf3, -s, -p, "5201"],
           ports: [{containerPort: 5201}]}
        - {name: accept, image: $TOOLS_IMAGE, imagePullPolicy: Never, command: [python3, /bench/accept.py, "7000"],
           ports: [{containerPort: 7000}]}
---
apiVersion: v1
kind: Pod
metadata: {name: bench-client, namespace: default}
spec:
  nodeName: $client_node
  containers: [{name: client, image: $TOOLS_IMAGE, imagePullPolicy: Never, command: [sleep, infinity]}]
---
apiVersion: v1
kind: Service
metadata: {name: bench, namespace: default}
spec:
  type: LoadBalancer
  selector: {app: bench-server}
  ports:
    - {name: iperf, port: 5201, protocol: TCP}
    - {name: accept, port: 7000, protocol: TCP}
---
apiVersion: v1
kind: Service
metadata: {name: bench-metallb, namespace: default}
spec:
  type: LoadBalancer
  loadBalancerClass: $MLB_CLASS
  selector: {app: bench-server}
  ports:
    - {name: iperf, port: 5201, protocol: TCP}
    - {name: accept, port: 7000, protocol: TCP}
EOF
cleanup_objects() { kubectl delete deployment/bench-server pod/bench-client svc/bench svc/bench-metallb --ignore-not-found --wait=false >/dev/null 2>&1 || true; }
kubectl rollout status deployment/bench-server --timeout=180s >/dev/null
kubectl wait --for=condition=Ready pod/bench-client --timeout=180s >/dev/null
server_ip=$(kubectl get node "$server_node" -o jsonpath='{.status.addresses[?(@.type=="InternalIP")].address}' | tr ' ' '\n' | grep -v : | head -1)
for _ in $(seq 180); do
  kubectl get svc bench -o jsonpath='{.status.loadBalancer.ingress[*].ip}' | grep -qw "$server_ip" && break
  sleep 1
done
pod_ip=$(kubectl get pods -l app=bench-server -o jsonpath='{.items[0].status.podIP}')
np_iperf=$(kubectl get svc bench -o jsonpath='{.spec.ports[0].nodePort}')
np_accept=$(kubectl get svc bench -o jsonpath='{.spec.ports[1].nodePort}')
mlb_vip() { kubectl get svc bench-metallb -o jsonpath='{.status.loadBalancer.ingress[0].ip}' | grep .; }
until_ok 120 mlb_vip || die "MetalLB gave bench-metallb no address"
mlb_vip=$(mlb_vip)

# --- 1. time to the first answer ---------------------------------------------------------------
answers() { timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2 && head -c1 <&3" 2>/dev/null | grep -q x; }
node_ips=$(kubectl get nodes -o jsonpath='{range .items[*]}{.status.addresses[?(@.type=="InternalIP")].address}{"\n"}{end}' | tr ' ' '\n' | grep -v : | sort)
n_nodes=$(wc -l <<<"$node_ips")
echo "## 1. Service created -> the first answered request through every address ($services Services each, $n_nodes nodes)"
# In turn (the order swapped each round): an akrobateo Service (every node's address) and a MetalLB
# one (its VIP); the floor is each one's nodePort answering on every node.
ext_times=() np_times=() mlb_times=() mlb_np_times=()
for ((i = 0; i < services; i++)); do
  for kind in $(if ((i % 2)); then echo metallb akrobateo; else echo akrobateo metallb; fi); do
    read -r t_pub t_np <<<"$(publish_time "$kind" "bench-ttfa-$kind-$i" $((7300 + i)))"
    if [ "$kind" = akrobateo ]; then ext_times+=("$t_pub") np_times+=("$t_np"); else mlb_times+=("$t_pub") mlb_np_times+=("$t_np"); fi
    kubectl delete svc "bench-ttfa-$kind-$i" --wait=false >/dev/null
  done
done
ext_med=$(printf '%s\n' "${ext_times[@]}" | grep -v timeout | median)
mlb_med=$(printf '%s\n' "${mlb_times[@]}" | grep -v timeout | median)
np_med=$(printf '%s\n' "${np_times[@]}" "${mlb_np_times[@]}" | grep -v timeout | median)
printf '%-40s %8s s   (each: %s)\n' "every EXTERNAL-IP answers (akrobateo)" "$ext_med" "${ext_times[*]}" \
  "its VIP answers (MetalLB)" "$mlb_med" "${mlb_times[*]}" \
  "floor: every node's nodePort answers" "$np_med" "${np_times[*]} | ${mlb_np_times[*]}"
printf '%-40s %8sx\n' "akrobateo / MetalLB" "$(ratio "$ext_med" "$mlb_med")" \
  "akrobateo / nodePort" "$(ratio "$ext_med" "$np_med")" "MetalLB / nodePort" "$(ratio "$mlb_med" "$np_med")"

# --- 2. the data path --------------------------------------------------------------------------
set_ipmode() {
  local ingress
  ingress=$(kubectl get svc bench -o json | jq -c --arg m "$1" '[.status.loadBalancer.ingress[] | {ip, ipMode: $m}]')
  kubectl patch svc bench --subresource=status --type=merge -p "{\"status\":{\"loadBalancer\":{\"ingress\":$ingress}}}" >/dev/null
  sleep 3 # kube-proxy's sync
}
in_client() { kubectl exec bench-client -- "$@"; }
iperf_gbps() { in_client iperf3 -c "$1" -p "$2" -t "$secs" -J | iperf3_gbps; }
target() {
  case $1 in
    direct) echo "$pod_ip 5201 7000" ;;
    nodePort) echo "$server_ip $np_iperf $np_accept" ;;
    MetalLB-VIP) echo "$mlb_vip 5201 7000" ;;
    *) echo "$server_ip 5201 7000" ;;
  esac
}
paths=(direct nodePort EXTERNAL-IP hostPort+nftlb MetalLB-VIP)
declare -A bw cr
failed=0
echo
echo "## 2. client pod ($client_node) -> server pod ($server_node): $rounds rounds x ${secs}s, paths interleaved"
# shellcheck disable=SC2034  # bw and cr are read through namerefs below
for ((r = 0; r < rounds; r++)); do
  for ((i = 0; i < ${#paths[@]}; i++)); do
    path=${paths[$(((i + r) % ${#paths[@]}))]}
    if [ "$path" = hostPort+nftlb ]; then
      kubectl -n akrobateo-system scale deployment/akrobateo-operator --replicas=0 >/dev/null
      kubectl -n akrobateo-system wait --for=delete pod -l app.kubernetes.io/name=akrobateo --timeout=60s >/dev/null 2>&1 || true
      set_ipmode Proxy
    fi
    read -r ip p_iperf p_accept <<<"$(target "$path")"
    bw[$path,$r]=$(iperf_gbps "$ip" "$p_iperf")
    read -r rate fails <<<"$(in_client python3 /bench/connect.py "$ip" "$p_accept" "$secs")"
    cr[$path,$r]=$rate
    failed=$((failed + fails))
    if [ "$path" = hostPort+nftlb ]; then
      set_ipmode VIP
      kubectl -n akrobateo-system scale deployment/akrobateo-operator --replicas=2 >/dev/null
      # The operator's start is not charged to the next path.
      kubectl -n akrobateo-system rollout status deployment/akrobateo-operator --timeout=180s >/dev/null
    fi
  done
done
printf '%-16s %11s %-22s %10s %s\n' path "TCP Gbit/s" "(each round)" "new conn/s" "(each round)"
for path in "${paths[@]}"; do
  printf '%-16s %11s %-22s %10s %s\n' "$path" "$(med bw "$path")" "($(per_round bw "$path"))" \
    "$(med cr "$path")" "($(per_round cr "$path"))"
done
echo
echo "## ratios of the medians"
printf '%-34s %-12s %s\n' "" "TCP Gbit/s" "new conn/s"
for pair in "EXTERNAL-IP direct" "EXTERNAL-IP nodePort" "hostPort+nftlb direct" "hostPort+nftlb EXTERNAL-IP" \
  "MetalLB-VIP direct" "MetalLB-VIP nodePort" "EXTERNAL-IP MetalLB-VIP" "hostPort+nftlb MetalLB-VIP"; do
  read -r a b <<<"$pair"
  printf '%-34s %-12s %s\n' "$a / $b" "$(ratio "$(med bw "$a")" "$(med bw "$b")")x" "$(ratio "$(med cr "$a")" "$(med cr "$b")")x"
done
echo "failed connections: $failed"

# --- 3. and 4.: many Services, memory; a balancer killed (test/bench/kind-metallb.sh) ----------
kubectl -n akrobateo-system rollout status deployment/akrobateo-operator --timeout=180s >/dev/null
part_batch_memory
part_killed
cleanup_objects

# The raw results, for comparing runs: build/bench/kind-<UTC time>.json.
mkdir -p build/bench
json="build/bench/kind-$(date -u +%Y%m%dT%H%M%SZ).json"
{
  for path in "${paths[@]}"; do
    jq -n --arg path "$path" --arg bw "$(per_round bw "$path")" --arg cr "$(per_round cr "$path")" \
      '{path: $path, tcp_gbps: ($bw | split(" ") | map(tonumber)), conn_per_s: ($cr | split(" ") | map(tonumber))}'
  done
} | jq -s --arg rev "$(git rev-parse --short=7 HEAD 2>/dev/null || echo unknown)" \
  --arg ext "${ext_times[*]}" --arg np "${np_times[*]}" --argjson secs "$secs" \
  --arg mlb "${mlb_times[*]}" --arg mlb_np "${mlb_np_times[*]}" --argjson more "$(metallb_json)" '{
    benchmark: "kind", revision: $rev, date: (now | todate), seconds_per_run: $secs,
    time_to_answer_s: {external_ip: ($ext | split(" ")), node_port: ($np | split(" ")),
                       metallb_vip: ($mlb | split(" ")), metallb_node_port: ($mlb_np | split(" "))},
    data_path: .} + $more' >"$json"
echo "raw results: $json"

# --- 5. where a new Service's seconds go: test/bench/timeline.sh (its own raw results file) -----
KIND_CLUSTER="$CLUSTER" bash test/bench/timeline.sh
