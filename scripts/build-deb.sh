#!/usr/bin/env bash
# Builds the Debian package from a copy of this checkout's files (git ls-files) in
# OUT_DIR/src, so dpkg-buildpackage's outputs (the .deb next to the source, obj-*, debian/
# staging) stay out of the tree. Prints the .deb's path on the last line.
# Usage: scripts/build-deb.sh [OUT_DIR]   (default build/deb)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$src/build/deb}" && cd "${1:-$src/build/deb}" && pwd)
rm -rf "$out/src" "$out"/*.deb "$out"/*.buildinfo "$out"/*.changes
mkdir -p "$out/src"
(cd "$src" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) | tar -C "$out/src" -xf -
# ccache across CI runs and worktrees, when installed (CMake reads the launcher from the env).
if command -v ccache >/dev/null; then
  export CMAKE_C_COMPILER_LAUNCHER=ccache CMAKE_CXX_COMPILER_LAUNCHER=ccache
fi
(cd "$out/src" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" dpkg-buildpackage -b -us -uc) >"$out/build.log" 2>&1 ||
  { tail -n 60 "$out/build.log"; echo "build-deb: dpkg-buildpackage failed (log: $out/build.log)" >&2; exit 1; }
ls "$out"/iohealth_*.deb
