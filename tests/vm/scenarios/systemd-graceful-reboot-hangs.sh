# A graceful reboot that hangs on the dead storage: armed, ladder log-only, graceful-reboot,
# reboot, hardware watchdog /dev/watchdog0 (qemu's i6300esb, reset). The path's dm device is
# suspended (I/O waits for ever) and the stand-in VM's ExecStop reads it, so systemd's shutdown
# transaction never completes, and systemd stops iohealthd on the way, so no later rung of the
# daemon runs. The watchdog the graceful step armed with graceful_deadline + 1 tick resets the
# guest. The host (systemd-graceful-reboot-hangs.host.sh) measures the time from the graceful
# step to the last sign of life (alive.log, every 0.1 s) and requires graceful_deadline + 2
# ticks at most.
# vm-init: systemd
# vm-timeout: 300
. "$IOHEALTH_SRC/tests/vm/guest/lib.sh"
. "$IOHEALTH_SRC/tests/vm/guest/systemd.sh"
vm_setup dm-delay
install_package
loop=$(make_loop 64)
dm=$(make_delay hung "$loop" 0)
configure_graceful_ladder hung "$dm"
start_unit
start_vm_standin "$dm"
start_load "$dm" 20
expect_path hung HEALTHY 20
step_run "dmsetup suspend hung" dmsetup suspend --nolockfs --noflush hung
expect_event "verdict-changed path=hung .*-> DEAD" 40
expect_event "step-started path=hung step 2 graceful-reboot" 15
# The guest resets within the deadline; reaching the end is a failure.
nap 60
fail "still running 60s after the graceful reboot step"
