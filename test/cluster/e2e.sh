#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make test-cluster`: the operator end to end on the real control plane of cluster.sh, run as
# users run it (deploy/'s ServiceAccount and RBAC, a token from `kubectl create token`), with
# kubectl as the client. This file is the runner: it brings the cluster and operator a up, then
# sources the cases under cases/ in order (each says what it needs from the ones before it), with
# test/lib/check.sh's vocabulary: one PASS/FAIL/SKIP line per check, then
# `N passed, M failed[, K skipped]`.
# Env: AKROBATEO_BIN (default build/bin) holds akrobateo-operator and nftlb;
#      AKROBATEO_CLUSTER_PROFILE (default e2e; see profile.sh) picks the cluster's dir and ports;
#      AKROBATEO_OPERATOR_PORT (default 27080): the operators' /metrics and /healthz ports are
#        this one and the next 17 (move it when two runs share the machine);
#      AKROBATEO_KEEP_CLUSTER=1 leaves the cluster up afterwards for inspection.
# shellcheck source-path=SCRIPTDIR
# shellcheck disable=SC2317  # cleanup runs from the EXIT trap
set -eEuo pipefail
# With pipefail, `producer | grep -q` fails now and then: grep exits at its first match and the
# producer may get SIGPIPE. Checks here let grep read everything (`grep ... >/dev/null`) or read
# from a here-string instead.
here=$(cd "$(dirname "$0")" && pwd)
# Its own cluster (build/cluster-e2e, ports 27xxx): a running `make demo` is left alone.
export AKROBATEO_CLUSTER_PROFILE=${AKROBATEO_CLUSTER_PROFILE-e2e}
. "$here/../lib/check.sh"
. "$here/lib.sh"
. "$here/chain.sh"
opp=${AKROBATEO_OPERATOR_PORT:-27080}

# A command that fails outside a check stops the run (set -e): it is recorded here with where it
# ran (file:line, then its callers: `lib.sh:16 <- cases/leader.sh:20 <- e2e.sh:80`) and reported
# as a failure on the way out, with the totals.
stopped_at=""
failed_at() { # LINENO FILE COMMAND
  local i where="$2:$1"
  for ((i = 1; i < ${#BASH_SOURCE[@]} - 1; i++)); do where="$where <- ${BASH_SOURCE[i + 1]#"$here"/}:${BASH_LINENO[i]}"; done
  stopped_at="$where: $3"
}
trap 'failed_at "$LINENO" "${BASH_SOURCE[0]#"$here"/}" "$BASH_COMMAND"' ERR
finished=0
cleanup() {
  local rc=$?
  if [ "$finished" = 0 ] && [ "$rc" != 0 ]; then
    bad "the run stopped early (exit status $rc)" "${stopped_at:-interrupted}"
  fi
  chain_down 2>/dev/null || true
  if [ "${AKROBATEO_KEEP_CLUSTER:-0}" = 1 ]; then
    echo "cluster kept: KUBECONFIG=$dir/admin.kubeconfig; logs in $dir; stop it with: AKROBATEO_CLUSTER_PROFILE=$AKROBATEO_CLUSTER_PROFILE bash test/cluster/cluster.sh down"
  else
    if [ "$fail" -gt 0 ]; then
      # CI keeps only what is printed: the last warning or error of each operator.
      for f in "$dir"/operator-*.log; do
        [ -f "$f" ] || continue
        echo "# $(basename "$f"), last warnings and errors:"
        grep -E '\b(warn|warning|error)\b|exit=' "$f" | tail -n 3 | cut -c1-300 | sed 's/^/#   /' || true
      done
    fi
    if [ "$fail" -gt 0 ] && mkdir -p "$root/build" && rm -rf "$root/build/cluster-failed" &&
      cp -r "$dir" "$root/build/cluster-failed" 2>/dev/null; then
      echo "logs of the failed run: build/cluster-failed/"
    fi
    bash "$here/cluster.sh" down >/dev/null 2>&1 || true
  fi
  if [ "$finished" = 0 ]; then (finish) || true; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- preconditions: the binaries, a fresh control plane, deploy/'s RBAC, operator a ------------
for b in akrobateo-operator nftlb; do
  if [ ! -x "$AKROBATEO_BIN/$b" ]; then
    bad "binary $AKROBATEO_BIN/$b exists" "build it first: make build / make build-asan"
    finished=1
    finish
  fi
done
echo "# control plane $(grep K8S_VERSION "$here/versions.env" | cut -d= -f2), operator $AKROBATEO_BIN/akrobateo-operator"
bash "$here/cluster.sh" down >/dev/null 2>&1 || true
if bash "$here/cluster.sh" up; then ok "control plane up, 3 kwok Nodes Ready"
else bad "control plane up"; finished=1; finish; fi
apply_rbac
SA=$(operator_sa)
op_kubeconfig a >/dev/null
op_a_started=$(date +%s)
op_start a "$opp" "$((opp + 1))" -v 1 --cleanup-finalizer
check "operator (ServiceAccount $OPNS/$SA, token from kubectl create token) ready" until_ok 60 op_ready "$((opp + 1))"

# --- the cases, in this order (later ones use the Services and operators of earlier ones) ------
. "$here/cases/daemonset.sh"  # the echoserver: its DaemonSet, pods, ingress, events
. "$here/cases/datapath.sh"   # requests through the real nftlb in network namespaces
. "$here/cases/updates.sh"    # in place on a change, no write when nothing differs
. "$here/cases/placement.sh"  # enablelb, lbpool, dual-stack ordering
. "$here/cases/classes.sh"    # another loadBalancerClass is left alone
. "$here/cases/local.sh"      # externalTrafficPolicy: Local
. "$here/cases/conflicts.sh"  # two Services on one port; a hostPort held by another pod
. "$here/cases/security.sh"   # reserved ports, untrusted annotations, a refused DaemonSet
. "$here/cases/cleanup.sh"    # type change and deletion
. "$here/cases/metrics.sh"    # operator a's /metrics once the above settled
. "$here/cases/faults.sh"     # operator SIGKILLed mid-way; kube-apiserver restarted
. "$here/cases/leader.sh"     # a foreign DaemonSet; two operators with --leader-elect
. "$here/cases/stall.sh"      # the leader's API connection stalls
. "$here/cases/rbac.sh"       # no 403; the role grants only what the code uses
. "$here/cases/logs.sh"       # operator logs: no 403, no sanitizer report, the JSON format

finished=1
finish
