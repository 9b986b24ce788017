# dm-flakey write errors under DRBD, per policy (the drbd preset: errors = fence):
#  1. peer connected: DRBD detaches the failing disk (on-io-error detach, its default) and
#     serves every I/O from the peer. No error reaches /dev/drbd0: the path stays alive, no
#     fence; the verdict's note says the local disk is gone.
#  2. the peer disconnected as well: no copy of the data is left, DRBD fails every I/O
#     (on-no-data-accessible io-error): an error-only path, DEAD at dead_after, ladder.
# vm-timeout: 300
. "$IOHEALTH_SRC/tests/vm/guest/lib.sh"
. "$IOHEALTH_SRC/tests/vm/guest/drbd.sh"
vm_setup dm-flakey
drbd_module
loop0=$(make_loop 32)
disk0=$(make_linear fdisk0 "$loop0")
disk1=$(make_linear fdisk1 "$(make_loop 32)")
drbd_pair "$disk0" "$disk1"
drbd_pair_in_sync

dead_after=10
cat >/tmp/iohealthd.conf <<CONF
[daemon]
mode = dry-run
discover = no
record = $RESULTS/record.jsonl

[policy]
io_timeout = 4s
# DRBD writes under software emulation often take 100 ms and more: not what this shows.
slow_io = 1s
ladder = log-only, reboot

[path r0]
drbd = r0
CONF
start_iohealthd /tmp/iohealthd.conf
wait_for_log "Path 'r0'.* is device 147:0" 30 || fail "the daemon did not resolve r0"
start_load /dev/drbd0
sleep 3 # a few healthy ticks under load first

step "--- 1. every write to r0's disk fails (dm-flakey error_writes) ---"
events_from_now
step_run "dm-flakey error_writes under r0" \
	dm_reload fdisk0 "0 $(sectors_of "$loop0") flakey $loop0 0 0 3600 1 error_writes"
drbd_wait r0 device disk Diskless 30
step "DRBD detached r0's disk; I/O goes to r1"
# Proof that the path lives on: ticks after the detach with completions and no errors, and
# the note naming the lost disk.
detached=$(now)
now_cs
deadline=$((NOW_CS + 2000))
until jq -e --argjson t "$detached" 'select(.path == "r0" and .sample.at / 1e6 > $t + 3 and
		.sample.kernel.completed > 0 and (.sample.kernel.errors | add) == 0 and
		(.sample.facts.note | test("no local disk: I/O goes to the peer")))' \
	"$RESULTS/record.jsonl" >/dev/null 2>&1; do
	now_cs
	((NOW_CS < deadline)) || fail "no tick with I/O completing through the peer after the detach"
	nap 0.5
done
step "I/O completes through the peer, without errors"
# (STALLED may show while the table swap holds I/O back and DRBD detaches: seconds under
# emulation.)
assert_no_event "path=r0 .*-> (DEAD|DEGRADED)" "DRBD hides the failed disk"
assert_no_event "escalation-started|step-started" "a detached disk with a live peer is no fence"

step "--- 2. and the peer goes away: no copy of the data left ---"
events_from_now
# Forced, from r1's side: DRBD refuses to take a diskless primary's only copy away politely.
step_run "disconnect r1 from r0 (--force)" \
	drbdsetup disconnect ipv4:127.0.0.1:7790 ipv4:127.0.0.1:7789 --force
expect_event "verdict-changed path=r0 .*-> DEAD" $((dead_after + 15))
echo "$LAST_EVENT" | grep -q "no local disk, no peer with the data: I/O fails" ||
	fail "the DEAD verdict does not say why: $LAST_EVENT"
# At dead_after after the last success (the reason's own figure), at most two ticks late.
silent_for=$(sed -n 's/.*-> DEAD:.* no completion for \([0-9.]*\)s.*/\1/p' <<<"$LAST_EVENT")
assert_between "$silent_for" "$dead_after" $((dead_after + 2)) "DEAD: seconds without a success"
expect_event "step-started path=r0 dry-run: step 1 log-only" 5
stop_load
stop_iohealthd
pass
