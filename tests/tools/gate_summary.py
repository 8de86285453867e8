# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The last lines `make test` prints: each nox session's result, and the end of every failed one.

CI shows the tail of the output; the two lanes (the QEMU guest beside the other gates) interleave
hundreds of lines before it. This names each session that failed and repeats its last lines, so the
reason is on the screen without scrolling. Usage: gate_summary.py LOG [LOG ...]
"""

from __future__ import annotations

import re
import sys
import typing as t

RUNNING = re.compile(r'^nox > Running session (\S+)')
ENDED = re.compile(r'^nox > Session (\S+) (was successful|failed|skipped|aborted)')
TAIL_LINES = 40


def sessions(lines: t.Sequence[str]) -> list[tuple[str, str, list[str]]]:
    """(session, result, its lines) for every session the log started, in the order they ended."""
    found: list[tuple[str, str, list[str]]] = []
    running: dict[str, list[str]] = {}  # a session may run inside another: both get its lines
    for line in lines:
        started = RUNNING.match(line)
        ended = ENDED.match(line)
        if started:
            running[started.group(1)] = []
        elif ended and ended.group(1) in running:
            found.append((ended.group(1), ended.group(2).replace('was ', ''), running.pop(ended.group(1))))
        else:
            for body in running.values():
                body.append(line)
    found.extend((name, 'did not finish', body) for name, body in running.items())
    return found


def summary(logs: t.Sequence[str]) -> list[str]:
    out: list[str] = []
    results: list[str] = []
    for log in logs:
        try:
            with open(log, encoding='utf-8', errors='replace') as handle:
                lines = handle.read().splitlines()
        except OSError as error:
            results.append('%s: cannot be read (%s)' % (log, error.strerror))
            continue
        for name, result, body in sessions(lines):
            results.append('%s: %s' % (name, result))
            if result not in ('successful', 'skipped'):
                out.append('---- the last %d lines of %s (%s), from %s ----' % (TAIL_LINES, name, result, log))
                out.extend(body[-TAIL_LINES:])
    return out + ['make test: ' + '; '.join(results)]


def main(argv: t.Sequence[str]) -> int:
    print('\n'.join(summary(argv)))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
