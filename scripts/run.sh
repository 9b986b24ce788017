#!/usr/bin/env bash
# Installs, builds and starts iohealthd in the foreground on a safe default: dry-run (fence
# actions are only described, never executed) against this machine's block devices.
# Extra arguments go to iohealthd (e.g. --duration 30, --no-bpf, --config FILE).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target iohealthd
exec build/userspace/daemon/iohealthd --mode dry-run --foreground "$@"
