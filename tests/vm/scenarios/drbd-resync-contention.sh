# DRBD resync contention, the false fence of CloudStack #13089, as the operators saw it: r0
# resyncs 256 MiB in full to its peer r1, throttled so that it lasts past 2 minutes, on the
# same backing disk as a VM-like fio write load and the heartbeat, and that disk is slow
# (dm-delay 1.5 s per I/O: latency in seconds). The verdict is CONTENDED for the phase,
# HEALTHY before and after: exactly "CONTENDED HEALTHY" (2 changes), never STALLED or DEAD,
# no fence-imminent, no fence step, and no warning-or-worse event.
# vm-timeout: 600
. "$IOHEALTH_SRC/tests/vm/guest/lib.sh"
. "$IOHEALTH_SRC/tests/vm/guest/drbd.sh"
vm_setup dm-delay
drbd_module
loop0=$(make_loop 258)
disk0=$(make_delay rdisk0 "$loop0" 0)
disk1=$(make_linear rdisk1 "$(make_loop 258)")
drbd_pair "$disk0" "$disk1"
drbd_wait r0 connection connection Connected 30
# A fixed resync rate (no controller): 1800 KiB/s takes 256 MiB past 2 minutes even on an
# idle disk; c-min-rate 0 so the application I/O does not slow it further by rule.
drbdsetup disk-options 0 --c-plan-ahead=0 --resync-rate=1800K --c-min-rate=0

# The resync is held (pause-sync) until the daemon and the load run.
step "drbdsetup primary 0 --force: full resync r0 -> r1, paused"
drbdsetup primary 0 --force
drbdsetup pause-sync 0
drbd_wait r0 peer-device replication PausedSyncS 30
size=$(drbd_field r0 device size)
assert_between "$size" 262144 300000 "KiB to resync"

# io_timeout 4s: warn_after 8s, dead_after 10s (the horizon CONTENDED is left after), so a
# resync that starved the path for seconds would show as STALLED. slow_io 1s: replicated
# writes in an emulated guest take 100-300 ms already (p99 262 ms measured), which is no
# contention of the disk; the delayed disk's seconds are.
cat >/tmp/iohealthd.conf <<CONF
[daemon]
mode = dry-run
discover = no
record = $RESULTS/record.jsonl

[policy]
io_timeout = 4s
slow_io = 1s

[path r0]
drbd = r0
CONF
start_iohealthd /tmp/iohealthd.conf
events_from_now
wait_for_log "Path 'r0'.* is device 147:0" 30 || fail "the daemon did not resolve r0"
start_load /dev/drbd0 50
nap 10
assert_no_event "path=r0" "HEALTHY before the contention"

step_run "backing disk of r0 slow: dm-delay 1500 ms" \
	dm_reload rdisk0 "0 $(sectors_of "$loop0") delay $loop0 0 1500"
step_run "resume the resync" drbdsetup resume-sync 0
drbd_wait r0 peer-device replication SyncSource 30
nap 120
drbd_wait r0 peer-device replication SyncSource 1  # the resync lasted the whole phase
step_run "backing disk fast again" \
	dm_reload rdisk0 "0 $(sectors_of "$loop0") delay $loop0 0 0"
expect_event "path=r0 CONTENDED -> HEALTHY" 40
stop_load

sequence=$(events | sed -n 's/.* verdict-changed path=r0 [A-Z]* -> \([A-Z]*\):.*/\1/p' | xargs)
log "verdict sequence: $sequence"
[ "$sequence" = "CONTENDED HEALTHY" ] || fail "verdict sequence '$sequence', not 'CONTENDED HEALTHY'"
assert_no_event "fence-imminent|near-miss|escalation-started|step-started" "contention is no fence"
slow=$(jq -c 'select(.path == "r0") | .sample.kernel.latency[] | select(.[0] >= 20)' \
	"$RESULTS/record.jsonl" | wc -l)
advancing=$(jq -c 'select(.path == "r0" and .sample.facts.resync_advancing)' \
	"$RESULTS/record.jsonl" | wc -l)
log "ticks with I/O of 1 s or more: $slow; with the resync advancing: $advancing"
assert_between "$slow" 10 100000 "ticks with I/O latency in seconds"
assert_between "$advancing" 10 100000 "ticks with the resync advancing"
stop_iohealthd
pass
