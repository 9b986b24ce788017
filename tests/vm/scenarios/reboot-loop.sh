# No reboot loops (issue 13): the guest boots again with the last-fence record of
# vm.real-reboot and the path still dead from the start (suspended before the daemon runs).
# A dm device suspended before the daemon starts queues new bios before the block layer
# accounts them, so the kernel sees nothing in flight and only the heartbeat witnesses: this
# boot's policy says `dead_witnesses = either` (real-reboot saw both). No libvirt here, so the
# policy default holds: the ladder runs log-only, the reboot step is
# held at crit ("still dead after the fence at T"), and the guest is still up 20 s later.
# vm-timeout: 240
. "$IOHEALTH_SRC/tests/vm/guest/lib.sh"
previous=$IOHEALTH_BUILD/tests/vm/results/real-reboot/state/last-fence.json
[ -f "$previous" ] || fail "no last-fence record from vm.real-reboot ($previous): run it first"
vm_setup dm-delay
mkdir -p /tmp/state
cp "$previous" /tmp/state/
step "last-fence record of the previous boot: $(cat /tmp/state/last-fence.json)"

loop=$(make_loop 64)
dm=$(make_delay iohdead "$loop" 0)
step_run "dmsetup suspend iohdead (dead before the daemon starts)" \
  dmsetup suspend --nolockfs --noflush iohdead
cat >/tmp/iohealthd.conf <<CONF
[daemon]
mode = armed
discover = no

[policy]
io_timeout = 4s
dead_witnesses = either
ladder = log-only, reboot
hold.log-only = 1s

[path dead-disk]
device = $dm
CONF
start_journald
start_iohealthd /tmp/iohealthd.conf --state-dir /tmp/state
wait_for_log "The last fence rebooted this host for path 'dead-disk'" 20 ||
  fail "the daemon did not read the last-fence record"
expect_event "verdict-changed path=dead-disk .*-> DEAD" 40
expect_event "step-started path=dead-disk step 1 log-only" 5
expect_event "fence-suppressed path=dead-disk step 2 reboot held: still dead after the fence at" 10
wait_for_log "was already without progress when iohealthd started" 5 ||
  fail "the journal does not say the path was dead at start"
nap 20
assert_no_event "rebooting now through sysrq" "the host rebooted again for the same dead path"
pass
