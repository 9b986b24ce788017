#!/usr/bin/env bash
# Host side of reboot-loop-1: the guest reset through sysrq, and the last-fence record it left
# in its state directory on the share names the path, the step and the evidence.
# Usage (run_vm.sh): QEMU_RC=N reboot-loop-1.host.sh RESULTS_DIR
set -uo pipefail
results=$1
record=$results/state/last-fence.json
failed=0
check() {
  if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; failed=1; fi
}
check "qemu exited by itself (exit 0, not killed: $QEMU_RC)" '[ "$QEMU_RC" = 0 ]'
check "the guest reset through sysrq (console: 'sysrq: Resetting')" \
  'grep -q "sysrq: Resetting" "$results/console.log"'
check "the last-fence record was written before the reset: $(cat "$record" 2>/dev/null || echo none)" \
  '[ -s "$record" ]'
check "it names the path and the action" \
  'grep -q "\"path\":\"dead-disk\"" "$record" && grep -q "\"action\":\"reboot\"" "$record"'
check "it carries the evidence" 'grep -q "no completion" "$record"'
exit "$failed"
