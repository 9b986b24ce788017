#!/bin/bash
# iohealth drop-in for CloudStack's scripts/vm/hypervisor/kvm/kvmspheartbeat.sh (StorPool and
# Linstor pools). Same command line, output and exit codes as the stock script; `-c` hands the
# fence to iohealthd instead of writing 'b' to /proc/sysrq-trigger (see docs/cloudstack.md).
# The agent names no pool here: IOHEALTH_SP_RESOURCES in /etc/default/iohealth-cloudstack lists
# the DRBD resources whose evidence decides (none: iohealthd fences on the request alone).

usage() {
  printf "Usage: %s \n                    -c cleanup" "$0"
  exit 1
}

cflag=0
while getopts 'c' option; do
  case $option in
    c) cflag=1 ;;
    *) usage ;;
  esac
done

# Without -c the stock script does nothing: the liveness check itself is in the agent's Java.
[ "$cflag" = 1 ] || exit 0

# shellcheck source=iohealth-fence.sh
. "$(dirname "$(readlink -f "$0")")/iohealth-fence.sh"
iohealth_fence kvmspheartbeat.sh \
  "kvmspheartbeat.sh -c: the CloudStack agent's storage health check failed" \
  resource "$(iohealth_setting IOHEALTH_SP_RESOURCES '')"
exit $?
