# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Shared by e2e.sh and its cases, the demo and the operator benchmark (sourced, not run): the
# cluster's kubectl, the deploy/ RBAC, the operator run as its ServiceAccount with a token from
# `kubectl create token` in a kubeconfig that verifies the cluster CA, queries of a Service and
# its DaemonSet, and the readers of the API server's audit log.
lib_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$lib_here/../.." && pwd)
# shellcheck source=profile.sh
. "$lib_here/profile.sh"
AKROBATEO_BIN=${AKROBATEO_BIN:-$root/build/bin}
OPNS=akrobateo-system
kbin=$(bash "$lib_here/build.sh")
export PATH="$kbin:$PATH"
# shellcheck source=test/lib/poll.sh
. "$root/test/lib/poll.sh"
# shellcheck source=test/lib/kube.sh
. "$root/test/lib/kube.sh"
kube_kubectl="$kbin/kubectl"
kube_config="$dir/admin.kubeconfig"

# deploy/ as kubectl renders it, minus the operator Deployment: the tests run the binary
# themselves (kwok would only pretend to run its pod).
deploy_json() { kc kustomize "$root/deploy" | kc create --dry-run=client -o json -f - ; }
apply_rbac() {
  deploy_json | jq -s '{apiVersion: "v1", kind: "List", items: [.[] | select(.kind != "Deployment")]}' |
    kc apply -f - >/dev/null
}
operator_sa() { deploy_json | jq -rs '.[] | select(.kind == "ServiceAccount") | .metadata.name' | head -1; }

# op_kubeconfig NAME : a fresh token for the deploy/ ServiceAccount in $dir/op-NAME.kubeconfig;
# prints the token's JTI (audit events name it in user.extra credential-id).
op_kubeconfig() {
  local name=$1 sa token f
  sa=$(operator_sa)
  token=$(kc -n "$OPNS" create token "$sa" --duration=6h)
  f=$dir/op-$name.kubeconfig
  rm -f "$f"
  "$kbin/kubectl" config --kubeconfig="$f" set-cluster akrobateo --server="https://127.0.0.1:$api_port" \
    --certificate-authority="$dir/pki/ca.crt" --embed-certs=true >/dev/null
  "$kbin/kubectl" config --kubeconfig="$f" set-credentials operator --token="$token" >/dev/null
  "$kbin/kubectl" config --kubeconfig="$f" set-context akrobateo --cluster=akrobateo --user=operator >/dev/null
  "$kbin/kubectl" config --kubeconfig="$f" use-context akrobateo >/dev/null
  local p=${token#*.}; p=${p%%.*}
  while [ $(( ${#p} % 4 )) -ne 0 ]; do p="$p="; done
  echo "$p" | tr '_-' '/+' | base64 -d 2>/dev/null | jq -r .jti
}

# op_start NAME METRICS_PORT HEALTH_PORT [operator args...] : runs the operator in the background.
op_start() {
  local name=$1 mp=$2 hp=$3 port; shift 3
  mkdir -p "$dir/pids"
  for port in "$mp" "$hp"; do
    if ss -Htan "sport = :$port" | grep -q .; then
      echo "op_start: 127.0.0.1:$port is already in use (a listener or a connection)" >&2
      return 1
    fi
  done
  setsid "$AKROBATEO_BIN/akrobateo-operator" --kubeconfig="$dir/op-$name.kubeconfig" \
    --namespace="$OPNS" --nftlb-image=akrobateo/nftlb:dev --balancer-priority-class=akrobateo-balancer \
    --metrics-bind-address="127.0.0.1:$mp" --health-probe-bind-address="127.0.0.1:$hp" "$@" \
    >>"$dir/operator-$name.log" 2>&1 </dev/null &
  echo $! > "$dir/pids/operator-$name.pid"
  disown
}
op_pid() { cat "$dir/pids/operator-$1.pid" 2>/dev/null; }
op_alive() { local p; p=$(op_pid "$1") && kill -0 "$p" 2>/dev/null; }
# op_stop NAME [SIGNAL] : TERM (default) or KILL, and wait for it to be gone.
op_stop() {
  local name=$1 sig=${2:-TERM} p
  p=$(op_pid "$name") || return 0
  kill "-$sig" "$p" 2>/dev/null || true
  for _ in $(seq 200); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null || true
  rm -f "$dir/pids/operator-$name.pid"
}
op_ready() { curl -fsS "http://127.0.0.1:$1/readyz" >/dev/null 2>&1; }
op_metric() { # PORT REGEX : sum of the matching samples on /metrics
  curl -fsS "http://127.0.0.1:$1/metrics" | awk -v re="$2" '$0 !~ /^#/ && $1 ~ re {s += $NF} END {printf "%d\n", s}'
}

# The balancer DaemonSet(s) of a Service, by the labels on each (README.md, "Use").
ds_names() { # NS NAME
  kc -n "$OPNS" get ds -l "akrobateo.dev/service-namespace=$1,akrobateo.dev/service-name=$2" \
    -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}'
}
ds_count() { ds_names "$1" "$2" | grep -c . || true; }
ds_one() { [ "$(ds_count "$1" "$2")" = 1 ]; }
ds_gone() { [ "$(ds_count "$1" "$2")" = 0 ]; }
ds_json() { kc -n "$OPNS" get ds "$(ds_names "$1" "$2" | head -1)" -o json; }
# The DaemonSet's args as one line, `--flag=value` and `--flag value` written alike.
ds_args() { ds_json "$1" "$2" | jq -r '.spec.template.spec.containers[0].args | join(" ")' | sed 's/--\([a-z-]*\)=/--\1 /g'; }
ds_has_arg() { ds_args "$1" "$2" | grep -F -- "$3" >/dev/null; } # NS NAME "--flag value"
ds_ready_nodes() { # NS NAME : the nodes of the DaemonSet's Ready pods, sorted, space separated
  kc -n "$OPNS" get pods -l "akrobateo.dev/service-namespace=$1,akrobateo.dev/service-name=$2" -o json |
    jq -r '[.items[] | select(.metadata.deletionTimestamp == null) | select(any(.status.conditions[]?; .type == "Ready" and .status == "True")) | .spec.nodeName] | sort | join(" ")'
}
nodes_are() { [ "$(ds_ready_nodes "$1" "$2")" == "$3" ]; } # NS NAME "node node..."
svc_uid() { kc -n "$1" get svc "$2" -o jsonpath='{.metadata.uid}'; }
event_reasons() { # NS NAME : reasons of the events about a Service
  kc -n "$1" get events -o json |
    jq -r --arg n "$2" '.items[] | select(.involvedObject.name == $n and .involvedObject.kind == "Service") | .reason' | sort -u
}
has_event() { event_reasons "$1" "$2" | grep -x "$3" >/dev/null; } # NS NAME REASON
lb_svc() { # NAME PORT [extra spec JSON] [labels JSON] : a LoadBalancer Service without selector in default
  kc apply -f - >/dev/null <<EOF
{"apiVersion": "v1", "kind": "Service",
 "metadata": {"name": "$1", "namespace": "default", "labels": ${4:-{\}}},
 "spec": $(jq -n --argjson x "${3:-{\}}" --argjson p "$2" '{type: "LoadBalancer", ports: [{name: "p", port: $p, protocol: "TCP"}]} + $x')}
EOF
}
lease_holder() { # the holder of the Lease in $OPNS that has one, or nothing
  kc -n "$OPNS" get lease -o json | jq -r '[.items[] | select(.spec.holderIdentity // "" != "")][0].spec.holderIdentity // ""'
}

# --- the API server's audit log ------------------------------------------------------------------
# cluster.sh audits the requests of the ServiceAccounts in akrobateo-system only (Metadata level,
# every stage but RequestReceived), into $dir/audit.log. These read it; the filters take events
# on stdin, one JSON object a line.
audit_events() { # every audited request of a ServiceAccount in $OPNS
  jq -c --arg g "system:serviceaccounts:$OPNS" 'select(.user.groups // [] | index($g))' "$dir/audit.log"
}
audit_completed() { audit_events | jq -c 'select(.stage == "ResponseComplete")'; }
audit_by_jti() { # JTI : the events of requests made with the token of that JTI (op_kubeconfig)
  jq -c --arg j "JTI=$1" 'select((.user.extra["authentication.kubernetes.io/credential-id"] // [])[0] == $j)'
}
audit_writes() { # creates, updates, patches and deletes of anything but Leases
  jq -c 'select((.verb | IN("create", "update", "patch", "delete")) and .objectRef.resource != "leases")'
}
audit_status() { # CODE : the events whose response had that HTTP status
  jq -c --argjson c "$1" 'select(.responseStatus.code == $c)'
}
audit_since() { # FROM : events received at or after FROM (RFC 3339 with microseconds, UTC)
  jq -c --arg a "$1" 'select(.requestReceivedTimestamp >= $a)'
}
audit_between() { # FROM TO : events received in [FROM, TO]
  jq -c --arg a "$1" --arg b "$2" 'select(.requestReceivedTimestamp >= $a and .requestReceivedTimestamp <= $b)'
}
audit_outside() { # FROM TO : the others
  jq -c --arg a "$1" --arg b "$2" 'select(.requestReceivedTimestamp < $a or .requestReceivedTimestamp > $b)'
}
audit_count() { grep -c . || true; }
audit_requests() { # "VERB RESOURCE[/SUBRESOURCE] CODE" per event
  jq -r '"\(.verb) \(.objectRef.resource // "-")\(if .objectRef.subresource then "/" + .objectRef.subresource else "" end) \(.responseStatus.code)"'
}
audit_grants_used() { # "RESOURCE[/SUBRESOURCE][.GROUP] VERB" per event, as `kubectl auth can-i --list` names them
  jq -r '"\(.objectRef.resource)\(if .objectRef.subresource then "/" + .objectRef.subresource else "" end)\(if (.objectRef.apiGroup // "") != "" then "." + .objectRef.apiGroup else "" end) \(.verb)"'
}
audit_now() { date -u +%Y-%m-%dT%H:%M:%S.%6NZ; } # a timestamp comparable with the events'
