# -*- coding: utf-8 -*-
# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report as one self-contained HTML page: inline CSS, the chart as inline SVG, no script,
no external reference. Every value from the summary is HTML-escaped."""

from __future__ import annotations

import html
import math
import typing as t
from collections.abc import Mapping

from ansible_collections.litevirt.uksm.plugins.plugin_utils.fleet import OK

UNITS = ('B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB')

STYLE = """
:root { color-scheme: light; --ink: #1d2430; --muted: #5d6878; --line: #dde2ea; --bar: #2f6fde;
  --warn: #b15d00; --bad: #b3261e; --off: #6b7280; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px 40px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto,
  "DejaVu Sans", sans-serif; color: var(--ink); background: #f6f8fb; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 0 0 12px; }
.meta, .note, .detail { color: var(--muted); }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px;
  margin-top: 20px; }
.totals { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 12px;
  background: none; border: 0; padding: 0; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.card .label { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.card .value { font-size: 26px; font-weight: 600; margin: 2px 0; }
.card.warn .value { color: var(--warn); }
.card.bad .value { color: var(--bad); }
.card ul { list-style: none; margin: 4px 0 0; padding: 0; font-size: 15px; }
.card li b { font-size: 20px; margin-left: 6px; }
.detail { font-size: 12px; overflow-wrap: anywhere; }
svg.chart { width: 100%; height: auto; display: block; }
svg .bar { fill: var(--bar); }
svg .label, svg .value, svg .tick { font-size: 13px; fill: var(--ink); }
svg .tick { fill: var(--muted); font-size: 11px; }
svg .grid { stroke: var(--line); stroke-width: 1; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top;
  white-space: nowrap; }
thead th { font-size: 12px; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); }
tbody th { font-weight: 600; white-space: normal; overflow-wrap: anywhere; min-width: 110px; }
td.num { text-align: right; white-space: nowrap; }
.status { font-weight: 600; }
tr.status-unavailable .status { color: var(--off); }
tr.status-unreachable .status, tr.status-failed .status, .stopped { color: var(--bad); }
.drift { color: var(--warn); font-weight: 600; white-space: normal; }
.reason { color: var(--muted); font-size: 12px; white-space: normal; min-width: 180px; overflow-wrap: anywhere; }
.scroll { overflow-x: auto; }
dl { margin: 0; display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; font-size: 13px; }
dt { font-weight: 600; }
dd { margin: 0; color: var(--muted); }
"""

DEFINITIONS = (
    ('Hosts', 'every host the report covers, reached or not.'),
    (
        'Memory saved',
        'sum of each host\'s savings.bytes from uksm_facts: pages_sharing times the page size, '
        'plus the zero pages merged.',
    ),
    ('By backend', 'hosts with a UKSM or KSM interface, per backend.'),
    ('By UKSM governor', 'UKSM hosts per cpu_governor (KSM has no governor).'),
    ('Drifted', 'hosts whose kernel does not hold their persisted policy now (policy.drift of uksm_facts).'),
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
        _count_card('by_backend', 'By backend', totals['by_backend'], 'no host with UKSM or KSM'),
        _count_card('by_governor', 'By UKSM governor', totals['by_governor'], 'no UKSM host'),
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


def _scale(largest: int) -> tuple[int, list[tuple[int, str]]]:
    """The axis' end (>= largest) and its ticks (bytes, label), at round steps of the largest binary unit below it."""
    power = max(0, min(len(UNITS) - 1, int(math.log(largest, 1024))))
    unit = 1024**power
    raw = largest / unit / 4
    decade = 10 ** math.floor(math.log10(raw))
    step = next(factor * decade for factor in (1, 2, 2.5, 5, 10) if factor * decade >= raw)
    step = max(step, 1) if power == 0 else step
    count = math.ceil(largest / unit / step - 1e-9)
    ticks = [(int(round(i * step * unit)), '%g %s' % (i * step, UNITS[power]) if i else '0') for i in range(count + 1)]
    return max(ticks[-1][0], largest), ticks


def chart_svg(rows: t.Sequence[Mapping[str, t.Any]]) -> str:
    """Horizontal bars of memory saved, largest first; only hosts that save something get a bar."""
    bars = sorted(
        (row for row in rows if row['status'] == OK and row['saved_bytes'] > 0),
        key=lambda row: (-row['saved_bytes'], row['host']),
    )
    if not bars:
        return '<p class="note">No host saves memory.</p>'
    width, row_h, bar_h, top, value_w = 960, 28, 18, 8, 96
    longest = max(len(row['host']) for row in bars)
    label_w = int(min(260, max(90, 16 + 7.4 * longest)))
    fit = int((label_w - 16) / 7.4)
    x0, x1 = label_w, width - value_w
    end, ticks = _scale(bars[0]['saved_bytes'])
    height = top + row_h * len(bars) + 28
    parts = [
        '<svg class="chart" role="img" aria-label="Memory saved per host" viewBox="0 0 %d %d" '
        'width="%d" height="%d">' % (width, height, width, height)
    ]
    axis_y = top + row_h * len(bars) + 4
    for tick, tick_label in ticks:
        x = x0 + (x1 - x0) * tick / end
        parts.append('<line class="grid" x1="%.1f" y1="%d" x2="%.1f" y2="%d"/>' % (x, top - 4, x, axis_y))
        parts.append(
            '<text class="tick" x="%.1f" y="%d" text-anchor="middle">%s</text>' % (x, axis_y + 16, _e(tick_label))
        )
    for index, row in enumerate(bars):
        y = top + index * row_h
        name = row['host'] if len(row['host']) <= fit else row['host'][: fit - 1] + '\u2026'
        bar_w = max(1.0, (x1 - x0) * row['saved_bytes'] / end)
        parts.append(
            '<g><text class="label" x="%d" y="%d" text-anchor="end">%s</text>'
            '<rect class="bar" x="%d" y="%d" width="%.1f" height="%d" rx="3" data-host="%s" data-bytes="%d">'
            '<title>%s: %s</title></rect>'
            '<text class="value" x="%.1f" y="%d">%s</text></g>'
            % (
                x0 - 8,
                y + 14,
                _e(name),
                x0,
                y + 1,
                bar_w,
                bar_h,
                _e(row['host']),
                row['saved_bytes'],
                _e(row['host']),
                _e(row['saved_human']),
                x0 + bar_w + 6,
                y + 14,
                _e(row['saved_human']),
            )
        )
    parts.append('</svg>')
    return ''.join(parts)


def _without_bar(rows: t.Sequence[Mapping[str, t.Any]]) -> str:
    notes = []
    for row in rows:
        if row['status'] != OK:
            notes.append('%s (%s)' % (row['host'], 'no UKSM/KSM' if row['status'] == 'unavailable' else row['status']))
        elif not row['saved_bytes']:
            notes.append('%s (0 B)' % row['host'])
    return '<p class="note">No bar: %s.</p>' % _e(', '.join(notes)) if notes else ''


def _yes_no(value: t.Any, yes: str, no: str, no_class: str = '') -> str:
    if value is None:
        return '\u2014'
    if value:
        return _e(yes)
    return '<span class="%s">%s</span>' % (no_class, _e(no)) if no_class else _e(no)


def _table_row(row: Mapping[str, t.Any]) -> str:
    classes = 'status-' + row['status'] + (' drifted' if row['drift'] else '')
    policy = '\u2014' if row['policy_persisted'] is None else 'persisted' if row['policy_persisted'] else 'none'
    notes = [text for text in (row['reason'], row['policy_error']) if text]
    cells = [
        '<th scope="row">%s</th>' % _e(row['host']),
        '<td class="status">%s</td>' % _e(row['status']),
        '<td>%s</td>' % _e(row['backend'] or '\u2014'),
        '<td>%s</td>' % _e(row['governor'] or '\u2014'),
        '<td class="num" data-bytes="%s">%s</td>' % (_e(row['saved_bytes']), _e(row['saved_human'] or '\u2014')),
        '<td class="num">%s</td>' % _e('\u2014' if row['ratio'] is None else row['ratio']),
        '<td class="drift">%s</td>' % _e(', '.join(row['drift'])),
        '<td>%s</td>' % _e(policy),
        '<td>%s</td>' % _yes_no(row['unit_enabled'], 'enabled', 'not enabled'),
        '<td>%s</td>' % _yes_no(row['daemon_running'], 'running', 'NOT running', 'stopped'),
        '<td class="reason">%s</td>' % _e(' | '.join(notes)),
    ]
    return '<tr class="%s" data-host="%s">%s</tr>' % (classes, _e(row['host']), ''.join(cells))


def table_html(rows: t.Sequence[Mapping[str, t.Any]]) -> str:
    head = ''.join(
        '<th scope="col">%s</th>' % name
        for name in (
            'Host',
            'Status',
            'Backend',
            'Governor',
            'Saved',
            'Ratio',
            'Drift',
            'Policy',
            'Boot unit',
            'Daemon',
            'Notes',
        )
    )
    return '<div class="scroll"><table><thead><tr>%s</tr></thead><tbody>%s</tbody></table></div>' % (
        head,
        ''.join(_table_row(row) for row in rows),
    )


def to_html(summary: Mapping[str, t.Any], title: str = 'UKSM/KSM fleet report', generated: str = '') -> str:
    """The whole page."""
    rows = summary['hosts']
    definitions = ''.join('<dt>%s</dt><dd>%s</dd>' % (_e(term), _e(text)) for term, text in DEFINITIONS)
    return ''.join(
        (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<title>%s</title><style>%s</style></head><body>' % (_e(title), STYLE),
            '<header><h1>%s</h1><p class="meta">%s%d hosts</p></header>'
            % (_e(title), 'Generated %s \u00b7 ' % _e(generated) if generated else '', len(rows)),
            totals_html(summary),
            '<section><h2>Memory saved per host</h2>%s%s</section>' % (chart_svg(rows), _without_bar(rows)),
            '<section><h2>Hosts</h2>%s</section>' % table_html(rows),
            '<section><h2>Definitions</h2><dl>%s</dl></section>' % definitions,
            '</body></html>\n',
        )
    )
