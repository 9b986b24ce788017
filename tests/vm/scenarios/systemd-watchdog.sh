# systemd's WatchdogSec= on the installed unit: a daemon that stops pinging (kill -STOP, as a
# hang would) is killed by systemd when the watchdog expires and restarted; the journal says
# so, and the new daemon monitors again (READY, STATUS=, events).
# vm-init: systemd
# vm-timeout: 360
. "$IOHEALTH_SRC/tests/vm/guest/lib.sh"
. "$IOHEALTH_SRC/tests/vm/guest/systemd.sh"
vm_setup
install_package
loop=$(make_loop 64)
cat >/tmp/iohealthd.conf <<CONF
[daemon]
mode = dry-run
discover = no

[path disk]
device = $loop
CONF
configure_iohealthd /tmp/iohealthd.conf
start_unit
watchdog_us=$(systemctl show -P WatchdogUSec $UNIT)
log "WatchdogUSec=$watchdog_us"
[ "$watchdog_us" = 30s ] || fail "the installed unit's watchdog is '$watchdog_us', not 30s"
first_pid=$IOHEALTHD_PID
expect_path disk HEALTHY 20

stopped_at=$(now)
kill -STOP "$first_pid"
STEP_AT=$stopped_at step "kill -STOP $first_pid (iohealthd stops pinging the watchdog)"
# systemd kills it at 30 s (SIGABRT), restarts it after RestartSec=2s; READY again.
wait_for 60 eval '[ "$(systemctl show -P MainPID $UNIT)" != "$first_pid" ] &&
	[ "$(systemctl show -P MainPID $UNIT)" != 0 ] && systemctl is-active -q $UNIT' ||
	fail "systemd did not restart iohealthd within 60s of the STOP: $(systemctl status $UNIT --no-pager -n 10)"
restarted_at=$(now)
IOHEALTHD_PID=$(systemctl show -P MainPID $UNIT)
STEP_AT=$restarted_at step "iohealthd active again, pid $IOHEALTHD_PID ($(seconds_between "$stopped_at" "$restarted_at") s after the STOP)"
assert_between "$(seconds_between "$stopped_at" "$restarted_at")" 30 45 "STOP to the restarted daemon's READY (WatchdogSec 30s + RestartSec 2s + start)"
[ "$(systemctl show -P NRestarts $UNIT)" = 1 ] || fail "NRestarts is $(systemctl show -P NRestarts $UNIT), not 1"
kill -0 "$first_pid" 2>/dev/null && fail "the stopped daemon $first_pid still exists"

# The journal says what happened, from systemd's side.
says=$(journalctl -b -u $UNIT -o cat --no-pager)
[[ $says == *"Watchdog timeout"* ]] || fail "the journal does not record the watchdog timeout"
[[ $says == *"Scheduled restart job"* ]] || fail "the journal does not record the restart"
step "journal: $(journalctl -b -u $UNIT -o cat --no-pager | grep -m1 'Watchdog timeout'); $(journalctl -b -u $UNIT -o cat --no-pager | grep -m1 'Scheduled restart job')"

# Monitoring resumed: the new process's start line, STATUS= and the path's verdict on the bus.
journalctl -b _PID="$IOHEALTHD_PID" -o cat --no-pager | grep "iohealthd monitoring 1 path" >/dev/null ||
	fail "no start line from the new daemon $IOHEALTHD_PID"
wait_for 20 eval '[[ "$(unit_status_line)" == *"1 path"* ]]' || fail "no STATUS= from the new daemon"
expect_path disk HEALTHY 20
step "monitoring resumed: $(unit_status_line)"
save_unit_log
pass
