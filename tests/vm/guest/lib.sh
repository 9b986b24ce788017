# shellcheck shell=bash
# Guest-side library of the VM tier: what a scenario (tests/vm/scenarios/NAME.sh, run by bash
# as a child of the guest's PID 1) sources. See tests/vm/README.md.
#
# Set by the guest boot script: IOHEALTH_SRC, IOHEALTH_BUILD (the host's trees, read-only over
# 9p), IOHEALTH_SCENARIO, RESULTS (the writable share; the host keeps it after the guest ends).
# Times in the timeline are seconds since vm_setup, on the guest's CLOCK_MONOTONIC (the clock
# of the daemon's event lines).
set -eEuo pipefail

IOHEALTHD=$IOHEALTH_BUILD/userspace/daemon/iohealthd
EVENT_LOG=$RESULTS/events.log    # the daemon's --event-log
DAEMON_LOG=$RESULTS/iohealthd.log # its stdout and stderr
STEPS_LOG=$RESULTS/steps.log      # what the scenario did, for the timeline
TIMELINE=$RESULTS/timeline.txt
EVENT_CURSOR=0 # wait_for_event and the assertions look at event lines after this one
IOHEALTHD_PID=
export DM_DISABLE_UDEV=1 # no udev in the guest: dmsetup makes its own nodes, waits for none

# Time is read and compared with bash builtins only: under emulation on a busy host every
# fork+exec costs up to a second, which a poll loop or a timed step cannot afford.
# CLOCK_MONOTONIC in centiseconds, into NOW_CS (/proc/uptime is boot time, 2 decimals; the
# guest never suspends).
now_cs() {
	local up _
	read -r up _ </proc/uptime
	NOW_CS=$((10#${up/./}))
}
# The same in seconds, printed ("123.45"), the clock of the daemon's event lines.
now() {
	local up _
	read -r up _ </proc/uptime
	echo "$up"
}
# A sleep without a process: read with a timeout on a FIFO nobody writes.
mkfifo /tmp/.vm-sleep 2>/dev/null || true
exec {VM_SLEEP_FD}<>/tmp/.vm-sleep
nap() { read -r -t "$1" -u "$VM_SLEEP_FD" _ || true; }

# Seconds since vm_setup, one decimal.
elapsed() {
	now_cs
	local d=$((NOW_CS - ${VM_T0_CS:-0}))
	echo "$((d / 100)).$((d % 100 / 10))"
}

log() { echo "[$(elapsed)s] $*"; }

# Records a scenario action in the timeline ("suspend dm-0") and prints it. With STEP_AT set
# (a now() taken before the action ran), that is its time.
step() {
	echo "${STEP_AT:-$(now)} step $*" >>"$STEPS_LOG"
	log "step: $*"
}

# step_run TEXT CMD...: times and records CMD as a step (the time is taken before it runs, the
# line written after, so logging does not delay the action).
step_run() {
	local text=$1 STEP_AT
	shift
	STEP_AT=$(now)
	"$@"
	step "$text"
}

# Prints the daemon's event lines since the cursor.
events() { tail -n +"$((EVENT_CURSOR + 1))" "$EVENT_LOG" 2>/dev/null || true; }

# Later waits and assertions only see events from now on.
events_from_now() { EVENT_CURSOR=$(wc -l <"$EVENT_LOG" 2>/dev/null || echo 0); }

# Writes and prints the timeline: the scenario's steps and the daemon's events (verdicts with
# their evidence, fence steps), merged in time order.
timeline() {
	local f files=()
	for f in "$STEPS_LOG" "$EVENT_LOG"; do [ -f "$f" ] && files+=("$f"); done
	sort -s -g -k1,1 "${files[@]}" </dev/null |
		awk -v t0="${VM_T0:-0}" '$1 ~ /^[0-9.]+$/ {
			at = $1; $1 = ""; printf "%+8.1fs %s\n", at - t0, substr($0, 2) }' >"$TIMELINE"
	echo "--- timeline (s since setup; steps and iohealthd events) ---"
	cat "$TIMELINE"
}

pass() {
	trap - ERR
	set +e
	timeline
	log "PASS: $IOHEALTH_SCENARIO"
	exit 0
}

fail() {
	trap - ERR
	set +e
	log "FAIL: $*"
	echo "$(now) step FAIL: $*" >>"$STEPS_LOG"
	if [ -n "$IOHEALTHD_PID" ] && [ -f "$DAEMON_LOG" ]; then
		echo "--- iohealthd log (last 40 lines) ---"
		tail -n 40 "$DAEMON_LOG"
	fi
	timeline
	exit 1
}
trap 'fail "line $LINENO: \"$BASH_COMMAND\" failed"' ERR
# Whatever the scenario started in the background (load, daemon) ends with it.
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT

# Loads modules, brings lo up, names the host, enables sysrq, starts the timeline clock.
# vm_setup [MODULE...] (loop and dm-mod always).
vm_setup() {
	VM_T0=$(now)
	now_cs
	VM_T0_CS=$NOW_CS
	local m
	for m in loop dm-mod "$@"; do
		modprobe "$m" || fail "modprobe $m failed"
	done
	ip link set lo up
	hostname "${VM_HOSTNAME:-iohealth-vm}"
	mkdir -p /run/lock
	echo 1 >/proc/sys/kernel/sysrq
	: >"$STEPS_LOG"
	step "setup done: kernel $(uname -r), modules: loop dm-mod $*"
}

# make_loop SIZE_MB: a loop device over a file on the guest's tmpfs; prints /dev/loopN.
make_loop() {
	local file
	file=$(mktemp /tmp/loop.XXXXXX)
	truncate -s "${1}M" "$file"
	losetup --find --show --direct-io=on "$file" 2>/dev/null || losetup --find --show "$file"
}

sectors_of() { blockdev --getsz "$1"; }

# dm_create NAME TABLE: prints /dev/dm-N (no udev: /dev/mapper links are not made for us).
dm_create() {
	dmsetup create "$1" --table "$2" >/dev/null
	echo "/dev/dm-$(dmsetup info -c --noheadings -o minor "$1" | tr -d ' ')"
}

# make_linear NAME DEV; make_delay NAME DEV DELAY_MS; make_flakey NAME DEV UP_S DOWN_S.
make_linear() { dm_create "$1" "0 $(sectors_of "$2") linear $2 0"; }
make_delay() { dm_create "$1" "0 $(sectors_of "$2") delay $2 0 $3"; }
make_flakey() { dm_create "$1" "0 $(sectors_of "$2") flakey $2 0 $3 $4"; }

# dm_reload NAME TABLE: swaps the table (suspend, load, resume), e.g. a longer delay.
dm_reload() {
	dmsetup suspend "$1"
	dmsetup load "$1" --table "$2"
	dmsetup resume "$1"
}

# start_load DEV [IOPS]: a steady 4 KiB O_DIRECT random write load (fio, rate-limited) in the
# background, as a guest's disk would see; stop_load ends it. Its I/O hangs with the device.
start_load() {
	step "start load: fio 4k randwrite ${2:-50} IOPS on $1"
	fio --name=load --filename="$1" --rw=randwrite --bs=4k --direct=1 --ioengine=psync \
		--rate_iops="${2:-50}" --time_based --runtime=3600 --output=/dev/null &
	LOAD_PID=$!
}
stop_load() {
	[ -n "${LOAD_PID:-}" ] || return 0
	kill "$LOAD_PID" 2>/dev/null || true
	wait "$LOAD_PID" 2>/dev/null || true
	LOAD_PID=
}

# start_journald [MAX_LEVEL_CONSOLE]: systemd-journald without systemd (volatile storage in
# /run/log/journal; journalctl works), forwarding entries up to that priority (default crit)
# to the console, where the host sees them in console.log. The daemon's journald events then
# have a reader.
start_journald() {
	mountpoint -q /sys/fs/cgroup || mount -t cgroup2 cgroup2 /sys/fs/cgroup
	mkdir -p /etc/systemd/journald.conf.d /run/systemd/journal
	printf '[Journal]\nStorage=volatile\nForwardToConsole=yes\nTTYPath=/dev/console\nMaxLevelConsole=%s\n' \
		"${1:-crit}" >/etc/systemd/journald.conf.d/vm.conf
	/lib/systemd/systemd-journald >>"$RESULTS/journald.log" 2>&1 &
	local i
	for ((i = 0; i < 100; i++)); do
		[ -S /run/systemd/journal/socket ] && break
		nap 0.2
	done
	[ -S /run/systemd/journal/socket ] || fail "systemd-journald did not start: $(cat "$RESULTS/journald.log")"
	step "systemd-journald started (to the console up to ${1:-crit})"
}

# start_iohealthd CONFIG [ARG...]: runs the daemon (no D-Bus in the guest) with its event log
# on the share, waits (bounded) until it monitors, and fails if BPF did not load (DEGRADED
# MODE) or its bio-based probes did not, unless VM_ALLOW_DEGRADED=1.
start_iohealthd() {
	local config=$1
	shift
	cp "$config" "$RESULTS/$(basename "$config")"
	step "start iohealthd -c $(basename "$config") $*"
	"$IOHEALTHD" -c "$config" --no-bus --event-log "$EVENT_LOG" "$@" >>"$DAEMON_LOG" 2>&1 &
	IOHEALTHD_PID=$!
	local i
	for ((i = 0; ; i++)); do
		wait_for_log "iohealthd monitoring" 1 && break
		kill -0 "$IOHEALTHD_PID" 2>/dev/null || fail "iohealthd exited at start-up"
		((i < 60)) || fail "iohealthd did not start within 60s"
	done
	if [ "${VM_ALLOW_DEGRADED:-0}" != 1 ]; then
		! grep -q "DEGRADED MODE" "$DAEMON_LOG" ||
			fail "iohealthd runs without BPF: $(grep -m1 'DEGRADED MODE' "$DAEMON_LOG")"
		# dm and DRBD are bio-based: without those probes they have no kernel evidence.
		! grep -q "are not measured" "$DAEMON_LOG" ||
			fail "iohealthd runs without its bio probes: $(grep -m1 'are not measured' "$DAEMON_LOG")"
	fi
	log "iohealthd pid $IOHEALTHD_PID: $(grep -m1 -o 'Kernel evidence: .*\|DEGRADED MODE.*' "$DAEMON_LOG")"
}

# stop_iohealthd: SIGTERM, then wait at most 20 s for it to exit.
stop_iohealthd() {
	[ -n "$IOHEALTHD_PID" ] || return 0
	step "stop iohealthd"
	kill -TERM "$IOHEALTHD_PID" 2>/dev/null || true
	local i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$IOHEALTHD_PID" 2>/dev/null || break
		nap 0.2
	done
	kill -0 "$IOHEALTHD_PID" 2>/dev/null && fail "iohealthd did not stop within 20s"
	wait "$IOHEALTHD_PID" 2>/dev/null || true
	IOHEALTHD_PID=
}

# wait_for_log REGEX TIMEOUT_S: polls the daemon log until a line matches (bash ERE).
wait_for_log() {
	local deadline line lines
	now_cs
	deadline=$((NOW_CS + $2 * 100))
	while :; do
		if [ -f "$DAEMON_LOG" ]; then
			mapfile -t lines <"$DAEMON_LOG"
			for line in "${lines[@]}"; do [[ $line =~ $1 ]] && return 0; done
		fi
		now_cs
		((NOW_CS < deadline)) || return 1
		nap 0.2
	done
}

# first_event REGEX: prints the first event line after the cursor that matches (bash ERE on
# the whole line: "<t> <type> path=<name> <message>"); returns 1 if there is none.
first_event() {
	local line lines
	[ -f "$EVENT_LOG" ] || return 1
	mapfile -t -s "$EVENT_CURSOR" lines <"$EVENT_LOG"
	for line in "${lines[@]}"; do
		if [[ $line =~ $1 ]]; then
			echo "$line"
			return 0
		fi
	done
	return 1
}

# wait_for_event REGEX TIMEOUT_S: polls until first_event REGEX finds one; prints it and
# returns 0, or returns 1 after TIMEOUT_S. Never a fixed sleep: the wait ends as soon as the
# event is in.
wait_for_event() {
	local deadline
	now_cs
	deadline=$((NOW_CS + $2 * 100))
	while :; do
		first_event "$1" && return 0
		now_cs
		((NOW_CS < deadline)) || return 1
		nap 0.2
	done
}

# expect_event REGEX TIMEOUT_S [WHAT]: wait_for_event or fail; logs the event and keeps it in
# LAST_EVENT (call it directly, not in $(...), or a failure only ends the subshell).
expect_event() {
	local line
	line=$(wait_for_event "$1" "$2") || fail "no event matching /$1/ within $2s${3:+ ($3)}"
	log "event: $line"
	LAST_EVENT=$line
}

# Time (monotonic s) of the first event after the cursor matching REGEX; returns 1 if none.
event_time() {
	local line
	line=$(first_event "$1") || return 1
	echo "${line%% *}"
}

assert_event() { first_event "$1" >/dev/null || fail "expected an event matching /$1/${2:+: $2}"; }

assert_no_event() {
	local line
	if line=$(first_event "$1"); then fail "unexpected event${2:+ ($2)}: $line"; fi
}

# assert_before REGEX1 REGEX2: the first match of REGEX1 comes before the first of REGEX2.
assert_before() {
	local a b
	a=$(event_time "$1") || fail "no event matching /$1/"
	b=$(event_time "$2") || fail "no event matching /$2/"
	awk -v a="$a" -v b="$b" 'BEGIN { exit !(a <= b) }' ||
		fail "expected /$1/ (at $a) before /$2/ (at $b)"
}

# assert_between VALUE LOW HIGH WHAT: LOW <= VALUE <= HIGH (decimals allowed).
assert_between() {
	awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }' ||
		fail "$4: $1 is not within [$2, $3]"
	log "ok: $4 = $1 (within [$2, $3])"
}

# The difference of two monotonic times (b - a), one decimal.
seconds_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
