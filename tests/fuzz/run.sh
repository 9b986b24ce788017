#!/bin/sh
# Run the config fuzzer for a bounded time (CI): tests/fuzz/run.sh BUILD_DIR SECONDS
# BUILD_DIR is a clang build configured with -DIOHEALTH_FUZZ=ON. New inputs go to
# BUILD_DIR/fuzz/corpus, crashes to BUILD_DIR/fuzz/artifacts; the seeds here are not modified.
set -eu
if [ $# -ne 2 ]; then
    echo "usage: $0 BUILD_DIR SECONDS" >&2
    exit 2
fi
build=$1
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
fuzzer="$build/tests/fuzz/config_fuzz"
if [ ! -x "$fuzzer" ]; then
    echo "$0: $fuzzer not found; configure with CC=clang CXX=clang++ -DIOHEALTH_FUZZ=ON" >&2
    exit 2
fi
mkdir -p "$build/fuzz/corpus" "$build/fuzz/artifacts"
# A fixed seed and run count make CI repeatable: the same mutations every run, so a green
# local run means a green CI run (the time limit only cuts the same sequence short).
exec "$fuzzer" \
    -seed="${IOHEALTH_FUZZ_SEED:-1}" \
    -runs="${IOHEALTH_FUZZ_RUNS:--1}" \
    -max_total_time="$seconds" \
    -timeout=10 \
    -rss_limit_mb=2048 \
    -max_len=4096 \
    -dict="$here/config.dict" \
    -artifact_prefix="$build/fuzz/artifacts/" \
    -print_final_stats=1 \
    "$build/fuzz/corpus" "$here/corpus"
