# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check the report in REPORT_DIR against each host's uksm_facts (FACTS_JSON: {host: fact}).

Usage: check_report.py REPORT_DIR FACTS_JSON PLAY_LOG [DOM_HTML SCREENSHOT_PNG BROWSED_JSON]
PLAY_LOG is what the report's run printed: its closing line must count the hosts as the report does, in
words (no Python repr). The expected totals are computed here from the facts, not with the collection's code; BROWSED_JSON is what
browse_report.py saw in Chromium after sorting and filtering the table, checked against report.json.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import os
import re
import struct
import sys
import zlib
from html.parser import HTMLParser

UNREACHABLE, FAILED = ['hv-down'], ['hv-broken']
FIRST_COLUMNS = [
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
]
COST_COLUMNS = ['cpu_seconds', 'cpu_percent_since_start', 'bytes_per_cpu_second']
PRESSURE_COLUMNS = ['tier', 'available_percent', 'tier_available_below_percent']
BAR_COLOUR = (0x2F, 0x6F, 0xDE)


def expected_totals(facts: dict) -> dict:
    reached = [fact for fact in facts.values() if fact['available']]
    # what sharing costs: the hosts whose thread reports its CPU time (facts of older versions lack the key)
    costed = [fact for fact in reached if fact.get('daemon_cpu')]
    by_backend, by_governor, by_tier = {}, {}, {}
    for fact in reached:
        by_backend[fact['backend']] = by_backend.get(fact['backend'], 0) + 1
        # facts of versions before pressure tiers lack the key: the base
        tier = fact['policy'].get('tier')
        name = 'base' if tier is None else 'tier %d' % tier
        by_tier[name] = by_tier.get(name, 0) + 1
        if fact['backend'] == 'uksm':
            governor = fact['tunables'].get('cpu_governor', 'unknown')
            by_governor[governor] = by_governor.get(governor, 0) + 1
    return {
        'hosts': len(facts) + len(UNREACHABLE) + len(FAILED),
        'saved_bytes': sum(fact['savings']['bytes'] for fact in reached),
        'by_backend': by_backend,
        'by_governor': by_governor,
        'drifted': sum(1 for fact in facts.values() if fact['policy']['drift']),
        'without_interface': sum(1 for fact in facts.values() if not fact['available']),
        'unreachable': len(UNREACHABLE),
        'failed': len(FAILED),
        'with_savings': sum(1 for fact in reached if fact['savings']['bytes'] > 0),
        'cpu_hosts': len(costed),
        'by_tier': by_tier,
    }


def check_cost(totals: dict, facts: dict) -> None:
    costed = [fact for fact in facts.values() if fact['available'] and fact.get('daemon_cpu')]
    seconds = sum(fact['daemon_cpu']['seconds'] for fact in costed)
    if not costed:
        assert totals['cpu_seconds'] is None and totals['bytes_per_cpu_second'] is None, totals
        return
    assert abs(totals['cpu_seconds'] - seconds) < 0.011, (totals, seconds)
    if seconds > 0:
        expected = sum(fact['savings']['bytes'] for fact in costed) / seconds
        assert abs(totals['bytes_per_cpu_second'] - expected) <= 1, (totals, expected)
    else:
        assert totals['bytes_per_cpu_second'] is None, totals


def check_data(out: str, facts: dict) -> dict:
    with open(os.path.join(out, 'report.json'), encoding='utf-8') as handle:
        report = json.load(handle)
    totals = report['totals']
    expected = expected_totals(facts)
    assert {key: totals[key] for key in expected} == expected, (totals, expected)
    check_cost(totals, facts)
    # the scenario's fleet, spelled out
    assert totals['by_backend'] == {'ksm': 2, 'uksm': 2} and totals['by_governor'] == {'full': 1, 'medium': 1}
    assert report['drifted_hosts'] == ['hv-drift'] and totals['drifted'] == 1
    assert report['without_interface_hosts'] == ['hv-legacy', 'hv-plain']
    assert report['unreachable_hosts'] == UNREACHABLE and report['failed_hosts'] == FAILED
    assert totals['with_savings'] == 3  # the old KSM host is idle
    assert totals['by_tier'] == {'base': 3, 'tier 0': 1}  # hv-uksm: tier 0 of two
    rows = {row['host']: row for row in report['hosts']}
    assert sorted(rows) == sorted(list(facts) + UNREACHABLE + FAILED)
    assert 'port 1' in rows['hv-down']['reason'] and 'absolute' in rows['hv-broken']['reason']
    for host, fact in facts.items():
        row = rows[host]
        assert row['drift'] == fact['policy']['drift'], host
        assert row['policy_persisted'] == fact['policy']['exists'], host
        assert row['saved_bytes'] == (fact['savings']['bytes'] if fact['available'] else None), host
        cpu = fact.get('daemon_cpu') if fact['available'] else None
        assert row['cpu_seconds'] == (cpu['seconds'] if cpu else None), host
        assert row['tier'] == (fact['policy'].get('tier') if fact['available'] else None), host
        assert row['available_percent'] == fact['policy'].get('available_percent'), host
    # most memory saved per CPU second first; the hosts without that figure after it
    figures = [row['bytes_per_cpu_second'] for row in report['hosts']]
    measured = [figure for figure in figures if figure is not None]
    assert figures[: len(measured)] == sorted(measured, reverse=True), figures
    assert rows['hv-drift']['drift'] and rows['hv-uksm']['policy_persisted'] and not rows['hv-uksm']['drift']
    # the tier in force is the base plus its settings: no drift; its threshold comes from policy.pressure
    assert rows['hv-uksm']['tier'] == 0 and rows['hv-uksm']['tier_available_below_percent'] == 90
    assert 70 < rows['hv-uksm']['available_percent'] < 90, rows['hv-uksm']
    assert rows['hv-drift']['tier'] is None and rows['hv-drift']['tier_available_below_percent'] is None
    with open(os.path.join(out, 'report.csv'), encoding='utf-8', newline='') as handle:
        records = {record['host']: record for record in csv.DictReader(handle)}
    assert records.keys() == rows.keys()
    # the cost columns, then the pressure columns come after the columns of the first report, which keep
    # their positions
    with open(os.path.join(out, 'report.csv'), encoding='utf-8', newline='') as handle:
        header = next(csv.reader(handle))
    assert header == FIRST_COLUMNS + COST_COLUMNS + PRESSURE_COLUMNS, header
    assert [records['hv-uksm'][key] for key in ('tier', 'tier_available_below_percent')] == ['0', '90']
    assert records['hv-drift']['tier'] == '' and records['hv-down']['available_percent'] == ''
    for host, record in records.items():
        assert record['status'] == rows[host]['status']
        assert record['saved_bytes'] == ('' if rows[host]['saved_bytes'] is None else str(rows[host]['saved_bytes']))
        assert record['drift'].split() == rows[host]['drift']
    with open(os.path.join(out, 'report.html'), encoding='utf-8') as handle:
        page = handle.read()
    assert 'http://' not in page and 'https://' not in page and ' src=' not in page and ' href=' not in page
    # one inline script, the one the page's Content-Security-Policy allows by its hash
    (script,) = re.findall(r'<script>(.*?)</script>', page, re.S)
    digest = base64.b64encode(hashlib.sha256(script.encode('utf-8')).digest()).decode('ascii')
    assert page.count('<script') == 1 and "script-src 'sha256-%s'" % digest in page
    assert "default-src 'none'" in page
    assert '<td class="tier" data-tier="0">tier 0 (&lt;90 %)</td>' in page
    return report


class Dom(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.totals, self.bars = {}, {}
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if 'data-total' in attrs and 'data-value' in attrs:
            self.totals[attrs['data-total']] = attrs['data-value']
        if tag == 'rect' and 'data-chart' in attrs:
            self.bars.setdefault(attrs['data-chart'], {})[attrs['data-bin']] = float(attrs['data-value'])


def check_dom(path: str, report: dict, facts: dict) -> None:
    with open(path, encoding='utf-8') as handle:
        dom = Dom(handle.read())
    totals = report['totals']
    # a null total is an empty data-value
    flat = {key: '' if value is None else str(value) for key, value in totals.items() if not isinstance(value, dict)}
    flat.update(
        {
            '%s.%s' % (key, name): str(count)
            for key in ('by_backend', 'by_governor', 'by_tier')
            for name, count in totals[key].items()
        }
    )
    del flat['saved_human'], flat['with_savings']
    assert dom.totals == flat, (dom.totals, flat)
    # the chart summarises: each host with UKSM/KSM in one bar of each histogram, the memory per backend added up
    reached = [fact for fact in facts.values() if fact['available']]
    for histogram in ('saved', 'cpu', 'per-cpu-second'):
        assert sum(dom.bars[histogram].values()) == len(reached), (histogram, dom.bars)
    assert dom.bars['saved']['nothing saved'] == len(reached) - totals['with_savings']
    by_backend = {}
    for fact in reached:
        name = '%s (%d host%s)' % (
            fact['backend'],
            totals['by_backend'][fact['backend']],
            '' if totals['by_backend'][fact['backend']] == 1 else 's',
        )
        by_backend[name] = by_backend.get(name, 0) + fact['savings']['bytes']
    assert dom.bars['backend'] == by_backend, (dom.bars['backend'], by_backend)


def png_pixels(path: str) -> tuple:
    """(width, height, channels, rows of bytes) of an 8-bit RGB or RGBA PNG."""
    with open(path, 'rb') as handle:
        data = handle.read()
    assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
    position, chunks, header = 8, [], None
    while position < len(data):
        length, kind = struct.unpack('>I4s', data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        if kind == b'IHDR':
            header = struct.unpack('>IIBBBBB', body)
        elif kind == b'IDAT':
            chunks.append(body)
        position += 12 + length
    width, height, depth, colour, interlace = header[:4] + header[6:]
    assert depth == 8 and colour in (2, 6) and not interlace, header
    channels = 3 if colour == 2 else 4
    raw, stride, rows, previous = zlib.decompress(b''.join(chunks)), width * channels, [], bytearray(width * channels)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                estimate = left + up - corner
                guess = min(
                    (abs(estimate - left), 0, left), (abs(estimate - up), 1, up), (abs(estimate - corner), 2, corner)
                )
                line[i] = (line[i] + guess[2]) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, channels, rows


def check_screenshot(path: str, report: dict) -> None:
    assert os.path.getsize(path) > 20000, 'screenshot is suspiciously small'
    width, height, channels, rows = png_pixels(path)
    assert (width, height) == (1280, 1600), (width, height)
    colours, bar_pixels = set(), 0
    for line in rows:
        for x in range(0, width * channels, channels):
            pixel = tuple(line[x : x + 3])
            colours.add(pixel)
            bar_pixels += pixel == BAR_COLOUR
    assert len(colours) > 50, 'screenshot looks blank: %d colours' % len(colours)
    # the longest bar of each of the four blue panels spans 240 px of 16: together far more than this
    assert bar_pixels > 4 * 100 * 16, 'chart bars not visible: %d px' % bar_pixels


def in_order(rows: list, key, ascending: bool) -> list:
    """Hosts as the page sorts them: by key, missing keys last, equal keys in the report's order."""
    present = [(key(row), row['host']) for row in rows if key(row) is not None]
    present.sort(key=lambda item: item[0], reverse=not ascending)  # stable either way
    return [host for _key, host in present] + [row['host'] for row in rows if key(row) is None]


def tier_text(row: dict):
    if row['status'] != 'ok':
        return None
    if row['tier'] is None:
        return 'base'
    threshold = row['tier_available_below_percent']
    return 'tier %d' % row['tier'] + ('' if threshold is None else ' (<%d %%)' % threshold)


SORT_KEYS = {
    'Host': lambda row: row['host'].lower(),
    'Saved': lambda row: row['saved_bytes'],
    'CPU time': lambda row: row['cpu_seconds'],
    'Available': lambda row: row['available_percent'],
    'Status': lambda row: row['status'],
    'Tier': tier_text,
}


def check_browsed(path: str, report: dict) -> None:
    """Sorting and filtering as a person does it in the browser, against report.json."""
    with open(path, encoding='utf-8') as handle:
        browsed = json.load(handle)
    assert 'error' not in browsed and browsed['tools_shown'], browsed
    rows = report['hosts']
    order = [row['host'] for row in rows]
    assert browsed['report_order'] == order and browsed['after_reset'] == order
    for name, key in SORT_KEYS.items():
        for direction in ('ascending', 'descending'):
            seen = browsed['sorted'][name][direction]
            assert seen['aria_sort'] == direction, (name, seen)
            assert seen['hosts'] == in_order(rows, key, direction == 'ascending'), (name, direction, seen)
    shown = '%%d of %d hosts shown' % len(rows)

    def filtered(predicate) -> dict:
        hosts = [row['host'] for row in rows if predicate(row)]
        return {'hosts': hosts, 'count': shown % len(hosts)}

    found = browsed['filtered']
    assert sorted(found['status']) == sorted({row['status'] for row in rows})
    # what each select compares with: the status, the backend and the tier's name ('none' without)
    fields = {
        'status': lambda row: row['status'],
        'backend': lambda row: row['backend'] or 'none',
        'tier': lambda row: (tier_text(row) or 'none').split(' (')[0],
    }
    for name, field in fields.items():
        for value, seen in found[name].items():
            assert seen == filtered(lambda row, field=field, value=value: field(row) == value), (name, value, seen)
    assert sorted(found['backend']) == ['ksm', 'none', 'uksm']
    assert sorted(found['tier']) == ['base', 'none', 'tier 0']
    assert found['drifted'] == filtered(lambda row: bool(row['drift'])) and found['drifted']['hosts'] == ['hv-drift']
    text = found['text']
    assert text['hv-d'] == filtered(lambda row: 'hv-d' in row['host']), text['hv-d']
    assert text['no such host'] == filtered(lambda row: False)
    # case does not matter; the backend's cell matches as well as the host's name
    assert set(filtered(lambda row: row['backend'] == 'uksm')['hosts']) <= set(text['UKSM']['hosts'])
    assert set(found['drifted']['hosts']) <= set(text['sleep_millisecs']['hosts'])
    assert found['combined'] == filtered(lambda row: row['backend'] == 'uksm' and 'hv-d' in row['host'])
    assert found['combined']['hosts'] == ['hv-drift']
    # why a host is not ok is readable beside its status without scrolling sideways, wide and narrow
    not_ok = [row['host'] for row in rows if row['status'] != 'ok']
    for width, seen in browsed['geometry'].items():
        assert [place['host'] for place in seen['rows']] == not_ok, (width, seen)
        for place in seen['rows']:
            beside = place['status_right'] - 1 <= place['reason_left'] <= place['status_right'] + 40
            inside = place['reason_right'] <= seen['viewport'] + 1 and place['reason_width'] >= 150
            assert place['reason'].strip() and beside and inside, (width, seen['viewport'], place)
    assert 0 < browsed['chart_bars'] <= 41


def check_closing_line(play_log: str, report: dict) -> None:
    """The last line of the run about the fleet says what the report counts, readably."""
    with open(play_log, encoding='utf-8') as handle:
        lines = [line.strip() for line in handle if ' hosts reported: ' in line]
    assert lines, 'the report run printed no closing line'
    totals = report['totals']
    by_backend = ', '.join('%d %s' % (count, name) for name, count in sorted(totals['by_backend'].items()))
    by_tier = ', '.join('%d on %s' % (count, name) for name, count in sorted(totals['by_tier'].items()))
    expected = (
        '"msg": "%d host%s reported: %d with UKSM or KSM (%s), %d without UKSM/KSM, %d unreachable, %d whose facts '
        'failed; %d drifted from the persisted policy; pressure tier in force: %s; %s saved, '
        % (
            totals['hosts'],
            '' if totals['hosts'] == 1 else 's',
            sum(totals['by_backend'].values()),
            by_backend or 'none',
            totals['without_interface'],
            totals['unreachable'],
            totals['failed'],
            totals['drifted'],
            by_tier or 'none',
            totals['saved_human'],
        )
    )
    assert lines[-1].startswith(expected), (lines[-1], expected)
    assert not re.search(r"[{}\[\]]|'", lines[-1]), lines[-1]  # no dict, list or quoted repr


def main() -> None:
    out, facts_file, play_log = sys.argv[1:4]
    with open(facts_file, encoding='utf-8') as handle:
        facts = json.load(handle)
    report = check_data(out, facts)
    check_closing_line(play_log, report)
    if len(sys.argv) > 4:
        check_dom(sys.argv[4], report, facts)
        check_screenshot(sys.argv[5], report)
        check_browsed(sys.argv[6], report)
    print('report checked: %s' % json.dumps(report['totals'], sort_keys=True))


if __name__ == '__main__':
    main()
