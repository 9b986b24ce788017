#!/usr/bin/env bash
# Host side of real-reboot: the guest must have reset through sysrq (not powered off, not
# timed out, scenario never finished) and the event log it left on the share must name the
# path, the evidence and the action, written before the reset; so must the last-fence record
# in its state directory.
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
record=$results/state/last-fence.json
check "the last-fence record was written before the reset: $(cat "$record" 2>/dev/null || echo none)" \
  '[ -s "$record" ]'
check "it names the path and the action" \
  'grep -q "\"path\":\"dead-disk\"" "$record" && grep -q "\"action\":\"reboot\"" "$record"'
check "it carries the evidence" 'grep -q "no completion" "$record"'

# Not a verdict, a measurement: journald reads the record from its socket asynchronously, so
# whether it has it when the kernel resets is a race. Its console line carries the time
# journald stamped it; the kernel's "sysrq: Resetting" the time the reset began.
journal_at=$(sed -n 's/^\[ *\([0-9.]*\)\] iohealthd\[[0-9]*\]: dead-disk: rebooting now through sysrq.*/\1/p' \
  "$results/console.log" | head -n1)
reset_at=$(sed -n 's/^\[ *\([0-9.]*\)\] sysrq: Resetting.*/\1/p' "$results/console.log" | head -n1)
if [ -z "$journal_at" ]; then
  echo "note: journald never forwarded the reboot record to the console: it did not get it before the reset"
else
  echo "note: journald stamped the reboot record at ${journal_at}s, the reset began at ${reset_at:-?}s" \
    "($(awk -v j="$journal_at" -v r="${reset_at:-0}" 'BEGIN { printf "%+.3f", j - r }')s)"
fi
exit $failed
