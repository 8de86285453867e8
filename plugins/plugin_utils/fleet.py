# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report's data: one row per host from its ``uksm_facts``, and the fleet's totals.

Controller side. Nothing here recomputes a host's state: memory saved is the fact's
``savings.bytes``, drift is the fact's ``policy.drift`` (``plan.drift()``, the one definition), and
what sharing costs is the fact's ``daemon_cpu`` and ``savings.bytes_per_cpu_second``, and the pressure
tier in force is the fact's ``policy.tier``. Facts of older collection versions lack those keys: they read
as null, as for a host whose thread is not running (the cost) or that runs its base settings (the tier).
"""

from __future__ import annotations

import csv
import io
import typing as t
from collections.abc import Mapping

from ansible_collections.litevirt.uksm.plugins.module_utils.byte_sizes import human_bytes

# status of a host in the report
OK, UNAVAILABLE, UNREACHABLE, FAILED = 'ok', 'unavailable', 'unreachable', 'failed'
STATUSES = (OK, UNAVAILABLE, UNREACHABLE, FAILED)

# the CSV's columns, in order: every key of a row. New columns go at the end, so that existing
# consumers of the CSV keep their column positions.
COLUMNS = (
    'host',
    'status',
    'available',
    'backend',
    'governor',
    'saved_bytes',
    'saved_human',
    'ratio',
    'drift',
    'policy_persisted',
    'policy_error',
    'unit_enabled',
    'daemon_running',
    'reason',
    # what sharing costs (daemon_cpu of the fact) and what it returns for it
    'cpu_seconds',
    'cpu_percent_since_start',
    'bytes_per_cpu_second',
    # memory pressure: the tier in force (policy.tier, null for the base), the availability its thresholds
    # compare with (policy.available_percent) and that tier's threshold (from policy.pressure)
    'tier',
    'available_percent',
    'tier_available_below_percent',
)
# the name of the base settings in totals.by_tier, where tier N is 'tier N'
BASE = 'base'

Row = dict[str, t.Any]


def _message(result: Mapping[str, t.Any], default: str) -> str:
    """A registered result's message, without the "Task failed: " that ansible-core puts in front."""
    message = str(result.get('msg') or default)
    return message[len('Task failed: ') :] if message.startswith('Task failed: ') else message


def _classify(value: t.Any) -> tuple[str, Mapping[str, t.Any] | None, str | None]:
    """(status, fact, reason) of one host's input: a uksm fact, a registered uksm_facts result, or None."""
    if value is None:
        return UNREACHABLE, None, 'no facts were gathered from this host'
    if not isinstance(value, Mapping):
        raise TypeError('expected a uksm fact, a registered uksm_facts result or None, got %s' % type(value).__name__)
    if 'available' in value:
        fact: Mapping[str, t.Any] = value
    elif value.get('unreachable'):
        return UNREACHABLE, None, _message(value, 'unreachable')
    else:
        registered = (value.get('ansible_facts') or {}).get('uksm')
        if not isinstance(registered, Mapping):
            return FAILED, None, _message(value, 'uksm_facts returned no fact')
        fact = registered
    return (OK if fact.get('available') else UNAVAILABLE), fact, fact.get('reason')


def _number(value: t.Any) -> float | int | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _tier(policy: Mapping[str, t.Any]) -> tuple[int | None, int | None]:
    """(index, available_below_percent) of the pressure tier in force; (None, None) for the base, which is
    also what facts of collection versions without pressure tiers mean. The threshold is None when
    ``policy.pressure`` does not list that tier."""
    index = policy.get('tier')
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        return None, None
    pressure = policy.get('pressure')
    tiers = pressure.get('tiers') if isinstance(pressure, Mapping) else None
    found = tiers[index] if isinstance(tiers, (list, tuple)) and index < len(tiers) else None
    threshold = _number(found.get('available_below_percent')) if isinstance(found, Mapping) else None
    return index, None if threshold is None else int(threshold)


def tier_name(index: int | None) -> str:
    """The tier as ``totals.by_tier`` counts it: ``base`` or ``tier N``."""
    return BASE if index is None else 'tier %d' % index


def host_row(host: str, value: t.Any) -> Row:
    """The report's row of one host."""
    status, fact, reason = _classify(value)
    row: Row = dict.fromkeys(COLUMNS)
    row.update(host=str(host), status=status, drift=[], reason=reason)
    if fact is None:
        return row
    policy = fact.get('policy') or {}
    savings = fact.get('savings') or {}
    row.update(
        available=bool(fact.get('available')),
        policy_persisted=bool(policy.get('exists')),
        policy_error=policy.get('error'),
        unit_enabled=bool((policy.get('unit') or {}).get('enabled')),
        drift=list(policy.get('drift') or []),
        available_percent=_number(policy.get('available_percent')),
    )
    if status == OK:
        saved = int(savings.get('bytes') or 0)
        row.update(
            backend=fact.get('backend'),
            governor=(fact.get('tunables') or {}).get('cpu_governor'),
            saved_bytes=saved,
            saved_human=savings.get('human') or human_bytes(saved),
            ratio=savings.get('ratio'),
            daemon_running=fact.get('daemon_running'),
        )
        row['tier'], row['tier_available_below_percent'] = _tier(policy)
        cpu = fact.get('daemon_cpu')
        if isinstance(cpu, Mapping) and cpu.get('seconds') is not None:
            row.update(
                cpu_seconds=cpu['seconds'],
                cpu_percent_since_start=cpu.get('percent_since_start'),
                bytes_per_cpu_second=savings.get('bytes_per_cpu_second'),
            )
    return row


def sort_key(row: Row) -> tuple[int, float, int, str]:
    """The report's order: what sharing returns for what it costs (``bytes_per_cpu_second``), highest first;
    then the hosts without that figure, those with an interface first, then without UKSM/KSM, unreachable
    and failed (the order of ``STATUSES``); host name last, so that the order never depends on the input's."""
    figure = row['bytes_per_cpu_second']
    if figure is not None:
        return (0, -figure, 0, row['host'])
    return (1, 0, STATUSES.index(row['status']), row['host'])


def _count(values: t.Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items()))


def summarize(hosts: Mapping[str, t.Any]) -> dict[str, t.Any]:
    """Rows (in ``sort_key`` order) and totals of ``{host: uksm fact | registered uksm_facts result | None}``.

    Totals: ``hosts`` (every host), ``saved_bytes``/``saved_human`` (sum of ``savings.bytes``),
    ``by_backend`` (hosts with an interface, per backend), ``by_governor`` (UKSM hosts per
    ``cpu_governor``), ``drifted`` (non-empty ``policy.drift``), ``without_interface`` (reached,
    ``available`` false), ``unreachable``, ``failed`` (reached but uksm_facts failed),
    ``with_savings`` (hosts saving more than 0 bytes: the chart's memory bars), ``cpu_hosts`` (hosts
    whose sharing thread reports its CPU time), ``cpu_seconds`` (the sum of that CPU time, null
    when no host reports it), ``bytes_per_cpu_second`` (memory saved by those hosts over that CPU
    time, null when it is 0) and ``by_tier`` (hosts with an interface per pressure tier in force:
    ``base`` or ``tier N``, by index, whatever each host's thresholds). The lists of host names are
    sorted by name.
    """
    if not isinstance(hosts, Mapping):
        raise TypeError('expected a mapping of host name to fact, got %s' % type(hosts).__name__)
    by_name = sorted((host_row(host, value) for host, value in hosts.items()), key=lambda row: row['host'])
    rows = sorted(by_name, key=sort_key)
    ok = [row for row in rows if row['status'] == OK]
    saved = sum(row['saved_bytes'] for row in ok)
    # the cost side: only hosts that report both what they save and the CPU time it took
    costed = [row for row in ok if row['cpu_seconds'] is not None]
    cpu_seconds = sum(float(row['cpu_seconds']) for row in costed)
    costed_saved = sum(row['saved_bytes'] for row in costed)

    def named(predicate: t.Callable[[Row], bool]) -> list[str]:
        return [row['host'] for row in by_name if predicate(row)]

    lists = {
        'drifted_hosts': named(lambda row: bool(row['drift'])),
        'without_interface_hosts': named(lambda row: row['status'] == UNAVAILABLE),
        'unreachable_hosts': named(lambda row: row['status'] == UNREACHABLE),
        'failed_hosts': named(lambda row: row['status'] == FAILED),
    }
    totals = {
        'hosts': len(rows),
        'saved_bytes': saved,
        'saved_human': human_bytes(saved),
        'by_backend': _count(row['backend'] for row in ok),
        'by_governor': _count(row['governor'] or 'unknown' for row in ok if row['backend'] == 'uksm'),
        'drifted': len(lists['drifted_hosts']),
        'without_interface': len(lists['without_interface_hosts']),
        'unreachable': len(lists['unreachable_hosts']),
        'failed': len(lists['failed_hosts']),
        'with_savings': sum(1 for row in ok if row['saved_bytes'] > 0),
        'cpu_hosts': len(costed),
        'cpu_seconds': round(cpu_seconds, 2) if costed else None,
        'bytes_per_cpu_second': int(costed_saved / cpu_seconds) if cpu_seconds > 0 else None,
        'by_tier': _count(tier_name(row['tier']) for row in ok),
    }
    summary: dict[str, t.Any] = {'totals': totals, 'hosts': rows}
    summary.update(lists)
    return summary


def _cell(value: t.Any) -> str:
    if value is None:
        return ''
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (list, tuple)):
        return ' '.join(str(item) for item in value)
    return str(value)


def to_csv(summary: Mapping[str, t.Any]) -> str:
    """The rows as CSV with a header line: booleans ``true``/``false``, null empty, drift space-separated."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator='\n')
    writer.writerow(COLUMNS)
    for row in summary['hosts']:
        writer.writerow([_cell(row.get(column)) for column in COLUMNS])
    return out.getvalue()
