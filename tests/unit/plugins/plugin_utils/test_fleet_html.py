# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report page: self-contained, escaped, totals, a chart whose bars summarise the fleet whatever
its size, and a table that the page's script sorts and filters (in the browser: the report integration target)."""

from __future__ import annotations

import base64
import hashlib
import html
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.litevirt.uksm.plugins.module_utils._host.persist import MAX_TIERS
from ansible_collections.litevirt.uksm.plugins.module_utils.byte_sizes import human_bytes
from ansible_collections.litevirt.uksm.plugins.plugin_utils.fleet import summarize
from ansible_collections.litevirt.uksm.plugins.plugin_utils.fleet_chart import (
    BYTE_EDGES,
    MAX_BINS,
    TIME_EDGES,
    bin_label,
    byte_label,
    log_bins,
    time_label,
)
from ansible_collections.litevirt.uksm.plugins.plugin_utils.fleet_html import COLUMNS, _duration, to_html
from ansible_collections.litevirt.uksm.plugins.plugin_utils.fleet_table_script import SCRIPT
from ansible_collections.litevirt.uksm.tests.helpers.fleet_facts import any_fact, fact
from ansible_collections.litevirt.uksm.tests.helpers.html_page import Page

FLEET = {
    # 733478912 B over 7200 s: 101872 B per CPU second
    'hv-uksm01': fact('uksm', 733478912, 'full', cpu=7200.0, percent=8.333),
    # 368640000 B over 90.25 s: 4084653 B per CPU second, the best
    'hv-uksm02': fact(
        'uksm',
        368640000,
        'medium',
        drift=['cpu_governor'],
        settings={'uksm': {'cpu_governor': 'low'}},
        cpu=90.25,
        percent=0.104,
    ),
    'hv-ksm01': fact('ksm', 17203200, legacy=True),  # an older collection: no CPU figures
    'hv-ksm02': fact('ksm', 0),  # daemon_cpu null although ksmd runs: unreadable
    'hv-plain': fact(None),
    'hv-down': None,
}


def test_page_is_self_contained():
    page = to_html(summarize(FLEET), generated='2026-11-26 12:00:00 UTC')
    assert page.startswith('<!DOCTYPE html>')
    assert 'http://' not in page and 'https://' not in page
    lowered = page.lower()
    for reference in ('<link', '<img', '<iframe', 'src=', 'href=', 'url(', '@import', 'xlink', 'fetch(', 'import('):
        assert reference not in lowered
    parsed = Page(page)
    # one style, one script, both inline; a chart panel of its own per figure
    assert len(parsed.find('style')) == 1 and len(parsed.find('script')) == 1 and len(parsed.find('svg')) == 5
    assert parsed.find('script') == [{}]
    assert '2026-11-26 12:00:00 UTC' in ''.join(parsed.text)


def test_content_security_policy_allows_only_the_pages_own_style_and_script():
    page = to_html(summarize(FLEET))
    (meta,) = Page(page).find('meta', http_equiv='Content-Security-Policy')
    policy = dict(directive.split(' ', 1) for directive in meta['content'].split('; '))
    assert policy['default-src'] == "'none'" and policy['base-uri'] == "'none'" and policy['form-action'] == "'none'"
    style = re.search(r'<style>(.*?)</style>', page, re.S).group(1)
    script = re.search(r'<script>(.*?)</script>', page, re.S).group(1)
    assert policy['style-src'] == "'sha256-%s'" % base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert policy['script-src'] == "'sha256-%s'" % base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    # before anything it governs
    assert page.index('Content-Security-Policy') < page.index('<style>') < page.index('<script>')


def test_script_holds_no_data_and_writes_no_markup():
    script = re.search(r'<script>(.*?)</script>', to_html(summarize(FLEET)), re.S).group(1)
    assert script == SCRIPT
    for name in FLEET:
        assert name not in script
    for unsafe in (
        'innerHTML',
        'outerHTML',
        'insertAdjacentHTML',
        'document.write',
        'eval(',
        'Function(',
        'setTimeout',
    ):
        assert unsafe not in script


def test_without_script_the_page_is_a_plain_table():
    parsed = Page(to_html(summarize(FLEET)))
    # the controls only appear when the script runs; the table is complete without it
    (tools,) = parsed.find('div', id='host-tools')
    assert 'hidden' in tools
    assert len(parsed.find('tr', data_status='ok')) == 4 and len(parsed.find('th', scope='row')) == len(FLEET)
    assert not parsed.find('button', **{'class': 'sort'})  # the script makes the headings buttons


def test_each_chart_panel_has_a_text_alternative():
    parsed = Page(to_html(summarize(FLEET)))
    ids = {attrs['id'] for _tag, attrs in parsed.elements if 'id' in attrs}
    for svg in parsed.find('svg'):
        assert svg['role'] == 'img'
        labels = svg['aria-labelledby'].split()
        assert len(labels) == 2 and set(labels) <= ids
    text = ''.join(parsed.text)
    assert 'Hosts by memory saved' in text and 'Memory saved per pressure tier' in text
    # the description lists every bar with its figure, and every bar has a tooltip
    assert (
        'nothing saved: 1 host; 16 MiB to 64 MiB: 1 host; 64 MiB to 256 MiB: 0 hosts; 256 MiB to 1 GiB: 2 hosts' in text
    )
    assert '256 MiB to 1 GiB: 2 hosts' in parsed.text


@pytest.mark.parametrize('name', ['<script>alert("x")</script>', '"><u>x</u>&', "</script><script>alert('x')//"])
def test_hostile_host_names_are_escaped(name):
    summary = summarize(dict(FLEET, **{name: fact('uksm', 4096, 'full', drift=['<em>run</em>']), 'down"><u>': None}))
    page = to_html(summary, title='<i>fleet</i>')
    # the page's own script is the only one, and nothing closes it early
    assert page.count('<script') == 1 and page.count('</script>') == 1
    assert '<i>' not in page and '"><u>' not in page and '<em>' not in page
    assert html.escape(name, quote=True) in page
    parsed = Page(page)
    assert [attrs['data-host'] for attrs in parsed.find('tr') if 'data-host' in attrs].count(name) == 1
    assert parsed.parts('tr', name)[0] == name  # attributes and text survive the round trip through escaping
    assert not parsed.find('u') and not parsed.find('em') and len(parsed.find('script')) == 1


def test_hostile_values_are_escaped_in_table_filters_and_chart():
    odd = fact('ksm', 0, cpu=3.5, percent=0.1)
    odd['backend'] = 'k"s<m>'
    odd['savings']['ratio'] = '"><u>'
    page = to_html(summarize({'hv': odd}))
    assert '<m>' not in page and '"><u>' not in page
    parsed = Page(page)
    assert parsed.find('tr', data_backend='k"s<m>') and parsed.find('option', value='k"s<m>')
    assert parsed.find('rect', data_chart='backend', data_bin='k"s<m> (1 host)')
    assert parsed.find('td', data_ratio='"><u>')


def test_totals_in_the_page_equal_the_summary():
    summary = summarize(FLEET)
    totals = Page(to_html(summary)).totals()
    # a null total is an empty data-value
    expected = {
        key: '' if value is None else str(value)
        for key, value in summary['totals'].items()
        if not isinstance(value, dict)
    }
    expected.update(
        {
            '%s.%s' % (key, name): str(count)
            for key in ('by_backend', 'by_governor', 'by_tier')
            for name, count in summary['totals'][key].items()
        }
    )
    expected.pop('saved_human')
    expected.pop('with_savings')
    assert totals == expected
    assert totals['saved_bytes'] == str(733478912 + 368640000 + 17203200)
    # the cost: two hosts report CPU time; the legacy one's memory is left out of the fleet's figure
    assert totals['cpu_hosts'] == '2' and totals['cpu_seconds'] == '7290.25'
    assert totals['bytes_per_cpu_second'] == str(int((733478912 + 368640000) / 7290.25))


def test_cost_cards_show_readable_figures():
    summary = summarize(FLEET)
    text = ' '.join(Page(to_html(summary)).text)
    assert 'CPU time of sharing' in text and '2.0 h' in text and '7,290.25 s of uksmd/ksmd' in text
    assert 'Saved per CPU second' in text and human_bytes(summary['totals']['bytes_per_cpu_second']) in text


def test_cost_cards_without_any_cpu_figure_say_n_a_not_0():
    page = to_html(summarize({'hv-old': fact('uksm', 4096, 'full', legacy=True), 'hv-down': None}))
    totals = Page(page).totals()
    assert totals['cpu_seconds'] == '' and totals['bytes_per_cpu_second'] == '' and totals['cpu_hosts'] == '0'
    assert 'no host reports CPU time of its sharing thread' in page
    assert '0.00 s' not in page and '0 B per' not in page


def _bars(page):
    """{panel: [(bin, value, kind)]} of every chart bar, in the page's order."""
    panels = {}
    for attrs in Page(page).find('rect'):
        panels.setdefault(attrs['data-chart'], []).append(
            (attrs['data-bin'], float(attrs['data-value']), attrs['class'])
        )
    return panels


def test_chart_summarises_the_fleet_in_bins_and_totals():
    summary = summarize(FLEET)
    assert _bars(to_html(summary)) == {
        'saved': [
            ('nothing saved', 1, 'none'),
            ('16 MiB to 64 MiB', 1, 'bar'),
            ('64 MiB to 256 MiB', 0, 'bar'),
            ('256 MiB to 1 GiB', 2, 'bar'),
        ],
        'cpu': [
            ('n/a', 2, 'none'),
            ('1 min to 10 min', 1, 'cpu'),
            ('10 min to 1 h', 0, 'cpu'),
            ('1 h to 6 h', 1, 'cpu'),
        ],
        'per-cpu-second': [
            ('no figure', 2, 'none'),
            ('64 KiB/s to 256 KiB/s', 1, 'bar'),
            ('256 KiB/s to 1 MiB/s', 0, 'bar'),
            ('1 MiB/s to 4 MiB/s', 1, 'bar'),
        ],
        'backend': [('ksm (2 hosts)', 17203200, 'bar'), ('uksm (2 hosts)', 733478912 + 368640000, 'bar')],
        'tier': [('base (4 hosts)', summary['totals']['saved_bytes'], 'bar')],
    }


def test_bar_lengths_are_shares_of_the_largest_bar_of_their_panel():
    rects = {
        (attrs['data-chart'], attrs['data-bin']): float(attrs['width'])
        for attrs in Page(to_html(summarize(FLEET))).find('rect')
    }
    assert rects['saved', '16 MiB to 64 MiB'] * 2 == pytest.approx(rects['saved', '256 MiB to 1 GiB'])
    assert rects['saved', '64 MiB to 256 MiB'] == 0  # an empty bin keeps its place, without a bar
    # widths are drawn to a tenth of a pixel
    assert rects['backend', 'ksm (2 hosts)'] == pytest.approx(
        rects['backend', 'uksm (2 hosts)'] * 17203200 / (733478912 + 368640000), abs=0.1
    )
    assert rects['backend', 'ksm (2 hosts)'] >= 1  # a tiny share is still visible


def _fleet_of(count):
    """``count`` hosts cycling through the same 24 profiles: the same figures, ``count / 24`` times each."""
    profiles = [
        fact(
            'uksm',
            1 << (10 + index),
            'full',
            cpu=0.5 * 3**index,
            percent=0.1,
            tier=index % 3 or None,
            thresholds=(30, 20, 10),
        )
        if index % 6
        else fact('ksm', 0, running=index % 12 == 0)
        for index in range(24)
    ]
    return {'hv%05d' % number: profiles[number % 24] for number in range(count)}


def test_bar_count_does_not_grow_with_the_fleet():
    small, large = (_bars(to_html(summarize(_fleet_of(count)))) for count in (24, 2400))

    def shape(bars):  # the bars without the numbers of hosts in their labels
        return {
            panel: [(re.sub(r' \(\d+ hosts?\)', '', label), kind) for label, _value, kind in found]
            for panel, found in bars.items()
        }

    # the same bars, each counting a hundred times as many hosts, or a hundred times the memory
    assert shape(small) == shape(large) and len(small['saved']) > 3
    for panel, bars in small.items():
        assert [value * 100 for _label, value, _kind in bars] == [value for _label, value, _kind in large[panel]]
    assert sum(len(bars) for bars in large.values()) <= 3 * (MAX_BINS + 3) + 2 + 1 + MAX_TIERS


@given(st.dictionaries(st.text(min_size=1, max_size=12), any_fact(), max_size=12))
def test_any_fleet_is_charted_in_bounded_bins_that_count_every_host(hosts):
    summary = summarize(hosts)
    parsed = Page(to_html(summary))
    rows = summary['hosts']
    reached = sum(1 for row in rows if row['status'] == 'ok')
    bars = _bars(to_html(summary))
    for panel in ('saved', 'cpu', 'per-cpu-second'):
        # every host with UKSM/KSM in exactly one bar of each histogram
        assert sum(value for _label, value, _kind in bars.get(panel, [])) == reached
        assert sum(1 for _label, _value, kind in bars.get(panel, []) if kind != 'none') <= MAX_BINS
    assert sum(value for _label, value, _kind in bars.get('backend', [])) == summary['totals']['saved_bytes']
    assert [attrs['data-host'] for tag, attrs in parsed.elements if tag == 'tr' and 'data-host' in attrs] == [
        row['host'] for row in rows
    ]


@given(st.lists(st.one_of(st.integers(1, 1 << 62), st.floats(1e-6, 1e12)), min_size=1, max_size=60))
def test_log_bins_are_contiguous_bounded_and_count_each_value_once(values):
    for edges in (BYTE_EDGES, TIME_EDGES):
        bins = log_bins(values, edges)
        assert 1 <= len(bins) <= MAX_BINS
        assert sum(count for _low, _high, count in bins) == len(values)
        assert all(bins[i][1] == bins[i + 1][0] for i in range(len(bins) - 1))
        assert bins[0][0] <= min(values) and max(values) < bins[-1][1]
        for low, high, count in bins:
            assert count == sum(1 for value in values if low <= value < high)


@pytest.mark.parametrize(
    'values, labels',
    [
        ([5 << 20], ['4 MiB to 16 MiB']),
        # 1 B to 1 TiB: 21 edges, every third kept
        (
            [1, 1 << 40],
            [
                '1 B to 64 B',
                '64 B to 4 KiB',
                '4 KiB to 256 KiB',
                '256 KiB to 16 MiB',
                '16 MiB to 1 GiB',
                '1 GiB to 64 GiB',
                '64 GiB to 4 TiB',
            ],
        ),
    ],
)
def test_byte_bin_labels(values, labels):
    assert [bin_label(low, high, byte_label) for low, high, _count in log_bins(values, BYTE_EDGES)] == labels


@pytest.mark.parametrize(
    'values, labels',
    [
        ([0.001, 0.5], ['under 10 ms', '10 ms to 0.1 s', '0.1 s to 1 s']),
        ([400 * 86400.0], ['365 d or more']),
        ([90.25, 7200.0], ['1 min to 10 min', '10 min to 1 h', '1 h to 6 h']),
    ],
)
def test_time_bin_labels(values, labels):
    assert [bin_label(low, high, time_label) for low, high, _count in log_bins(values, TIME_EDGES)] == labels


@pytest.mark.parametrize(
    'seconds, text',
    [
        (0.0, '0.00 s'),
        (3.75, '3.75 s'),
        (59.99, '59.99 s'),
        (743.9, '12.4 min'),
        (7200.0, '2.0 h'),
        (172800.0, '2.0 d'),
    ],
)
def test_duration(seconds, text):
    assert _duration(seconds) == text


def test_host_without_daemon_cpu_shows_not_running_or_n_a_never_0():
    fleet = dict(FLEET, **{'hv-stopped': fact('uksm', 4096, 'full', running=False)})
    page = to_html(summarize(fleet))
    parsed = Page(page)
    cells = {
        host: dict(zip(('cpu', 'percent', 'per_second'), parsed.parts('tr', host)[7:10], strict=True))
        for host in ('hv-uksm01', 'hv-ksm01', 'hv-ksm02', 'hv-stopped', 'hv-plain')
    }
    assert parsed.parts('tr', 'hv-ksm01')[0] == 'hv-ksm01'
    assert cells['hv-uksm01'] == {'cpu': '2.0 h', 'percent': '8.333 %', 'per_second': human_bytes(101872)}
    assert cells['hv-ksm01'] == {'cpu': 'n/a', 'percent': 'n/a', 'per_second': 'n/a'}  # older facts
    assert cells['hv-ksm02'] == {'cpu': 'n/a', 'percent': 'n/a', 'per_second': 'n/a'}  # unreadable
    assert cells['hv-stopped'] == {'cpu': 'not running', 'percent': 'n/a', 'per_second': 'n/a'}
    assert cells['hv-plain'] == {'cpu': '\u2014', 'percent': '\u2014', 'per_second': '\u2014'}  # does not apply
    # in the chart: grey bars that count them, never a bin of 0 s
    assert _bars(page)['cpu'][:2] == [('not running', 1, 'none'), ('n/a', 2, 'none')]


def test_measured_zero_cpu_time_is_shown_as_a_measurement():
    page = to_html(summarize({'hv-new': fact('ksm', 8192, cpu=0.0, percent=0.0)}))
    assert Page(page).parts('tr', 'hv-new')[7:10] == ['0.00 s', '0.0 %', 'n/a']
    assert _bars(page)['cpu'] == [('0 s', 1, 'none')] and _bars(page)['per-cpu-second'] == [('no figure', 1, 'none')]


def test_host_that_spends_cpu_but_saves_nothing_is_counted_in_both():
    bars = _bars(to_html(summarize({'hv-idle': fact('ksm', 0, cpu=12.0, percent=0.01)})))
    assert bars['saved'] == [('nothing saved', 1, 'none')]
    assert bars['cpu'] == [('10 s to 1 min', 1, 'cpu')] and bars['per-cpu-second'] == [('0 B/s', 1, 'none')]


def test_no_chart_without_a_host_with_uksm_or_ksm():
    page = to_html(summarize({'hv-plain': fact(None), 'hv-down': None}))
    assert '<svg' not in page and 'No host with UKSM or KSM: nothing to chart.' in page
    assert Page(page).totals()['hosts'] == '2'


def test_table_columns_say_which_attribute_sorts_them():
    page = to_html(summarize(FLEET))
    parsed = Page(page)
    headings = [attrs for attrs in parsed.find('th') if attrs.get('scope') == 'col']
    assert [attrs.get('data-sort-attribute', '') for attrs in headings] == [attribute for _name, attribute in COLUMNS]
    # in a numeric column, the cell carries its number where the heading says
    row = re.search(r'<tr[^>]* data-host="hv-uksm02"[^>]*>(.*?)</tr>', page).group(1)
    cells = re.findall(r'<t[hd]([^>]*)>', row)
    numbers = {
        attribute: re.findall(attribute + r'="([^"]*)"', cells[position])
        for position, (_name, attribute) in enumerate(COLUMNS)
        if attribute
    }
    assert numbers == {
        'data-bytes': ['368640000'],
        'data-ratio': ['40.0'],
        'data-seconds': ['90.25'],
        'data-percent': ['0.104'],
        'data-bytes-per-cpu-second': [str(int(368640000 / 90.25))],
        'data-available-percent': [],  # not known: no number, the row sorts last
    }
    (uksm02,) = parsed.find('tr', data_host='hv-uksm02')
    assert uksm02['data-status'] == 'ok' and uksm02['data-backend'] == 'uksm' and uksm02['data-tier'] == 'base'


def test_filters_offer_the_values_the_hosts_have():
    page = to_html(summarize(dict(PRESSED, **{'hv-broken': {'failed': True, 'msg': 'no'}})))
    parsed = Page(page)

    def options(name):
        select = re.search(r'<select id="filter-%s">(.*?)</select>' % name, page).group(1)
        return [html.unescape(value) for value in re.findall(r'<option value="([^"]*)"', select)]

    assert options('status') == ['', 'ok', 'unavailable', 'unreachable', 'failed']
    assert options('backend') == ['', 'ksm', 'uksm', 'none']
    assert options('tier') == ['', 'base', 'tier 1', 'none']
    rows = {
        attrs['data-host']: (attrs['data-status'], attrs['data-backend'], attrs['data-tier'])
        for attrs in parsed.find('tr')
        if 'data-host' in attrs
    }
    assert rows == {
        'hv-base': ('ok', 'uksm', 'base'),
        'hv-deep': ('ok', 'uksm', 'tier 1'),
        'hv-old': ('ok', 'ksm', 'base'),
        'hv-plain': ('unavailable', 'none', 'none'),
        'hv-down': ('unreachable', 'none', 'none'),
        'hv-broken': ('failed', 'none', 'none'),
    }
    assert parsed.find('input', id='filter-text') and parsed.find('input', id='filter-drifted')
    assert parsed.find('output', id='host-count', aria_live='polite')


def test_title_and_generated_are_optional():
    page = to_html(summarize({}))
    assert '<title>UKSM/KSM fleet report</title>' in page and 'Generated' not in page
    assert re.search(r'data-total="hosts" data-value="0"', page)


PRESSED = {
    'hv-base': fact('uksm', 4096, 'quiet', thresholds=(30, 10), available_percent=62.5),
    'hv-deep': fact('uksm', 4096, 'full', tier=1, thresholds=(30, 10), available_percent=8.5),
    'hv-old': fact('ksm', 4096, legacy=True),  # a collection before pressure tiers
    'hv-plain': fact(None, available_percent=90.0),
    'hv-down': None,
}


def _pressure_cells(page):
    """{host: (tier cell, available cell)}: the two cells after the drift cell of each host's row."""
    rows = re.findall(r'<tr class="[^"]*" data-host="([^"]*)"[^>]*>(.*?)</tr>', page)
    cells = {}
    for host, row in rows:
        after_drift = row.split('<td class="drift">', 1)[1].split('</td>', 1)[1]
        tier, available = re.findall(r'<td[^>]*>.*?</td>', after_drift)[:2]
        cells[host] = (html.unescape(re.sub('<[^>]+>', '', tier)), html.unescape(re.sub('<[^>]+>', '', available)))
    return cells


def test_tier_and_availability_beside_drift():
    page = to_html(summarize(PRESSED))
    assert (
        '<th scope="col">Drift</th><th scope="col">Tier</th>'
        '<th scope="col" data-sort-attribute="data-available-percent">Available</th>' in page
    )
    assert _pressure_cells(page) == {
        'hv-base': ('base', '62.5 %'),
        'hv-deep': ('tier 1 (<10 %)', '8.5 %'),
        'hv-old': ('base', 'n/a'),  # older facts: the base, availability unknown
        'hv-plain': ('\u2014', '90.0 %'),  # no interface, no tier; availability measured all the same
        'hv-down': ('\u2014', '\u2014'),
    }
    parsed = Page(page)
    assert [cell['data-tier'] for cell in parsed.find('td') if 'data-tier' in cell] == ['base', '1', 'base']
    assert parsed.find('td', data_tier='1')[0]['class'] == 'tier'
    assert parsed.find('td', data_available_percent='8.5')


def test_tier_without_its_threshold_is_named_by_index():
    gathered = fact('uksm', 4096, 'full', tier=0, thresholds=(30,))
    gathered['policy']['pressure'] = None
    assert _pressure_cells(to_html(summarize({'hv': gathered}))) == {'hv': ('tier 0', 'n/a')}


def test_tier_card_counts_hosts_per_tier():
    summary = summarize(PRESSED)
    totals = Page(to_html(summary)).totals()
    assert {key: value for key, value in totals.items() if key.startswith('by_tier.')} == {
        'by_tier.base': '2',
        'by_tier.tier 1': '1',
    }
    assert 'By pressure tier' in to_html(summary)


def test_why_a_host_is_not_ok_is_the_cell_beside_its_status():
    """A person reads the reason where the status is, not at the far end of a wide table."""
    parsed = Page(to_html(summarize(FLEET)))
    for host, status in (('hv-plain', 'unavailable'), ('hv-down', 'unreachable')):
        shown_status, reason = parsed.parts('tr', host)[1:3]
        assert shown_status == status and reason, (host, parsed.parts('tr', host))
    assert [name for name, _attribute in COLUMNS][:3] == ['Host', 'Status', 'Notes']
