#!/usr/bin/env bash
# Installs, builds and runs every test: unit, integration (root: real BPF, loop devices, FUSE
# faults, a private dbus-daemon), the daemon end to end; the Debian package (built once, checked
# with lintian); the VM tier (qemu guests on Debian's stock kernel: device-mapper, DRBD, NFS, a
# real reboot, and systemd as PID 1 with the package installed); then the unit, integration and
# e2e tests under ASan+UBSan (all but the side-by-side and contention runs), then the fuzzers
# (config, DRBD events2/show, mountstats, diskstats, agent.properties) for a bounded time.
# Prints each tier's wall time, and all of them at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
walls=()
tier() { # tier NAME CMD...: runs CMD as a tier and records its wall time
  local name=$1 t0=$SECONDS
  shift
  echo "=== $name ==="
  "$@"
  walls+=("$(printf '%-28s %4d s' "$name" $((SECONDS - t0)))")
  echo "--- $name: $((SECONDS - t0)) s"
}
summary() {
  echo "=== wall time per tier ==="
  printf '%s\n' "${walls[@]}"
}
trap summary EXIT
jobs=$(nproc)

tier deps scripts/deps.sh --test
tier "build (RelWithDebInfo)" sh -c "cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
  cmake --build build -j$jobs"
tier tests sh -c "cd build && ctest --output-on-failure --timeout 600 -LE '^vm$'"
# The package the VM tier's systemd guests install (build/deb/iohealth_*.deb).
tier "Debian package + lintian" sh -c "scripts/build-deb.sh build/deb &&
  lintian --fail-on error build/deb/iohealth_*.changes"
tier "VM tier" sh -c "cd build && ctest --output-on-failure -L '^vm$'"

tier "build (ASan+UBSan)" sh -c "cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DIOHEALTH_SANITIZE=ON >/dev/null && cmake --build build-asan -j$jobs"
# Not under ASan: the side-by-side runs and the contention scenarios, minutes of wall-clock
# waits through code paths the other e2e tests drive (they run in the release tier above).
tier "tests under ASan+UBSan" sh -c "cd build-asan && ASAN_OPTIONS=detect_leaks=1 \
  UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure --timeout 900 \
  -L 'unit|integration|e2e' -E '^(ChainedTest|ContentionE2eTest)[.]|^sidebyside_short$'"

if [ -x tests/fuzz/run.sh ]; then
  fuzz() {
    CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Debug \
      -DIOHEALTH_FUZZ=ON -DIOHEALTH_TESTS=ON >/dev/null
    cmake --build build-fuzz -j"$jobs" --target config_fuzz drbd_events_fuzz drbd_show_fuzz \
      mountstats_fuzz diskstats_fuzz agent_properties_fuzz
    # The config language is the largest input space; each other parser gets a share.
    IOHEALTH_FUZZ_RUNS=${IOHEALTH_FUZZ_RUNS:-100000} tests/fuzz/run.sh build-fuzz "${IOHEALTH_FUZZ_SECONDS:-60}"
    for f in drbd_events drbd_show mountstats diskstats agent_properties; do
      IOHEALTH_FUZZ_RUNS=${IOHEALTH_FUZZ_RUNS:-100000} tests/fuzz/run.sh build-fuzz "${IOHEALTH_FUZZ_PARSER_SECONDS:-20}" "$f"
    done
  }
  tier "fuzzers (bounded)" fuzz
fi
