#!/usr/bin/env bash
# Host side of systemd-graceful-reboot: logind rebooted the guest (the kernel restarted it,
# qemu exited), the stand-in VM was stopped on the way, the daemon ran no later rung, and the
# persistent journal (read back with journalctl --directory) holds the decision. Prints the
# time from the graceful step to the restart.
# Usage (run_vm.sh): QEMU_RC=N systemd-graceful-reboot.host.sh RESULTS_DIR
set -uo pipefail
results=$1
# shellcheck source=tests/vm/guest/host_checks.sh
. "$(dirname "$0")/../guest/host_checks.sh"
check "qemu exited by itself (exit 0: $QEMU_RC)" '[ "$QEMU_RC" = 0 ]'
check "the scenario never finished" '[ ! -e "$results/rc" ]'
check "the kernel restarted the guest (console: 'reboot: Restarting system')" \
  'grep -q "reboot: Restarting system" "$results/console.log"'
check "no sysrq reset (the graceful reboot finished first)" '! grep -q "sysrq: Resetting" "$results/console.log"'
check "the stand-in VM's ExecStop ran: $(cat "$results/vm-standin.log" 2>/dev/null)" \
  'grep -q "ExecStop ran" "$results/vm-standin.log" 2>/dev/null'
step_line=$(grep -m1 "step-started path=gone step 2 graceful-reboot" "$results/events.log" 2>/dev/null)
check "the graceful step was recorded: ${step_line:-none}" '[ -n "$step_line" ]'
check "no later rung ran" '! grep -q "step-started path=gone step 3" "$results/events.log"'
journal_checks gone "graceful-reboot"
check "logind started the reboot (journal: 'System is rebooting')" \
  'journalctl --directory="$results/journal" -b -o cat --no-pager | grep "System is rebooting" >/dev/null'
check "systemd stopped the stand-in VM (journal)" \
  'journalctl --directory="$results/journal" -b -u vm-standin.service -o cat --no-pager | grep "Stopped" >/dev/null'
restart_at=$(sed -n 's/^\[ *\([0-9.]*\)\] reboot: Restarting system.*/\1/p' "$results/console.log" | head -n1)
step_at=${step_line%% *}
if [ -n "$restart_at" ] && [ -n "$step_at" ]; then
  took=$(awk -v a="$step_at" -v b="$restart_at" 'BEGIN { printf "%.1f", b - a }')
  echo "measured: graceful step at ${step_at}s, kernel restart at ${restart_at}s: ${took} s (graceful_deadline $deadline s)"
  check "the reboot came before the graceful deadline (${took} s < $deadline s)" \
    "awk -v t=$took -v d=$deadline 'BEGIN { exit !(t < d) }'"
fi
exit $failed
