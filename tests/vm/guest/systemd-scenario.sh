#!/bin/bash
# iohealth-scenario.service in the systemd tier: runs the one scenario named in
# /results/vm.env once systemd reached the scenario's target, writes its status to
# /results/rc, syncs the persistent journal and powers off. A scenario that must not come back
# (a reboot) never writes rc.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mark() { echo "IOHEALTH-VM: $*" >/dev/console; }
# shellcheck source=/dev/null
. /results/vm.env
export IOHEALTH_SRC IOHEALTH_BUILD IOHEALTH_SCENARIO RESULTS=/results
mark "systemd started the scenario at $(cut -d' ' -f1 /proc/uptime)s ($(systemctl is-system-running))"
mark "scenario $IOHEALTH_SCENARIO start"
cd /tmp || exit 1
# Not waited for: a process the scenario left behind may hold the pipe open.
bash "$IOHEALTH_SRC/tests/vm/scenarios/$IOHEALTH_SCENARIO.sh" > >(tee /results/scenario.log) 2>&1
rc=$?
echo "$rc" >/results/rc
mark "scenario $IOHEALTH_SCENARIO rc=$rc"
# Only the journal's file system: a global sync would wait on a device a scenario left
# suspended.
journalctl --sync
sync -f /var/log/journal
echo o >/proc/sysrq-trigger
