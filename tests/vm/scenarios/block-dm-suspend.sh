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

# io_timeout 4s: stall 2s, warn 8s; dead_after 16s leaves 8s between the warning and DEAD
# for the near miss (a busy host slows every command in the guest to up to a second). slow_io
# 1s, not 80ms: an emulated guest on a busy host has a p99 of 100+ ms, and this scenario is
# about stalls, not contention. Short holds so the dry-run ladder runs to its end in seconds.
dead_after=16
cat >/tmp/iohealthd.conf <<CONF
[daemon]
mode = dry-run
discover = no

[policy]
io_timeout = 4s
dead_after = ${dead_after}s
slow_io = 1s
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
nap 3 # a few healthy ticks under load before the first fault

step "--- 1. suspend, resume before the deadline ---"
events_from_now
step_run "dmsetup suspend iohdelay" dmsetup suspend --nolockfs --noflush iohdelay
expect_event "verdict-changed path=dm .*-> STALLED" 15
expect_event "fence-imminent path=dm" 20
step_run "dmsetup resume iohdelay (after the warning, before DEAD)" dmsetup resume iohdelay
expect_event "near-miss path=dm" 10
# Stalled past the warning (8s), short of the deadline.
stalled_for=$(sed -n 's/.*no progress for \([0-9.]*\)s of dead_after.*/\1/p' <<<"$LAST_EVENT")
assert_between "$stalled_for" 8 "$dead_after" "near miss: seconds without progress"
expect_event "verdict-changed path=dm .*-> (RECOVERING|HEALTHY)" 10
assert_no_event "-> DEAD" "resumed before the deadline"
assert_no_event "escalation-started|step-started" "a near miss is not fenced"

expect_event "verdict-changed path=dm .*-> HEALTHY" 60

step "--- 2. suspend until DEAD ---"
events_from_now
suspended_at=$(now)
step_run "dmsetup suspend iohdelay" dmsetup suspend --nolockfs --noflush iohdelay
expect_event "verdict-changed path=dm .*-> STALLED" 15
expect_event "verdict-changed path=dm .*-> DEAD" $((dead_after + 15))
# DEAD at dead_after after the last completion (the reason's own figure), at most two ticks
# late; and no sooner than dead_after after the suspend was asked for.
silent_for=$(sed -n 's/.*-> DEAD:.* no completion for \([0-9.]*\)s.*/\1/p' <<<"$LAST_EVENT")
assert_between "$silent_for" "$dead_after" $((dead_after + 2)) "DEAD: seconds without a completion"
dead_in=$(seconds_between "$suspended_at" "$(event_time ' -> DEAD')")
assert_between "$dead_in" "$dead_after" $((dead_after + 6)) "DEAD: seconds after dmsetup suspend"
assert_before "fence-imminent path=dm" " -> DEAD"
expect_event "step-started path=dm dry-run: step 1 log-only" 5
expect_event "step-started path=dm dry-run: step 4 reboot" 20
expect_event "escalation-exhausted path=dm" 10
for action in "1 log-only" "2 restart-agent" "3 graceful-reboot" "4 reboot"; do
	assert_event "step-succeeded path=dm dry-run: step $action succeeded: dry-run: would"
done
step_run "dmsetup resume iohdelay" dmsetup resume iohdelay
expect_event "verdict-changed path=dm DEAD -> RECOVERING" 10
# Through CONTENDED, maybe: the queued writes drain slowly under emulation.
expect_event "verdict-changed path=dm .*-> HEALTHY" 60
# The bio probes tracked the device (start_iohealthd already failed a daemon without them).
# The HEALTHY reason names no latency figure: it must not change every tick.
! grep -q "Failed to track block device" "$DAEMON_LOG" ||
	fail "the bio probes did not track $dm: $(grep -m1 'Failed to track block device' "$DAEMON_LOG")"
stop_load
stop_iohealthd
pass
