# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report as one self-contained HTML page: inline CSS, the chart as inline SVG (fleet_chart.py), one
static inline script that sorts and filters the table (fleet_table_script.py), no external reference, and a
Content-Security-Policy that allows only that style and that script (by their hashes) and no fetch at all.
Every value from the summary is HTML-escaped. What sharing costs (the CPU time of its kernel thread) is shown
beside what it saves; a host whose thread does not report it shows "not running" or "n/a", never a 0. Beside
drift, the pressure tier in force and the memory available. Every step is one pass over the hosts."""

from __future__ import annotations

import html
import typing as t
from collections.abc import Mapping

from ansible_collections.litevirt.uksm.plugins.module_utils.byte_sizes import human_bytes
from ansible_collections.litevirt.uksm.plugins.plugin_utils.fleet import BASE, OK, STATUSES, tier_name
from ansible_collections.litevirt.uksm.plugins.plugin_utils.fleet_chart import chart_html
from ansible_collections.litevirt.uksm.plugins.plugin_utils.fleet_style import STYLE
from ansible_collections.litevirt.uksm.plugins.plugin_utils.fleet_table_script import SCRIPT, csp_hash

TIME_UNITS = ((1, 's'), (60, 'min'), (3600, 'h'), (86400, 'd'))

DEFINITIONS = (
    ('Hosts', 'every host the report covers, reached or not.'),
    (
        'Memory saved',
        'sum of each host\'s savings.bytes from uksm_facts: pages_sharing times the page size, '
        'plus the zero pages merged.',
    ),
    ('By backend', 'hosts with a UKSM or KSM interface, per backend.'),
    ('By UKSM governor', 'UKSM hosts per cpu_governor (KSM has no governor).'),
    (
        'CPU time',
        'utime + stime of the sharing kernel thread (uksmd or ksmd) since it started, from daemon_cpu of '
        'uksm_facts; "since start" is that time over the thread\'s lifetime, in percent of one CPU. '
        '"not running": the thread does not exist; "n/a": its figures could not be read, or the host\'s '
        'collection is older than these facts.',
    ),
    (
        'Saved per CPU second',
        'memory saved over that CPU time (savings.bytes_per_cpu_second): what sharing returns for what it '
        'costs. The fleet figure adds up the hosts that report both. Hosts are listed by it, highest first; '
        'hosts without it follow: those with UKSM/KSM, then without, unreachable and failed, each by name.',
    ),
    (
        'Drifted',
        'hosts whose kernel does not hold their persisted policy now (policy.drift of uksm_facts): the base '
        'settings, or the base with the pressure tier in force on top.',
    ),
    (
        'Pressure tier',
        'the tier of the persisted policy the pressure tuner put in force (policy.tier): "base" for the base '
        'settings (also on hosts without tiers, and from collections older than tiers), "tier N (<T %)" for '
        'the tier whose available_below_percent is T. By pressure tier counts hosts by index, whatever '
        'their thresholds.',
    ),
    (
        'Available',
        'MemAvailable over MemTotal in percent when the facts were gathered (policy.available_percent), what '
        'the tiers\' thresholds compare with; "n/a" when /proc/meminfo lacks them or the collection is older.',
    ),
    ('Without UKSM/KSM', 'hosts reached where uksm_facts found no supported interface (see the reason).'),
    ('Unreachable', 'hosts Ansible could not reach, or that returned no result.'),
    ('Facts failed', 'hosts reached where uksm_facts failed (see the notes).'),
)


def _e(value: t.Any) -> str:
    return html.escape('' if value is None else str(value), quote=True)


def _names(names: t.Sequence[str], limit: int = 6) -> str:
    shown = ', '.join(names[:limit])
    return shown + (' and %d more' % (len(names) - limit) if len(names) > limit else '')


def _card(key: str, label: str, value: t.Any, shown: str, detail: str = '', tone: str = '') -> str:
    return (
        '<div class="card%s" data-total="%s" data-value="%s"><div class="label">%s</div>'
        '<div class="value">%s</div><div class="detail">%s</div></div>'
        % (' ' + tone if tone else '', _e(key), _e(value), _e(label), _e(shown), _e(detail))
    )


def _count_card(key: str, label: str, counts: Mapping[str, int], empty: str) -> str:
    items = ''.join(
        '<li data-total="%s.%s" data-value="%d">%s<b>%d</b></li>' % (_e(key), _e(name), count, _e(name), count)
        for name, count in counts.items()
    )
    return '<div class="card" data-total="%s"><div class="label">%s</div><ul>%s</ul>%s</div>' % (
        _e(key),
        _e(label),
        items,
        '' if counts else '<div class="detail">%s</div>' % _e(empty),
    )


def _cpu_card(totals: Mapping[str, t.Any]) -> str:
    """The fleet's CPU time of sharing, and (a total of its own) how many hosts report it."""
    seconds = totals['cpu_seconds']
    reached = sum(totals['by_backend'].values())
    return (
        '<div class="card" data-total="cpu_seconds" data-value="%s"><div class="label">CPU time of sharing</div>'
        '<div class="value">%s</div><div class="detail">%s<span data-total="cpu_hosts" data-value="%d">%d</span> '
        'of %d hosts with UKSM/KSM report it</div></div>'
        % (
            _e(seconds),
            _e('n/a' if seconds is None else _duration(seconds)),
            '' if seconds is None else _e(f'{seconds:,.2f} s of uksmd/ksmd, '),
            totals['cpu_hosts'],
            totals['cpu_hosts'],
            reached,
        )
    )


def totals_html(summary: Mapping[str, t.Any]) -> str:
    totals = summary['totals']
    cards = [
        _card(
            'saved_bytes',
            'Memory saved',
            totals['saved_bytes'],
            totals['saved_human'],
            '{:,} bytes, {} of {} hosts saving'.format(totals['saved_bytes'], totals['with_savings'], totals['hosts']),
        ),
        _card(
            'hosts',
            'Hosts',
            totals['hosts'],
            totals['hosts'],
            '%d reached, %d unreachable, %d failed'
            % (totals['hosts'] - totals['unreachable'] - totals['failed'], totals['unreachable'], totals['failed']),
        ),
        _cpu_card(totals),
        _card(
            'bytes_per_cpu_second',
            'Saved per CPU second',
            totals['bytes_per_cpu_second'],
            'n/a' if totals['bytes_per_cpu_second'] is None else human_bytes(totals['bytes_per_cpu_second']),
            'memory saved by the hosts that report CPU time, over that time'
            if totals['bytes_per_cpu_second'] is not None
            else 'no host reports CPU time of its sharing thread',
        ),
        _count_card('by_backend', 'By backend', totals['by_backend'], 'no host with UKSM or KSM'),
        _count_card('by_governor', 'By UKSM governor', totals['by_governor'], 'no UKSM host'),
        _count_card('by_tier', 'By pressure tier', totals['by_tier'], 'no host with UKSM or KSM'),
        _card(
            'drifted',
            'Drifted from policy',
            totals['drifted'],
            totals['drifted'],
            _names(summary['drifted_hosts']),
            'warn' if totals['drifted'] else '',
        ),
        _card(
            'without_interface',
            'Without UKSM/KSM',
            totals['without_interface'],
            totals['without_interface'],
            _names(summary['without_interface_hosts']),
        ),
        _card(
            'unreachable',
            'Unreachable',
            totals['unreachable'],
            totals['unreachable'],
            _names(summary['unreachable_hosts']),
            'bad' if totals['unreachable'] else '',
        ),
        _card(
            'failed',
            'Facts failed',
            totals['failed'],
            totals['failed'],
            _names(summary['failed_hosts']),
            'bad' if totals['failed'] else '',
        ),
    ]
    return '<section class="totals" aria-label="Totals">%s</section>' % ''.join(cards)


def _duration(seconds: float) -> str:
    """CPU time for reading: ``3.75 s``, ``12.4 min``, ``3.1 h``, ``2.0 d``."""
    if seconds < 60:
        return '%.2f s' % seconds
    size, name = next((size, name) for size, name in reversed(TIME_UNITS) if seconds >= size)
    return '%.1f %s' % (seconds / size, name)


def _no_cpu(row: Mapping[str, t.Any]) -> tuple[str, str]:
    """(text, class) for a host with an interface whose daemon_cpu is null: never a 0 that looks measured."""
    if row['daemon_running'] is False:
        return 'not running', 'stopped'
    return 'n/a', 'na'


def _yes_no(value: t.Any, yes: str, no: str, no_class: str = '') -> str:
    if value is None:
        return '\u2014'
    if value:
        return _e(yes)
    return '<span class="%s">%s</span>' % (no_class, _e(no)) if no_class else _e(no)


def _cost_cells(row: Mapping[str, t.Any]) -> list[str]:
    """CPU time, its percent of one CPU since the thread started, and memory saved per CPU second."""
    if row['status'] != OK:
        return ['<td class="num">\u2014</td>'] * 3
    seconds = row['cpu_seconds']
    if seconds is None:
        text, kind = _no_cpu(row)
        return ['<td class="num %s">%s</td>' % (kind, _e(text))] + ['<td class="num na">n/a</td>'] * 2
    percent, figure = row['cpu_percent_since_start'], row['bytes_per_cpu_second']
    return [
        '<td class="num" data-seconds="%s" title="%s">%s</td>'
        % (_e(seconds), _e(f'{seconds:,.2f} s'), _e(_duration(seconds))),
        '<td class="num%s" data-percent="%s">%s</td>'
        % (' na' if percent is None else '', _e(percent), _e('n/a' if percent is None else '%s %%' % percent)),
        '<td class="num%s" data-bytes-per-cpu-second="%s">%s</td>'
        % (' na' if figure is None else '', _e(figure), _e('n/a' if figure is None else human_bytes(figure))),
    ]


def _pressure_cells(row: Mapping[str, t.Any]) -> list[str]:
    """The pressure tier in force (``base`` or ``tier N (<T %)``) and the memory available, in percent."""
    if row['status'] != OK:
        tier = '<td>\u2014</td>'
    elif row['tier'] is None:
        tier = '<td data-tier="%s">%s</td>' % (BASE, BASE)
    else:
        threshold = row['tier_available_below_percent']
        tier = '<td class="tier" data-tier="%d">%s</td>' % (
            row['tier'],
            _e('tier %d' % row['tier'] + ('' if threshold is None else ' (<%d %%)' % threshold)),
        )
    available = row['available_percent']
    if available is not None:
        shown = '<td class="num" data-available-percent="%s">%s</td>' % (_e(available), _e('%.1f %%' % available))
    elif row['status'] == OK:
        shown = '<td class="num na">n/a</td>'
    else:
        shown = '<td class="num">\u2014</td>'
    return [tier, shown]


def _table_row(row: Mapping[str, t.Any]) -> str:
    classes = 'status-' + row['status'] + (' drifted' if row['drift'] else '')
    policy = '\u2014' if row['policy_persisted'] is None else 'persisted' if row['policy_persisted'] else 'none'
    notes = [text for text in (row['reason'], row['policy_error']) if text]
    cells = [
        '<th scope="row">%s</th>' % _e(row['host']),
        '<td class="status">%s</td>' % _e(row['status']),
        # beside the status: why a host is unavailable, unreachable or failed shows without scrolling
        '<td class="reason">%s</td>' % _e(' | '.join(notes)),
        '<td>%s</td>' % _e(row['backend'] or '\u2014'),
        '<td>%s</td>' % _e(row['governor'] or '\u2014'),
        '<td class="num" data-bytes="%s">%s</td>' % (_e(row['saved_bytes']), _e(row['saved_human'] or '\u2014')),
        '<td class="num" data-ratio="%s">%s</td>'
        % (_e(row['ratio']), _e('\u2014' if row['ratio'] is None else row['ratio'])),
        *_cost_cells(row),
        '<td class="drift">%s</td>' % _e(', '.join(row['drift'])),
        *_pressure_cells(row),
        '<td>%s</td>' % _e(policy),
        '<td>%s</td>' % _yes_no(row['unit_enabled'], 'enabled', 'not enabled'),
        '<td>%s</td>' % _yes_no(row['daemon_running'], 'running', 'NOT running', 'stopped'),
    ]
    # what the page's filters compare with (fleet_table_script.py)
    return '<tr class="%s" data-host="%s" data-status="%s" data-backend="%s" data-tier="%s">%s</tr>' % (
        classes,
        _e(row['host']),
        _e(row['status']),
        _e(row['backend'] or NONE),
        _e(_tier_filtered(row)),
        ''.join(cells),
    )


# the table's columns: heading, and for a numeric column the cell attribute that holds its number (the sort key)
COLUMNS = (
    ('Host', ''),
    ('Status', ''),
    ('Notes', ''),
    ('Backend', ''),
    ('Governor', ''),
    ('Saved', 'data-bytes'),
    ('Ratio', 'data-ratio'),
    ('CPU time', 'data-seconds'),
    ('CPU % since start', 'data-percent'),
    ('Saved per CPU second', 'data-bytes-per-cpu-second'),
    ('Drift', ''),
    ('Tier', ''),
    ('Available', 'data-available-percent'),
    ('Policy', ''),
    ('Boot unit', ''),
    ('Daemon', ''),
)
# a filter's value for hosts without the property (no backend, no tier: not reached or no UKSM/KSM)
NONE = 'none'


def _tier_filtered(row: Mapping[str, t.Any]) -> str:
    return tier_name(row['tier']) if row['status'] == OK else NONE


def _select(name: str, label: str, values: t.Iterable[str]) -> str:
    options = ''.join('<option value="%s">%s</option>' % (_e(value), _e(value)) for value in values)
    return '<label>%s <select id="filter-%s"><option value="">any</option>%s</select></label>' % (
        _e(label),
        name,
        options,
    )


def tools_html(rows: t.Sequence[Mapping[str, t.Any]]) -> str:
    """The table's filters, hidden until the page's script shows them: text, status, backend, tier, drift.
    The choices are the values the rows have (one pass), so each select has a handful of options."""
    statuses, backends, tiers = set(), set(), set()
    for row in rows:
        statuses.add(row['status'])
        backends.add(row['backend'] or NONE)
        tiers.add(_tier_filtered(row))
    return (
        '<div class="tools" id="host-tools" role="search" aria-label="Filter and sort the hosts" hidden>'
        '<label>Text <input type="search" id="filter-text" placeholder="host, drift, reason" '
        'aria-describedby="host-count"></label>%s%s%s'
        '<label><input type="checkbox" id="filter-drifted"> drifted only</label>'
        '<button type="button" id="report-order">Report order</button>'
        '<output id="host-count" aria-live="polite"></output>'
        '<span class="note">Select a column heading to sort by it; again to reverse.</span></div>'
        % (
            _select('status', 'Status', [status for status in STATUSES if status in statuses]),
            _select('backend', 'Backend', sorted(backends - {NONE}) + ([NONE] if NONE in backends else [])),
            _select('tier', 'Tier', sorted(tiers - {NONE}) + ([NONE] if NONE in tiers else [])),
        )
    )


def table_html(rows: t.Sequence[Mapping[str, t.Any]]) -> str:
    head = ''.join(
        '<th scope="col"%s>%s</th>' % (' data-sort-attribute="%s"' % attribute if attribute else '', name)
        for name, attribute in COLUMNS
    )
    return '%s<div class="scroll"><table id="hosts"><thead><tr>%s</tr></thead><tbody>%s</tbody></table></div>' % (
        tools_html(rows),
        head,
        ''.join(_table_row(row) for row in rows),
    )


# no fetch of any kind; only this page's own style and script, by their hashes
CSP = "default-src 'none'; style-src %s; script-src %s; base-uri 'none'; form-action 'none'" % (
    csp_hash(STYLE),
    csp_hash(SCRIPT),
)


def to_html(summary: Mapping[str, t.Any], title: str = 'UKSM/KSM fleet report', generated: str = '') -> str:
    """The whole page."""
    rows = summary['hosts']
    definitions = ''.join('<dt>%s</dt><dd>%s</dd>' % (_e(term), _e(text)) for term, text in DEFINITIONS)
    return ''.join(
        (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
            # the policy holds no double quote, and is easier to read with its single quotes as they are
            '<meta http-equiv="Content-Security-Policy" content="%s">' % html.escape(CSP, quote=False),
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<title>%s</title><style>%s</style></head><body>' % (_e(title), STYLE),
            '<header><h1>%s</h1><p class="meta">%s%d hosts</p></header>'
            % (_e(title), 'Generated %s \u00b7 ' % _e(generated) if generated else '', len(rows)),
            totals_html(summary),
            '<section><h2>The fleet at a glance</h2>%s</section>' % chart_html(rows),
            '<section><h2>Hosts</h2>%s</section>' % table_html(rows),
            '<section><h2>Definitions</h2><dl>%s</dl></section>' % definitions,
            '<script>%s</script>' % SCRIPT,
            '</body></html>\n',
        )
    )
