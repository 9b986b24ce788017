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

# io_timeout 4s: warn 8s, dead_after 12s leaves 4s for the near miss.
dead_after=12
cat >/tmp/iohealthd.conf <<CONF
[daemon]
mode = dry-run
discover = no

[policy]
io_timeout = 4s
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
step "dmsetup suspend bdisk0"
dmsetup suspend --nolockfs --noflush bdisk0
expect_event "verdict-changed path=r0 .*-> STALLED" 15
expect_event "fence-imminent path=r0" 20
step "dmsetup resume bdisk0"
dmsetup resume bdisk0
expect_event "near-miss path=r0" 10
expect_event "verdict-changed path=r0 .*-> HEALTHY" 30
assert_no_event "-> DEAD" "resumed before the deadline"
assert_no_event "escalation-started|step-started" "a near miss is not fenced"

step "--- 2. suspend until DEAD ---"
events_from_now
suspended_at=$(now)
step "dmsetup suspend bdisk0"
dmsetup suspend --nolockfs --noflush bdisk0
expect_event "verdict-changed path=r0 .*-> DEAD" $((dead_after + 15))
dead_in=$(seconds_between "$suspended_at" "$(event_time ' -> DEAD')")
assert_between "$dead_in" $((dead_after - 1)) $((dead_after + 5)) "DEAD after the suspend (s)"
# The verdict names DRBD waiting on its own disk, and the disk's numbers.
echo "$LAST_EVENT" | grep -Eq "lower-pending [1-9][0-9]*; backing dm-[0-9]+: 0 done, [1-9][0-9]* in flight" ||
	fail "the DEAD verdict does not show the backing disk stuck: $LAST_EVENT"
echo "$LAST_EVENT" | grep -q "replication link" && fail "a dead backing disk is not the link"
expect_event "step-started path=r0 dry-run: step 1 log-only" 5
expect_event "escalation-exhausted path=r0" 20
step "dmsetup resume bdisk0"
dmsetup resume bdisk0
expect_event "verdict-changed path=r0 DEAD -> RECOVERING" 15
expect_event "verdict-changed path=r0 RECOVERING -> HEALTHY" 20
stop_load
stop_iohealthd
pass
