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
#
# Cross mode, for another architecture's image assembled on this host (hack/cross.sh):
#   ROOTFS_TRIPLET=aarch64-linux-gnu   the libraries come from dpkg multiarch (/usr/lib/TRIPLET),
#                                      found through the ELF files' DT_NEEDED (readelf) instead of
#                                      ldd, which cannot run them; stripped with TRIPLET-strip
#   ROOTFS_FROM=DIR                    a package unpacked into DIR (dpkg-deb -x) that could not be
#                                      installed beside the host's own (iptables:arm64): its files
#                                      land at their path inside DIR, and its dpkg status comes
#                                      from the .deb files in DIR/.debs
set -euo pipefail
triplet="${ROOTFS_TRIPLET:-}"
from="${ROOTFS_FROM:-}"
[ -z "$from" ] || from="$(readlink -f "$from")"
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
  dir="$(inside "$(dirname "$src")")"
  mkdir -p "$dest$dir"
  [ -e "$dest$dir/$(basename "$src")" ] || cp -L "$src" "$dest$dir/$(basename "$src")"
}

# inside DIR: DIR's canonical path as it is in the image (without ROOTFS_FROM's prefix).
inside() {
  local dir
  dir="$(readlink -f "$1")"
  if [ -n "$from" ] && [[ "$dir" == "$from"/* ]]; then dir="${dir#"$from"}"; fi
  echo "$dir"
}

# libs FILE: the shared objects FILE loads, as absolute paths (the loader included).
libs() {
  if [ -z "$triplet" ]; then
    ldd "$1" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
    return
  fi
  # Cross: DT_NEEDED, transitively, looked up where the target's loader would find them.
  local -A seen=()
  local queue=("$1") f interp lib d
  interp=$(readelf -l "$1" 2>/dev/null | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
  [ -z "$interp" ] || echo "$interp"
  while [ ${#queue[@]} -gt 0 ]; do
    f="${queue[0]}"
    queue=("${queue[@]:1}")
    while IFS= read -r lib; do
      [ -z "${seen[$lib]:-}" ] || continue
      seen[$lib]=1
      for d in ${from:+"$from/usr/lib/$triplet"} "/usr/lib/$triplet" "/lib/$triplet"; do
        if [ -e "$d/$lib" ]; then
          echo "$d/$lib"
          queue+=("$d/$lib")
          continue 2
        fi
      done
      echo "image-rootfs: $lib (needed by $f) not found for $triplet" >&2
      return 1
    done < <(readelf -d "$f" | sed -n 's/.*(NEEDED).*Shared library: \[\(.*\)\]/\1/p')
  done
}

elf_files=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dlopen)
      dir="$(readlink -f "$2")"
      mkdir -p "$dest$(inside "$dir")"
      cp -a "$dir/." "$dest$(inside "$dir")/"
      while IFS= read -r -d '' f; do elf_files+=("$f"); done < <(find "$dir" -name '*.so' -type f -print0)
      shift 2
      ;;
    *)
      src="$1"
      if [ -L "$src" ]; then
        target="$(readlink -f "$src")"
        put "$target"
        mkdir -p "$dest$(inside "$(dirname "$src")")"
        ln -sf "$(basename "$target")" "$dest$(inside "$(dirname "$src")")/$(basename "$src")"
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
  libs_of_f=$(libs "$f")
  while IFS= read -r lib; do [ -z "$lib" ] || put "$lib"; done <<<"$libs_of_f"
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
# A package of another architecture is asked for by its qualified name (libc6:arm64), where the
# host has both; its status file keeps the plain name.
packages=$({ find "$dest" -type f ! -path "$dest/var/*" -printf '/%P\n' | sed 'p; s#^/usr/#/#' |
  xargs -r dpkg-query -S 2>/dev/null || true; } | sed 's/^\(diversion by \)\?\([^:,]*\(:[a-z0-9]\+\)\?\).*/\2/' | sort -u)
mkdir -p "$dest/var/lib/dpkg/status.d"
for pkg in $packages; do
  name="${pkg%%:*}"
  # Only the image's architecture: a cross image holds no file of the host's own packages.
  if [ -n "$triplet" ] && [ "$pkg" = "$name" ] && [ "$(dpkg-query -W -f='${Architecture}' "$pkg")" != all ]; then continue; fi
  dpkg-query -s "$pkg" | grep -v '^Conffiles:' >"$dest/var/lib/dpkg/status.d/$name"
  if [ -f "/usr/share/doc/$name/copyright" ]; then
    install -D -m 0644 "/usr/share/doc/$name/copyright" "$dest/usr/share/doc/$name/copyright"
  fi
done
# The unpacked packages of ROOTFS_FROM: their control paragraph from the .deb, as dpkg would
# record it once installed.
if [ -n "$from" ]; then
  for deb in "$from"/.debs/*.deb; do
    [ -e "$deb" ] || continue
    name=$(dpkg-deb -f "$deb" Package)
    { dpkg-deb -f "$deb" | sed '/^Package:/a Status: install ok installed'; } >"$dest/var/lib/dpkg/status.d/$name"
    if [ -f "$from/usr/share/doc/$name/copyright" ]; then
      install -D -m 0644 "$from/usr/share/doc/$name/copyright" "$dest/usr/share/doc/$name/copyright"
    fi
  done
fi
# Debug sections are not needed at run time; symbols of the project's own code stay in build/.
find "$dest" -type f \( -name '*.so*' -o -perm -u+x \) -exec "${triplet:+$triplet-}strip" --strip-unneeded {} + 2>/dev/null || true
