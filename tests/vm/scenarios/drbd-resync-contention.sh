# DRBD resync contention, the false fence of CloudStack #13089: r0 resyncs 256 MiB in full to
# its peer r1 while the heartbeat and a fio write load share r0's backing disk. The resync is
# proof of life (out-of-sync falls between statistics refreshes): CONTENDED at most, never
# STALLED or DEAD, no fence step.
# vm-timeout: 480
. "$IOHEALTH_SRC/tests/vm/guest/lib.sh"
. "$IOHEALTH_SRC/tests/vm/guest/drbd.sh"
vm_setup dm-delay
drbd_module
disk0=$(make_delay rdisk0 "$(make_loop 258)" 0)
disk1=$(make_linear rdisk1 "$(make_loop 258)")
drbd_pair "$disk0" "$disk1"
drbd_wait r0 connection connection Connected 30
# As fast as the emulated disks go, application I/O or not: DRBD's resync controller would
# otherwise fall back to c-min-rate (250 KiB/s) under the fio load and take a quarter hour.
drbdsetup disk-options 0 --c-plan-ahead=0 --resync-rate=200M --c-min-rate=0

# The resync is held (pause-sync) until the daemon and the load run: under emulation the
# daemon's start takes longer than a whole unloaded resync.
step "drbdsetup primary 0 --force: full resync r0 -> r1, paused"
drbdsetup primary 0 --force
drbdsetup pause-sync 0
drbd_wait r0 peer-device replication PausedSyncS 30
# A full resync: all of the device (KiB) is out of sync when it starts.
size=$(drbd_field r0 device size)
assert_between "$size" 262144 300000 "KiB to resync"

# io_timeout 4s: slow_io 80ms, stall 2s, dead_after 10s, so a resync that starved the path
# for a few seconds would show.
cat >/tmp/iohealthd.conf <<CONF
[daemon]
mode = dry-run
discover = no
record = $RESULTS/record.jsonl

[policy]
io_timeout = 4s

[path r0]
drbd = r0
CONF
start_iohealthd /tmp/iohealthd.conf
events_from_now
wait_for_log "Path 'r0'.* is device 147:0" 30 || fail "the daemon did not resolve r0"
start_load /dev/drbd0 50
step_run "resume the resync" drbdsetup resume-sync 0
drbd_wait r0 peer-device replication SyncSource 30
drbd_wait r0 peer-device replication Established 300
step "resync done"
stop_load

assert_no_event "path=r0 .*-> (STALLED|DEAD)" "the resync is proof of life"
assert_no_event "escalation-started|step-started" "contention is never fenced"
advancing=$(jq -c 'select(.path == "r0" and .sample.facts.resync_advancing)' \
	"$RESULTS/record.jsonl" | wc -l)
active=$(jq -c 'select(.path == "r0" and .sample.facts.resync_active)' "$RESULTS/record.jsonl" |
	wc -l)
log "ticks with the resync active: $active, advancing: $advancing"
assert_between "$advancing" 5 100000 "ticks with the resync advancing (proof of life)"
stop_iohealthd
pass
