#!/usr/bin/env bash
# `cmake --install` into a staging root, once with --prefix /usr and once with /usr/local:
# ExecStart names the daemon where that install put it, and the files other programs read
# (unit, sysusers, catalog, bus policy, polkit actions, bash completion) are where systemd,
# dbus-daemon, polkitd and bash-completion look, whatever the prefix.
# Usage: install_layout_check.sh BUILD_DIR
set -euo pipefail
build=$1
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
failed=0
check() {
  if [ -e "$2" ]; then echo "ok: $1"; else echo "FAIL: $1: no $2"; failed=1; fi
}
unitdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || echo /lib/systemd/system)
for prefix in /usr /usr/local; do
  root=$stage$prefix-root
  DESTDIR=$root cmake --install "$build" --prefix "$prefix" >/dev/null
  echo "--- --prefix $prefix"
  check "daemon" "$root$prefix/sbin/iohealthd"
  check "CLI" "$root$prefix/bin/iohealthctl"
  check "unit in $unitdir" "$root$unitdir/iohealthd.service"
  exec_start=$(sed -n 's/^ExecStart=//p' "$root$unitdir/iohealthd.service")
  if [ "$exec_start" = "$prefix/sbin/iohealthd" ]; then
    echo "ok: ExecStart=$exec_start"
  else
    echo "FAIL: ExecStart=$exec_start, the daemon is at $prefix/sbin/iohealthd"
    failed=1
  fi
  check "bus policy where dbus-daemon reads it" "$root/usr/share/dbus-1/system.d/org.iohealth.IoHealth1.conf"
  check "polkit actions where polkitd reads them" "$root/usr/share/polkit-1/actions/org.iohealth.IoHealth1.policy"
  check "sysusers entry" "$root/usr/lib/sysusers.d/iohealthd.conf"
  check "journal catalog" "$root/usr/lib/systemd/catalog/iohealthd.catalog"
  check "bash completion" "$root/usr/share/bash-completion/completions/iohealthctl"
  check "configuration (read from /etc/iohealth)" "$root/etc/iohealth/iohealthd.conf"
  check "man page iohealthd(8)" "$root$prefix/share/man/man8/iohealthd.8"
  check "CloudStack drop-ins (not activated)" "$root$prefix/share/iohealth/cloudstack/kvmheartbeat.sh"
  check "CloudStack SharedMountPoint drop-in" "$root$prefix/share/iohealth/cloudstack/kvmsmpheartbeat.sh"
  check "iohealth-cloudstack, with the drop-ins' directory" "$root$prefix/sbin/iohealth-cloudstack"
  # It links the drop-ins installed beside it (on a test script directory and dpkg database).
  t=$(mktemp -d)
  mkdir "$t/kvm" "$t/dpkg" && : > "$t/dpkg/diversions"
  DPKG_ADMINDIR=$t/dpkg IOHEALTH_CLOUDSTACK_SCRIPTS=$t/kvm "$root$prefix/sbin/iohealth-cloudstack" enable >/dev/null
  if [ "$(readlink "$t/kvm/kvmsmpheartbeat.sh")" = "$root$prefix/share/iohealth/cloudstack/kvmsmpheartbeat.sh" ]; then
    echo "ok: iohealth-cloudstack links the drop-ins beside it"
  else
    echo "FAIL: iohealth-cloudstack linked '$(readlink "$t/kvm/kvmsmpheartbeat.sh")'"; failed=1
  fi
  rm -rf "$t"
done
exit $failed
