#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A real Kubernetes control plane on 127.0.0.1 for the operator's tests: etcd, kube-apiserver
# (RBAC, service-account tokens, dual-stack Service ranges, an audit log of the operator's
# ServiceAccount), kube-controller-manager, kube-scheduler, and kwok standing in for the kubelets
# of three Nodes. Binaries come from test/cluster/build.sh (cached by version).
#
#   cluster.sh up                 start everything (idempotent: a running cluster is kept)
#   cluster.sh down               stop everything, remove build/cluster/
#   cluster.sh restart-apiserver  kill kube-apiserver and start it again (fault tests)
#   cluster.sh status             list the components and whether they run
#
# State, certificates, logs (one per component) and pid files live in build/cluster/. The admin
# kubeconfig is build/cluster/admin.kubeconfig. Ports (etcd 26379, kube-apiserver 26443, ...) and
# the directory depend on AKROBATEO_CLUSTER_PROFILE (see profile.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=profile.sh
. "$here/profile.sh"
# shellcheck source=test/lib/log.sh
. "$root/test/lib/log.sh"
# shellcheck source=test/lib/poll.sh
. "$root/test/lib/poll.sh"
log_name=cluster
components=(kwok kube-scheduler kube-controller-manager kube-apiserver etcd)

bindir() { bash "$here/build.sh"; }

running() { # name -> 0 when its pid file names a live process
  local f="$dir/pids/$1.pid"
  [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null
}

start() { # name args... : runs bin/name in its own process group, log in $dir/name.log
  local name=$1; shift
  setsid "$bin/$name" "$@" >>"$dir/$name.log" 2>&1 < /dev/null &
  echo $! > "$dir/pids/$name.pid"
}

stop() { # name : SIGTERM its process group, then SIGKILL after 10 s
  local f="$dir/pids/$1.pid" pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

dead_component() { # the first started component that is not running any more, or nothing
  local c
  for c in "${components[@]}"; do
    if [ -f "$dir/pids/$c.pid" ] && ! running "$c"; then echo "$c"; return; fi
  done
}
components_and() { # command... : 255 (until_ok gives up) once a component died, else the command
  [ -z "$(dead_component)" ] || return 255
  "$@"
}
wait_for() { # what timeout-seconds command... : until_ok; a component that died ends it at once
  local what=$1 t=$2 c; shift 2
  until_ok "$t" components_and "$@" && return 0
  c=$(dead_component)
  if [ -n "$c" ]; then
    tail -5 "$dir/$c.log" >&2 || true
    die "$c exited (log $dir/$c.log); run 'make cluster-down' to clean up"
  fi
  die "$what not ready after ${t}s (logs in $dir)"
}

certs() {
  local p=$dir/pki
  [ -f "$p/ca.crt" ] && return 0
  mkdir -p "$p"
  (
    cd "$p"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 30 -subj /CN=akrobateo-test-ca 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj /CN=kube-apiserver 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.96.0.1,DNS:kubernetes,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n' > apiserver.ext
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -extfile apiserver.ext -out apiserver.crt 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout admin.key -out admin.csr -subj "/O=system:masters/CN=akrobateo-admin" 2>/dev/null
    printf 'extendedKeyUsage=clientAuth\n' > client.ext
    openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -extfile client.ext -out admin.crt 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    rm -f ./*.csr
  )
  local k=$dir/admin.kubeconfig
  "$bin/kubectl" config --kubeconfig="$k" set-cluster akrobateo --server="https://127.0.0.1:$api_port" \
    --certificate-authority="$p/ca.crt" --embed-certs=true >/dev/null
  "$bin/kubectl" config --kubeconfig="$k" set-credentials admin --client-certificate="$p/admin.crt" \
    --client-key="$p/admin.key" --embed-certs=true >/dev/null
  "$bin/kubectl" config --kubeconfig="$k" set-context akrobateo --cluster=akrobateo --user=admin >/dev/null
  "$bin/kubectl" config --kubeconfig="$k" use-context akrobateo >/dev/null
  # Only the operator's ServiceAccounts are audited: the tests read it for 403s and for who wrote.
  cat > "$dir/audit-policy.yaml" <<'EOF'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  userGroups: ["system:serviceaccounts:akrobateo-system"]
- level: None
EOF
}

start_apiserver() {
  local p=$dir/pki
  start kube-apiserver --etcd-servers="http://127.0.0.1:$etcd_port" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$api_port" \
    --cert-dir="$p" --tls-cert-file="$p/apiserver.crt" --tls-private-key-file="$p/apiserver.key" \
    --client-ca-file="$p/ca.crt" --authorization-mode=Node,RBAC \
    --service-account-issuer="https://127.0.0.1:$api_port" --service-account-key-file="$p/sa.pub" \
    --service-account-signing-key-file="$p/sa.key" \
    --service-cluster-ip-range=10.96.0.0/16,fd00:96::/112 --allow-privileged=true \
    --audit-policy-file="$dir/audit-policy.yaml" --audit-log-path="$dir/audit.log" \
    --audit-log-maxsize=0 --profiling=false
  wait_for kube-apiserver 90 "$bin/kubectl" --kubeconfig="$dir/admin.kubeconfig" get --raw=/readyz
}

up() {
  bin=$(bindir)
  mkdir -p "$dir/pids"
  if running kube-apiserver && running etcd; then
    log "already running (admin kubeconfig $dir/admin.kubeconfig)"
    return 0
  fi
  local t0 port; t0=$(date +%s)
  # Another control plane on these ports would answer in ours' place: refuse clearly.
  for port in "$etcd_port" "$etcd_peer_port" "$((etcd_port + 2))" "$api_port" "$kcm_port" "$sched_port" "$kwok_port"; do
    if ss -Hltn "sport = :$port" | grep -q .; then
      die "127.0.0.1:$port is already in use ($(ss -Hltnp "sport = :$port" | grep -o 'users:.*' | head -1)); stop it or move ours with AKROBATEO_*_PORT"
    fi
  done
  certs
  local k=$dir/admin.kubeconfig p=$dir/pki
  export KUBECONFIG=$k

  running etcd || start etcd --name=default --data-dir="$dir/etcd" \
    --listen-client-urls="http://127.0.0.1:$etcd_port" --advertise-client-urls="http://127.0.0.1:$etcd_port" \
    --listen-peer-urls="http://127.0.0.1:$etcd_peer_port" --initial-advertise-peer-urls="http://127.0.0.1:$etcd_peer_port" \
    --initial-cluster="default=http://127.0.0.1:$etcd_peer_port" --unsafe-no-fsync=true \
    --listen-metrics-urls="http://127.0.0.1:$((etcd_port + 2))" --quota-backend-bytes=8589934592
  wait_for etcd 30 curl -fsS "http://127.0.0.1:$etcd_port/health"

  running kube-apiserver || start_apiserver

  # The controllers and kwok talk fast so that they do not set the pace of the benchmark.
  running kube-controller-manager || start kube-controller-manager --kubeconfig="$k" \
    --authentication-kubeconfig="$k" --authorization-kubeconfig="$k" \
    --leader-elect=false --bind-address=127.0.0.1 --secure-port="$kcm_port" \
    --service-account-private-key-file="$p/sa.key" --root-ca-file="$p/ca.crt" \
    --use-service-account-credentials=false --kube-api-qps=1000 --kube-api-burst=2000 \
    --concurrent-daemonset-syncs=8
  running kube-scheduler || start kube-scheduler --kubeconfig="$k" \
    --authentication-kubeconfig="$k" --authorization-kubeconfig="$k" \
    --leader-elect=false --bind-address=127.0.0.1 --secure-port="$sched_port" \
    --kube-api-qps=1000 --kube-api-burst=2000
  wait_for kube-controller-manager 60 curl -fsSk "https://127.0.0.1:$kcm_port/healthz"
  wait_for kube-scheduler 60 curl -fsSk "https://127.0.0.1:$sched_port/healthz"

  "$bin/kubectl" apply -f "$here/manifests/nodes.yaml" >/dev/null
  running kwok || start kwok --kubeconfig="$k" --config="$bin/../kwok-stages.yaml" \
    --manage-all-nodes=true --node-lease-duration-seconds=40 --cidr=10.244.0.0/16 \
    --node-ip=192.0.2.250 --server-address="127.0.0.1:$kwok_port"
  wait_for "nodes Ready" 60 "$bin/kubectl" wait --for=condition=Ready node --all --timeout=1s
  wait_for "default ServiceAccount" 60 "$bin/kubectl" -n default get serviceaccount default
  log "up in $(( $(date +%s) - t0 ))s; export KUBECONFIG=$k  (kubectl: $bin/kubectl)"
}

# stop_all PID... : SIGTERM to each process group at once, SIGKILL whatever is left after 10 s.
stop_all() {
  local pid alive
  for pid in "$@"; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 100); do
    alive=0
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "$@"; do kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; done
}

down() {
  local f c n clients=()
  # Clients first, all at once (the operators, nftlb and echo server that the tests or the demo
  # started, kwok, the scheduler, the controller manager), then kube-apiserver, then etcd: a
  # server stopped under its clients makes them retry until killed.
  for f in "$dir"/pids/*.pid; do
    [ -e "$f" ] || continue
    c=$(basename "$f" .pid)
    case $c in kube-apiserver | etcd) ;; *) clients+=("$(cat "$f")") ;; esac
  done
  [ ${#clients[@]} -eq 0 ] || stop_all "${clients[@]}"
  stop kube-apiserver
  stop etcd
  # Network namespaces of the data-path chain (test/cluster/chain.sh records each it makes).
  if [ -f "$dir/netns.list" ]; then
    while read -r n; do ip netns del "$n" 2>/dev/null || true; done < "$dir/netns.list"
  fi
  rm -rf "$dir"
  log "down"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  restart-apiserver)
    bin=$(bindir)
    stop kube-apiserver
    start_apiserver
    ;;
  status)
    for c in "${components[@]}"; do
      if running "$c"; then echo "$c running (pid $(cat "$dir/pids/$c.pid"))"; else echo "$c stopped"; fi
    done
    ;;
  *) echo "usage: $0 up|down|restart-apiserver|status" >&2; exit 2 ;;
esac
