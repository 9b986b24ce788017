#!/usr/bin/env bash
# Installs what iohealth needs on Debian 12 (run as root): to build and run it by default;
# with --test also what the test tiers, the package build and the VM tier need.
# Usage: scripts/deps.sh [--test]
set -euo pipefail
packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config clang
  # eBPF: CO-RE programs and their skeletons
  bpftool libbpf-dev
  # the daemon's libraries
  libinih-dev libspdlog-dev libfmt-dev libsystemd-dev libsdbus-c++-dev libsdbus-c++-bin
  nlohmann-json3-dev libcli11-dev libmount-dev libudev-dev libxml2-dev libvirt-dev
  # systemd.pc (where units, sysusers and the catalog go) and the system bus iohealthd
  # publishes on and iohealthctl talks over
  systemd dbus
)
if [ "${1:-}" = --test ]; then
  packages+=(
    # the fuzzer and sanitizers (clang's runtime), the overhead benchmark's reference tool
    llvm libclang-rt-14-dev libbpf-tools
    # tests: GoogleTest, the FUSE fault harness, systemd/logind mocks, fio
    libgtest-dev libgmock-dev libfuse3-dev fuse3 python3-dbusmock fio util-linux e2fsprogs
    # shellcheck for the CloudStack drop-in scripts (contrib/cloudstack)
    shellcheck
    # xmllint for the polkit actions file (polkitd adds its DTD, so the check validates too)
    libxml2-utils
    # the Debian package (scripts/build-deb.sh) and its check
    debhelper dpkg-dev fakeroot lintian
    # the VM tier (tests/vm): qemu, the guest's initramfs, and the tools its scenarios run
    qemu-system-x86 busybox-static kmod cpio dmsetup iproute2 drbd-utils nfs-kernel-server jq
  )
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "Installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
