#!/usr/bin/env bash
# Installs everything iohealth needs to build, run and test on Debian 12 (run as root).
set -euo pipefail
packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config clang llvm libclang-rt-14-dev
  # eBPF: CO-RE programs, skeletons, and the reference tool for the overhead benchmark
  bpftool libbpf-dev libbpf-tools
  # the daemon's libraries
  libinih-dev libspdlog-dev libfmt-dev libsystemd-dev libsdbus-c++-dev libsdbus-c++-bin
  nlohmann-json3-dev libcli11-dev libmount-dev libudev-dev libxml2-dev libvirt-dev
  # tests: GoogleTest, the FUSE fault harness, a private bus, systemd/logind mocks, fio
  libgtest-dev libgmock-dev libfuse3-dev fuse3 dbus python3-dbusmock fio util-linux e2fsprogs systemd
  # shellcheck for the CloudStack drop-in scripts (contrib/cloudstack)
  shellcheck
  # xmllint for the polkit actions file (polkitd adds its DTD, so the check validates too)
  libxml2-utils
  # the VM tier (tests/vm): qemu, the guest's initramfs, and the tools its scenarios run
  qemu-system-x86 busybox-static kmod cpio dmsetup iproute2 drbd-utils nfs-kernel-server jq
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "Installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
