#!/usr/bin/env bash
# Host side of systemd-graceful-reboot-hangs: the shutdown logind started hung on the dead
# storage (the stand-in VM's stop never returned, the kernel never restarted), systemd stopped
# iohealthd, and still the guest was reset (qemu exited) no later than graceful_deadline + 2
# ticks after the graceful step: by the hardware watchdog the step armed. Prints the time.
# Usage (run_vm.sh): QEMU_RC=N systemd-graceful-reboot-hangs.host.sh RESULTS_DIR
set -uo pipefail
results=$1
# shellcheck source=tests/vm/guest/host_checks.sh
. "$(dirname "$0")/../guest/host_checks.sh"
check "qemu exited by itself (exit 0, not killed at the timeout: $QEMU_RC)" '[ "$QEMU_RC" = 0 ]'
check "the scenario never finished" '[ ! -e "$results/rc" ]'
check "the shutdown hung: the stand-in VM's stop was reading the dead device" \
  'grep -q "reading" "$results/vm-standin.log" 2>/dev/null'
check "the kernel never got to restart the guest (no 'reboot: Restarting system')" \
  '! grep -q "reboot: Restarting system" "$results/console.log"'
check "no sysrq reset: the daemon's own reboot rung did not run" '! grep -q "sysrq: Resetting" "$results/console.log"'
step_line=$(grep -m1 "step-started path=hung step 2 graceful-reboot" "$results/events.log" 2>/dev/null)
check "the graceful step was recorded: ${step_line:-none}" '[ -n "$step_line" ]'
armed=$(grep -m1 "step-succeeded path=hung step 2 graceful-reboot" "$results/events.log" 2>/dev/null)
check "logind accepted it, with the watchdog armed for deadline + 1 tick: ${armed:-none}" \
  '[[ $armed == *"/dev/watchdog0 armed to reset the host in $((deadline + tick))s"* ]]'
check "no later rung ran" '! grep -q "step-started path=hung step 3" "$results/events.log"'
journal_checks hung "graceful-reboot"
check "logind started the reboot (journal: 'System is rebooting')" \
  'journalctl --directory="$results/journal" -b -o cat --no-pager | grep "System is rebooting" >/dev/null'
# What systemd did after the last crit entry may not be in the journal (journald syncs at crit;
# a reset loses the rest), but its status lines went to the console.
check "systemd was stopping iohealthd when the guest was reset (console)" \
  'sed "s/\x1b\[[0-9;]*m//g" "$results/console.log" | grep "Stopping iohealthd.service" >/dev/null'
last_alive=$(tail -n1 "$results/alive.log" 2>/dev/null)
step_at=${step_line%% *}
if [ -n "$last_alive" ] && [ -n "$step_at" ]; then
  took=$(awk -v a="$step_at" -v b="$last_alive" 'BEGIN { printf "%.2f", b - a + 0.1 }')
  echo "measured: graceful step at ${step_at}s, last sign of life at ${last_alive}s: reset within ${took} s of the step (graceful_deadline $deadline s + 2 ticks = $((deadline + 2 * tick)) s)"
  check "reset no later than graceful_deadline + 2 ticks (${took} s <= $((deadline + 2 * tick)) s)" \
    "awk -v t=$took -v l=$((deadline + 2 * tick)) 'BEGIN { exit !(t <= l) }'"
  check "and not before the deadline (${took} s >= $deadline s): the graceful reboot had its time" \
    "awk -v t=$took -v l=$deadline 'BEGIN { exit !(t >= l) }'"
else
  check "a sign of life and the graceful step to measure from (alive.log: ${last_alive:-none})" false
fi
exit $failed
