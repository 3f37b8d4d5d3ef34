#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the Debian bookworm base image the Dockerfiles start FROM, locally, with debootstrap.
#
# Why: this machine has a Docker engine but no registry, so `FROM debian:bookworm-slim` cannot be
# pulled. `debootstrap --variant=minbase` makes the same kind of root filesystem from Debian's
# archive (which we do reach) and `docker import` turns it into an image. The tag says it is local
# (`localhost/...` never names a public registry image). Where pulling works, the Dockerfiles take
# any bookworm image instead: AKROBATEO_BASE_IMAGE=debian:bookworm-slim make images.
#
# Built once per machine: if the image exists, nothing happens. The rootfs tarball is also kept
# under /var/cache/akrobateo-base so that a `docker image prune` costs an import, not a debootstrap.
set -euo pipefail

BASE_IMAGE="${AKROBATEO_BASE_IMAGE:-localhost/akrobateo-debian:bookworm-minbase}"
MIRROR="${AKROBATEO_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
CACHE_DIR="${AKROBATEO_BASE_CACHE:-/var/cache/akrobateo-base}"
TARBALL="$CACHE_DIR/bookworm-minbase.tar"

if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  echo "base-image: $BASE_IMAGE already present"
  exit 0
fi
case "$BASE_IMAGE" in
  localhost/*) ;;
  *)
    echo "base-image: pulling $BASE_IMAGE (not a local debootstrap tag)"
    exec docker pull "$BASE_IMAGE"
    ;;
esac

if [ ! -s "$TARBALL" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "base-image: debootstrap needs root (run as root, or set AKROBATEO_BASE_IMAGE to a pullable bookworm image)" >&2
    exit 1
  fi
  command -v debootstrap >/dev/null || { echo "base-image: debootstrap missing (make deps)" >&2; exit 1; }
  mkdir -p "$CACHE_DIR"
  rootfs="$(mktemp -d "$CACHE_DIR/rootfs.XXXXXX")"
  # debootstrap mounts /proc and /sys inside the rootfs while it works; unmount before removing.
  cleanup() {
    { grep -o " $rootfs/[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do umount -l "$m" || true; done
    rm -rf --one-file-system "$rootfs" "$TARBALL.tmp"
  }
  trap cleanup EXIT
  echo "base-image: debootstrap --variant=minbase bookworm from $MIRROR (a few minutes, once)"
  debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" >"$CACHE_DIR/debootstrap.log" 2>&1 || {
    echo "base-image: debootstrap failed; last lines of $CACHE_DIR/debootstrap.log:" >&2
    tail -20 "$CACHE_DIR/debootstrap.log" >&2
    exit 1
  }
  # The same sources a debian:bookworm image carries: updates and security too.
  cat >"$rootfs/etc/apt/sources.list" <<SOURCES
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SOURCES
  # What the official slim images do: no caches, no apt lists, no docs or locales kept.
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/01-akrobateo-slim" <<'DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
DPKG
  cat >"$rootfs/etc/apt/apt.conf.d/01-akrobateo-slim" <<'APT'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
APT
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
    "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* \
    "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/*
  find "$rootfs/usr/share/doc" -mindepth 2 ! -name copyright -delete 2>/dev/null || true
  # /etc/resolv.conf and /etc/hostname come from the container runtime, not the image.
  rm -f "$rootfs/etc/resolv.conf" "$rootfs/etc/hostname"
  tar --numeric-owner -C "$rootfs" -cf "$TARBALL.tmp" .
  mv "$TARBALL.tmp" "$TARBALL"
fi

echo "base-image: docker import $TARBALL as $BASE_IMAGE"
docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["/bin/bash"]' \
  "$TARBALL" "$BASE_IMAGE" >/dev/null
docker image inspect -f 'base-image: {{.RepoTags}} {{.Size}} bytes' "$BASE_IMAGE"
