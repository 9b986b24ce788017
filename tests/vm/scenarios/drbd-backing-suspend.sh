# DRBD's backing disk stops (dmsetup suspend of the dm device under r0) under a write load:
#  1. resumed after "fence imminent", before the deadline: a near miss, no fence;
#  2. left suspended: DEAD at dead_after (DRBD never gives up on its own disk: disk-timeout 0),
#     the dry-run ladder runs; the verdict shows the backing disk's numbers; resumed: HEALTHY.
# vm-timeout: 300
. "$IOHEALTH_SRC/tests/vm/guest/lib.sh"
. "$IOHEALTH_SRC/tests/vm/guest/drbd.sh"
vm_setup dm-delay
drbd_module
disk0=$(make_delay bdisk0 "$(make_loop 32)" 0)
disk1=$(make_linear bdisk1 "$(make_loop 32)")
drbd_pair "$disk0" "$disk1"
drbd_pair_in_sync

# io_timeout 4s: warn 8s; dead_after 16s leaves 8s for the near miss.
dead_after=16
cat >/tmp/iohealthd.conf <<CONF
[daemon]
mode = dry-run
discover = no

[policy]
io_timeout = 4s
# DRBD writes under software emulation often take 100 ms and more: not what this shows.
slow_io = 1s
dead_after = ${dead_after}s
ladder = log-only, restart-agent, graceful-reboot, reboot
hold.log-only = 1s
hold.restart-agent = 1s
hold.graceful-reboot = 2s

[path r0]
drbd = r0
CONF
start_iohealthd /tmp/iohealthd.conf
wait_for_log "Path 'r0'.* is device 147:0" 30 || fail "the daemon did not resolve r0"
start_load /dev/drbd0
sleep 3 # a few healthy ticks under load first

step "--- 1. suspend the backing disk, resume before the deadline ---"
events_from_now
step_run "dmsetup suspend bdisk0" dmsetup suspend --nolockfs --noflush bdisk0
expect_event "verdict-changed path=r0 .*-> STALLED" 15
expect_event "fence-imminent path=r0" 20
step_run "dmsetup resume bdisk0 (after the warning, before DEAD)" dmsetup resume bdisk0
expect_event "near-miss path=r0" 10
stalled_for=$(sed -n 's/.*no progress for \([0-9.]*\)s of dead_after.*/\1/p' <<<"$LAST_EVENT")
assert_between "$stalled_for" 8 "$dead_after" "near miss: seconds without progress"
expect_event "verdict-changed path=r0 .*-> (RECOVERING|HEALTHY)" 10
assert_no_event "-> DEAD" "resumed before the deadline"
assert_no_event "escalation-started|step-started" "a near miss is not fenced"
# Through CONTENDED, maybe: the queued writes drain slowly under emulation.
expect_event "verdict-changed path=r0 .*-> HEALTHY" 60

step "--- 2. suspend until DEAD ---"
events_from_now
suspended_at=$(now)
step_run "dmsetup suspend bdisk0" dmsetup suspend --nolockfs --noflush bdisk0
expect_event "verdict-changed path=r0 .*-> DEAD" $((dead_after + 15))
# DEAD at dead_after after the last completion (the reason's own figure), at most two ticks
# late, and no sooner than dead_after after the suspend was asked for: DRBD has no deadline
# of its own for its disk that could hold it.
silent_for=$(sed -n 's/.*-> DEAD:.* no completion for \([0-9.]*\)s.*/\1/p' <<<"$LAST_EVENT")
assert_between "$silent_for" "$dead_after" $((dead_after + 2)) "DEAD: seconds without a completion"
dead_in=$(seconds_between "$suspended_at" "$(event_time ' -> DEAD')")
assert_between "$dead_in" "$dead_after" $((dead_after + 6)) "DEAD: seconds after dmsetup suspend"
# The verdict shows DRBD waiting on its own disk, and the disk completing nothing. (A
# suspended dm device counts the bios it holds back as in flight nowhere: DRBD's
# lower-pending does.)
grep -Eq "lower-pending [1-9][0-9]*; backing dm-[0-9]+: 0 done" <<<"$LAST_EVENT" ||
	fail "the DEAD verdict does not show the backing disk stuck: $LAST_EVENT"
if grep -q "replication link" <<<"$LAST_EVENT"; then
	fail "a dead backing disk is not the replication link: $LAST_EVENT"
fi
expect_event "step-started path=r0 dry-run: step 1 log-only" 5
expect_event "escalation-exhausted path=r0" 20
for action in "1 log-only" "2 restart-agent" "3 graceful-reboot" "4 reboot"; do
	assert_event "step-succeeded path=r0 dry-run: step $action succeeded: dry-run: would"
done
step_run "dmsetup resume bdisk0" dmsetup resume bdisk0
expect_event "verdict-changed path=r0 DEAD -> RECOVERING" 15
expect_event "verdict-changed path=r0 .*-> HEALTHY" 60
stop_load
stop_iohealthd
pass
