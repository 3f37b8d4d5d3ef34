#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Used inside the Dockerfiles' "rootfs" stage: copies the given programs, and exactly the shared
# libraries they load (their ldd closure plus the dynamic loader), into DEST, which the final
# stage copies onto an empty image. That is how an image carries "only its runtime libs":
# no shell, no package manager, no coreutils, nothing an attacker or a stale CVE scanner finds.
#
#   image-rootfs.sh DEST PROGRAM... [--dlopen DIR]...
#
# A PROGRAM that is a symlink (iptables-legacy-restore -> xtables-legacy-multi) is kept as a
# symlink next to its target. --dlopen DIR copies a directory of plugins loaded at run time
# (iptables' xtables extensions) together with their own library closure.
set -euo pipefail
dest="$1"
shift
mkdir -p "$dest"
# Merged /usr, as in Debian bookworm: /lib64/ld-linux-x86-64.so.2 (the ELF interpreter) resolves.
for d in bin sbin lib lib64; do
  mkdir -p "$dest/usr/$d"
  [ -e "$dest/$d" ] || ln -s "usr/$d" "$dest/$d"
done
mkdir -p "$dest/tmp" "$dest/run" "$dest/etc"
chmod 1777 "$dest/tmp"

# put PATH: copies the file PATH points at to its canonical directory under DEST, keeping the
# name PATH has (the SONAME name the loader looks for).
put() {
  local src="$1" dir
  dir="$(readlink -f "$(dirname "$src")")"
  mkdir -p "$dest$dir"
  [ -e "$dest$dir/$(basename "$src")" ] || cp -L "$src" "$dest$dir/$(basename "$src")"
}

# libs FILE: the shared objects FILE loads, as absolute paths (the loader included).
libs() {
  ldd "$1" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
}

elf_files=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dlopen)
      dir="$(readlink -f "$2")"
      mkdir -p "$dest$dir"
      cp -a "$dir/." "$dest$dir/"
      while IFS= read -r -d '' f; do elf_files+=("$f"); done < <(find "$dir" -name '*.so' -type f -print0)
      shift 2
      ;;
    *)
      src="$1"
      if [ -L "$src" ]; then
        target="$(readlink -f "$src")"
        put "$target"
        mkdir -p "$dest$(readlink -f "$(dirname "$src")")"
        ln -sf "$(basename "$target")" "$dest$(readlink -f "$(dirname "$src")")/$(basename "$src")"
        elf_files+=("$target")
      else
        put "$src"
        elf_files+=("$src")
      fi
      shift
      ;;
  esac
done

for f in "${elf_files[@]}"; do
  while IFS= read -r lib; do put "$lib"; done < <(libs "$f")
done
# The distribution the files came from, where scanners look for it (/etc/os-release, a symlink
# to /usr/lib/os-release as in Debian): without it syft gives the Debian packages below no
# package URL (pkg:deb/debian/...?distro=debian-12), and Grype cannot match them to Debian's
# security tracker.
put /usr/lib/os-release
ln -sfn ../usr/lib/os-release "$dest/etc/os-release"
# What an image scanner needs to see the Debian packages these files came from (glibc, OpenSSL,
# libnftnl, ...): for each, its dpkg status paragraph in /var/lib/dpkg/status.d/<package> (the
# layout of distroless images, which Trivy, Grype and Syft read) and its copyright file.
# dpkg knows some files by their path before the /usr merge (libc6's /lib/...), so each file is
# asked for under both; dpkg-query -S fails for the project's own files, which no package owns.
packages=$({ find "$dest" -type f ! -path "$dest/var/*" -printf '/%P\n' | sed 'p; s#^/usr/#/#' |
  xargs -r dpkg-query -S 2>/dev/null || true; } | sed 's/^\(diversion by \)\?\([^:,]*\).*/\2/' | sort -u)
mkdir -p "$dest/var/lib/dpkg/status.d"
for pkg in $packages; do
  dpkg-query -s "$pkg" | grep -v '^Conffiles:' >"$dest/var/lib/dpkg/status.d/$pkg"
  if [ -f "/usr/share/doc/$pkg/copyright" ]; then
    install -D -m 0644 "/usr/share/doc/$pkg/copyright" "$dest/usr/share/doc/$pkg/copyright"
  fi
done
# Debug sections are not needed at run time; symbols of the project's own code stay in build/.
find "$dest" -type f \( -name '*.so*' -o -perm -u+x \) -exec strip --strip-unneeded {} + 2>/dev/null || true
