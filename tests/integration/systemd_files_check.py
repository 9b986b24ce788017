#!/usr/bin/python3
"""Checks systemd/: the unit passes `systemd-analyze verify` with no output at all, and the
catalog compiles with `journalctl --update-catalog` and holds an entry for every MESSAGE_ID
the daemon logs (core/events.cpp). Exit 77 (skip) without systemd-analyze/journalctl.

usage: systemd_files_check.py UNIT CATALOG
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

# verdict-changed, fence-imminent, near-miss, escalation-started, step-started, step-succeeded,
# step-failed, escalation-averted, step-rate-limited, fence-suppressed, escalation-exhausted,
# mode-changed, stuck-request, fence-declined.
MESSAGE_IDS = """3c5e1f6f0b8a4d6e9a2b7c41d0e8f512 8a1d2c3b4e5f46a7b8c9d0e1f2a3b4c5
5b7e9d1c3a2f4e6d8c0b1a2f3e4d5c6b 7f3a9c2e1d4b4f6a8e0c2b4d6f8a1c3e 2e4c6a8b0d1f43a5b7c9e1d3f5a7b9c2
9d8c7b6a5f4e43d2c1b0a9f8e7d6c5b4 1a3c5e7f9b2d44f6a8c0e2b4d6f8a0c1 6c4a2e0f8d6b44a2c0e8f6d4b2a0c8e6
4f2d0b9e7c5a43e1f9d7b5c3a1e9f7d5 0e2c4a6f8b1d43e5a7c9f1b3d5e7a9c0 c2e4a6b8d0f243a5c7e9b1d3f5a7c9e1
b1d3f5a7c9e24b4d6f8a0c2e4b6d8f0a a8e7454ff00b4485975d8c1aaa8a6b8d
5d0f7c2a9e6b4c1d8a3f0e7b2c9d4a61""".split()


def fail(message):
    print('FAIL:', message)
    sys.exit(1)


def main():
    unit, catalog = sys.argv[1:]
    if not shutil.which('systemd-analyze') or not shutil.which('journalctl'):
        print('SKIP: systemd-analyze or journalctl not installed')
        sys.exit(77)
    with tempfile.TemporaryDirectory() as tmp:
        # The daemon is not installed where ExecStart points while tests run; verify checks that
        # the binary exists, so point it at one that does.
        text = open(unit).read()
        text = re.sub(r'^ExecStart=\S+', 'ExecStart=/bin/true', text, flags=re.M)
        unit_copy = os.path.join(tmp, 'iohealthd.service')
        with open(unit_copy, 'w') as f:
            f.write(text)
        # --man=no: the man pages are not installed either.
        r = subprocess.run(['systemd-analyze', 'verify', '--man=no', unit_copy],
                           capture_output=True, text=True)
        if r.returncode != 0 or r.stdout or r.stderr:
            fail(f'systemd-analyze verify (rc {r.returncode}):\n{r.stdout}{r.stderr}')

        root = os.path.join(tmp, 'root')
        os.makedirs(os.path.join(root, 'usr/lib/systemd/catalog'))
        shutil.copy(catalog, os.path.join(root, 'usr/lib/systemd/catalog'))
        r = subprocess.run(['journalctl', f'--root={root}', '--update-catalog'],
                           capture_output=True, text=True)
        if r.returncode != 0 or r.stderr:
            fail(f'journalctl --update-catalog (rc {r.returncode}):\n{r.stderr}')
        r = subprocess.run(['journalctl', f'--root={root}', '--list-catalog'],
                           capture_output=True, text=True, env={**os.environ, 'SYSTEMD_PAGER': ''})
        listed = {line.split()[0] for line in r.stdout.splitlines() if line.strip()}
        missing = [i for i in MESSAGE_IDS if i not in listed]
        if missing:
            fail(f'catalog has no entry for {missing}')
        extra = listed - set(MESSAGE_IDS)
        if extra:
            fail(f'catalog entries no event uses: {sorted(extra)}')
    print(f'ok: unit verified, {len(MESSAGE_IDS)} catalog entries')


main()
