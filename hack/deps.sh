#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs every build and test dependency from Debian's archive. Idempotent: a machine that
# already has everything runs no apt command at all.
set -euo pipefail
packages=(
  # build
  build-essential cmake ninja-build pkg-config clang clang-format libclang-rt-14-dev
  libnftnl-dev libmnl-dev libcpp-httplib-dev libssl-dev nlohmann-json3-dev libspdlog-dev
  doctest-dev libyaml-cpp-dev libcli11-dev
  # nftlb's data-path tests and benchmarks
  iproute2 nftables iptables iperf3 socat python3 procps lksctp-tools
  # images, the kind node image and the kind script's own checks
  debootstrap shellcheck
  # the kind node image: runc links libseccomp; kind.sh edits its config with PyYAML
  libseccomp-dev python3-yaml
  # the control plane's certificates
  openssl ca-certificates curl jq
  # linux/arm64 (hack/cross.sh, test/arm64/run.sh): the cross compiler, qemu-user to run the
  # result, skopeo to read the release's OCI image indexes; the arm64 libraries follow below
  g++-aarch64-linux-gnu qemu-user-static skopeo file
)
# The arm64 -dev packages of the libraries both binaries link, and the runtime libraries of the
# iptables-legacy tools in the nftlb image, installed beside the amd64 ones through dpkg multiarch.
# (The header-only ones, nlohmann-json3-dev, libcli11-dev and doctest-dev, serve both.) Not
# libyaml-cpp-dev:arm64: it is not co-installable, and installing it REMOVES libyaml-cpp-dev (amd64);
# hack/cross.sh unpacks its .deb instead and links the runtime package installed here.
arm64_packages=(libnftnl-dev libmnl-dev libssl-dev libspdlog-dev libyaml-cpp0.7 libcpp-httplib-dev
  libxtables12 libip4tc2 libip6tc2 libnetfilter-conntrack3 libnfnetlink0)
new_arch=0
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  echo "deps: adding the arm64 architecture (dpkg multiarch)"
  dpkg --add-architecture arm64
  new_arch=1
fi
for p in "${arm64_packages[@]}"; do packages+=("$p:arm64"); done
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ] || [ "$new_arch" = 1 ]; then
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ ! -x /usr/local/go/bin/go ] && ! command -v go >/dev/null; then
  echo "deps: Go is needed to build the test control plane (expected at /usr/local/go)" >&2
  exit 1
fi
echo "deps: all present"
