#!/bin/bash
# The systemd tier's second stage (scenarios marked "# vm-init: systemd"): PID 1 for a moment on
# the overlay root that initramfs/init mounted. It mounts the guest disk as the persistent
# journal, loads the watchdog driver, makes systemd boot into iohealth-vm.target (journald,
# the system dbus-daemon, logind; none of this machine's own services) with the scenario as a
# unit, and execs systemd, which stays PID 1.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mark() { echo "IOHEALTH-VM: $*" >/dev/console; }
halt_now() {
	mark "systemd-boot: $*"
	echo o >/proc/sysrq-trigger
	sleep 30
}

# shellcheck source=/dev/null
. /results/vm.env
mark "booted $(uname -r) in $(cut -d' ' -f1 /proc/uptime)s; starting systemd"

# The guest disk (run_vm.sh formats it ext4 on the host): journald's persistent storage, which
# the host reads back after the guest is gone, reset or not.
modprobe -a virtio_blk ext4 i6300esb || halt_now "modprobe virtio_blk ext4 i6300esb failed"
mkdir -p /var/log/journal
mount -t ext4 /dev/vda /var/log/journal || halt_now "cannot mount the journal disk /dev/vda"
mkdir -p /etc/systemd/journald.conf.d /etc/systemd/system
cat >/etc/systemd/journald.conf.d/iohealth-vm.conf <<'CONF'
[Journal]
Storage=persistent
ForwardToConsole=yes
TTYPath=/dev/ttyS0
MaxLevelConsole=warning
CONF
echo iohealth-vm >/etc/hostname
# Its status lines (Starting, Stopping) on the console at every boot, not only slow ones: the
# host reads what a shutdown was doing when the guest was reset.
mkdir -p /etc/systemd/system.conf.d
printf '[Manager]\nShowStatus=yes\n' >/etc/systemd/system.conf.d/iohealth-vm.conf

unit=/etc/systemd/system
cat >$unit/iohealth-vm.target <<'UNIT'
[Unit]
Description=The iohealth VM tier: journald, the system bus, logind and the scenario
Requires=basic.target
After=basic.target
Wants=dbus.service systemd-logind.service iohealth-scenario.service
AllowIsolate=yes
UNIT
ln -sf iohealth-vm.target $unit/default.target
cat >$unit/iohealth-scenario.service <<UNIT
[Unit]
Description=iohealth VM tier scenario $IOHEALTH_SCENARIO
After=basic.target dbus.service systemd-logind.service systemd-journal-flush.service

[Service]
Type=exec
ExecStart=/bin/bash $IOHEALTH_SRC/tests/vm/guest/systemd-scenario.sh
StandardOutput=journal+console
StandardError=inherit
TimeoutStopSec=5s
UNIT
# This machine's own services and timers: nothing a guest without network needs.
for u in systemd-timesyncd.service systemd-pstore.service apt-daily.timer apt-daily-upgrade.timer \
	dpkg-db-backup.timer e2scrub_all.timer fstrim.timer man-db.timer rpcbind.socket \
	systemd-tmpfiles-clean.timer; do
	ln -sf /dev/null "$unit/$u"
done
exec /lib/systemd/systemd
