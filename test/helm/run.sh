#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make test-helm`: the Helm chart (deploy/helm/akrobateo) against deploy/, which stays the source
# of truth (docs/design.md, "Helm chart").
#   - the chart's version and appVersion are the project's (CMakeLists.txt);
#   - `helm lint --strict` passes;
#   - `helm template` with the default values gives the same objects as the release file
#     (deploy/ rendered by hack/release.sh with the version's images), compared as data
#     (test/helm/same-objects.py; only the release's own labels are set aside);
#   - values reach what they name: images, the operator flags, the namespace, the
#     PriorityClass, resources and the operator's tolerations;
#   - `helm package` makes the chart archive `make release` attaches, which renders the same.
# helm is built once per machine from the Go module proxy (hack/gotool.sh helm). No cluster and no
# Docker is needed. One line per check, then `N passed, M failed`.
# shellcheck disable=SC2317  # functions called through check
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=test/lib/check.sh
source test/lib/check.sh

chart=deploy/helm/akrobateo
work=$(mktemp -d /tmp/akb-helm.XXXXXX)
trap 'rm -rf "$work"' EXIT

if ! helm=$(bash hack/gotool.sh helm); then
  bad "helm builds from the Go module proxy (hack/gotool.sh helm)"
  finish
fi
command -v kubectl >/dev/null || PATH="$(bash test/cluster/build.sh):$PATH"
version=$(sed -nE 's/^project\(akrobateo .*VERSION ([0-9]+\.[0-9]+\.[0-9]+).*/\1/p' CMakeLists.txt)

check_eq "Chart.yaml version is the project's" "$(sed -nE 's/^version: *"?([^"]*)"?$/\1/p' "$chart/Chart.yaml")" "$version"
check_eq "Chart.yaml appVersion is the project's" "$(sed -nE 's/^appVersion: *"?([^"]*)"?$/\1/p' "$chart/Chart.yaml")" "$version"
lint() { "$helm" lint --strict "$chart" 2>&1 | sed 's/^/  /'; return "${PIPESTATUS[0]}"; }
check "helm lint --strict $chart" lint

# The release file, rendered alone (no images, no SBOMs) into the scratch directory.
if ! RELEASE_DIR="$work/release" RELEASE_IMAGES=0 RELEASE_SBOM=0 RELEASE_CHART=0 RELEASE_OCI=0 \
    bash hack/release.sh >"$work/release.log" 2>&1; then
  bad "hack/release.sh renders the release file" "$(tail -5 "$work/release.log")"
  finish
fi
"$helm" template akrobateo "$chart" >"$work/default.yaml" 2>"$work/template.err" ||
  bad "helm template (default values)" "$(cat "$work/template.err")"
same() { python3 test/helm/same-objects.py "$@" | sed 's/^/  /'; return "${PIPESTATUS[0]}"; }
check "helm template (default values) = the release file akrobateo.yaml (deploy/)" \
  same "$work/default.yaml" "$work/release/akrobateo.yaml"
# The release name and namespace do not move the objects: they go where deploy/ puts them.
"$helm" template other "$chart" --namespace kube-system >"$work/other.yaml" 2>/dev/null
check "helm template under another release name and namespace: the same objects" \
  same "$work/other.yaml" "$work/release/akrobateo.yaml"

# Values -> objects. j FILE FILTER: jq over the rendered objects.
j() { python3 -c 'import json,sys,yaml; print(json.dumps([d for d in yaml.safe_load_all(open(sys.argv[1])) if d]))' "$1" | jq -r "$2"; }
args_of() { j "$1" '.[] | select(.kind == "Deployment") | .spec.template.spec.containers[0].args | join(" ")'; }
default_args=$(args_of "$work/default.yaml")
check_eq "default operator image" "$(j "$work/default.yaml" '.[] | select(.kind == "Deployment") | .spec.template.spec.containers[0].image')" \
  "akrobateo/operator:$version"
for want in "--nftlb-image=akrobateo/nftlb:$version" --leader-elect "--reserved-ports=22,2379-2381,6443,10248-10260,30000-32767" \
    "--balancer-priority-class=akrobateo-balancer"; do
  check "default args have $want" grep -qw -- "$want" <<<"$default_args"
done
# No namespace is trusted by default: the flag is left out (an empty --trusted-namespaces= would
# make the option parser take the next argument as its value).
lacks() { ! grep -q -- "$1" <<<"$2"; }
check "default args trust no namespace (no --trusted-namespaces)" lacks --trusted-namespaces "$default_args"

"$helm" template akrobateo "$chart" \
  --set image.operator.repository=ghcr.io/example/akrobateo/operator,image.operator.tag=1.2.3 \
  --set image.nftlb.repository=ghcr.io/example/akrobateo/nftlb,image.nftlb.tag=1.2.3 \
  --set 'trustedNamespaces={infra,ingress}' --set reservedPorts=22 \
  --set balancerPriorityClass.name=lb-critical --set balancerPriorityClass.value=5000 \
  --set loadBalancerClass=example.com/lb --set defaultClass=false --set logFormat=json \
  --set 'extraArgs={--workers=4}' --set replicas=3 --set leaderElect=true \
  --set resources.limits.memory=256Mi --set namespace.name=lb-system \
  --set 'tolerations[0].operator=Exists' >"$work/set.yaml" 2>"$work/template.err" ||
  bad "helm template (values set)" "$(cat "$work/template.err")"
set_args=$(args_of "$work/set.yaml")
check_eq "image.operator.* -> the operator image" \
  "$(j "$work/set.yaml" '.[] | select(.kind == "Deployment") | .spec.template.spec.containers[0].image')" \
  ghcr.io/example/akrobateo/operator:1.2.3
for want in --nftlb-image=ghcr.io/example/akrobateo/nftlb:1.2.3 --trusted-namespaces=infra,ingress --reserved-ports=22 \
    --balancer-priority-class=lb-critical --load-balancer-class=example.com/lb --default-class=false \
    --log-format=json --workers=4; do
  check "values -> operator arg $want" grep -qw -- "$want" <<<"$set_args"
done
check_eq "balancerPriorityClass -> the PriorityClass" \
  "$(j "$work/set.yaml" '.[] | select(.kind == "PriorityClass") | "\(.metadata.name) \(.value) \(.preemptionPolicy)"')" \
  "lb-critical 5000 Never"
check_eq "replicas" "$(j "$work/set.yaml" '.[] | select(.kind == "Deployment") | .spec.replicas')" 3
check_eq "resources" "$(j "$work/set.yaml" '.[] | select(.kind == "Deployment") | .spec.template.spec.containers[0].resources.limits.memory')" 256Mi
check_eq "tolerations of the operator" "$(j "$work/set.yaml" '.[] | select(.kind == "Deployment") | .spec.template.spec.tolerations | tojson')" \
  '[{"operator":"Exists"}]'
check_eq "namespace.name: every namespaced object and the ClusterRoleBinding's subject there" \
  "$(j "$work/set.yaml" '[.[] | (.metadata.namespace // empty), (.subjects[]?.namespace)] | unique | join(" ")')" lb-system
check_eq "namespace.name: the Namespace created, with Pod Security privileged" \
  "$(j "$work/set.yaml" '.[] | select(.kind == "Namespace") | "\(.metadata.name) \(.metadata.labels["pod-security.kubernetes.io/enforce"])"')" \
  "lb-system privileged"

"$helm" template akrobateo "$chart" --namespace akrobateo-system --set namespace.create=false \
  --set balancerPriorityClass.create=false --set metricsService.enabled=false --set podDisruptionBudget.enabled=false \
  --set leaderElect=false --set replicas=1 >"$work/off.yaml" 2>/dev/null
check_eq "create/enabled false: no Namespace, PriorityClass, metrics Service or PDB" \
  "$(j "$work/off.yaml" '[.[].kind] | sort | join(" ")')" \
  "ClusterRole ClusterRoleBinding Deployment Role RoleBinding ServiceAccount"
no_leader_elect() { ! grep -qw -- --leader-elect <<<"$(args_of "$work/off.yaml")"; }
check "leaderElect=false: no --leader-elect" no_leader_elect
check "NOTES.txt tells how to see the EXTERNAL-IP" \
  grep -q 'kubectl get svc web --watch' <("$helm" install akrobateo "$chart" --dry-run=client 2>/dev/null)

if "$helm" package "$chart" --destination "$work/pkg" >"$work/package.log" 2>&1; then
  ok "helm package -> akrobateo-$version.tgz"
  "$helm" template akrobateo "$work/pkg/akrobateo-$version.tgz" >"$work/pkg.yaml" 2>/dev/null
  check "the packaged chart renders the release file's objects" same "$work/pkg.yaml" "$work/release/akrobateo.yaml"
else
  bad "helm package" "$(cat "$work/package.log")"
fi
finish
