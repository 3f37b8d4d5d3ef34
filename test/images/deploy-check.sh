#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Proves deploy/ against a real API server: `kubectl apply --dry-run=server -k deploy/` runs every
# object through the server's validation, defaulting and admission (RBAC rules, Deployment
# fields, Pod Security labels), without creating anything. The RBAC rules the server returns are
# then compared with docs/design.md's verb table: each grant there, and no other.
#
#   deploy-check.sh KUBECONFIG
#
# A server-side dry run of objects inside a namespace that does not exist yet fails ("namespace
# not found"), since the dry-run Namespace is never created. So when akrobateo-system is absent,
# this creates just that Namespace from deploy/namespace.yaml, runs the dry run, and deletes the
# Namespace again, waiting until it is gone (also on failure). If it already exists, nothing at
# all is written.
#
# Then, where Docker answers and akrobateo/operator:dev exists (`make images`), it runs that image
# as a container (host network, read-only root fs, no capabilities, its own non-root user) against
# the same API server and waits for /readyz: the image's TLS, kubeconfig and cache sync work. That
# run handles nothing (a loadBalancerClass no Service has, --default-class=false, an empty
# namespace of its own), so it only reads. Otherwise it prints SKIP with the reason.
# KUBECTL picks the kubectl binary (default: kubectl on PATH). Exit 0 when everything passed.
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
tmp=""
container="akrobateo-deploy-check-$$"
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  if [ "$created_ns" = 1 ]; then "${kubectl[@]}" delete namespace "$ns" --timeout=60s >/dev/null || true; fi
  if [ -n "$tmp" ]; then
    docker rm -f "$container" >/dev/null 2>&1 || true
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT
if ! "${kubectl[@]}" get namespace "$ns" >/dev/null 2>&1; then
  "${kubectl[@]}" apply -f deploy/namespace.yaml >/dev/null
  created_ns=1
fi
if ! out="$("${kubectl[@]}" apply --dry-run=server -k deploy/ -o json 2>&1)"; then
  awk '{ print "deploy-check: " $0 }' <<<"$out" >&2
  echo "deploy-check: FAIL kubectl apply --dry-run=server -k deploy/" >&2
  exit 1
fi
objects="$(jq -r '(if .kind == "List" then .items[] else . end) | "\(.kind)/\(.metadata.name)"' <<<"$out")"
echo "deploy-check: PASS kubectl apply --dry-run=server -k deploy/ accepted $(wc -l <<<"$objects") objects:" \
  "$(tr '\n' ' ' <<<"$objects")"

# The rules as the server returned them, against docs/design.md's table ("Operator RBAC"): one
# line per (group, resource, verb, scope); ClusterRole = cluster, Role = namespace.
deployed="$(jq -r '(if .kind == "List" then .items[] else . end)
  | select(.kind == "ClusterRole" or .kind == "Role")
  | (if .kind == "ClusterRole" then "cluster" else "namespace" end) as $s
  | .rules[] | .apiGroups[] as $g | .resources[] as $r | .verbs[] as $v
  | "\($g)|\($r)|\($v)|\($s)"' <<<"$out" | sort)"
designed="$(awk -F'|' '
  /^## Operator RBAC/ { on = 1; next }
  /^## / { on = 0 }
  on && $2 ~ /^ *("|[a-z])/ && $2 !~ /API group/ {
    g = $2; gsub(/[ "]/, "", g); r = $3; gsub(/ /, "", r)
    s = ($5 ~ /Role in/) ? "namespace" : "cluster"
    n = split($4, vs, ",")
    for (i = 1; i <= n; i++) { v = vs[i]; gsub(/ /, "", v); print g "|" r "|" v "|" s }
  }' docs/design.md | sort)"
if [ -n "$designed" ] && [ "$deployed" = "$designed" ]; then
  echo "deploy-check: PASS deploy/ RBAC is exactly docs/design.md's table ($(wc -l <<<"$deployed") grants)"
else
  echo "deploy-check: FAIL deploy/ RBAC differs from docs/design.md's table (< design, > deploy/):" >&2
  diff <(echo "$designed") <(echo "$deployed") | grep '^[<>]' | awk '{ print "deploy-check:   " $0 }' >&2
  exit 1
fi
image=akrobateo/operator:${AKROBATEO_IMAGE_TAG:-dev}
if ! docker info >/dev/null 2>&1; then
  echo "deploy-check: SKIP operator image against the API server: no Docker engine answers"
  exit 0
fi
if ! docker image inspect "$image" >/dev/null 2>&1; then
  echo "deploy-check: SKIP operator image against the API server: $image not built (make images)"
  exit 0
fi
# The kubeconfig with its certificates inlined, readable by the image's user only.
tmp="$(mktemp -d)"
"${kubectl[@]}" config view --raw --flatten --minify >"$tmp/kubeconfig"
chown 65532:65532 "$tmp/kubeconfig"
chmod 0400 "$tmp/kubeconfig"
port="${AKROBATEO_DEPLOY_CHECK_PORT:-28081}"
docker run -d --name "$container" --network host --read-only --cap-drop ALL \
  --security-opt no-new-privileges -v "$tmp/kubeconfig:/kubeconfig:ro" "$image" \
  --kubeconfig /kubeconfig --namespace akrobateo-deploy-check \
  --load-balancer-class akrobateo.dev/deploy-check --default-class=false \
  --metrics-bind-address 0 --health-probe-bind-address "127.0.0.1:$port" >/dev/null
ready=0
for _ in $(seq 60); do
  if curl -fsS --max-time 1 "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then ready=1; break; fi
  [ "$(docker inspect -f '{{.State.Running}}' "$container")" = true ] || break
  sleep 0.5
done
if [ "$ready" = 1 ]; then
  echo "deploy-check: PASS $image runs as $(docker inspect -f '{{.Config.User}}' "$container") with a read-only root fs and no capabilities, /readyz answers against this API server"
else
  docker logs "$container" 2>&1 | tail -10 | awk '{ print "deploy-check:   operator: " $0 }' >&2
  echo "deploy-check: FAIL $image did not become ready against this API server" >&2
  exit 1
fi
