# A device-mapper device (dm-delay over a loop device: bio-based, so the block_bio probes see
# it) under a steady write load, suspended with dmsetup:
#  1. resumed after "fence imminent" but before the deadline: a near miss, no fence;
#  2. left suspended: STALLED, DEAD at dead_after, the whole ladder in dry-run; resumed:
#     RECOVERING, HEALTHY.
# vm-timeout: 300
. "$IOHEALTH_SRC/tests/vm/guest/lib.sh"
vm_setup dm-delay

loop=$(make_loop 64)
dm=$(make_delay iohdelay "$loop" 0)
step "dm-delay $dm over $loop"

# io_timeout 4s: stall 2s, warn 8s; dead_after 12s leaves 4s between the warning and DEAD
# for the near miss. Short holds so the dry-run ladder runs to its end in seconds.
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

[path dm]
device = $dm
CONF
start_iohealthd /tmp/iohealthd.conf
start_load "$dm"
wait_for_log "Path 'dm'.* is device" 20 || fail "the daemon did not resolve $dm"
sleep 3 # a few healthy ticks under load before the first fault

step "--- 1. suspend, resume before the deadline ---"
events_from_now
step "dmsetup suspend iohdelay"
dmsetup suspend --nolockfs --noflush iohdelay
expect_event "verdict-changed path=dm .*-> STALLED" 15
expect_event "fence-imminent path=dm" 20
step "dmsetup resume iohdelay (after the warning, before DEAD)"
dmsetup resume iohdelay
expect_event "near-miss path=dm" 10
expect_event "verdict-changed path=dm .*-> (RECOVERING|HEALTHY)" 10
assert_no_event "-> DEAD" "resumed before the deadline"
assert_no_event "escalation-started|step-started" "a near miss is not fenced"

expect_event "verdict-changed path=dm .*-> HEALTHY" 20

step "--- 2. suspend until DEAD ---"
events_from_now
step "dmsetup suspend iohdelay"
suspended_at=$(now)
dmsetup suspend --nolockfs --noflush iohdelay
expect_event "verdict-changed path=dm .*-> STALLED" 15
expect_event "verdict-changed path=dm .*-> DEAD" $((dead_after + 15))
dead_in=$(seconds_between "$suspended_at" "$(event_time ' -> DEAD')")
# The last completion is just before the suspend; DEAD comes at dead_after, up to a few ticks
# late under software emulation.
assert_between "$dead_in" $((dead_after - 1)) $((dead_after + 4)) "DEAD after the suspend (s)"
assert_before "fence-imminent path=dm" " -> DEAD"
expect_event "step-started path=dm dry-run: step 1 log-only" 5
expect_event "step-started path=dm dry-run: step 4 reboot" 20
expect_event "escalation-exhausted path=dm" 10
for action in "1 log-only" "2 restart-agent" "3 graceful-reboot" "4 reboot"; do
	assert_event "step-succeeded path=dm dry-run: step $action succeeded: dry-run: would"
done
step "dmsetup resume iohdelay"
dmsetup resume iohdelay
expect_event "verdict-changed path=dm DEAD -> RECOVERING" 10
expect_event "verdict-changed path=dm RECOVERING -> HEALTHY" 20
stop_load
stop_iohealthd
pass
