# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run ansible-test sanity and fail when it skipped a test for a missing program.

ansible-test only warns when a program a sanity test needs is missing, and passes:
``WARNING: Required program "shellcheck" not found.`` (shellcheck, pwsh), or
``WARNING: Skipping sanity test "compile" on Python 3.8 because it could not be found.`` (an interpreter,
PyYAML's libyaml, virtual environment support). The texts are those of ansible-test 2.19 to 2.21
(_internal/util.py find_executable, _internal/commands/sanity/__init__.py and import.py).

Usage: python sanity_skips.py ansible-test sanity [OPTION...]
The command's output is passed through as it comes; the exit status is the command's when it failed,
1 when it passed with such a skip (the skipped tests are named), else 0.
"""

from __future__ import annotations

import re
import subprocess
import sys
import typing as t

ANSI_CODE = re.compile(r'\x1b\[[0-9;]*m')
# the test the next warnings belong to: "Running sanity test "shellcheck"" (or "... on Python 3.11")
RUNNING = re.compile(r'Running sanity test "(?P<test>[^"]+)"')
MISSING_PROGRAM = re.compile(r'WARNING: (?P<message>Required program "[^"]+" not found\.)')
SKIPPED = re.compile(
    r'WARNING: (?P<message>Skipping sanity test "(?P<test>[^"]+)".*'
    r'(?:because it could not be found|due to missing (?:libyaml|virtual environment) support).*)'
)
# ansible-test repeats every warning at the end: no longer after the test they came from
REVIEW = re.compile(r'WARNING: Reviewing previous \d+ warning')


def skipped_for_missing(lines: t.Iterable[str]) -> list[str]:
    """The sanity tests skipped for a missing program, each as '<test>: <ansible-test's warning>'."""
    found: list[str] = []
    current = 'ansible-test'
    for line in lines:
        line = ANSI_CODE.sub('', line).rstrip()
        if REVIEW.search(line):
            break
        running = RUNNING.search(line)
        if running:
            current = running.group('test')
            continue
        skipped = SKIPPED.search(line)
        missing = MISSING_PROGRAM.search(line)
        if skipped:
            entry = '%s: %s' % (skipped.group('test'), skipped.group('message'))
        elif missing:
            entry = '%s: %s' % (current, missing.group('message'))
        else:
            continue
        if entry not in found:
            found.append(entry)
    return found


def run(command: list[str]) -> int:
    """Run the command with its output passed through; its status, or 1 for a skip in a passing run."""
    seen: list[str] = []
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors='replace'
    ) as process:
        for line in t.cast(t.IO[str], process.stdout):
            sys.stdout.write(line)
            sys.stdout.flush()
            seen.append(line)
    skips = skipped_for_missing(seen)
    if skips:
        print(
            'ERROR: ansible-test skipped %d sanity test(s) for a missing program (install what it names):' % len(skips)
        )
        for skip in skips:
            print('  ' + skip)
    if process.returncode:
        return process.returncode
    return 1 if skips else 0


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit('usage: %s ansible-test sanity [OPTION...]' % sys.argv[0])
    sys.exit(run(sys.argv[1:]))


if __name__ == '__main__':
    main()
