# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The coverage gate: line coverage of plugins/ by the unit tests, per file, from ansible-test's
Cobertura reports; fails when a module_utils file is under the floor (coverage.py has a total floor
only). Run by the nox session ``coverage`` after ``ansible-test-units``.

Usage: python coverage_floor.py REPORTS_DIR [FLOOR]"""

from __future__ import annotations

import os
import sys
import xml.etree.ElementTree as ET

# Line coverage each module_utils file must reach from the unit tests alone.
FLOOR = 90.0


def line_hits(reports: str) -> dict[str, dict[int, bool]]:
    """Each plugins/ file's lines and whether any report saw them run; {} without a report."""
    lines: dict[str, dict[int, bool]] = {}
    found = sorted(name for name in os.listdir(reports) if name.startswith('coverage') and name.endswith('.xml'))
    for name in found:
        for element in ET.parse(os.path.join(reports, name)).iter('class'):
            path = element.get('filename', '')
            if path.startswith('plugins/'):
                hits = lines.setdefault(path, {})
                for line in element.iter('line'):
                    number = int(line.get('number', '0'))
                    hits[number] = hits.get(number, False) or int(line.get('hits', '0')) > 0
    return lines


def report(lines: dict[str, dict[int, bool]], floor: float = FLOOR) -> tuple[list[str], list[str]]:
    """The table to print, and the module_utils files under the floor."""
    table = ['%-52s %6s %6s %7s' % ('line coverage by unit tests', 'lines', 'missed', 'cover')]
    below = []
    total = covered = 0
    for path in sorted(lines):
        count, hit = len(lines[path]), sum(lines[path].values())
        total, covered = total + count, covered + hit
        percent = 100.0 * hit / count if count else 100.0
        flag = ''
        if path.startswith('plugins/module_utils/') and percent < floor:
            below.append(path)
            flag = '  < %.0f %%' % floor
        table.append('%-52s %6d %6d %6.1f%%%s' % (path, count, count - hit, percent, flag))
    table.append('%-52s %6d %6d %6.1f%%' % ('total', total, total - covered, 100.0 * covered / max(total, 1)))
    return table, below


def main(argv: list[str]) -> int:
    reports = argv[0]
    floor = float(argv[1]) if len(argv) > 1 else FLOOR
    lines = line_hits(reports) if os.path.isdir(reports) else {}
    if not lines:
        print('no coverage report in %s: run the ansible-test-units session first' % reports)
        return 1
    table, below = report(lines, floor)
    print('\n'.join(table))
    if below:
        print('below %.0f %% line coverage from unit tests: %s' % (floor, ', '.join(below)))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
