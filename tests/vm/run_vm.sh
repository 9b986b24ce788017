#!/usr/bin/env bash
# Boots a qemu guest on Debian's stock kernel with this machine's root (9p, read-only, tmpfs
# overlay) and runs one scenario, tests/vm/scenarios/NAME.sh, inside it with the project's
# build. Results land in RESULTS_DIR (default BUILD_DIR/tests/vm/results/NAME): console.log,
# scenario.log, rc, and whatever the scenario writes (event log, daemon log, timeline.txt).
#
# Usage: run_vm.sh [--build BUILD_DIR] [--results RESULTS_DIR] NAME
# Exit: 0 pass, 1 fail, 77 skipped (not root, no qemu, no kernel package; never when CI=true).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$src/build
results=
while (($#)); do
  case $1 in
  --build) build=$(cd "$2" && pwd); shift 2 ;;
  --results) results=$2; shift 2 ;;
  -*) echo "run_vm.sh: unknown option $1" >&2; exit 2 ;;
  *) break ;;
  esac
done
name=${1:?usage: run_vm.sh [--build DIR] [--results DIR] NAME}
scenario=$src/tests/vm/scenarios/$name.sh
host_check=$src/tests/vm/scenarios/$name.host.sh
[ -f "$scenario" ] || { echo "run_vm.sh: no scenario $scenario" >&2; exit 2; }
results=${results:-$build/tests/vm/results/$name}

skip() {
  if [ "${CI:-}" = true ]; then
    echo "FAILED (CI=true, the VM tier must run): $*"
    exit 1
  fi
  echo "SKIPPED: $*"
  exit 77
}
[ "$(id -u)" = 0 ] || skip "needs root (9p export of / and loop/dm devices in the guest)"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed (qemu-system-x86)"
kernel_dir=$("$src/tests/vm/fetch_kernel.sh") || skip "cannot fetch Debian's stock kernel package"
initramfs=$("$src/tests/vm/build_initramfs.sh" "$kernel_dir") || skip "cannot build the initramfs"

kernel=$kernel_dir/vmlinux
[ -f "$kernel" ] || kernel=$kernel_dir/vmlinuz

# A scenario may ask for more than the default guest time: "# vm-timeout: SECONDS".
timeout_s=$(sed -n 's/^# vm-timeout: *\([0-9]*\).*/\1/p' "$scenario" | head -n1)
timeout_s=${timeout_s:-240}
# "# vm-init: systemd": systemd as PID 1 (guest/systemd-boot.sh) with a persistent journal on a
# guest disk and an i6300esb hardware watchdog (reset: with -no-reboot qemu exits).
init=$(sed -n 's/^# vm-init: *\([a-z]*\).*/\1/p' "$scenario" | head -n1)
boot=$src/tests/vm/guest/boot.sh
extra=()

rm -rf "$results"
mkdir -p "$results"
cat >"$results/vm.env" <<ENV
IOHEALTH_SRC='$src'
IOHEALTH_BUILD='$build'
IOHEALTH_SCENARIO='$name'
ENV

if [ "$init" = systemd ]; then
  boot=$src/tests/vm/guest/systemd-boot.sh
  deb=$(ls "$build"/deb/iohealth_*.deb 2>/dev/null | head -n1)
  [ -n "$deb" ] || skip "no package in $build/deb to install in the guest (scripts/build-deb.sh $build/deb)"
  truncate -s 128M "$results/journal.img"
  mkfs.ext4 -q -F -L journal "$results/journal.img"
  extra=(-drive "file=$results/journal.img,if=virtio,format=raw" -device i6300esb -action watchdog=reset)
fi

echo "vm: scenario $name, kernel $(basename "$kernel_dir"), timeout ${timeout_s}s, results $results"
start=$(date +%s%N)
set +e
timeout --kill-after=10 "$timeout_s" qemu-system-x86_64 \
  -accel tcg,thread=multi -cpu max -m 2048 -smp 2 -nographic -no-reboot \
  -kernel "$kernel" -initrd "$initramfs" \
  -append "console=ttyS0 quiet panic=-1 iohealth.boot=$boot iohealth.keep=$src,$build iohealth.modules=$kernel_dir/lib/modules/$(basename "$kernel_dir")" \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
  -virtfs local,path="$results",mount_tag=results,security_model=none \
  -nic none "${extra[@]}" </dev/null >"$results/console.log" 2>&1
qemu_rc=$?
set -e
wall=$(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN { print (b - a) / 1e9 }')
printf 'vm: guest ran %.1fs (qemu exit %d%s)\n' "$wall" "$qemu_rc" \
  "$([ "$qemu_rc" = 124 ] && echo ", killed at the ${timeout_s}s timeout")"

if [ -f "$results/journal.img" ]; then
  # The guest's persistent journal, for journalctl --directory on the host. The guest may
  # have been reset: replay the file system's journal first, as its next boot would.
  e2fsck -y -E journal_only "$results/journal.img" >/dev/null 2>&1
  mkdir -p "$results/journal"
  for d in $(debugfs -R "ls -p /" "$results/journal.img" 2>/dev/null | cut -d/ -f6 |
    grep -E '^[0-9a-f]{32}$'); do
    debugfs -R "rdump /$d $results/journal" "$results/journal.img" >/dev/null 2>&1
  done
  # Kept when nothing came out of it (to see why), else gone: 128 MiB sparse each.
  [ -z "$(ls "$results"/journal/*/*.journal 2>/dev/null)" ] || rm -f "$results/journal.img"
fi

verdict=0
if [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then
  echo "vm: FAIL: the guest did not finish within ${timeout_s}s"
  verdict=1
fi
if [ -x "$host_check" ]; then
  # The scenario decides on the host (real-reboot: the guest never comes back to write rc).
  # Its lines (checks, measured times) also stay in the results.
  QEMU_RC=$qemu_rc "$host_check" "$results" | tee "$results/host-check.log" || verdict=1
elif [ "$(cat "$results/rc" 2>/dev/null)" != 0 ]; then
  echo "vm: FAIL: scenario status '$(cat "$results/rc" 2>/dev/null || echo none: the guest never wrote it)'"
  verdict=1
fi

if [ -f "$results/timeline.txt" ]; then
  echo "--- timeline ---"
  cat "$results/timeline.txt"
elif [ -f "$results/events.log" ]; then
  # The guest did not get to write its timeline (it reset, or hung): the daemon's own record.
  echo "--- iohealthd events (monotonic s) ---"
  cat "$results/events.log"
fi
if [ "$verdict" != 0 ]; then
  echo "--- guest console (last 150 lines of $results/console.log) ---"
  tail -n 150 "$results/console.log"
  echo "vm: $name FAILED"
  exit 1
fi
echo "vm: $name passed"
