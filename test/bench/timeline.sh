#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Where a new LoadBalancer Service's seconds go, on the kind cluster (part 5 of `make bench-kind`,
# test/bench/kind.sh, which calls it; alone: `KIND_CLUSTER=NAME bash test/bench/timeline.sh` on a
# cluster that test/kind/kind.sh made and deployed akrobateo to). ROUNDS rounds, each: one
# LoadBalancer Service in front of agnhost (the image every kind node carries), created while the
# host watches everything that follows, then deleted, its balancers gone before the next round.
# Each step's time is taken on the host's clock, in ms from the moment the create request was
# sent (test/bench/timeline.py: watches stamped on arrival, containerd's own nanosecond times,
# the CRI log, the operator's log, kube-proxy's rules in each node, TCP from the host); the API's
# own timestamps (1 s) are not used. Prints, per step, the median over the rounds for the first
# and for the last node (and the step's cost: its last-node median minus the previous step's),
# the path the first answer took on each address, and the settings of the pod spec, the kubelet,
# kube-proxy and the operator that set the steps' costs. Raw results:
# build/bench/timeline-<UTC time>.json (docs/benchmarks.md), with every round's per-node times
# under `timeline`.
# Env: TIMELINE_ROUNDS (5), KIND_CLUSTER (akrobateo).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
# shellcheck source=test/lib/bench.sh
source test/lib/bench.sh
# shellcheck source=test/lib/poll.sh
source test/lib/poll.sh
# shellcheck source=test/lib/log.sh
source test/lib/log.sh
log_name=timeline.sh
rounds=${TIMELINE_ROUNDS:-5}
CLUSTER="${KIND_CLUSTER:-akrobateo}"
export KUBECONFIG="$root/build/kind/kubeconfig"
command -v kubectl >/dev/null || PATH="$(bash test/cluster/build.sh node):$PATH"
kubectl get nodes >/dev/null 2>&1 || die "no kind cluster answers at $KUBECONFIG (test/kind/kind.sh up + deploy)"
kubectl -n akrobateo-system get deployment akrobateo-operator >/dev/null 2>&1 ||
  die "akrobateo is not deployed on $CLUSTER (test/kind/kind.sh deploy)"
py=python3
[ ! -x /usr/bin/python3 ] || py=/usr/bin/python3
work=$(mktemp -d /tmp/akb-timeline.XXXXXX)
cleanup() {
  kubectl delete deployment/timeline-backend --ignore-not-found --wait=false >/dev/null 2>&1 || true
  for ((i = 0; i < rounds; i++)); do
    kubectl delete svc "timeline-$i" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
bench_begin timeline rounds="$rounds" cluster="$CLUSTER"

# The backend: agnhost netexec, the image the kind e2e uses (every node carries it), whose
# /clientip tells which path a request took.
agnhost=$(awk '$1 == "image:" {print $2; exit}' test/kind/echoserver.yaml)
[ -n "$agnhost" ] || die "no agnhost image named in test/kind/echoserver.yaml"
kubectl apply -f - >/dev/null <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: timeline-backend, namespace: default}
spec:
  replicas: 1
  selector: {matchLabels: {app: timeline-backend}}
  template:
    metadata: {labels: {app: timeline-backend}}
    spec:
      containers:
        - {name: agnhost, image: "$agnhost", imagePullPolicy: IfNotPresent,
           args: [netexec, --http-port=8080], ports: [{containerPort: 8080}],
           readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 1}}
EOF
kubectl rollout status deployment/timeline-backend --timeout=180s >/dev/null

# The nodes: name=IPv4:PID of the node container's first process (nsenter reads kube-proxy's
# rules in its namespaces: cheaper than a docker exec every 50 ms).
nodes=""
for n in $(kubectl get nodes -o jsonpath='{.items[*].metadata.name}'); do
  ip=$(kubectl get node "$n" -o jsonpath='{.status.addresses[?(@.type=="InternalIP")].address}' | tr ' ' '\n' | grep -v : | head -1)
  nodes+="${nodes:+,}$n=$ip:$(docker inspect -f '{{.State.Pid}}' "$n")"
done
proxy_conf=$(kubectl -n kube-system get configmap kube-proxy -o jsonpath='{.data.config\.conf}')
proxy_mode=$(awk '$1 == "mode:" {gsub(/"/, "", $2); print $2}' <<<"$proxy_conf")
proxy_mode=${proxy_mode:-iptables}

# A probe worker started within one period of its kubelet's start first sleeps a random part of
# that period: how long each kubelet has run says whether the first round can meet that.
for n in $(kubectl get nodes -o jsonpath='{.items[*].metadata.name}'); do
  since=$(docker exec "$n" systemctl show kubelet -p ActiveEnterTimestamp --value)
  echo "kubelet on $n: running for $(($(date +%s) - $(date -d "$since" +%s))) s"
done
service_gone() { # NAME : no DaemonSet and no pod of the Service left
  [ -z "$(kubectl -n akrobateo-system get ds,pods -l "akrobateo.dev/service-name=$1" -o name)" ]
}
echo "## where a new Service's seconds go: $rounds rounds, one LoadBalancer Service each, $(wc -w <<<"${nodes//,/ }") nodes, kube-proxy $proxy_mode"
for ((i = 0; i < rounds; i++)); do
  name="timeline-$i"
  "$py" test/bench/timeline.py round --name "$name" --port $((7400 + i)) --target-port 8080 \
    --selector app=timeline-backend --nodes "$nodes" --proxy-mode "$proxy_mode" --out "$work/round-$i.json"
  kubectl delete svc "$name" --wait=false >/dev/null
  until_ok 120 service_gone "$name" || die "the balancers of $name were not gone after 120 s"
done

"$py" test/bench/timeline.py summary "$work"/round-*.json 3>"$work/measures.tsv"

# What sets each step's cost.
spec=$(jq '.daemonset.spec.template.spec' "$work/round-0.json")
echo
echo "## what sets the steps' costs"
jq -r 'def probe: if . == null then "none" else "\(if .exec then "exec \(.exec.command[0]) ... \(.exec.command[-1])" elif .tcpSocket then "tcpSocket port \(.tcpSocket.port)" else keys_unsorted[0] end) \({initialDelaySeconds, periodSeconds, timeoutSeconds, failureThreshold, successThreshold} | tostring)" end;
  .containers[0] as $c |
  "balancer pod: image \($c.image), imagePullPolicy \($c.imagePullPolicy)",
  "  startupProbe:   \($c.startupProbe | probe)",
  "  readinessProbe: \($c.readinessProbe | probe)",
  "  hostPorts \([$c.ports[].hostPort] | tostring), priorityClassName \(.priorityClassName // "none"), terminationGracePeriodSeconds \(.terminationGracePeriodSeconds // 30)",
  "  resources \($c.resources | tostring)"' <<<"$spec"
img=$(jq -r '.containers[0].image' <<<"$spec")
present=$(docker exec "$CLUSTER-control-plane" ctr -n k8s.io images ls -q 2>/dev/null | grep -c -Fx -e "$img" -e "docker.io/$img" || true)
echo "  image on the nodes before the pod starts: $([ "$present" -gt 0 ] && echo "yes (kind load): no pull" || echo no)"
jq -r '"DaemonSet: updateStrategy \(.daemonset.spec.updateStrategy | tostring)"' "$work/round-0.json"
docker exec "$CLUSTER-control-plane" cat /var/lib/kubelet/config.yaml >"$work/kubelet.yaml"
echo "$proxy_conf" >"$work/kube-proxy.yaml"
PROXY_MODE=$proxy_mode "$py" - "$work/kubelet.yaml" "$work/kube-proxy.yaml" <<'PY'
import os, sys, yaml
k = yaml.safe_load(open(sys.argv[1])) or {}
gates = k.get("featureGates") or {}
print("kubelet: featureGates %s: %s" % (gates or "none set",
      "EventedPLEG on" if gates.get("EventedPLEG") else
      "the generic PLEG relists every 1 s, so a container that started reaches the pod status up to 1 s later"))
print("  probes run on a ticker of periodSeconds from the pod's start; the first that finds the container running is the first probe")
p = yaml.safe_load(open(sys.argv[2])) or {}
mode = os.environ["PROXY_MODE"]
sect = p.get(mode) or {}
print("kube-proxy: mode %s, %s.minSyncPeriod %s, syncPeriod %s (unset = 1s and 30s): a change is written "
      "to the rules at most once per minSyncPeriod" % (mode, mode, sect.get("minSyncPeriod") or "unset",
                                                     sect.get("syncPeriod") or "unset"))
PY
echo "operator: $(kubectl -n akrobateo-system get deployment akrobateo-operator -o jsonpath='{.spec.template.spec.containers[0].args}'); a pod change is reconciled 250 ms after it arrives (kCoalesce, operator/controller.h), except the first pod to turn Ready while the Service has no address: at once"

while IFS=$'\t' read -r mname value unit notes samples; do
  measure "$mname" "$value" "$unit" "" "" "" "$notes" "$samples"
done <"$work/measures.tsv"
written=$(bench_write)
echo "$written"
file=${written#raw results: }
[[ $file == /* ]] || file=$root/$file
# Every round's times per node, and the pod spec, beside the measures.
jq -s '[.[] | del(.daemonset)]' "$work"/round-*.json >"$work/rounds.json"
jq --slurpfile r "$work/rounds.json" --argjson spec "$spec" '. + {timeline: $r[0], pod_spec: $spec}' "$file" >"$file.tmp"
mv "$file.tmp" "$file"
