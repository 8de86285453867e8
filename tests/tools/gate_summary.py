# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The last lines `make test` prints: each nox session's result, and the end of every failed one.

CI shows the tail of the output; the two lanes (the QEMU guest beside the other gates) interleave
hundreds of lines before it. This names each session that failed, repeats its last lines and, for a
session that ran Ansible (molecule, integration), the last task that failed with its message: a
play's recap and molecule's summary fill the tail and push that message out of it. So the reason is
on the screen without scrolling. Usage: gate_summary.py LOG [LOG ...]
"""

from __future__ import annotations

import re
import sys
import typing as t

RUNNING = re.compile(r'^nox > Running session (\S+)')
ENDED = re.compile(r'^nox > Session (\S+) (was successful|failed|skipped|aborted)')
# Ansible's failed task: `fatal: [host]: FAILED! =>` or, in a loop, `failed: [host] (item=...)`
ANSIBLE_FAILED = re.compile(r'^(fatal|failed): \[')
TASK = re.compile(r'^TASK \[')
TAIL_LINES = 40
FAILURE_LINES = 30  # of the failed task's message, which the YAML callback spreads over indented lines
LINE_CHARACTERS = 500  # a JSON result is one line, sometimes of many kilobytes


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


def last_ansible_failure(body: t.Sequence[str]) -> list[str]:
    """The last task that failed and was not ignored: its TASK line, its failure line and the lines
    that continue the message (indented); empty when Ansible failed nothing. A task that failed on
    purpose (in a block that rescues it) comes before the one that stopped the play, so the last one
    is the reason."""
    found: list[str] = []
    task = ''
    index = 0
    while index < len(body):
        line = body[index]
        index += 1
        if TASK.match(line):
            task = line
        elif ANSIBLE_FAILED.match(line):
            message = [line]
            while index < len(body) and body[index].startswith(' '):
                message.append(body[index])
                index += 1
            if index < len(body) and body[index].startswith('...ignoring'):
                continue
            found = ([task] if task else []) + message
    clipped = [line if len(line) <= LINE_CHARACTERS else line[:LINE_CHARACTERS] + ' [...]' for line in found]
    if len(clipped) > FAILURE_LINES:
        clipped = clipped[:FAILURE_LINES] + ['    [... %d more lines]' % (len(clipped) - FAILURE_LINES)]
    return clipped


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
                failure = last_ansible_failure(body)
                if failure:
                    out.append('---- the last Ansible task that failed in %s ----' % name)
                    out.extend(failure)
    return out + ['make test: ' + '; '.join(results)]


def main(argv: t.Sequence[str]) -> int:
    print('\n'.join(summary(argv)))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
