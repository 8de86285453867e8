# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rollout's summary: what happened on each host, as JSON-ready data and as JUnit XML."""

from __future__ import annotations

import typing as t
import xml.etree.ElementTree as ET

# status of a host, and how JUnit shows it
FAILED, CHANGED, OK, SKIPPED, NOT_REACHED, UNREACHABLE = (
    'failed',
    'changed',
    'ok',
    'skipped',
    'not reached',
    'unreachable',
)


def kernel_text(value: t.Any) -> str:
    """A value as the kernel prints it: a list's items joined by spaces (``cpu_ratios``, ``eval_intervals``)."""
    if isinstance(value, (list, tuple)):
        return ' '.join(str(item) for item in value)
    return str(value)


def _batch_key(batch: t.Any) -> str | None:
    """What names a host's batch: its first host (the rollout records ``ansible_play_batch | first``); the
    whole list of its hosts, as earlier versions of the rollout recorded it, reads the same."""
    if isinstance(batch, (list, tuple)):
        return str(batch[0]) if batch else None
    return str(batch) if batch else None


def _batches(rows: list[dict[str, t.Any]]) -> None:
    """Number the batches in the order the rollout ran them: one dictionary lookup per host, whatever the
    number and size of the batches (a list of the batches seen, searched for each host, was quadratic with
    small batches; so was keying them by the whole list of their hosts with large ones)."""
    numbers: dict[str, int] = {}
    for row in rows:
        key = _batch_key(row.pop('batch_hosts', None))
        row['batch'] = numbers.setdefault(key, len(numbers) + 1) if key is not None else None


def summarize(hostvars: t.Mapping[str, t.Any], hosts: t.Sequence[str], check_mode: bool) -> dict[str, t.Any]:
    """One row per host of the play, in play order, and the counts per status."""
    rows = []
    for host in hosts:
        variables = hostvars[host]
        result = variables.get('rollout_result')
        preflight = variables.get('rollout_preflight')
        row: dict[str, t.Any] = {
            'host': host,
            'status': UNREACHABLE,
            'changes': [],
            'reason': '',
            'batch_hosts': None,
            'backend': None,
            'drift_before': [],
            # the pressure tier in force (None: the base) before and after the role
            'tier_before': None,
            'tier': None,
        }
        if preflight:
            row.update(
                status=NOT_REACHED,
                backend=preflight.get('backend'),
                drift_before=list(preflight.get('drift') or []),
                tier_before=preflight.get('tier'),
                tier=preflight.get('tier'),
            )
        if result:
            row.update(
                status=result['status'],
                changes=list(result.get('changes') or []),
                reason=result.get('reason') or '',
                batch_hosts=result.get('batch'),
            )
            if 'tier' in result:
                row['tier'] = result['tier']
        rows.append(row)
    _batches(rows)
    counts = dict.fromkeys((FAILED, CHANGED, OK, SKIPPED, NOT_REACHED, UNREACHABLE), 0)
    for row in rows:
        if row['status'] in counts:
            counts[row['status']] += 1
    return {
        'check_mode': bool(check_mode),
        'passed': counts[FAILED] == 0 and counts[UNREACHABLE] == 0,
        'counts': counts,
        'failed_hosts': [row['host'] for row in rows if row['status'] == FAILED],
        # check mode: hosts that would change; either mode: hosts that had drifted before
        'would_change': [row['host'] for row in rows if check_mode and row['status'] == CHANGED],
        'drifted_before': [row['host'] for row in rows if row['drift_before']],
        'hosts': rows,
    }


def junit(summary: dict[str, t.Any]) -> str:
    """JUnit XML: a test suite per batch (plus one for hosts never reached), a test case per host."""
    suites = ET.Element('testsuites', name='litevirt.uksm rollout')
    by_batch: dict[t.Any, list[dict[str, t.Any]]] = {}
    for row in summary['hosts']:
        by_batch.setdefault(row['batch'], []).append(row)
    for batch in sorted(by_batch, key=lambda key: (key is None, key or 0)):
        rows = by_batch[batch]
        suite = ET.SubElement(
            suites,
            'testsuite',
            name='batch %d' % batch if batch else 'not reached',
            tests=str(len(rows)),
            failures=str(sum(1 for row in rows if row['status'] == FAILED)),
            errors=str(sum(1 for row in rows if row['status'] == UNREACHABLE)),
            skipped=str(sum(1 for row in rows if row['status'] in (SKIPPED, NOT_REACHED))),
        )
        for row in rows:
            case = ET.SubElement(suite, 'testcase', classname='litevirt.uksm.rollout', name=row['host'])
            detail = '; '.join(
                '%s: %s -> %s' % (c['name'], kernel_text(c['before']), kernel_text(c['after'])) for c in row['changes']
            )
            if row['status'] == FAILED:
                ET.SubElement(case, 'failure', message=row['reason']).text = row['reason']
            elif row['status'] == UNREACHABLE:
                ET.SubElement(case, 'error', message='unreachable')
            elif row['status'] in (SKIPPED, NOT_REACHED):
                ET.SubElement(case, 'skipped', message=row['reason'] or row['status'])
            if detail or row['drift_before']:
                ET.SubElement(case, 'system-out').text = '\n'.join(
                    filter(
                        None,
                        [
                            ('would change: ' if summary['check_mode'] else 'changed: ') + detail if detail else '',
                            'drifted before: ' + ', '.join(row['drift_before']) if row['drift_before'] else '',
                        ],
                    )
                )
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding='unicode') + '\n'
