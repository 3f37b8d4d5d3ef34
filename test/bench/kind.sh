#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make bench-kind`: akrobateo on the real kind cluster (test/kind/kind.sh; created and deleted
# here unless one is running, KIND_KEEP=1 keeps it), each measure side by side with its peer in
# the same run:
#  1. time from a Service's creation to the first answered request through every EXTERNAL-IP
#     (polling from the host), against the same wait for its nodePort on every node: kube-proxy's
#     programming of a new Service, which any address has to wait for too;
#  2. from a client pod on one worker to a server pod on the other, TCP throughput (iperf3) and
#     new connections/s (test/bench/connect.py against accept.py) over four paths, in ROUNDS
#     rounds with the paths interleaved (order rotated each round):
#       pod direct       the server pod's own address (the CNI's route, no NAT)
#       nodePort         the server's node address and the Service's nodePort (kube-proxy)
#       EXTERNAL-IP      the server's node address and the Service port, with the ipMode the
#                        operator leaves (VIP): kube-proxy's LoadBalancer-IP rules carry it
#       hostPort+nftlb   the same address with ipMode Proxy (the operator stopped meanwhile):
#                        portmap's DNAT to the balancer pod, nftlb's DNAT + masquerade to the
#                        ClusterIP, kube-proxy to the server
#     docs/design.md says which path a real cluster takes and why.
# Env: ROUNDS (3), SECONDS_PER_RUN (3), SERVICES (5, part 1's Services).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
# shellcheck source=test/lib/bench.sh
source test/lib/bench.sh
rounds=${ROUNDS:-3}
secs=${SECONDS_PER_RUN:-3}
services=${SERVICES:-5}
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
EOF
cleanup_objects() { kubectl delete deployment/bench-server pod/bench-client svc/bench --ignore-not-found --wait=false >/dev/null 2>&1 || true; }
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

# --- 1. time to the first answer ---------------------------------------------------------------
answers() { timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2 && head -c1 <&3" 2>/dev/null | grep -q x; }
node_ips=$(kubectl get nodes -o jsonpath='{range .items[*]}{.status.addresses[?(@.type=="InternalIP")].address}{"\n"}{end}' | tr ' ' '\n' | grep -v : | sort)
n_nodes=$(wc -l <<<"$node_ips")
echo "## 1. Service created -> the first answered request through every address ($services Services, $n_nodes nodes)"
ext_times=() np_times=()
for ((i = 0; i < services; i++)); do
  name="bench-ttfa-$i" port=$((7300 + i))
  t0=$(date +%s.%N)
  jq -n --arg n "$name" --argjson p "$port" '{apiVersion: "v1", kind: "Service", metadata: {name: $n, namespace: "default"},
      spec: {type: "LoadBalancer", selector: {app: "bench-server"},
             ports: [{name: "accept", port: $p, targetPort: 7000, protocol: "TCP"}]}}' | kubectl apply -f - >/dev/null
  np=$(kubectl get svc "$name" -o jsonpath='{.spec.ports[0].nodePort}')
  ext_done="" np_done="" deadline=$((SECONDS + 120))
  declare -A np_ok=() ext_ok=()
  while { [ -z "$ext_done" ] || [ -z "$np_done" ]; } && [ "$SECONDS" -lt "$deadline" ]; do
    now=$(date +%s.%N)
    if [ -z "$np_done" ]; then
      for ip in $node_ips; do [ -n "${np_ok[$ip]:-}" ] || ! answers "$ip" "$np" || np_ok[$ip]=1; done
      [ "${#np_ok[@]}" -lt "$n_nodes" ] || np_done=$(awk -v a="$now" -v b="$t0" 'BEGIN {printf "%.2f", a - b}')
    fi
    if [ -z "$ext_done" ]; then
      ingress=$(kubectl get svc "$name" -o jsonpath='{.status.loadBalancer.ingress[*].ip}' | tr ' ' '\n' | grep -v : || true)
      if [ "$(wc -w <<<"$ingress")" -eq "$n_nodes" ]; then
        for ip in $ingress; do [ -n "${ext_ok[$ip]:-}" ] || ! answers "$ip" "$port" || ext_ok[$ip]=1; done
        [ "${#ext_ok[@]}" -lt "$n_nodes" ] || ext_done=$(awk -v a="$now" -v b="$t0" 'BEGIN {printf "%.2f", a - b}')
      fi
    fi
    sleep 0.1
  done
  unset np_ok ext_ok
  ext_times+=("${ext_done:-timeout}") np_times+=("${np_done:-timeout}")
  kubectl delete svc "$name" --wait=false >/dev/null
done
ext_med=$(printf '%s\n' "${ext_times[@]}" | grep -v timeout | median)
np_med=$(printf '%s\n' "${np_times[@]}" | grep -v timeout | median)
printf '%-40s %8s s   (each: %s)\n' "every EXTERNAL-IP answers" "$ext_med" "${ext_times[*]}"
printf '%-40s %8s s   (each: %s)\n' "peer: every node's nodePort answers" "$np_med" "${np_times[*]}"
printf '%-40s %8sx\n' "EXTERNAL-IP / nodePort" "$(ratio "$ext_med" "$np_med")"

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
    *) echo "$server_ip 5201 7000" ;;
  esac
}
paths=(direct nodePort EXTERNAL-IP hostPort+nftlb)
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
for pair in "EXTERNAL-IP direct" "EXTERNAL-IP nodePort" "hostPort+nftlb direct" "hostPort+nftlb EXTERNAL-IP"; do
  read -r a b <<<"$pair"
  printf '%-34s %-12s %s\n' "$a / $b" "$(ratio "$(med bw "$a")" "$(med bw "$b")")x" "$(ratio "$(med cr "$a")" "$(med cr "$b")")x"
done
echo "failed connections: $failed"
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
  --arg ext "${ext_times[*]}" --arg np "${np_times[*]}" --argjson secs "$secs" '{
    benchmark: "kind", revision: $rev, date: (now | todate), seconds_per_run: $secs,
    time_to_answer_s: {external_ip: ($ext | split(" ")), node_port: ($np | split(" "))},
    data_path: .}' >"$json"
echo "raw results: $json"

# --- 3. where a new Service's seconds go: test/bench/timeline.sh (its own raw results file) -----
KIND_CLUSTER="$CLUSTER" bash test/bench/timeline.sh
