#!/usr/bin/env bash
# Host side of real-reboot: the guest must have reset through sysrq (not powered off, not
# timed out, scenario never finished) and the event log it left on the share must name the
# path, the evidence and the action, written before the reset.
# Usage (run_vm.sh): QEMU_RC=N real-reboot.host.sh RESULTS_DIR
set -uo pipefail
results=$1
events=$results/events.log
failed=0
[ -f "$events" ] || echo "FAIL: no event log $events"
check() {
  if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; failed=1; fi
}
check "qemu exited by itself (exit 0, not killed: $QEMU_RC)" '[ "$QEMU_RC" = 0 ]'
check "the guest reset through sysrq (console: 'sysrq: Resetting')" \
  'grep -q "sysrq: Resetting" "$results/console.log"'
check "the scenario never finished (no rc: $(cat "$results/rc" 2>/dev/null || echo none))" \
  '[ ! -e "$results/rc" ]'
check "DEAD recorded for path dead-disk" \
  'grep -q "verdict-changed path=dead-disk .*-> DEAD" "$events" 2>/dev/null'
reboot_line=$(grep -m1 "step-started path=dead-disk .*rebooting now through sysrq" "$events" 2>/dev/null)
check "the reboot step was recorded before the reset: ${reboot_line:-none}" '[ -n "$reboot_line" ]'
check "the record names the action (step 2 reboot, not a dry run)" \
  'grep -q "step-started path=dead-disk step 2 reboot" "$events" 2>/dev/null'
check "the record carries the evidence (no completion, heartbeat)" \
  '[[ $reboot_line == *"no completion"* && $reboot_line == *heartbeat* ]]'
check "nothing after the reboot record" \
  '[ "$(tail -n1 "$events" 2>/dev/null)" = "$reboot_line" ]'
exit $failed
