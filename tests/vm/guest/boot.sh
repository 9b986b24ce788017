#!/bin/sh
# The guest's second stage, PID 1 on the overlay root (initramfs/init mounted everything,
# the results share at /results): runs the one scenario named in /results/vm.env and powers
# off. Every line it prints goes to the serial console, which the host keeps as console.log.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

mark() { echo "IOHEALTH-VM: $*"; }
poweroff_now() {
	sync
	echo o >/proc/sysrq-trigger
	sleep 30
}

# shellcheck source=/dev/null
. /results/vm.env
export IOHEALTH_SRC IOHEALTH_BUILD IOHEALTH_SCENARIO RESULTS=/results

mark "booted $(uname -r) in $(cut -d' ' -f1 /proc/uptime)s"
mark "scenario $IOHEALTH_SCENARIO start"
cd /tmp || poweroff_now
# The scenario's output goes to the console and to the share; its status to /results/rc.
# A scenario that must not come back (real-reboot) simply never writes rc. tee reads a FIFO
# and is not waited for: a process the scenario left behind (fio hung on a suspended device)
# may hold the FIFO open forever.
mkfifo /tmp/.scenario-out
tee /results/scenario.log </tmp/.scenario-out &
tee_pid=$!
bash "$IOHEALTH_SRC/tests/vm/scenarios/$IOHEALTH_SCENARIO.sh" >/tmp/.scenario-out 2>&1
rc=$?
i=0
while [ $i -lt 25 ] && kill -0 $tee_pid 2>/dev/null; do # up to 5 s for tee to drain
	sleep 0.2
	i=$((i + 1))
done
echo "$rc" >/results/rc
mark "scenario $IOHEALTH_SCENARIO rc=$rc"
poweroff_now
