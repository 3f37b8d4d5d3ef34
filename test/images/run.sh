#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make test-images`: the container images, tried in a real container runtime.
#
# The nftlb image runs as a real container the way a balancer pod runs it: every capability
# dropped but NET_ADMIN, read-only root filesystem, Docker's read-only /proc/sys, in a network
# namespace held by a separate "sandbox" container (like a pod's pause container) whose global
# IPv4 forwarding is switched OFF before nftlb starts. A client container on one Docker network
# reaches a backend container on another network only through nftlb, over TCP and UDP. This
# shows that balancer pods need no sysctl and no privilege. While it runs, `nftlb <its args>
# --check` exec'd in the container (what a user asks in a balancer pod by hand) exits 0, and 1
# with other args. The host's own ip_forward must be the same before and after.
#
# Also: the static checks of the scripts that cannot run here (kind) and of the benchmarks';
# `make bench`'s JSON at the smallest size (test/bench/smoke.sh); what an image scanner (syft)
# finds in the images and the SBOMs of `make release`; the operator image runs as non-root, the
# nftlb image has no shell, and the operator image runs as its pod would against a real control
# plane (test/images/operator-image.sh). One line per check, then `N passed, M failed`.
# Where no Docker engine answers, it prints SKIP with the reason and exits 0.
# shellcheck disable=SC2317  # functions called through check and the EXIT trap
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

# shellcheck source=test/lib/check.sh
source test/lib/check.sh

# --- Static checks (they need no Docker) -------------------------------------------------------
# The shell scripts are `make lint`'s (hack/lint.sh, every script git knows).
if command -v kubectl >/dev/null; then
  rendered="$(kubectl kustomize deploy/ 2>&1)"
  check "kustomize renders deploy/" test -n "$rendered"
  for kind in Namespace ServiceAccount ClusterRole ClusterRoleBinding Role RoleBinding Deployment Service \
      PodDisruptionBudget PriorityClass; do
    check "deploy/ has a $kind" grep -qx "kind: $kind" <<<"$rendered"
  done
fi

# make bench's raw results (build/bench/<name>-<UTC time>.json): nftlb-install.sh at one
# repetition, into a temporary directory, and its JSON checked field by field (about 15 s).
if [ "$(id -u)" != 0 ] || [ ! -x build/bin/nftlb ]; then
  echo "SKIP make bench's JSON: needs root (network namespaces) and build/bin/nftlb (make build)"
else
  bench_smoke() { bash test/bench/smoke.sh 2>&1 | sed 's/^/  /'; return "${PIPESTATUS[0]}"; }
  check "make bench's raw results: well-formed JSON with every field (test/bench/smoke.sh)" bench_smoke
fi

if ! docker info >/dev/null 2>&1; then
  echo "SKIP container tests: no Docker engine answers here (docker info failed)"
  finish
fi

# --- Build -----------------------------------------------------------------------------------
BASE_IMAGE="${AKROBATEO_BASE_IMAGE:-localhost/akrobateo-debian:bookworm-minbase}"
# AKROBATEO_IMAGE_TAG (default dev): another tag keeps this run's images apart from those another
# checkout on the same Docker engine builds or loads meanwhile.
TAG="${AKROBATEO_IMAGE_TAG:-dev}"
export AKROBATEO_IMAGE_TAG="$TAG"
NFTLB_IMAGE=akrobateo/nftlb:$TAG
OPERATOR_IMAGE=akrobateo/operator:$TAG
TOOLS_IMAGE=akrobateo-test/tools:$TAG
if ! TAG="$TAG" IMAGES="nftlb operator" bash hack/images.sh; then
  bad "make images"
  finish
fi
ok "make images builds $NFTLB_IMAGE and $OPERATOR_IMAGE"
if ! docker build -q -f test/images/tools.Dockerfile --build-arg "BASE_IMAGE=$BASE_IMAGE" \
    -t "$TOOLS_IMAGE" test/images >build/images/tools.log 2>&1; then
  bad "build $TOOLS_IMAGE" "see build/images/tools.log"
  finish
fi

# --- Images ----------------------------------------------------------------------------------
check "operator image runs as non-root user 65532" \
  test "$(docker image inspect -f '{{.Config.User}}' "$OPERATOR_IMAGE")" = "65532:65532"
help="$(docker run --rm --network none "$OPERATOR_IMAGE" --help 2>&1)"
check "operator binary starts in its image (every library present)" grep -q -- '--nftlb-image' <<<"$help"
check "nftlb image has no shell" \
  bash -c "! docker run --rm --network none --entrypoint /bin/sh $NFTLB_IMAGE -c true >/dev/null 2>&1"
docker run --rm --network none "$NFTLB_IMAGE" --forward tcp/99999=10.0.0.1:80 >/dev/null 2>&1
check "nftlb in its image: bad port gives exit status 2" test "$?" -eq 2
version=$(sed -nE 's/^project\(akrobateo .*VERSION ([0-9]+\.[0-9]+\.[0-9]+).*/\1/p' CMakeLists.txt)
for image in "$OPERATOR_IMAGE" "$NFTLB_IMAGE"; do
  label() { docker image inspect -f "{{index .Config.Labels \"org.opencontainers.image.$2\"}}" "$1"; }
  check "$image carries OCI labels: version $(label "$image" version), licenses $(label "$image" licenses), revision $(label "$image" revision | cut -c1-7)" \
    test "$(label "$image" version)/$(label "$image" licenses)/$(label "$image" revision)" = "$version/Apache-2.0/$(git rev-parse HEAD)"
done
# package_version IMAGE PACKAGE: the Version of the package's dpkg status entry in the image
# (/var/lib/dpkg/status.d/, where image scanners look), read without running it.
package_version() {
  local id
  id=$(docker create "$1")
  docker cp "$id:/var/lib/dpkg/status.d/$2" - 2>/dev/null | tar -xO | sed -n 's/^Version: //p'
  docker rm "$id" >/dev/null
}
for pair in "$OPERATOR_IMAGE libc6" "$OPERATOR_IMAGE libssl3" "$NFTLB_IMAGE libc6" "$NFTLB_IMAGE libnftnl11"; do
  read -r image pkg <<<"$pair"
  pkg_version=$(package_version "$image" "$pkg")
  check "$image declares the Debian package it carries: $pkg ${pkg_version:-(none)}" test -n "$pkg_version"
done

# --- What an image scanner sees: syft (hack/syft.sh builds it once per machine, hack/sbom.sh
# runs it offline on a `docker save` archive) must find glibc and OpenSSL, and every Debian
# package the image declares, with the versions dpkg-query -W reports in the build stage (the
# Debian base plus the packages it installed, where the image's files were copied from).
# same_package WANT GOT PURL PACKAGE: the versions agree and the package URL is Debian 12's.
same_package() { [ -n "$1" ] && [ "$2" = "$1" ] && [[ "$3" == "pkg:deb/debian/$4@"*"distro=debian-12"* ]]; }
scan_image() {  # scan_image NAME PACKAGE...
  local name=$1 image="akrobateo/$1:$TAG" json="build/images/$1.syft.json" pkg want got declared found
  shift
  if ! bash hack/sbom.sh "$image" syft-json >"$json" 2>"build/images/$name.syft.log"; then
    bad "syft scans $image offline" "$(tail -3 "build/images/$name.syft.log")"
    return
  fi
  ok "syft scans $image offline ($(jq '.artifacts | length' "$json") packages)"
  # /etc/os-release (hack/image-rootfs.sh) is what gives the packages a Debian package URL, by
  # which Grype and the like match them to Debian's security tracker.
  check "syft reads the distribution of $image: $(jq -r '.distro.prettyName // "none"' "$json")" \
    test "$(jq -r '"\(.distro.id) \(.distro.versionID)"' "$json")" = "debian 12"
  for pkg in "$@"; do
    want=$(docker run --rm --network none "akrobateo-build/$name:$TAG" dpkg-query -W -f '${Version}' "$pkg" 2>/dev/null)
    got=$(jq -r --arg p "$pkg" '[.artifacts[] | select(.type == "deb" and .name == $p) | .version] | join(" ")' "$json")
    purl=$(jq -r --arg p "$pkg" '[.artifacts[] | select(.type == "deb" and .name == $p) | .purl] | join(" ")' "$json")
    check "syft finds $pkg ${got:-(nothing)} in $image ($purl); dpkg-query -W in the build stage: ${want:-(nothing)}" \
      same_package "$want" "$got" "$purl" "$pkg"
  done
  declared=$(docker run --rm --network none --entrypoint /bin/sh "akrobateo-build/$name:$TAG" -c \
    'ls /rootfs/var/lib/dpkg/status.d' 2>/dev/null | LC_ALL=C sort | tr '\n' ' ')
  found=$(jq -r '[.artifacts[] | select(.type == "deb") | .name] | sort | join(" ")' "$json")
  check "syft finds every Debian package $image declares (${declared% })" test -n "$declared" -a "$found " = "$declared"
}
syft_log=build/images/syft-build.log
sbom=1
if bash hack/syft.sh >/dev/null 2>"$syft_log"; then
  scan_image operator libc6 libssl3
  scan_image nftlb libc6 libnftnl11
else
  bad "syft builds (hack/syft.sh)" "see $syft_log"
  sbom=0
fi

if RELEASE_IMAGES=0 RELEASE_SBOM=$sbom bash hack/release.sh >build/images/release.log 2>&1; then
  check "make release renders build/release/akrobateo.yaml with the $version images" \
    grep -q "image: akrobateo/operator:$version" build/release/akrobateo.yaml
  # Its SBOMs name glibc and OpenSSL (operator) and glibc and libnftnl (nftlb) at the versions
  # the images' own dpkg status entries give.
  pairs=("operator libc6" "operator libssl3" "nftlb libc6" "nftlb libnftnl11")
  [ "$sbom" = 1 ] || pairs=()
  for pair in "${pairs[@]}"; do
    read -r name pkg <<<"$pair"
    file=build/release/akrobateo-$name-$version.spdx.json
    got=$(jq -r --arg p "$pkg" '[.packages[] | select(.name == $p) | .versionInfo] | join(" ")' "$file" 2>/dev/null)
    want=$(package_version "akrobateo/$name:$version" "$pkg")
    check "make release's SBOM $file ($(jq -r .spdxVersion "$file" 2>/dev/null)) lists $pkg ${got:-(nothing)}; the image declares ${want:-(nothing)}" \
      test -n "$want" -a "$got" = "$want"
    # The linux/arm64 side: the same packages, as the arm64 root file system's dpkg status has them.
    file=build/release/akrobateo-$name-$version-arm64.spdx.json
    got=$(jq -r --arg p "$pkg" '[.packages[] | select(.name == $p) | .versionInfo] | join(" ")' "$file" 2>/dev/null)
    want=$(sed -n 's/^Version: //p' "build/arm64/rootfs/$name/var/lib/dpkg/status.d/$pkg" 2>/dev/null)
    arch=$(jq -r --arg p "$pkg" '[.packages[] | select(.name == $p) | .externalRefs[]?.referenceLocator | select(startswith("pkg:deb/")) | capture("arch=(?<a>[a-z0-9]+)").a] | unique | join(" ")' "$file" 2>/dev/null)
    check "make release's arm64 SBOM $file lists $pkg ${got:-(nothing)} (arch ${arch:-none}); the arm64 root file system declares ${want:-(nothing)}" \
      test -n "$want" -a "$got" = "$want" -a "$arch" = arm64
  done
else
  bad "make release renders build/release/akrobateo.yaml and the SBOMs" "$(tail -3 build/images/release.log)"
fi

# --- Data path -------------------------------------------------------------------------------
id="akrobateo-it-$$"
front="$id-front"
back="$id-back"
containers=()
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  if [ ${#containers[@]} -gt 0 ]; then docker rm -f "${containers[@]}" >/dev/null 2>&1; fi
  docker network rm "$front" "$back" >/dev/null 2>&1
  true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

host_forward_before="$(cat /proc/sys/net/ipv4/ip_forward)"
# Internal networks: no way out of them, so the test's traffic stays between its containers.
if ! docker network create --internal "$front" >/dev/null ||
   ! docker network create --internal "$back" >/dev/null; then
  bad "create Docker networks"
  finish
fi

ip_on() { docker inspect -f "{{(index .NetworkSettings.Networks \"$2\").IPAddress}}" "$1"; }

# Backend: answers each TCP connection / UDP datagram with the peer it saw and what it got.
# shellcheck disable=SC2016  # expanded by the backend's shell, per connection
reply='read l; echo "peer=$SOCAT_PEERADDR got=$l"'
containers+=("$id-backend")
docker run -d --name "$id-backend" --network "$back" "$TOOLS_IMAGE" sh -c "
  socat TCP-LISTEN:8080,fork,reuseaddr SYSTEM:'$reply' &
  exec socat UDP-RECVFROM:8081,fork SYSTEM:'$reply'" >/dev/null
backend_ip="$(ip_on "$id-backend" "$back")"

# The "pod sandbox": holds the network namespace, on both networks.
containers+=("$id-sandbox")
docker create --name "$id-sandbox" --network "$front" "$TOOLS_IMAGE" sleep infinity >/dev/null
docker network connect "$back" "$id-sandbox"
docker start "$id-sandbox" >/dev/null
sandbox_pid="$(docker inspect -f '{{.State.Pid}}' "$id-sandbox")"
lb_front_ip="$(ip_on "$id-sandbox" "$front")"
lb_back_ip="$(ip_on "$id-sandbox" "$back")"
in_sandbox() { nsenter -t "$sandbox_pid" -n "$@"; }
# Global forwarding off in the sandbox's namespace (from the host, as root: the harness, not
# nftlb). Writing conf/all also switches every interface's forwarding off. Done again before
# each nftlb run, so each run has to switch the interfaces on itself.
forwarding_off() { in_sandbox sh -c 'echo 0 > /proc/sys/net/ipv4/conf/all/forwarding'; }
forwarding_off
ifname_of() { in_sandbox ip -o -4 addr show | awk -v a="$1" '$4 ~ "^"a"/" { print $2 }'; }
if_front="$(ifname_of "$lb_front_ip")"
if_back="$(ifname_of "$lb_back_ip")"
check "sandbox starts with forwarding off ($if_front, $if_back, all)" test \
  "$(in_sandbox cat /proc/sys/net/ipv4/conf/all/forwarding /proc/sys/net/ipv4/conf/"$if_front"/forwarding \
     /proc/sys/net/ipv4/conf/"$if_back"/forwarding | tr -d '\n')" = 000
check "Docker gives unprivileged containers a read-only /proc/sys" bash -c \
  "! docker run --rm --network none --cap-add NET_ADMIN $TOOLS_IMAGE sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward' 2>/dev/null"

client() {  # client PROTO PORT PAYLOAD: what the client on the front network gets back
  local addr
  case "$1" in tcp) addr="TCP:$lb_front_ip:$2,connect-timeout=3" ;; udp) addr="UDP:$lb_front_ip:$2" ;; esac
  docker run --rm --network "$front" "$TOOLS_IMAGE" sh -c "echo $3 | socat -T 3 - $addr" 2>/dev/null
}

nftlb_args() {  # nftlb_args BACKEND: the arguments the nftlb container runs with
  echo --backend "$1" --forward "tcp/8080=$backend_ip:8080" --forward "udp/8081=$backend_ip:8081"
}

run_nftlb() {  # run_nftlb BACKEND [DOCKER_ARGS...]: starts nftlb as the pod does; waits for its first log line
  local backend="$1" name="$id-nftlb-$1" args
  shift
  read -ra args <<<"$(nftlb_args "$backend")"
  containers+=("$name")
  docker run -d --name "$name" --network "container:$id-sandbox" \
    --cap-drop ALL --cap-add NET_ADMIN --read-only --security-opt no-new-privileges "$@" \
    "$NFTLB_IMAGE" "${args[@]}" >/dev/null
  for _ in $(seq 50); do
    docker logs "$name" 2>&1 | grep -q 'installed' && return 0
    [ "$(docker inspect -f '{{.State.Running}}' "$name")" = true ] || break
    sleep 0.1
  done
  docker logs "$name" 2>&1 | tail -5 | sed 's/^/  nftlb: /'
  return 1
}

data_path() {  # data_path BACKEND EXPECTED_BACKEND CAPS DOCKER_ARGS LIST_TABLE_CMD...
  local backend="$1" expected="$2" want_caps="$3" docker_args="$4" name="$id-nftlb-$1" caps
  shift 4
  forwarding_off
  # shellcheck disable=SC2086  # docker_args is a list of words
  if ! run_nftlb "$backend" $docker_args; then bad "nftlb ($backend) starts in a container"; return; fi
  ok "nftlb ($backend) starts in a container"
  check "nftlb ($backend): first log line names the backend, $expected" \
    grep -q "backend=$expected" <<<"$(docker logs "$name" 2>&1 | head -1)"
  caps="$(docker inspect -f '{{.HostConfig.Privileged}} {{.HostConfig.CapAdd}} {{.HostConfig.CapDrop}}' "$name")"
  check "nftlb ($backend) runs unprivileged with only $want_caps ($caps)" \
    grep -Eq "^false \[$want_caps\] \[(CAP_)?ALL\]$" <<<"${caps//CAP_/}"
  check "nftlb ($backend): rules installed in the pod namespace" bash -c "$(printf '%q ' nsenter -t "$sandbox_pid" -n "$@") >/dev/null"
  check "nftlb ($backend): forwarding on for $if_front and $if_back, global still off" test \
    "$(in_sandbox cat /proc/sys/net/ipv4/conf/all/forwarding /proc/sys/net/ipv4/conf/"$if_front"/forwarding \
       /proc/sys/net/ipv4/conf/"$if_back"/forwarding | tr -d '\n')" = 011
  # The check a user runs in a balancer pod: the image's nftlb with the container's args and
  # --check, exec'd in the running container (its capabilities, read-only root, environment).
  local got rc args t0 t1
  read -ra args <<<"$(nftlb_args "$backend")"
  got="$(docker exec "$name" /usr/local/bin/nftlb "${args[@]}" --check 2>&1)"
  rc=$?
  check "nftlb ($backend): docker exec nftlb <its args> --check exits 0 while it runs ($got)" test "$rc" -eq 0
  got="$(docker exec "$name" /usr/local/bin/nftlb --backend "$backend" --forward "tcp/8080=$backend_ip:9999" --check 2>&1)"
  rc=$?
  check "nftlb ($backend): docker exec nftlb --check with other args exits 1 ($got)" test "$rc" -eq 1
  t0=$(date +%s%N)
  for _ in $(seq 10); do docker exec "$name" /usr/local/bin/nftlb "${args[@]}" --check >/dev/null 2>&1; done
  t1=$(date +%s%N)
  echo "  nftlb ($backend): docker exec nftlb --check took $(( (t1 - t0) / 10000000 )) ms per exec (wall, mean of 10)"
  got="$(client tcp 8080 "hello-tcp-$backend")"
  check "nftlb ($backend): TCP client -> nftlb -> backend, masqueraded ($got)" \
    grep -q "^peer=$lb_back_ip got=hello-tcp-$backend$" <<<"$got"
  got="$(client udp 8081 "hello-udp-$backend")"
  check "nftlb ($backend): UDP client -> nftlb -> backend, masqueraded ($got)" \
    grep -q "^peer=$lb_back_ip got=hello-udp-$backend$" <<<"$got"
  docker stop -t 10 "$name" >/dev/null
  check "nftlb ($backend): SIGTERM exits 0" test "$(docker inspect -f '{{.State.ExitCode}}' "$name")" = 0
  check "nftlb ($backend): rules gone after exit" bash -c "! $(printf '%q ' nsenter -t "$sandbox_pid" -n "$@") >/dev/null 2>&1"
  got="$(client tcp 8080 after-stop)"
  check "nftlb ($backend): nothing forwarded after exit" test -z "$got"
}

# The client has no route to the backend network: only nftlb connects them.
check "client cannot reach the backend directly" test -z "$(docker run --rm --network "$front" "$TOOLS_IMAGE" \
  sh -c "echo direct | socat -T 2 - TCP:$backend_ip:8080,connect-timeout=2" 2>/dev/null)"

# nftables, chosen by the kernel probe (--backend auto, what the balancer pods run): CAP_NET_ADMIN
# is all it takes, and a read-only root filesystem with no writable directory at all.
data_path auto nftables NET_ADMIN "" nft list table inet akrobateo
# The iptables-legacy fallback, where the kernel has the legacy ip_tables modules (this one does;
# kernels without them print a SKIP line), with CAP_NET_ADMIN alone too: the tools' raw socket
# would need CAP_NET_RAW, but nftlb runs them with the image's inet-socket.so preloaded, which
# gives them a UDP socket for the same netfilter setsockopts. Their lock file goes to /dev/shm
# (the image sets XTABLES_LOCKFILE), so the read-only root filesystem needs no writable
# directory here either.
if in_sandbox iptables-legacy -t nat -S >/dev/null 2>&1; then
  data_path iptables-legacy iptables-legacy NET_ADMIN "" \
    sh -c 'iptables-legacy-save -t nat | grep -q "^-A .*DNAT"'
else
  echo "SKIP nftlb (iptables-legacy): the kernel has no legacy ip_tables here"
fi

# The operator image as its pod runs it, on a private control plane (prints SKIP where the
# control-plane binaries are not built yet).
operator_image() {
  bash test/images/operator-image.sh 2>&1 | sed 's/^/  operator-image: /'
  return "${PIPESTATUS[0]}"
}
check "operator image against a real control plane (test/images/operator-image.sh)" operator_image

check "host ip_forward unchanged ($host_forward_before)" test "$(cat /proc/sys/net/ipv4/ip_forward)" = "$host_forward_before"
for image in "$NFTLB_IMAGE" "$OPERATOR_IMAGE"; do
  echo "size $image: $(docker image inspect -f '{{.Size}}' "$image") bytes"
done
finish
