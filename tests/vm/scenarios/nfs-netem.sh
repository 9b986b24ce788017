# The NFS probes on a real mount (nfs_probes_test), then the mount (NFSv4.2, hard, over
# loopback) under a write load while every packet on lo is delayed 0.25-1.5 s (netem), so
# each RPC takes 0.5-3 s: the path is CONTENDED and never DEAD nor fenced; the delay removed ->
# HEALTHY. (At the onset the first slow RPCs may outlast the
# stall threshold, which follows the latency seen so far: a short STALLED is allowed.)
# vm-timeout: 330
. "$IOHEALTH_SRC/tests/vm/guest/lib.sh"
. "$IOHEALTH_SRC/tests/vm/guest/nfs.sh"
vm_setup nfsd nfs nfsv4 sch_netem

mkdir -p /srv/export
mount -t tmpfs tmpfs /srv/export
nfs_serve /srv/export
nfs_mount /mnt/nfs hard,timeo=100,retrans=2
echo ready >/mnt/nfs/ready # waits out the server's grace period (10 s)
step "grace period over"
# The NFS probes by themselves first: they count O_DIRECT writes on this mount and its
# transport's replies.
step "nfs_probes_test on /mnt/nfs"
IOHEALTH_TEST_NFS_MOUNT=/mnt/nfs "$IOHEALTH_BUILD/tests/integration/nfs_probes_test" \
	>"$RESULTS/nfs_probes_test.log" 2>&1 || fail "nfs_probes_test: $(tail -n 5 "$RESULTS/nfs_probes_test.log")"
grep -q "PASSED  ] 1 test" "$RESULTS/nfs_probes_test.log" || fail "nfs_probes_test did not run its test"

# io_timeout 10s: dead_after 25 s; a heartbeat (OPEN, WRITE, CLOSE at up to 3 s each) stays
# well inside it. slow_io 1.5 s: above a write's (up to 0.5 s) and a heartbeat's (up to 1.3 s)
# under software emulation on a busy host, below the p99 of RPCs under the delay.
cat >/tmp/iohealthd.conf <<CONF
[daemon]
mode = dry-run
discover = no
record = $RESULTS/evidence.jsonl

[policy]
io_timeout = 10s
slow_io = 1500ms

[path nfs]
mount = /mnt/nfs
CONF
start_iohealthd /tmp/iohealthd.conf
wait_for_log "Path 'nfs'.* is device 0:" 20 || fail "the daemon did not resolve /mnt/nfs"
wait_for_log "NFS evidence: eBPF probes" 20 || fail "the NFS probes did not load"
nfs_load /mnt/nfs/load
sleep 3 # healthy ticks under load

events_from_now
step "tc qdisc add dev lo root netem delay 875ms 625ms (each RPC 0.5-3 s)"
tc qdisc add dev lo root netem delay 875ms 625ms
expect_event "verdict-changed path=nfs .*-> CONTENDED" 30
# Hold the delay for longer than dead_after: slow is not dead.
sleep 30
step "tc qdisc del dev lo root"
tc qdisc del dev lo root
expect_event "verdict-changed path=nfs .*-> HEALTHY" 60
assert_no_event "-> DEAD" "a slow server is contention, not a dead path"
assert_no_event "escalation-started|step-started|fence-imminent" "contention is never fenced"
stop_load
stop_iohealthd
pass
