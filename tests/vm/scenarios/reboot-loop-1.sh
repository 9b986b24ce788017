# No reboot loops (issue 13), boot 1 of 2: as real-reboot (armed, ladder log-only then reboot,
# a suspended dm device), with the daemon's state directory on the share. The armed reboot
# step writes last-fence.json there before it writes 'b' to /proc/sysrq-trigger; the host
# (reboot-loop-1.host.sh) checks the reset and the record; vm.reboot-loop-2 boots again with it.
# vm-timeout: 240
. "$IOHEALTH_SRC/tests/vm/guest/lib.sh"
vm_setup dm-delay

loop=$(make_loop 64)
dm=$(make_delay iohdead "$loop" 0)
step "dm-delay $dm over $loop"
cat >/tmp/iohealthd.conf <<CONF
[daemon]
mode = armed
discover = no

[policy]
io_timeout = 4s
ladder = log-only, reboot
hold.log-only = 1s

[path dead-disk]
device = $dm
CONF
start_journald
start_iohealthd /tmp/iohealthd.conf --state-dir "$RESULTS/state"
start_load "$dm"
wait_for_log "Path 'dead-disk'.* is device" 20 || fail "the daemon did not resolve $dm"
nap 2 # a few healthy ticks under load before the fault
step_run "dmsetup suspend iohdead" dmsetup suspend --nolockfs --noflush iohdead
expect_event "verdict-changed path=dead-disk .*-> DEAD" 30
expect_event "step-started path=dead-disk .*rebooting now through sysrq" 15
sleep 20
fail "still running 20s after the reboot step was recorded"
