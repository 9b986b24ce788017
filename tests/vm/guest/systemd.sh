# shellcheck shell=bash
# The systemd tier's additions to lib.sh (source it after lib.sh): the package installed with
# dpkg -i as an operator would, and iohealthd run by systemd from its installed unit. Only the
# event log (for the timeline) is added to the unit, in a drop-in; everything else is the
# package's own.

UNIT=iohealthd.service
IOHEALTHD=/usr/sbin/iohealthd
CONFIG=/etc/iohealth/iohealthd.conf
DAEMON_LOG=$RESULTS/iohealthd.log # journalctl -u iohealthd, written at the end (timeline)

# install_package: dpkg -i of build/deb's package. The unit is not started by the install
# (policy-rc.d, as image builders do): the scenario writes its configuration first. man-db's
# trigger is off: rebuilding the man index under emulation takes a minute and proves nothing.
install_package() {
	local debs deb t0
	debs=("$IOHEALTH_BUILD"/deb/iohealth_*.deb)
	deb=${debs[0]}
	[ -f "$deb" ] || fail "no package in $IOHEALTH_BUILD/deb: $(ls -la "$IOHEALTH_BUILD/deb" 2>&1)"
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 0755 /usr/sbin/policy-rc.d
	rm -f /var/lib/man-db/auto-update
	t0=$(now)
	dpkg -i "$deb" >"$RESULTS/dpkg.log" 2>&1 || fail "dpkg -i $(basename "$deb"): $(tail -n 5 "$RESULTS/dpkg.log")"
	rm -f /usr/sbin/policy-rc.d
	STEP_AT=$t0 step "dpkg -i $(basename "$deb") ($(seconds_between "$t0" "$(now)") s)"
	[ -x "$IOHEALTHD" ] || fail "the package did not install $IOHEALTHD"
}

# configure_iohealthd FILE: FILE becomes the installed configuration; the unit's drop-in adds
# the event log on the share.
configure_iohealthd() {
	install -m 0644 "$1" "$CONFIG"
	cp "$1" "$RESULTS/iohealthd.conf"
	mkdir -p /etc/systemd/system/$UNIT.d
	printf '[Service]\nExecStart=\nExecStart=%s --event-log %s\n' "$IOHEALTHD" "$EVENT_LOG" \
		>/etc/systemd/system/$UNIT.d/vm-event-log.conf
	systemctl daemon-reload
}

# start_unit: systemctl start (Type=notify: returns once the daemon sent READY=1); fails when
# the daemon runs without BPF unless VM_ALLOW_DEGRADED=1.
start_unit() {
	local t0
	t0=$(now)
	systemctl start $UNIT || fail "systemctl start $UNIT: $(systemctl status $UNIT --no-pager -n 20 2>&1)"
	IOHEALTHD_PID=$(systemctl show -P MainPID $UNIT)
	STEP_AT=$t0 step "systemctl start $UNIT: active, READY after $(seconds_between "$t0" "$(now)") s, pid $IOHEALTHD_PID"
	if [ "${VM_ALLOW_DEGRADED:-0}" != 1 ]; then
		! journalctl -b -u $UNIT -o cat | grep -q "DEGRADED MODE" ||
			fail "iohealthd runs without BPF: $(journalctl -b -u $UNIT -o cat | grep -m1 'DEGRADED MODE')"
	fi
}

# unit_status_line: the STATUS= text systemd shows for the unit.
unit_status_line() { systemctl show -P StatusText $UNIT; }

# wait_for UNTIL_S CMD...: polls CMD (every 0.5 s) until it succeeds; returns 1 after UNTIL_S.
wait_for() {
	local deadline
	now_cs
	deadline=$((NOW_CS + $1 * 100))
	shift
	until "$@" >/dev/null 2>&1; do
		now_cs
		((NOW_CS < deadline)) || return 1
		nap 0.5
	done
}

# save_unit_log: the unit's journal (all priorities) into iohealthd.log on the share.
save_unit_log() { journalctl -b -u $UNIT -o short-monotonic --no-pager >"$DAEMON_LOG" 2>&1 || true; }

# start_vm_standin [DEVICE]: vm-standin.service, a stand-in for a VM's qemu process, started
# now; its ExecStop (guest/vm-standin-stop.sh) leaves a mark on the share when the shutdown
# stops it, and with DEVICE then blocks reading it (dead storage: the shutdown hangs there,
# TimeoutStopSec=infinity, as a VM whose disk is gone) while alive.log ticks.
start_vm_standin() {
	cat >/etc/systemd/system/vm-standin.service <<UNIT
[Unit]
Description=Stand-in for a VM's qemu process
RequiresMountsFor=$RESULTS
[Service]
ExecStart=/bin/sleep infinity
ExecStop=$IOHEALTH_SRC/tests/vm/guest/vm-standin-stop.sh $RESULTS ${1:-}
TimeoutStopSec=infinity
UNIT
	systemctl daemon-reload
	systemctl start vm-standin.service
	step "vm-standin.service running${1:+ (its stop reads $1)}"
}

# expect_path NAME VERDICT S: iohealthctl (on the system bus) shows path NAME with VERDICT
# within S seconds, or the scenario fails. A path's first verdict is not an event.
path_is() { iohealthctl status | grep "^$1 .*$2" >/dev/null; }
expect_path() {
	wait_for "$3" path_is "$1" "$2" || fail "path $1 is not $2 within $3s: $(iohealthctl status 2>&1)"
	log "iohealthctl: path $1 is $2"
}

# configure_graceful_ladder PATH DEVICE: armed, ladder log-only, graceful-reboot, reboot, the
# hardware watchdog (/dev/watchdog0) armed by the graceful step, tick 1 s, graceful_deadline
# 12 s (the reboot scenarios' host checks measure against these), one path on DEVICE.
configure_graceful_ladder() {
	cat >/tmp/iohealthd.conf <<CONF
[daemon]
mode = armed
discover = no
tick = 1s
watchdog_device = /dev/watchdog0

[policy]
io_timeout = 4s
ladder = log-only, graceful-reboot, reboot
hold.log-only = 1s
graceful_deadline = 12s

[path $1]
device = $2
CONF
	configure_iohealthd /tmp/iohealthd.conf
}
