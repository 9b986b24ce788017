#!/bin/sh
# Run one fuzzer for a bounded time (CI): tests/fuzz/run.sh BUILD_DIR SECONDS [FUZZER]
# FUZZER: config (the default), drbd_events, drbd_show, mountstats, diskstats or
# agent_properties. BUILD_DIR is a clang build configured with -DIOHEALTH_FUZZ=ON. New inputs
# go to BUILD_DIR/fuzz/FUZZER/corpus, crashes to BUILD_DIR/fuzz/FUZZER/artifacts; the seeds
# (tests/fuzz/corpus*, tests/fixtures) are not modified.
set -eu
if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    echo "usage: $0 BUILD_DIR SECONDS [FUZZER]" >&2
    exit 2
fi
build=$1
seconds=$2
name=${3:-config}
here=$(cd "$(dirname "$0")" && pwd)
fixtures="$here/../fixtures"
dict=
case $name in
    config) seeds="$here/corpus"; dict="-dict=$here/config.dict" ;;
    drbd_events | drbd_show) seeds="$fixtures/drbd" ;;
    mountstats) seeds="$fixtures/nfs" ;;
    diskstats) seeds="$fixtures/diskstats" ;;
    agent_properties) seeds="$here/corpus-agent-properties" ;;
    *)
        echo "$0: unknown fuzzer '$name'" >&2
        exit 2
        ;;
esac
fuzzer="$build/tests/fuzz/${name}_fuzz"
if [ ! -x "$fuzzer" ]; then
    echo "$0: $fuzzer not found; configure with CC=clang CXX=clang++ -DIOHEALTH_FUZZ=ON" >&2
    exit 2
fi
out="$build/fuzz/$name"
mkdir -p "$out/corpus" "$out/artifacts"
# A fixed seed and run count make CI repeatable: the same mutations every run, so a green
# local run means a green CI run (the time limit only cuts the same sequence short).
# shellcheck disable=SC2086 # $dict is empty or one word
exec "$fuzzer" \
    -seed="${IOHEALTH_FUZZ_SEED:-1}" \
    -runs="${IOHEALTH_FUZZ_RUNS:--1}" \
    -max_total_time="$seconds" \
    -timeout=10 \
    -rss_limit_mb=2048 \
    -max_len=4096 \
    $dict \
    -artifact_prefix="$out/artifacts/" \
    -print_final_stats=1 \
    "$out/corpus" "$seeds"
