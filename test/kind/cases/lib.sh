# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# The kind end to end's helpers (sourced by kind.sh before the cases): what a user would run to
# look at a Service, its addresses and the balancer pods, as functions that succeed or fail.
# The shared kubectl helpers (kc, ingress_of, ingress_set_is, refuse_writes, ...).
# shellcheck source=test/lib/kube.sh
source test/lib/kube.sh
# shellcheck source=test/lib/echo.sh
source test/lib/echo.sh
agnhost_image() { kubectl get deployment echoserver -o jsonpath='{.spec.template.spec.containers[0].image}'; }
from_pod() { # from_pod IP PORT: a client pod connects to the address over TCP
  local name="lbprobe-$RANDOM" phase=""
  kubectl run "$name" --restart=Never --image="$(agnhost_image)" --image-pull-policy=IfNotPresent \
    --command -- /agnhost connect --timeout=5s "$(url_host "$1"):$2" >/dev/null
  for _ in $(seq 60); do
    phase="$(kubectl get pod "$name" -o jsonpath='{.status.phase}')"
    case "$phase" in Succeeded | Failed) break ;; esac
    sleep 1
  done
  kubectl delete pod "$name" --wait=false >/dev/null
  [ "$phase" = Succeeded ]
}
balancer_pods() { kubectl -n akrobateo-system get pods -l "akrobateo.dev/service-name=$1" -o name; }
no_daemonsets() { [ -z "$(kubectl -n akrobateo-system get ds -l app.kubernetes.io/managed-by=akrobateo -o name)" ]; }
namespace_gone() { ! kubectl get namespace akrobateo-system >/dev/null 2>&1; }
# warning_names SVC REASON TEXT: a Warning event REASON on the Service whose message has TEXT.
warning_names() {
  kubectl get events --field-selector "involvedObject.name=$1,reason=$2,type=Warning" \
    -o jsonpath='{range .items[*]}{.message}{"\n"}{end}' | grep -qF "$3"
}
# lb_service NAME PORT [SPEC-JSON]: a LoadBalancer Service for the echoserver's pods.
lb_service() {
  jq -n --arg name "$1" --argjson port "$2" --argjson spec "${3:-{\}}" '{
      apiVersion: "v1", kind: "Service", metadata: {name: $name, namespace: "default"},
      spec: ({type: "LoadBalancer", selector: {app: "echoserver"},
              ports: [{name: "http", port: $port, targetPort: "http", protocol: "TCP"}]} + $spec)}' |
    kubectl apply -f - >/dev/null
}
# client_container NAME: a container on the kind network (from the node image, which has curl);
# prints its IPv4 address.
client_container() {
  docker run -d --name "$1" --label "$CLIENT_LABEL" --network kind \
    --entrypoint sleep "$(node_image_name)" 600 >/dev/null
  docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$1"
}
node_image_name() { docker inspect -f '{{.Config.Image}}' "$CLUSTER-control-plane"; }
from_client() { docker exec "$1" curl -fsS --max-time 3 "http://$2:$3/hostname" | grep -q '^echoserver-'; }

# watch_publication SVC PORT COUNT: follows the Service's EXTERNAL-IPs as they appear (every
# 0.2 s) until COUNT are listed, and sends each new address one request the moment it is seen,
# with no retry; fails if any of those first requests goes unanswered. Balancer pods turn Ready
# only once their rules are installed, so an address is never listed before it forwards.
watch_publication() {
  local seen=" " ip unanswered="" deadline=$((SECONDS + TIMEOUT))
  while [ "$(wc -w <<<"$seen")" -lt "$3" ] && [ "$SECONDS" -lt "$deadline" ]; do
    for ip in $(ingress_of default "$1"); do
      [[ "$seen" != *" $ip "* ]] || continue
      seen="$seen$ip "
      http_hostname "$ip" "$2" || unanswered="$unanswered $ip"
    done
    sleep 0.2
  done
  echo "listed:$seen unanswered at once:${unanswered:- none}"
  [ "$(wc -w <<<"$seen")" -ge "$3" ] && [ -z "$unanswered" ]
}

cluster_ip_answers() {
  docker exec "$CLUSTER-control-plane" curl -fsS --max-time 3 \
    "http://$(kubectl get svc echoserver -o jsonpath='{.spec.clusterIP}'):8080/hostname"
}
metrics_served() {
  kubectl get --raw /api/v1/namespaces/akrobateo-system/services/akrobateo-operator-metrics:metrics/proxy/metrics |
    grep -q '^akrobateo_reconcile_total'
}

diagnostics() { # before the cluster goes: what a user would look at
  kubectl get nodes,svc,ds,pods -A -o wide || true
  kubectl get events -A --sort-by=.lastTimestamp | tail -40 || true
  kubectl -n akrobateo-system logs -l app.kubernetes.io/name=akrobateo --all-containers --tail=100 || true
  kubectl -n akrobateo-system logs -l app.kubernetes.io/managed-by=akrobateo --all-containers --tail=20 || true
}
