#!/usr/bin/env bash
# Fetches Debian's stock kernel (the one linux-image-amd64 depends on) once per machine and
# prints the directory that holds it: vmlinuz (and vmlinux, uncompressed) and
# lib/modules/<version> with modules.dep.
# This host's own kernel has no DRBD, NFS or device-mapper; the stock one has them as modules.
# Usage: fetch_kernel.sh [CACHE_ROOT]   (default /var/cache/iohealth-vm)
set -euo pipefail
cache_root=${1:-${IOHEALTH_VM_CACHE:-/var/cache/iohealth-vm}}

stock_kernel_package() {
  apt-cache depends linux-image-amd64 2>/dev/null |
    sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n1
}
package=$(stock_kernel_package)
if [ -z "$package" ]; then
  # A fresh machine may have no package lists yet.
  apt-get update -qq >&2 || true
  package=$(stock_kernel_package)
fi
if [ -z "$package" ]; then
  echo "fetch_kernel: apt-cache knows no linux-image-amd64 dependency (run apt-get update)" >&2
  exit 1
fi
version=${package#linux-image-}
dir=$cache_root/$version
mkdir -p "$cache_root"

# Several test processes may ask at once: one fetches, the others wait for it.
exec 9>"$cache_root/.lock"
flock 9
if [ ! -e "$dir/.complete" ]; then
  rm -rf "$dir"
  work=$(mktemp -d "$cache_root/.fetch.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  # Into a root-only directory: apt's _apt sandbox user could not write there.
  (cd "$work" && apt-get download -q -o APT::Sandbox::User=root "$package" >&2)
  dpkg -x "$work"/"$package"_*.deb "$work/root"
  depmod -b "$work/root" "$version"
  mv "$work/root/boot/vmlinuz-$version" "$work/root/vmlinuz"
  mv "$work/root" "$dir"
  touch "$dir/.complete"
fi
# The uncompressed ELF boots through its PVH entry: no decompression under emulation, which
# takes about 15 s of every boot. Debian compresses with xz (the payload is followed by more
# data, hence xz's error); without a vmlinux, run_vm.sh boots vmlinuz.
if [ ! -e "$dir/vmlinux" ] && [ ! -e "$dir/.no-vmlinux" ]; then
  offset=$(LC_ALL=C grep -abo $'\xfd7zXZ' "$dir/vmlinuz" | head -n1 | cut -d: -f1)
  if [ -n "$offset" ]; then
    tail -c +$((offset + 1)) "$dir/vmlinuz" >"$dir/vmlinux.xz"
    xz -dcq "$dir/vmlinux.xz" >"$dir/vmlinux.tmp" 2>/dev/null || true
    rm -f "$dir/vmlinux.xz"
  fi
  if [ -s "$dir/vmlinux.tmp" ] && [ "$(head -c4 "$dir/vmlinux.tmp")" = $'\x7fELF' ]; then
    mv "$dir/vmlinux.tmp" "$dir/vmlinux"
  else
    rm -f "$dir/vmlinux.tmp"
    touch "$dir/.no-vmlinux"
  fi
fi
echo "$dir"
