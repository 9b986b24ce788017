# The graceful-reboot rung for real: armed, ladder log-only, graceful-reboot, reboot, with the
# hardware watchdog (qemu's i6300esb) configured. Every I/O of the path fails (a dm error
# table: no process hangs on it), the path goes DEAD, and iohealthd asks logind to reboot:
# systemd stops the units (the stand-in VM's ExecStop leaves its mark on the share), the guest
# reboots and qemu (-no-reboot) exits. The host (systemd-graceful-reboot.host.sh) checks the
# marks, the persistent journal it reads back with journalctl --directory, and measures the
# time from the graceful step to the kernel's restart.
# vm-init: systemd
# vm-timeout: 300
. "$IOHEALTH_SRC/tests/vm/guest/lib.sh"
. "$IOHEALTH_SRC/tests/vm/guest/systemd.sh"
vm_setup dm-delay
install_package
loop=$(make_loop 64)
dm=$(make_delay gone "$loop" 0)
configure_graceful_ladder gone "$dm"
start_unit
start_vm_standin
start_load "$dm" 20
expect_path gone HEALTHY 20
step_run "dm table of gone: error (every I/O fails)" \
	dm_reload gone "0 $(sectors_of "$loop") error"
expect_event "verdict-changed path=gone .*-> DEAD" 40
expect_event "step-started path=gone step 2 graceful-reboot" 15
# The guest reboots now; reaching the end is a failure.
nap 60
fail "still running 60s after the graceful reboot step"
