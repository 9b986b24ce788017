#!/bin/bash
# ExecStop of the systemd tier's vm-standin.service: leaves a mark (guest uptime) in
# RESULTS/vm-standin.log; with DEVICE, then reads it as a VM flushing its disk would, which
# blocks for ever on dead storage, while ticker.sh writes the guest's uptime to
# RESULTS/alive.log every 0.1 s (the last line: when the guest was last alive).
# Usage: vm-standin-stop.sh RESULTS [DEVICE]
read -r up _ </proc/uptime
echo "$up ExecStop ran" >>"$1/vm-standin.log"
[ -n "${2:-}" ] || exit 0
"$(dirname "$0")/ticker.sh" "$1/alive.log" &
echo "$up reading $2" >>"$1/vm-standin.log"
dd if="$2" of=/dev/null bs=4k count=1 iflag=direct 2>/dev/null
