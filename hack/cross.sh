#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# linux/arm64 on this amd64 Debian host, without emulation: cross-compiles both binaries with
# Debian's cross toolchain and the arm64 -dev packages (dpkg multiarch; `make deps` installs them),
# then assembles each image's root filesystem the way the Dockerfiles' rootfs stage does
# (hack/image-rootfs.sh, in its cross mode), from the arm64 packages of the same Debian release:
#   build/arm64/bin/{nftlb,akrobateo-operator}         the binaries
#   build/arm64/rootfs/{nftlb,operator}/               what each arm64 image holds
# The images' other settings (entrypoint, env, user, labels) are the amd64 images' own
# (hack/oci-index.sh copies them). `make build-arm64`; JOBS sets the build's parallelism.
set -euo pipefail
cd "$(dirname "$0")/.."
triplet=aarch64-linux-gnu
out=build/arm64
jobs="${JOBS:-2}"

missing=()
command -v "$triplet-g++" >/dev/null || missing+=("g++-$triplet")
for pc in libnftnl libmnl cpp-httplib spdlog; do
  [ -e "/usr/lib/$triplet/pkgconfig/$pc.pc" ] || missing+=("$pc (arm64 -dev package)")
done
[ -e "/usr/lib/$triplet/libyaml-cpp.so.0.7" ] || missing+=("libyaml-cpp0.7:arm64")
if [ ${#missing[@]} -gt 0 ]; then
  echo "cross: missing ${missing[*]}; \`make deps\` installs the cross toolchain and the arm64 packages" >&2
  exit 1
fi

# unpack PKG DIR: PKG's arm64 .deb unpacked into DIR (its .deb kept in DIR/.debs), once. For the
# packages that dpkg cannot install for arm64 beside their amd64 selves (no Multi-Arch: same).
unpack() {
  local pkg="$1" dir="$2" deb
  [ ! -e "$dir/.done" ] || return 0
  rm -rf "$dir"
  mkdir -p "$dir/.debs"
  (cd "$dir/.debs" && apt-get download -q -o APT::Sandbox::User=root "$pkg:arm64" >/dev/null)
  for deb in "$dir"/.debs/*.deb; do dpkg-deb -x "$deb" "$dir"; done
  touch "$dir/.done"
}

start=$SECONDS
# libyaml-cpp-dev: its arm64 CMake package, relocatable, from the unpacked .deb; the shared
# library it names is the installed libyaml-cpp0.7:arm64's.
yaml_dev=$out/yaml-cpp-dev
unpack libyaml-cpp-dev "$yaml_dev"
for so in "/usr/lib/$triplet"/libyaml-cpp.so.0.*.*; do ln -sfn "$so" "$yaml_dev/usr/lib/$triplet/$(basename "$so")"; done
# The images' build type: -O2 without -g, no tests (the arm64 test binaries could not run here).
cmake -S . -B "$out" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/$triplet.cmake" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -DNDEBUG" \
  -DBUILD_TESTING=OFF -Dyaml-cpp_DIR="$PWD/$yaml_dev/usr/lib/$triplet/cmake/yaml-cpp" >/dev/null
nice -n 10 cmake --build "$out" --target nftlb akrobateo-operator -j "$jobs"
for b in nftlb akrobateo-operator; do
  file -b "$out/bin/$b" | grep -q 'ARM aarch64' || { echo "cross: $out/bin/$b is not an arm64 executable" >&2; exit 1; }
done

# iptables (iptables-legacy-restore and its xtables plugins, for nftlb's fallback backend) cannot
# be installed for arm64 beside the host's own iptables either.
deps_dir=$out/iptables-arm64
unpack iptables "$deps_dir"

rootfs=$out/rootfs
rm -rf "$rootfs"
mkdir -p "$rootfs"
stage=$out/stage
rm -rf "$stage"
install -D -m 0755 "$out/bin/nftlb" "$stage/usr/local/bin/nftlb"
install -D -m 0644 "$out/lib/nftlb/inet-socket.so" "$stage/usr/local/lib/nftlb/inet-socket.so"
install -D -m 0755 "$out/bin/akrobateo-operator" "$stage/usr/local/bin/akrobateo-operator"
# The files must sit at their image paths (/usr/local/...) for image-rootfs.sh, as in the
# Dockerfiles' build stage: ROOTFS_FROM maps $stage to /. The iptables tree is a second such
# root, so nftlb's rootfs is made in two steps into the same directory.
stage_abs=$(readlink -f "$stage")
ROOTFS_TRIPLET=$triplet ROOTFS_FROM="$stage_abs" bash hack/image-rootfs.sh "$rootfs/nftlb" \
  "$stage_abs/usr/local/bin/nftlb" "$stage_abs/usr/local/lib/nftlb/inet-socket.so"
ipt=$(readlink -f "$deps_dir")
ROOTFS_TRIPLET=$triplet ROOTFS_FROM="$ipt" bash hack/image-rootfs.sh "$rootfs/nftlb" \
  "$ipt/usr/sbin/iptables-legacy" "$ipt/usr/sbin/ip6tables-legacy" \
  "$ipt/usr/sbin/iptables-legacy-restore" "$ipt/usr/sbin/ip6tables-legacy-restore" \
  "$ipt/usr/sbin/iptables-legacy-save" "$ipt/usr/sbin/ip6tables-legacy-save" \
  --dlopen "$ipt/usr/lib/$triplet/xtables"
ROOTFS_TRIPLET=$triplet ROOTFS_FROM="$stage_abs" bash hack/image-rootfs.sh "$rootfs/operator" \
  "$stage_abs/usr/local/bin/akrobateo-operator"
printf 'root:x:0:0::/root:/nonexistent\nnonroot:x:65532:65532::/nonexistent:/nonexistent\n' >"$rootfs/operator/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$rootfs/operator/etc/group"
rm -rf "$stage"
echo "cross: $out/bin/nftlb, $out/bin/akrobateo-operator and $rootfs/{nftlb,operator} (linux/arm64) in $((SECONDS - start)) s"
