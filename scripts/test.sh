#!/usr/bin/env bash
# Installs, builds and runs every test: unit, integration (root: real BPF, loop devices, FUSE
# faults, a private dbus-daemon), the daemon end to end; the VM tier (qemu guests on Debian's
# stock kernel: device-mapper, DRBD, NFS, a real reboot); then the unit, integration and e2e
# tests under ASan+UBSan, then the config fuzzer for a bounded time.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
jobs=$(nproc)

echo "=== build (RelWithDebInfo) ==="
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
echo "=== tests ==="
(cd build && ctest --output-on-failure --timeout 600 -LE '^vm$')
echo "=== VM tier (one qemu guest per scenario) ==="
(cd build && ctest --output-on-failure -L '^vm$')

echo "=== build (ASan+UBSan) ==="
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DIOHEALTH_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
echo "=== tests under ASan+UBSan ==="
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
   ctest --output-on-failure --timeout 900 -L 'unit|integration|e2e')

if [ -x tests/fuzz/run.sh ]; then
  echo "=== config fuzzer (bounded) ==="
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DIOHEALTH_FUZZ=ON -DIOHEALTH_TESTS=ON >/dev/null
  cmake --build build-fuzz -j"$jobs" --target config_fuzz
  IOHEALTH_FUZZ_RUNS=${IOHEALTH_FUZZ_RUNS:-100000} tests/fuzz/run.sh build-fuzz "${IOHEALTH_FUZZ_SECONDS:-120}"
fi
