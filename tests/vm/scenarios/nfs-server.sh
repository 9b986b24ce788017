# An NFS mount (NFSv4.2, hard, over loopback; the export is ext4 on a dm-linear device) with a
# write heartbeat, watched through the NFS probes:
#  1. rpc.nfsd 0: the server does not answer at all -> STALLED, DEAD at dead_after with "not
#     answering" in the evidence, the dry-run ladder to its end; rpc.nfsd again -> RECOVERING,
#     HEALTHY.
#  2. the export's device suspended (dmsetup suspend): the server still answers (lease
#     renewals, STATFS), this host's writes do not complete -> DEAD with "answers" in the
#     evidence; resumed -> RECOVERING, HEALTHY.
# vm-timeout: 360
. "$IOHEALTH_SRC/tests/vm/guest/lib.sh"
. "$IOHEALTH_SRC/tests/vm/guest/nfs.sh"
vm_setup nfsd nfs nfsv4

loop=$(make_loop 64)
dm=$(make_linear nfsexport "$loop")
mkfs.ext4 -q "$dm"
mkdir -p /srv/export
mount "$dm" /srv/export
nfs_serve /srv/export
# timeo=20 retrans=2: the client retries after 2 s, "not responding" after 6 s, inside the
# path's dead_after (the start-up check would warn otherwise).
nfs_mount /mnt/nfs hard,timeo=20,retrans=2
# The first OPEN waits out the server's grace period (10 s): before the daemon starts.
echo ready >/mnt/nfs/ready
step "grace period over"

# io_timeout 4s: heartbeat every 0.8 s, stall 2 s; dead_after 12 s. slow_io 1 s: a heartbeat
# (OPEN, WRITE, CLOSE) takes 100-300 ms under software emulation, which is not contention.
# Short holds so the dry-run ladder runs to its end in seconds.
dead_after=12
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

[path nfs]
mount = /mnt/nfs
CONF
start_iohealthd /tmp/iohealthd.conf
wait_for_log "Path 'nfs'.* is device 0:" 20 || fail "the daemon did not resolve /mnt/nfs"
wait_for_log "NFS evidence: eBPF probes" 20 || fail "the NFS probes did not load"
grep -q "NFS mount /mnt/nfs (hard, timeo=20 retrans=2): the client retries a request after 2s" \
	"$DAEMON_LOG" || fail "no start-up check of the mount's timeouts"
grep -q "WARN.*NFS mount" "$DAEMON_LOG" && fail "the start-up check warned: $(grep -m1 'NFS mount' "$DAEMON_LOG")"
sleep 3 # a few healthy ticks before the first fault

step "--- 1. the server stops: not answering at all ---"
events_from_now
stopped_at=$(now)
step "rpc.nfsd 0"
nfs_server_stop
expect_event "verdict-changed path=nfs .*-> STALLED" 15
expect_event "verdict-changed path=nfs .*-> DEAD" $((dead_after + 15))
case $LAST_EVENT in
*"not answering"*) ;;
*) fail "DEAD does not say the server is not answering: $LAST_EVENT" ;;
esac
dead_in=$(seconds_between "$stopped_at" "$(event_time ' -> DEAD')")
# The heartbeat's last success is up to a probe interval before the stop.
assert_between "$dead_in" $((dead_after - 2)) $((dead_after + 5)) "DEAD after rpc.nfsd 0 (s)"
expect_event "step-started path=nfs dry-run: step 1 log-only" 5
expect_event "escalation-exhausted path=nfs" 20
step "rpc.nfsd (the server is back; its grace period is 10 s)"
nfs_server_start
expect_event "verdict-changed path=nfs DEAD -> RECOVERING" 40
expect_event "verdict-changed path=nfs .*-> HEALTHY" 30

step "--- 2. the export's disk stops: the server answers, this host's writes wait ---"
events_from_now
# Something the server can answer without its disk, as a host's management traffic does:
# STATFS every 0.5 s (ext4 answers statfs from memory).
(while :; do stat -f /mnt/nfs >/dev/null 2>&1; sleep 0.5; done) &
statfs_pid=$!
suspended_at=$(now)
step "dmsetup suspend nfsexport"
dmsetup suspend --nolockfs --noflush nfsexport
expect_event "verdict-changed path=nfs .*-> STALLED" 15
expect_event "verdict-changed path=nfs .*-> DEAD" $((dead_after + 15))
case $LAST_EVENT in
*"not answering"*) fail "DEAD blames the server's silence while it answers: $LAST_EVENT" ;;
*answers*) ;;
*) fail "DEAD does not say the server answers: $LAST_EVENT" ;;
esac
dead_in=$(seconds_between "$suspended_at" "$(event_time ' -> DEAD')")
assert_between "$dead_in" $((dead_after - 2)) $((dead_after + 5)) "DEAD after the suspend (s)"
expect_event "escalation-exhausted path=nfs" 20
step "dmsetup resume nfsexport"
dmsetup resume nfsexport
expect_event "verdict-changed path=nfs DEAD -> RECOVERING" 20
expect_event "verdict-changed path=nfs .*-> HEALTHY" 30
kill "$statfs_pid"
stop_iohealthd
pass
