#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make test-arm64`: linux/arm64, built and run on this amd64 machine.
#   - hack/cross.sh cross-compiles nftlb and akrobateo-operator and assembles the arm64 images'
#     root filesystems (build/arm64/rootfs/{nftlb,operator});
#   - each binary runs under qemu-user (Debian's qemu-aarch64-static, invoked directly, with the
#     image's root filesystem as its sysroot, -L): `--version` prints the project's version and
#     this checkout's revision, so the libraries the image carries are the ones it needs;
#   - nftlb --dry-run prints, byte for byte, the ruleset the amd64 build prints (iptables-legacy;
#     nftables' dry run needs nfnetlink, which qemu-user lacks: a SKIP says so); the image's
#     iptables-legacy tools run; the operator refuses a bad flag with exit status 2;
#   - what a scanner reads: the arm64 packages' dpkg status entries are in each image;
#   - where the amd64 images exist (make images), hack/oci-index.py puts both platforms under one
#     name and skopeo reads the index back: two manifests, linux/amd64 and linux/arm64, whose
#     amd64 side runs in Docker and whose arm64 layer runs under qemu.
# One line per check, then `N passed, M failed`.
# shellcheck disable=SC2317  # functions called through check and the EXIT trap
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=test/lib/check.sh
source test/lib/check.sh

qemu=$(command -v qemu-aarch64-static || true)
if [ -z "$qemu" ]; then
  bad "qemu-aarch64-static is installed" "make deps installs qemu-user-static"
  finish
fi
start=$SECONDS
if ! bash hack/cross.sh >build/arm64.log 2>&1; then
  bad "hack/cross.sh cross-builds both binaries for linux/arm64" "$(tail -15 build/arm64.log)"
  finish
fi
ok "hack/cross.sh cross-builds both binaries for linux/arm64 ($((SECONDS - start)) s)"
version=$(sed -nE 's/^project\(akrobateo .*VERSION ([0-9]+\.[0-9]+\.[0-9]+).*/\1/p' CMakeLists.txt)
revision=$(git rev-parse --short=7 HEAD 2>/dev/null || true)
want_suffix="$version${revision:+ ($revision)}"
rootfs=build/arm64/rootfs

for b in nftlb:nftlb operator:akrobateo-operator; do
  image=${b%%:*} bin=${b##*:}
  check_eq "$bin in the arm64 $image image is an aarch64 ELF" \
    "$(file -b "$rootfs/$image/usr/local/bin/$bin" | grep -o 'ARM aarch64' || true)" "ARM aarch64"
  got=$("$qemu" -L "$rootfs/$image" "$rootfs/$image/usr/local/bin/$bin" --version 2>&1)
  check_eq "qemu-aarch64-static: $bin --version (arm64, the $image image's libraries)" "$got" "$bin $want_suffix"
done

# The data plane's output does not depend on the architecture: the iptables-legacy ruleset (stdout;
# the log line on stderr has a time stamp). The nftables backend cannot be compared here: its
# --dry-run asks the kernel over nfnetlink first, and qemu-user does not carry NETLINK_NETFILTER
# sockets ("Protocol not supported"); the nftables path is covered on amd64 by make test-netns.
arm_nftlb() { "$qemu" -L "$rootfs/nftlb" "$rootfs/nftlb/usr/local/bin/nftlb" "$@"; }
fwd=(--forward tcp/80=10.96.0.10:8080 --forward udp/53=10.96.0.10:5353 --forward "tcp/80=[fd00:96::10]:8080"
     --source-range 192.0.2.0/24)
arm=$(arm_nftlb --backend iptables-legacy --dry-run "${fwd[@]}" 2>/dev/null)
check "nftlb (arm64) --dry-run --backend iptables-legacy prints a ruleset" grep -q '^\*nat' <<<"$arm"
if [ -x build/bin/nftlb ]; then
  amd=$(build/bin/nftlb --backend iptables-legacy --dry-run "${fwd[@]}" 2>/dev/null)
  check "nftlb --dry-run --backend iptables-legacy: arm64 prints the amd64 build's ruleset, byte for byte" \
    test "$arm" == "$amd"
else
  skipped "nftlb --dry-run: arm64 = amd64" "no amd64 build/bin/nftlb to compare with (make build)"
fi
said=$(arm_nftlb --backend nftables --dry-run "${fwd[@]}" 2>&1)
skipped "nftlb (arm64) --dry-run --backend nftables" \
  "qemu-user does not carry NETLINK_NETFILTER sockets, which nftables' dry run asks first (nftlb: ${said#* error })"
arm_nftlb --forward tcp/99999=10.0.0.1:80 --dry-run >/dev/null 2>&1
check_eq "nftlb (arm64): a bad port is exit status 2" "$?" 2
"$qemu" -L "$rootfs/operator" "$rootfs/operator/usr/local/bin/akrobateo-operator" --no-such-flag >/dev/null 2>&1
check_eq "akrobateo-operator (arm64): an unknown flag is exit status 2" "$?" 2
got=$("$qemu" -L "$rootfs/nftlb" "$rootfs/nftlb/usr/sbin/iptables-legacy-restore" --version 2>&1)
check "the arm64 nftlb image's iptables-legacy-restore runs ($got)" grep -q 'legacy' <<<"$got"
check "the arm64 nftlb image has the xtables plugins (libxt_MASQUERADE.so)" \
  test -f "$rootfs/nftlb/usr/lib/aarch64-linux-gnu/xtables/libxt_MASQUERADE.so"

# What an image scanner reads: the Debian packages (arm64) whose files each image holds.
for p in operator:libc6 operator:libssl3 nftlb:libc6 nftlb:libnftnl11 nftlb:iptables; do
  image=${p%%:*} pkg=${p##*:}
  check_eq "the arm64 $image image declares $pkg (arm64) in /var/lib/dpkg/status.d" \
    "$(sed -n 's/^Architecture: //p' "$rootfs/$image/var/lib/dpkg/status.d/$pkg" 2>/dev/null)" arm64
done

# One name, two platforms.
if ! docker info >/dev/null 2>&1; then
  skipped "the OCI image index" "no Docker engine answers (docker info failed), so no amd64 image to put beside"
  finish
fi
if ! command -v skopeo >/dev/null; then
  bad "skopeo is installed" "make deps installs it"
  finish
fi
work=$(mktemp -d /tmp/akb-arm64.XXXXXX)
cleanup() { docker rmi -f "akrobateo-test/oci-$$:amd64" >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT
for image in nftlb operator; do
  if ! docker image inspect "akrobateo/$image:$version" >/dev/null 2>&1; then
    skipped "the $image OCI image index" "no image akrobateo/$image:$version here (make images builds it)"
    continue
  fi
  docker save -o "$work/$image.tar" "akrobateo/$image:$version"
  archive=$work/akrobateo-$image-$version.oci.tar
  if ! python3 hack/oci-index.py "$archive" "$version" "$work/$image.tar" "$rootfs/$image" >"$work/oci.log" 2>&1; then
    bad "hack/oci-index.py: the $image index" "$(cat "$work/oci.log")"
    continue
  fi
  platforms=$(skopeo inspect --raw "oci-archive:$archive:$version" 2>&1 |
    jq -r '[.manifests[].platform | "\(.os)/\(.architecture)"] | join(" ")' 2>&1)
  check_eq "skopeo reads the $image index: one name, two platforms" "$platforms" "linux/amd64 linux/arm64"
  arch=$(skopeo inspect --override-arch arm64 "oci-archive:$archive:$version" 2>&1 | jq -r .Architecture 2>&1)
  check_eq "skopeo: the $image index's arm64 image says architecture arm64" "$arch" arm64
  if skopeo copy -q --override-arch amd64 "oci-archive:$archive:$version" "docker-daemon:akrobateo-test/oci-$$:amd64" \
      >"$work/copy.log" 2>&1; then
    bin=nftlb
    [ "$image" = nftlb ] || bin=akrobateo-operator
    check_eq "the $image index's amd64 image is the one make images built (same image ID)" \
      "$(docker image inspect -f '{{.Id}}' "akrobateo-test/oci-$$:amd64")" \
      "$(docker image inspect -f '{{.Id}}' "akrobateo/$image:$version")"
    check_eq "the $image index's amd64 image runs in Docker: --version as akrobateo/$image:$version" \
      "$(docker run --rm "akrobateo-test/oci-$$:amd64" --version 2>&1)" \
      "$(docker run --rm "akrobateo/$image:$version" --version 2>&1)"
    docker rmi -f "akrobateo-test/oci-$$:amd64" >/dev/null 2>&1
    # The arm64 image's one layer, unpacked as a container runtime would, and run under qemu.
    mkdir -p "$work/$image-arm64"
    skopeo copy -q --override-arch arm64 "oci-archive:$archive:$version" "dir:$work/$image-arm64-dir" >/dev/null 2>&1
    layer=$(jq -r '.layers[0].digest | sub("sha256:"; "")' "$work/$image-arm64-dir/manifest.json")
    tar -xzf "$work/$image-arm64-dir/$layer" -C "$work/$image-arm64"
    check_eq "the $image index's arm64 layer, unpacked, runs under qemu: --version" \
      "$("$qemu" -L "$work/$image-arm64" "$work/$image-arm64/usr/local/bin/$bin" --version 2>&1)" "$bin $want_suffix"
  else
    bad "skopeo copies the $image index's amd64 image into Docker" "$(cat "$work/copy.log")"
  fi
done
finish
