# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report's chart: the fleet in a bounded number of bars, whatever its size.

Five panels, each an inline SVG with a text alternative: hosts by memory saved, by CPU time of the sharing
thread and by memory saved per CPU second (histograms on logarithmic bins with round edges, at most
``MAX_BINS`` of them, plus one bar per kind of missing figure), then memory saved per backend and per
pressure tier (at most two backends, and the base plus ``persist.MAX_TIERS`` tiers). Every bar has a
tooltip; each host's own figures are in the table. One pass over the rows, then a binary search per value.
"""

from __future__ import annotations

import bisect
import html
import math
import typing as t
from collections.abc import Mapping

from ansible_collections.litevirt.uksm.plugins.module_utils.byte_sizes import human_bytes
from ansible_collections.litevirt.uksm.plugins.plugin_utils.fleet import OK, tier_name

# at most this many bins with figures in a histogram; edges are skipped evenly to stay within it
MAX_BINS = 8
BYTE_UNITS = ('B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB')
# round edges for bytes (and bytes per CPU second): 1 B, 4 B, 16 B ... every power of 4 up to 1 EiB
BYTE_EDGES = tuple(4**power for power in range(31))
# round edges for CPU time, in seconds: 10 ms to a year
TIME_EDGES = (0.01, 0.1, 1, 10, 60, 600, 3600, 6 * 3600, 86400, 7 * 86400, 30 * 86400, 365 * 86400)
TIME_LABELS = ('10 ms', '0.1 s', '1 s', '10 s', '1 min', '10 min', '1 h', '6 h', '1 d', '7 d', '30 d', '365 d')
# kinds of bar: a bin of figures (memory or CPU colour), or a count of hosts without the figure
MEMORY, CPU, MISSING = 'bar', 'cpu', 'none'

CHART_NOTE = (
    'Hosts with UKSM or KSM, counted in bins on a logarithmic scale with round bounds (powers of 4 bytes; '
    'round times); grey bars count the hosts without the figure. The number of bars does not grow with the '
    'fleet: each host\'s figures are in the table below, where sorting by a column brings the hosts of a bin '
    'together.'
)

WIDTH, LABEL_W, VALUE_W, TOP, ROW_H, BAR_H = 520, 150, 130, 8, 24, 16


class Bar(t.NamedTuple):
    label: str  # what the bar counts, e.g. "1 MiB to 4 MiB" or "not running"
    value: float  # hosts, or bytes for the totals panels
    shown: str  # the value as text beside the bar
    kind: str  # MEMORY, CPU or MISSING


def _e(value: t.Any) -> str:
    return html.escape('' if value is None else str(value), quote=True)


def byte_label(count: float) -> str:
    """A power of 4 in binary units: ``4 KiB``, ``256 MiB``."""
    power = min(int(math.log(count, 1024) + 1e-9), len(BYTE_UNITS) - 1) if count >= 1 else 0
    return '%g %s' % (count / 1024**power, BYTE_UNITS[power])


def log_bins(
    values: t.Sequence[float], edges: t.Sequence[float], most: int = MAX_BINS
) -> list[tuple[float, float, int]]:
    """(low, high, count) of positive ``values`` in bins bounded by ``edges`` (ascending, round): from the
    last edge at or below the smallest value to the first edge above the largest, every k-th edge so that
    at most ``most`` bins remain. Values below the first edge fall in a bin from 0, values from the last
    edge on in a bin up to infinity. Empty bins between others are kept, so that the shape is honest."""
    if not values:
        return []
    first = bisect.bisect_right(edges, min(values)) - 1
    last = bisect.bisect_right(edges, max(values))
    step = max(1, math.ceil((last - first) / most))
    indexes = list(range(first, last, step)) + [first + step * math.ceil((last - first) / step)]

    def edge(index: int) -> float:
        return 0.0 if index < 0 else math.inf if index >= len(edges) else edges[index]

    bounds = [edge(index) for index in indexes]
    counts = [0] * (len(bounds) - 1)
    for value in values:
        counts[bisect.bisect_right(bounds, value) - 1] += 1
    return [(bounds[i], bounds[i + 1], counts[i]) for i in range(len(counts))]


def bin_label(low: float, high: float, name: t.Callable[[float], str]) -> str:
    if low == 0:
        return 'under ' + name(high)
    if math.isinf(high):
        return name(low) + ' or more'
    return '%s to %s' % (name(low), name(high))


def time_label(seconds: float) -> str:
    return TIME_LABELS[TIME_EDGES.index(seconds)]


def _hosts(count: int) -> str:
    return '%d host%s' % (count, '' if count == 1 else 's')


def _histogram(
    values: list[float], edges: t.Sequence[float], name: t.Callable[[float], str], kind: str, missing: Mapping[str, int]
) -> list[Bar]:
    bars = [Bar(label, count, _hosts(count), MISSING) for label, count in missing.items() if count]
    for low, high, count in log_bins(values, edges):
        bars.append(Bar(bin_label(low, high, name), count, _hosts(count), kind))
    return bars


def panels(rows: t.Sequence[Mapping[str, t.Any]]) -> list[tuple[str, str, list[Bar]]]:
    """(key, title, bars) of each panel, from the rows of the hosts with UKSM/KSM (one pass over them)."""
    saved: list[float] = []
    seconds: list[float] = []
    figures: list[float] = []
    counts = {'nothing saved': 0, 'not running': 0, 'n/a': 0, '0 s': 0, 'no figure': 0, '0 B/s': 0}
    by_backend: dict[str, list[int]] = {}
    by_tier: dict[str, list[int]] = {}
    for row in rows:
        if row['status'] != OK:
            continue
        if row['saved_bytes'] > 0:
            saved.append(row['saved_bytes'])
        else:
            counts['nothing saved'] += 1
        cpu = row['cpu_seconds']
        if cpu is None:
            counts['not running' if row['daemon_running'] is False else 'n/a'] += 1
        elif cpu > 0:
            seconds.append(cpu)
        else:
            counts['0 s'] += 1
        figure = row['bytes_per_cpu_second']
        if figure is None:
            counts['no figure'] += 1
        elif figure > 0:
            figures.append(figure)
        else:
            counts['0 B/s'] += 1
        for totals, key in ((by_backend, str(row['backend'])), (by_tier, tier_name(row['tier']))):
            total = totals.setdefault(key, [0, 0])
            total[0] += 1
            total[1] += row['saved_bytes']

    def sums(totals: dict[str, list[int]]) -> list[Bar]:
        return [
            Bar('%s (%s)' % (key, _hosts(hosts)), saved_bytes, human_bytes(saved_bytes), MEMORY)
            for key, (hosts, saved_bytes) in sorted(totals.items())
        ]

    def per_second(count: float) -> str:
        return byte_label(count) + '/s'

    return [
        (
            'saved',
            'Hosts by memory saved',
            _histogram(saved, BYTE_EDGES, byte_label, MEMORY, {'nothing saved': counts['nothing saved']}),
        ),
        (
            'cpu',
            'Hosts by CPU time of uksmd/ksmd',
            _histogram(
                seconds, TIME_EDGES, time_label, CPU, {key: counts[key] for key in ('not running', 'n/a', '0 s')}
            ),
        ),
        (
            'per-cpu-second',
            'Hosts by memory saved per CPU second',
            _histogram(figures, BYTE_EDGES, per_second, MEMORY, {key: counts[key] for key in ('no figure', '0 B/s')}),
        ),
        ('backend', 'Memory saved per backend', sums(by_backend)),
        ('tier', 'Memory saved per pressure tier', sums(by_tier)),
    ]


def panel_svg(key: str, title: str, bars: t.Sequence[Bar]) -> str:
    """One panel: a row per bar, the bar's length its share of the largest value of the panel."""
    largest = max(row.value for row in bars) or 1
    height = TOP + ROW_H * len(bars) + 4
    span = WIDTH - LABEL_W - VALUE_W
    described = '; '.join('%s: %s' % (row.label, row.shown) for row in bars)
    parts = [
        '<figure class="panel"><figcaption id="chart-%s">%s</figcaption>' % (key, _e(title)),
        '<svg class="chart" role="img" aria-labelledby="chart-%s chart-%s-desc" viewBox="0 0 %d %d" width="%d" '
        'height="%d"><desc id="chart-%s-desc">%s</desc>' % (key, key, WIDTH, height, WIDTH, height, key, _e(described)),
    ]
    for index, row in enumerate(bars):
        y = TOP + index * ROW_H
        width = span * row.value / largest
        width = max(width, 1.0) if row.value > 0 else 0.0
        parts.append(
            '<text class="label" x="%d" y="%d" text-anchor="end">%s</text>'
            '<rect class="%s" x="%d" y="%d" width="%.1f" height="%d" rx="3" data-chart="%s" data-bin="%s" '
            'data-value="%s"><title>%s: %s</title></rect><text class="value" x="%.1f" y="%d">%s</text>'
            % (
                LABEL_W - 8,
                y + 13,
                _e(row.label),
                row.kind,
                LABEL_W,
                y,
                width,
                BAR_H,
                _e(key),
                _e(row.label),
                _e(row.value),
                _e(row.label),
                _e(row.shown),
                LABEL_W + width + 6,
                y + 13,
                _e(row.shown),
            )
        )
    parts.append('</svg></figure>')
    return ''.join(parts)


def chart_html(rows: t.Sequence[Mapping[str, t.Any]]) -> str:
    """Every panel, or a note when no host has UKSM or KSM."""
    shown = [panel for panel in panels(rows) if panel[2]]
    if not shown:
        return '<p class="note">No host with UKSM or KSM: nothing to chart.</p>'
    return '<div class="panels">%s</div><p class="note">%s</p>' % (
        ''.join(panel_svg(*panel) for panel in shown),
        _e(CHART_NOTE),
    )
