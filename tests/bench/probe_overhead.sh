#!/bin/bash
# Probe overhead, A/B: fio 4k randread QD32 (libaio, direct) on a loop device over a file in
# tmpfs, with no probe, with the iohealth probes (probe_loader) and with libbpf-tools'
# biolatency, interleaved over ROUNDS rounds. Prints the median IOPS per mode, each mode's
# IOPS loss and added microseconds per I/O, then the net BPF time per I/O of the iohealth
# probes from bpf_enable_stats(BPF_STATS_RUN_TIME), net of an empty calibration program on
# the same tracepoint, alone and next to biolatency's programs (whose net time is printed as
# "foreign"). The run-time figures hold on a busy machine; the IOPS A/B needs a quiet one.
# Root only.
#
# Usage: tests/bench/probe_overhead.sh [BUILD_DIR]     (env: ROUNDS=3 RUNTIME=10 NICE=-20)
# fio runs at nice NICE so that other load on a shared machine disturbs the A/B less; the
# load average is printed before and after: compare runs only at similar load.
# Targets (DESIGN.md): <= 2 % IOPS loss at >= 150k IOPS, at most half of biolatency's loss,
# <= 150 ns net BPF per I/O.
set -euo pipefail

BUILD=${1:-build}
ROUNDS=${ROUNDS:-3}
RUNTIME=${RUNTIME:-10}
NICE=${NICE:--20}
LOADER=$BUILD/tests/bench/probe_loader
PY=/usr/bin/python3

die() { echo "probe_overhead: $*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || die "needs root"
[[ -x $LOADER ]] || die "no $LOADER (build the probe_loader target)"
command -v fio >/dev/null || die "fio is not installed"
BIOLATENCY=$(command -v biolatency || true)
[[ -n $BIOLATENCY ]] || die "biolatency (libbpf-tools) is not installed"

WORK=$(mktemp -d /tmp/iohealth-bench.XXXXXX)
LOOP=""
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    [[ -n $LOOP ]] && losetup -d "$LOOP" 2>/dev/null || true
    umount "$WORK" 2>/dev/null || true
    rmdir "$WORK" 2>/dev/null || true
}
trap cleanup EXIT

mount -t tmpfs -o size=1200m tmpfs "$WORK"
dd if=/dev/zero of="$WORK/disk.img" bs=1M count=1024 status=none
LOOP=$(losetup -f --show "$WORK/disk.img")
echo "device: $LOOP over tmpfs, fio randread 4k qd32 libaio direct, ${RUNTIME}s x $ROUNDS rounds"

run_fio() {
    nice -n "$NICE" fio --name=bench --filename="$LOOP" --rw=randread --bs=4k --iodepth=32 --ioengine=libaio \
        --direct=1 --numjobs=1 --time_based --runtime="$RUNTIME" --group_reporting \
        --output-format=json | $PY -c 'import json,sys; print(int(json.load(sys.stdin)["jobs"][0]["read"]["iops"]))'
}

# Waits until probe_loader printed "ready" (attached) into its output file.
wait_ready() {
    for _ in $(seq 100); do
        grep -qx ready "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    die "probe_loader did not start: $(cat "$1")"
}

# Starts a probe in the background and waits until it is attached.
start_probe() {
    local mode=$1
    case $mode in
    iohealth)
        "$LOADER" --device "$LOOP" >"$WORK/loader.out" 2>&1 &
        PROBE_PID=$!
        PIDS+=("$PROBE_PID")
        wait_ready "$WORK/loader.out"
        ;;
    biolatency)
        "$BIOLATENCY" 3600 1 >/dev/null &
        PROBE_PID=$!
        PIDS+=("$PROBE_PID")
        sleep 2  # load + attach; it prints nothing until the interval ends
        ;;
    esac
}

stop_probe() {
    kill -INT "$PROBE_PID" 2>/dev/null || true
    wait "$PROBE_PID" 2>/dev/null || true
}

run_fio >/dev/null  # warm-up: page cache of the backing file, CPU frequency
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

declare -A RESULTS
MODES=(none iohealth biolatency)
for ((r = 1; r <= ROUNDS; r++)); do
    for mode in "${MODES[@]}"; do
        [[ $mode != none ]] && start_probe "$mode"
        iops=$(run_fio)
        [[ $mode != none ]] && stop_probe
        RESULTS[$mode]+="$iops "
        printf 'round %d %-10s %8d IOPS\n' "$r" "$mode" "$iops"
    done
done

echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
$PY - "${RESULTS[none]}" "${RESULTS[iohealth]}" "${RESULTS[biolatency]}" <<'PYEOF'
import statistics, sys
runs = [list(map(int, a.split())) for a in sys.argv[1:4]]
none, ioh, bio = (statistics.median(r) for r in runs)
def loss(x): return 100.0 * (1 - x / none)
def us(x): return 1e6 / x - 1e6 / none
# Paired per round (adjacent runs share the machine's load of the moment), then the median.
def paired(i): return statistics.median(100.0 * (1 - p / n) for n, p in zip(runs[0], runs[i]))
print(f"median IOPS: none {none:.0f}  iohealth {ioh:.0f}  biolatency {bio:.0f}")
print(f"iohealth loss   {loss(ioh):6.2f} %  (+{us(ioh):.3f} us/IO)  paired median {paired(1):6.2f} %")
print(f"biolatency loss {loss(bio):6.2f} %  (+{us(bio):.3f} us/IO)  paired median {paired(2):6.2f} %")
if loss(bio) > 0:
    print(f"iohealth loss / biolatency loss = {loss(ioh) / loss(bio):.2f}")
spread = (max(runs[0]) - min(runs[0])) / none
if spread > 0.10:
    print(f"WARNING: 'none' IOPS spread {100 * spread:.0f} % of its median: the machine is busy, "
          "the A/B figures above are not meaningful")
PYEOF

echo "BPF run time (bpf_enable_stats), ${RUNTIME}s of the same fio load:"
"$LOADER" --device "$LOOP" --stats >"$WORK/stats.out" 2>&1 &
STATS_PID=$!
PIDS+=("$STATS_PID")
wait_ready "$WORK/stats.out"
run_fio >/dev/null
kill -INT "$STATS_PID"
wait "$STATS_PID"
grep -v '^ready$' "$WORK/stats.out"

echo "BPF run time with biolatency attached as well, ${RUNTIME}s:"
"$BIOLATENCY" 3600 1 >/dev/null &
BIO_PID=$!
PIDS+=("$BIO_PID")
sleep 2
"$LOADER" --device "$LOOP" --stats --foreign block_rq_issue_btf --foreign block_rq_complete_btf \
    >"$WORK/stats2.out" 2>&1 &
STATS_PID=$!
PIDS+=("$STATS_PID")
wait_ready "$WORK/stats2.out"
run_fio >/dev/null
kill -INT "$STATS_PID"
wait "$STATS_PID"
kill -INT "$BIO_PID"
wait "$BIO_PID" || true
grep -v '^ready$' "$WORK/stats2.out"
