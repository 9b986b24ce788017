# DRBD's peer goes silent (every packet between r0 and r1 dropped on lo): protocol C writes on
# the primary wait for the peer's acks until DRBD gives up on it and continues alone. While
# they wait, the verdict names the replication link and DRBD's own deadline; the primary is
# never fenced.
#
# The hard form: no heartbeat (its reads would be served by the local disk and keep the
# path alive) and dead_witnesses = either, so the stuck writes alone would make the path DEAD
# at dead_after (10s). DRBD is set to give up later than that: ko-count 2 x timeout 6s = 12s
# after the oldest unacknowledged write (ping-int 15s would be later); DEAD must wait for it.
# vm-timeout: 300
. "$IOHEALTH_SRC/tests/vm/guest/lib.sh"
. "$IOHEALTH_SRC/tests/vm/guest/drbd.sh"
vm_setup sch_netem
drbd_module
disk0=$(make_linear sdisk0 "$(make_loop 32)")
disk1=$(make_linear sdisk1 "$(make_loop 32)")
drbd_pair "$disk0" "$disk1" --ko-count=2 --timeout=60 --ping-int=15
drbd_pair_in_sync

cat >/tmp/iohealthd.conf <<CONF
[daemon]
mode = dry-run
discover = no
record = $RESULTS/record.jsonl

[policy]
io_timeout = 4s
# DRBD writes under software emulation often take 100 ms and more: not what this shows.
slow_io = 1s
heartbeat = no
dead_witnesses = either
ladder = log-only, reboot

[path r0]
drbd = r0
CONF
start_iohealthd /tmp/iohealthd.conf
wait_for_log "Path 'r0'.* is device 147:0" 30 || fail "the daemon did not resolve r0"
wait_for_log "DRBD drops a peer 127.0.0.1:7790 .*ko-count 2 x timeout 6s = 12s, later than dead_after 10s" 10 ||
	fail "no start-up warning about DRBD's timeouts"
start_load /dev/drbd0
sleep 3 # a few healthy ticks under load first

events_from_now
step_run "drop every packet between r0 and r1 (tc netem loss 100% on the DRBD ports)" \
	drbd_cut_link
cut_at=$(now) # the link is cut from here on (tc itself may take seconds under emulation)
expect_event "verdict-changed path=r0 .*-> STALLED" 15
# The verdict while the writes wait (STALLED, or the warning that follows) names the link and
# when DRBD gives up on it.
expect_event "path=r0 .*waiting on replication link r0 to 127.0.0.1:7790, which gives up by itself in [0-9.]+m?s \(ko-count 2 x timeout 6s\)" 15
drbd_wait r0 connection connection Connecting 30
step "DRBD dropped the peer, r0 writes alone"
expect_event "verdict-changed path=r0 .*-> (RECOVERING|HEALTHY)" 15
given_up=$(seconds_between "$cut_at" "$(event_time ' -> (RECOVERING|HEALTHY)')")
assert_between "$given_up" 6 20 "writes continue after the link was cut (s)"
assert_no_event "-> DEAD" "DRBD ends the wait itself"
assert_no_event "escalation-started|step-started" "the primary is never fenced"
waits=$(jq -c 'select(.path == "r0" and .sample.facts.waiting_on != "")' \
	"$RESULTS/record.jsonl" | wc -l)
assert_between "$waits" 1 100000 "ticks naming the replication link"

# The load stops first: DRBD's resync controller throttles a resync under application I/O
# to c-min-rate, and the writes made alone must resync within the guest's time limit.
stop_load
step_run "heal the link" drbd_heal_link
drbd_wait r0 connection connection Connected 60
drbd_wait r0 peer-device replication Established 120
step "reconnected, the writes made alone resynced"
assert_no_event "-> DEAD" "DRBD ended the wait itself"
assert_no_event "escalation-started|step-started" "the primary is never fenced"
stop_iohealthd
pass
