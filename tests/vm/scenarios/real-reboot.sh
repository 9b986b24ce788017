# The last rung for real: mode armed, ladder log-only then reboot. A suspended dm device goes
# DEAD and iohealthd writes 'b' to /proc/sysrq-trigger; the guest resets, and qemu
# (-no-reboot) exits. The record written before the write (the event log on the share) is
# checked on the host by real-reboot.host.sh, with the last-fence record (issue 13) the daemon
# writes into its state directory on the share before the reboot step; vm.reboot-loop boots
# again with it. The host also reports whether journald (forwarding to the console) got the
# record before the kernel reset. If this script gets to its end, the reboot did not happen:
# it fails.
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
# The guest resets within a tick or two of the reboot step; reaching the end is a failure.
expect_event "step-started path=dead-disk .*rebooting now through sysrq" 15
sleep 20
fail "still running 20s after the reboot step was recorded"
