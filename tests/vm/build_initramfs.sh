#!/usr/bin/env bash
# Builds the guest's initramfs for the kernel in KERNEL_DIR (from fetch_kernel.sh): static
# busybox, the modules the first stage needs (9p over virtio, overlay) and initramfs/init.
# Kept next to the kernel and rebuilt only when init or this script change. Prints its path.
# Usage: build_initramfs.sh KERNEL_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kernel_dir=$1
version=$(basename "$kernel_dir")
busybox=/bin/busybox
# ldd fails on a static binary: the initramfs has no libc.
if [ ! -x "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
  echo "build_initramfs: $busybox is not a static busybox (install busybox-static)" >&2
  exit 1
fi
hash=$(cat "$here/initramfs/init" "$0" | sha256sum | cut -c1-16)
out=$kernel_dir/initramfs-$hash.gz
exec 9>"$kernel_dir/.initramfs.lock"
flock 9
if [ ! -e "$out" ]; then
  rm -f "$kernel_dir"/initramfs-*.gz
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work"/{bin,modules,proc,sys,dev}
  cp "$busybox" "$work/bin/busybox"
  install -m 0755 "$here/initramfs/init" "$work/init"
  # The modules that mount the root, and what they need first (modules.dep lists a module's
  # dependencies so that the last one loads first), in load order in modules/order.
  moddir=$kernel_dir/lib/modules/$version
  declare -A seen=()
  add_module() {
    local rel=$1 deps i
    [ -z "${seen[$rel]:-}" ] || return 0
    seen[$rel]=1
    deps=($(sed -n "s|^$rel: *||p" "$moddir/modules.dep"))
    for ((i = ${#deps[@]} - 1; i >= 0; i--)); do add_module "${deps[i]}"; done
    cp "$moddir/$rel" "$work/modules/"
    basename "$rel" >>"$work/modules/order"
  }
  for m in virtio_pci 9pnet_virtio 9p overlay; do
    rel=$(grep -o "^[^:]*/$m\.ko:" "$moddir/modules.dep" | tr -d :) ||
      { echo "build_initramfs: module $m not in $moddir/modules.dep" >&2; exit 1; }
    add_module "$rel"
  done
  (cd "$work" && find . | "$busybox" cpio -o -H newc 2>/dev/null | gzip -1) >"$out.tmp"
  mv "$out.tmp" "$out"
fi
echo "$out"
