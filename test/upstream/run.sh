#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make e2e-upstream`: Kubernetes' own LoadBalancer specs (every `[Feature:LoadBalancer]` spec of
# test/e2e/network/loadbalancer.go in k8s.io/kubernetes at the version of versions.env) against
# akrobateo on the kind cluster, once per kube-proxy mode.
#
# For each mode: a fresh kind cluster (test/kind/kind.sh up, with KIND_PROXY_MODE), akrobateo
# installed from the release file (kind.sh deploy), then e2e.test (test/upstream/build.sh) run
# from this host, not from a pod (a client in the cluster takes kube-proxy's shortcut to the
# Service), in a network namespace of its own with a routed address outside the nodes' network, as
# an external client would be (test/upstream/runner.sh), with --provider=local. Per spec one
# PASS/FAIL/SKIP line with its duration (a skip with its reason), then `N passed, N failed, N
# skipped` for the mode; the JUnit report, the ginkgo JSON report, e2e.test's log and a results
# table go to build/upstream/. The cluster is deleted on exit, also on a failure or Ctrl-C
# (KIND_KEEP=1 keeps the last one).
#
# Settings:
#   UPSTREAM_MODES   kube-proxy modes to run, in order (default "iptables nftables")
#   UPSTREAM_FOCUS   ginkgo focus regex (default '\[Feature:LoadBalancer\]'); a subset for a
#                    shorter run, e.g. `make test-upstream` (Makefile, UPSTREAM_SUBSET)
#   KIND_CLUSTER     the kind cluster's name (default akrobateo-upstream)
#   UPSTREAM_OUT     where the reports go (default build/upstream), for runs side by side
#   KIND_NODE_IMAGE  kind's own node image instead of the one built here (as for kind.sh)
#   UPSTREAM_RUNNER  netns (default: the runner's own namespace) or host (the host's network)
# test/upstream/skips.txt names the specs that are not run, each with the reason, printed.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
# shellcheck source=test/cluster/versions.env
. test/cluster/versions.env
export PATH="/usr/local/go/bin:$PATH"
export KIND_CLUSTER="${KIND_CLUSTER:-akrobateo-upstream}"
MODES="${UPSTREAM_MODES:-iptables nftables}"
FOCUS="${UPSTREAM_FOCUS:-\[Feature:LoadBalancer\]}"
SKIPS="$root/test/upstream/skips.txt"
out="${UPSTREAM_OUT:-$root/build/upstream}"
KUBECONFIG="$root/build/kind/kubeconfig"
export KUBECONFIG

# shellcheck source=test/lib/log.sh
log_name=upstream
. test/lib/log.sh
# shellcheck source=test/upstream/runner.sh
. test/upstream/runner.sh
RUNNER="${UPSTREAM_RUNNER:-netns}"

if [ "${AKROBATEO_SKIP_WITHOUT_DOCKER:-0}" = 1 ] && ! docker info >/dev/null 2>&1; then
  echo "SKIP Kubernetes' LoadBalancer specs: no Docker engine answers here (docker info failed)"
  exit 0
fi
case $RUNNER in
  netns) [ "$(id -u)" = 0 ] || die "the runner's network namespace needs root (ip netns, iptables): run as root, or UPSTREAM_RUNNER=host" ;;
  host) ;;
  *) die "UPSTREAM_RUNNER=$RUNNER: netns or host" ;;
esac

# The skip list: `PATTERN :: REASON` a line; PATTERN is a regex on the spec's full name.
skip_regex() {
  sed -n 's/^\([^#].*\) :: .*$/\1/p' "$SKIPS" | paste -sd '|'
}

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  local status=$?
  [ "$RUNNER" != netns ] || runner_down
  [ "${KIND_KEEP:-0}" = 1 ] || bash test/kind/kind.sh down || true
  exit "$status"
}
trap cleanup EXIT

mkdir -p "$out"
e2e=$(bash test/upstream/build.sh)
# kubectl of the cluster's version where this machine builds one (e2e.test execs it for
# `kubectl exec`), else the one installed (with KIND_NODE_IMAGE, as kind.sh does).
if [ -z "${KIND_NODE_IMAGE:-}" ]; then PATH="$(bash test/cluster/build.sh node):$PATH"; fi
command -v kubectl >/dev/null || { log "kubectl is not installed"; exit 1; }
# Test files e2e.test may read (--repo-root): the kubernetes module it was built from.
kmod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')

status=0
read -ra modes <<<"$MODES"
for mode in "${modes[@]}"; do
  log "kube-proxy $mode: a fresh cluster $KIND_CLUSTER"
  bash test/kind/kind.sh down
  start=$SECONDS
  KIND_PROXY_MODE=$mode bash test/kind/kind.sh up
  bash test/kind/kind.sh deploy
  log "kube-proxy $mode: cluster up and akrobateo deployed in $((SECONDS - start)) s"
  # The revision the cluster really runs (image tags are shared by every checkout on a machine).
  log "kube-proxy $mode: the operator runs $(kubectl -n akrobateo-system get deploy akrobateo-operator \
    -o jsonpath='{.spec.template.spec.containers[0].image}') built from revision $(docker image inspect \
    -f '{{index .Config.Labels "org.opencontainers.image.revision"}}' "$(kubectl -n akrobateo-system get deploy \
    akrobateo-operator -o jsonpath='{.spec.template.spec.containers[0].image}')" 2>/dev/null || echo unknown)"
  kubectl get nodes -o wide
  # e2e.test (and the kubectl it execs) keep to this cluster's own copy of the kubeconfig.
  cp "$KUBECONFIG" "$out/kubeconfig-$mode"
  rm -f "$out/junit-$mode.xml" "$out/report-$mode.json"
  run=()
  kubeconfig="$out/kubeconfig-$mode"
  if [ "$RUNNER" = netns ]; then
    runner_up || { log "could not make the runner's network namespace"; exit 1; }
    runner_kubeconfig "$kubeconfig" "$out/kubeconfig-$mode-runner"
    kubeconfig="$out/kubeconfig-$mode-runner"
    run=(ip netns exec "$RUNNER_NS")
    log "kube-proxy $mode: e2e.test runs in network namespace $RUNNER_NS, from $RUNNER_ADDR"
  fi
  log "kube-proxy $mode: e2e.test --ginkgo.focus='$FOCUS' (log: build/upstream/e2e-$mode.log)"
  start=$SECONDS
  e2e_status=0
  "${run[@]}" "$e2e" --provider=local --kubeconfig="$kubeconfig" --kubectl-path="$(command -v kubectl)" \
    --repo-root="$kmod" --disable-log-dump --ginkgo.no-color --ginkgo.v --ginkgo.timeout=4h \
    --ginkgo.focus="$FOCUS" --ginkgo.skip="$(skip_regex)" \
    --ginkgo.junit-report="$out/junit-$mode.xml" --ginkgo.json-report="$out/report-$mode.json" \
    >"$out/e2e-$mode.log" 2>&1 || e2e_status=$?
  log "kube-proxy $mode: e2e.test exited $e2e_status after $((SECONDS - start)) s"
  if [ ! -s "$out/report-$mode.json" ]; then
    tail -30 "$out/e2e-$mode.log"
    echo "FAIL e2e.test ($mode) wrote no report: see build/upstream/e2e-$mode.log"
    echo "0 passed, 1 failed"
    status=1
    continue
  fi
  /usr/bin/python3 test/upstream/report.py "$out/report-$mode.json" "$SKIPS" "$FOCUS" "$mode" \
    "$out/results-$mode.tsv" || status=1
  # e2e.test failing with every spec passed (a suite-level check) is a failure too.
  if [ "$e2e_status" != 0 ] && [ "$status" = 0 ]; then
    echo "FAIL e2e.test ($mode) exited $e2e_status: see build/upstream/e2e-$mode.log"
    status=1
  fi
done
# The totals over every mode run, alone on the last line.
if [ "${#modes[@]}" -gt 1 ]; then
  for mode in "${modes[@]}"; do tail -n +2 "$out/results-$mode.tsv" 2>/dev/null || true; done |
    awk -F'\t' -v modes="$MODES" '
      $3 == "passed" { p++ } $3 == "skipped" { s++ } $3 != "passed" && $3 != "skipped" { f++ }
      END { printf "all modes (%s): %d passed, %d failed%s\n", modes, p, f + 0, s ? sprintf(", %d skipped", s) : "" }'
fi
exit "$status"
