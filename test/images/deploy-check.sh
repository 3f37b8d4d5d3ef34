#!/usr/bin/env bash
# Proves deploy/ against a real API server: `kubectl apply --dry-run=server -k deploy/` runs every
# object through the server's validation, defaulting and admission (RBAC rules, Deployment
# fields, Pod Security labels), without creating anything.
#
#   deploy-check.sh KUBECONFIG
#
# A server-side dry run of objects inside a namespace that does not exist yet fails ("namespace
# not found"), since the dry-run Namespace is never created. So when akrobateo-system is absent,
# this creates just that Namespace from deploy/namespace.yaml, runs the dry run, and deletes the
# Namespace again (also on failure). If it already exists, nothing at all is written.
# KUBECTL picks the kubectl binary (default: kubectl on PATH). Exit 0 when the server accepts all.
set -euo pipefail
cd "$(dirname "$0")/../.."

kubeconfig="${1:-}"
if [ -z "$kubeconfig" ] || [ ! -r "$kubeconfig" ]; then
  echo "usage: $0 KUBECONFIG (got '${kubeconfig}', not readable)" >&2
  exit 2
fi
kubectl=("${KUBECTL:-kubectl}" --kubeconfig "$kubeconfig")
ns=akrobateo-system

"${kubectl[@]}" get --raw=/readyz >/dev/null || { echo "deploy-check: the API server does not answer" >&2; exit 1; }
created_ns=0
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  if [ "$created_ns" = 1 ]; then "${kubectl[@]}" delete namespace "$ns" --wait=false >/dev/null || true; fi
}
trap cleanup EXIT
if ! "${kubectl[@]}" get namespace "$ns" >/dev/null 2>&1; then
  "${kubectl[@]}" apply -f deploy/namespace.yaml >/dev/null
  created_ns=1
fi
if out="$("${kubectl[@]}" apply --dry-run=server -k deploy/ 2>&1)"; then
  awk '{ print "deploy-check: " $0 }' <<<"$out"
  echo "deploy-check: PASS kubectl apply --dry-run=server -k deploy/ ($(echo "$out" | wc -l) objects accepted)"
else
  awk '{ print "deploy-check: " $0 }' <<<"$out" >&2
  echo "deploy-check: FAIL kubectl apply --dry-run=server -k deploy/" >&2
  exit 1
fi
