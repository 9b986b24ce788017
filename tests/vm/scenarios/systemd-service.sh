# The package as an operator meets it, under systemd as PID 1: dpkg -i, systemctl start
# (Type=notify reaches READY, STATUS= shows the mode and the path count); iohealthctl as root,
# as a member of the iohealth group and as an unprivileged user through the installed bus
# policy (reading allowed, changing refused); diagnostics in the journal at their real
# priority; and journalctl -x renders the catalog entry of every event the daemon logged, with
# every @FIELD@ filled, after a dry-run incident: a dm device suspended past dead_after
# (escalation, dry-run steps), resumed (recovery), the mode changed to disarmed by the group
# member, suspended again (fence suppressed).
# vm-init: systemd
# vm-timeout: 420
. "$IOHEALTH_SRC/tests/vm/guest/lib.sh"
. "$IOHEALTH_SRC/tests/vm/guest/systemd.sh"
vm_setup dm-delay
install_package
getent group iohealth >/dev/null || fail "the package did not create the iohealth group (sysusers)"
useradd -M -G iohealth ops
loop=$(make_loop 64)
dm=$(make_delay svc "$loop" 0)
step "dm-delay $dm over $loop"
cat >/tmp/iohealthd.conf <<CONF
[daemon]
mode = dry-run
discover = no
tick = 1s

[policy]
io_timeout = 4s
ladder = log-only, reboot
hold.log-only = 2s

[path disk]
device = $dm

# Not there: a warning at start, the daemon keeps running.
[path spare]
device = /dev/disk/by-id/iohealth-vm-missing-disk
CONF
configure_iohealthd /tmp/iohealthd.conf
start_unit
status=$(unit_status_line)
log "STATUS=: $status"
[[ $status == *"mode dry-run"* && $status == *"2 paths"* ]] || fail "STATUS= lacks the mode or the path count: '$status'"
systemctl status $UNIT --no-pager -n 0 | grep 'Status: "mode dry-run' >/dev/null || fail "systemctl status does not show STATUS="
start_load "$dm"

# The installed bus policy: everyone reads; root and the group change; others are refused.
iohealthctl status | grep "^disk .*HEALTHY" >/dev/null || fail "iohealthctl status as root"
runuser -u nobody -- iohealthctl status | grep "^disk " >/dev/null || fail "iohealthctl status as nobody"
if out=$(runuser -u nobody -- iohealthctl mode disarmed 2>&1); then
	fail "nobody changed the mode: $out"
fi
[[ $out == *"permission denied"* ]] || fail "the refusal does not say why: $out"
step "nobody: status read, mode change refused: ${out:0:90}"
[ "$(iohealthctl status | head -n1)" = "iohealthd $(dpkg-query -W -f '${Version}' iohealth): mode dry-run (configuration)" ] ||
	fail "the refused change changed something: $(iohealthctl status | head -n1)"

# Diagnostics at their priority: the missing device is a warning, the start line is info.
journalctl -b -p warning -u $UNIT -o cat | grep "spare.*iohealth-vm-missing-disk" >/dev/null ||
	fail "the missing device is not in journalctl -p warning: $(journalctl -b -u $UNIT -o cat | grep -m3 spare)"
journalctl -b -p warning -u $UNIT -o cat | grep "iohealthd monitoring" >/dev/null &&
	fail "the start line is stored as a warning"
journalctl -b -p info -u $UNIT -o cat | grep "iohealthd monitoring" >/dev/null || fail "no start line at info"
step "journalctl -p warning: $(journalctl -b -p warning -u $UNIT -o cat | grep -m1 spare)"

# A dry-run incident.
nap 2
events_from_now
step_run "dmsetup suspend svc" dmsetup suspend --nolockfs --noflush svc
expect_event "verdict-changed path=disk .*-> DEAD" 40
expect_event "escalation-exhausted path=disk" 20
events_from_now
step_run "dmsetup resume svc" dmsetup resume svc
expect_event "verdict-changed path=disk .*-> HEALTHY" 40
runuser -u ops -- iohealthctl mode disarmed --reason "vm tier: the ops group may" ||
	fail "a member of the iohealth group could not change the mode"
expect_event "mode-changed .*disarmed" 10
events_from_now
step_run "dmsetup suspend svc (disarmed)" dmsetup suspend --nolockfs --noflush svc
expect_event "fence-suppressed path=disk" 40
assert_no_event "step-started" "disarmed"
events_from_now
step_run "dmsetup resume svc" dmsetup resume svc
expect_event "verdict-changed path=disk .*-> HEALTHY" 40
stop_load

# The catalog: installed and compiled by the trigger; every entry the daemon logged renders.
mapfile -t catalog_ids < <(sed -n 's/^-- \([0-9a-f]\{32\}\)$/\1/p' /usr/lib/systemd/catalog/iohealthd.catalog)
((${#catalog_ids[@]} == 14)) || fail "the installed catalog has ${#catalog_ids[@]} entries, not 14"
listed=$(journalctl --list-catalog)
for id in "${catalog_ids[@]}"; do
	[[ $listed == *"$id"* ]] || fail "catalog entry $id is not in journalctl's database (trigger not run?)"
done
mapfile -t logged_ids < <(journalctl -b -u $UNIT -o export | sed -n 's/^MESSAGE_ID=//p' | sort -u)
((${#logged_ids[@]} >= 8)) || fail "only ${#logged_ids[@]} kinds of event in the journal: ${logged_ids[*]}"
for id in "${logged_ids[@]}"; do
	text=$(journalctl -b -x -u $UNIT MESSAGE_ID="$id" -n 1 --no-pager)
	[[ $text == *"Subject: "* ]] || fail "journalctl -x shows no catalog text for $id: $text"
	if [[ $text =~ @[A-Z_]+@ ]]; then fail "journalctl -x left ${BASH_REMATCH[0]} unfilled for $id: $text"; fi
done
step "journalctl -x: ${#logged_ids[@]} kinds of event rendered, every @FIELD@ filled; ${#catalog_ids[@]} entries in the catalog database"
journalctl -b -x -u $UNIT --no-pager >"$RESULTS/journal-x.txt"
grep -m1 -A4 "Subject: Fence escalation started" "$RESULTS/journal-x.txt" || true
save_unit_log
pass
