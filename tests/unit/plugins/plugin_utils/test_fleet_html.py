# -*- coding: utf-8 -*-
# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report page: self-contained, escaped, totals, and a chart of memory saved beside CPU time per host."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.litevirt.uksm.plugins.module_utils.facts import human_bytes
from ansible_collections.litevirt.uksm.plugins.plugin_utils.fleet import summarize
from ansible_collections.litevirt.uksm.plugins.plugin_utils.fleet_html import _duration, _scale, _time_scale, to_html

from fleet_facts import any_fact, fact
from html_page import Page


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

MEMORY_BAR, CPU_BAR = {'class': 'bar'}, {'class': 'cpu'}


def test_page_is_self_contained():
    page = to_html(summarize(FLEET), generated='2026-11-26 12:00:00 UTC')
    assert page.startswith('<!DOCTYPE html>')
    assert 'http://' not in page and 'https://' not in page
    lowered = page.lower()
    for reference in ('<script', '<link', '<img', '<iframe', 'src=', 'href=', 'url(', '@import', 'xlink'):
        assert reference not in lowered
    parsed = Page(page)
    assert len(parsed.find('style')) == 1 and len(parsed.find('svg')) == 1
    assert '2026-11-26 12:00:00 UTC' in ''.join(parsed.text)


def test_chart_has_a_text_alternative():
    parsed = Page(to_html(summarize(FLEET)))
    (svg,) = parsed.find('svg')
    assert svg['role'] == 'img'
    assert len(parsed.find('title', id=svg['aria-labelledby'])) == 1
    assert 'Memory saved and CPU time' in ''.join(parsed.text)
    # every bar has a tooltip that names its host and its figure
    assert 'hv-uksm01: 699.5 MiB saved' in parsed.parts('g', 'hv-uksm01')
    assert any(
        part.startswith('hv-uksm02: 1.5 min of CPU time, 0.104 % of one CPU') for part in parsed.parts('g', 'hv-uksm02')
    )


def test_hostile_host_names_are_escaped():
    name = '<script>alert("x")</script>'
    summary = summarize(dict(FLEET, **{name: fact('uksm', 4096, 'full'), 'down"><u>': None}))
    page = to_html(summary, title='<i>fleet</i>')
    assert '<script' not in page and '<i>' not in page and '"><u>' not in page
    assert '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;' in page
    parsed = Page(page)
    assert [attrs['data-host'] for attrs in parsed.find('tr') if 'data-host' in attrs].count(name) == 1
    assert parsed.find('rect', data_host=name)  # attributes survive the round trip through escaping
    assert not parsed.find('script') and not parsed.find('u')


def test_hostile_host_names_are_escaped_in_the_cost_chart():
    name = '"><script>x</script>&'
    page = to_html(summarize({name: fact('ksm', 0, cpu=3.5, percent=0.1)}))
    assert '<script' not in page and '&quot;&gt;&lt;script&gt;x&lt;/script&gt;&amp;' in page
    parsed = Page(page)
    (cpu_bar,) = parsed.find('rect', **CPU_BAR)
    assert cpu_bar['data-host'] == name and cpu_bar['data-seconds'] == '3.5'
    assert name + ': 3.50 s of CPU time, 0.1 % of one CPU since the thread started' in parsed.parts('g', name)


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


def test_one_memory_bar_per_host_that_saves_memory_in_the_report_order():
    summary = summarize(FLEET)
    bars = Page(to_html(summary)).find('rect', **MEMORY_BAR)
    # most saved per CPU second first, then the hosts without that figure, by name
    assert [rect['data-host'] for rect in bars] == ['hv-uksm02', 'hv-uksm01', 'hv-ksm01']
    assert len(bars) == summary['totals']['with_savings'] == 3
    widths = {rect['data-host']: float(rect['width']) for rect in bars}
    assert min(widths.values()) >= 1
    # proportional to the bytes saved
    assert widths['hv-uksm02'] / widths['hv-uksm01'] == pytest.approx(368640000 / 733478912, rel=0.01)


def test_cpu_bars_beside_the_memory_bars_each_on_its_own_scale():
    summary = summarize(FLEET)
    parsed = Page(to_html(summary))
    cpu = parsed.find('rect', **CPU_BAR)
    assert [(rect['data-host'], rect['data-seconds']) for rect in cpu] == [
        ('hv-uksm02', '90.25'),
        ('hv-uksm01', '7200.0'),
    ]
    memory = {rect['data-host']: rect for rect in parsed.find('rect', **MEMORY_BAR)}
    for rect in cpu:
        # the same row as the host's memory bar, in the panel to its right
        assert rect['y'] == memory[rect['data-host']]['y'] and float(rect['x']) > float(memory[rect['data-host']]['x'])
    assert float(cpu[0]['width']) / float(cpu[1]['width']) == pytest.approx(90.25 / 7200, rel=0.05)
    # its own scale: the host with the most CPU time gets a long CPU bar although it does not save the most
    assert float(cpu[1]['width']) > 200
    # a chart row per host that saves memory or spends CPU time, in the report's order
    rows = [attrs['data-host'] for tag, attrs in parsed.elements if tag == 'g']
    assert rows == ['hv-uksm02', 'hv-uksm01', 'hv-ksm01']
    assert parsed.parts('g', 'hv-uksm02')[-1] == human_bytes(int(368640000 / 90.25))


def test_host_without_daemon_cpu_shows_not_running_or_n_a_never_0():
    fleet = dict(FLEET, **{'hv-stopped': fact('uksm', 4096, 'full', running=False)})
    parsed = Page(to_html(summarize(fleet)))
    cells = {
        host: dict(zip(('cpu', 'percent', 'per_second'), parsed.parts('tr', host)[6:9], strict=True))
        for host in ('hv-uksm01', 'hv-ksm01', 'hv-ksm02', 'hv-stopped', 'hv-plain')
    }
    assert parsed.parts('tr', 'hv-ksm01')[0] == 'hv-ksm01'
    assert cells['hv-uksm01'] == {'cpu': '2.0 h', 'percent': '8.333 %', 'per_second': human_bytes(101872)}
    assert cells['hv-ksm01'] == {'cpu': 'n/a', 'percent': 'n/a', 'per_second': 'n/a'}  # older facts
    assert cells['hv-ksm02'] == {'cpu': 'n/a', 'percent': 'n/a', 'per_second': 'n/a'}  # unreadable
    assert cells['hv-stopped'] == {'cpu': 'not running', 'percent': 'n/a', 'per_second': 'n/a'}
    assert cells['hv-plain'] == {'cpu': '\u2014', 'percent': '\u2014', 'per_second': '\u2014'}  # does not apply
    # in the chart: the memory bar, then the words instead of a CPU bar
    assert parsed.parts('g', 'hv-stopped')[-2:] == ['not running', 'n/a']
    assert parsed.parts('g', 'hv-ksm01')[-2:] == ['n/a', 'n/a']
    assert not [rect for rect in parsed.find('rect', **CPU_BAR) if rect['data-host'] in ('hv-stopped', 'hv-ksm01')]


def test_measured_zero_cpu_time_is_shown_as_a_measurement():
    parsed = Page(to_html(summarize({'hv-new': fact('ksm', 8192, cpu=0.0, percent=0.0)})))
    assert parsed.parts('tr', 'hv-new')[6:9] == ['0.00 s', '0.0 %', 'n/a']
    assert not parsed.find('rect', **CPU_BAR) and parsed.parts('g', 'hv-new')[-2:] == ['0.00 s', 'n/a']


def test_host_that_spends_cpu_but_saves_nothing_gets_a_chart_row():
    parsed = Page(to_html(summarize({'hv-idle': fact('ksm', 0, cpu=12.0, percent=0.01)})))
    assert not parsed.find('rect', **MEMORY_BAR) and len(parsed.find('rect', **CPU_BAR)) == 1
    assert parsed.parts('g', 'hv-idle')[1] == '0 B'


def test_no_bar_at_all():
    page = to_html(
        summarize({'hv-ksm02': fact('ksm', 0), 'hv-stopped': fact('uksm', 0, running=False), 'hv-down': None})
    )
    assert '<svg' not in page and 'No host saves memory or reports CPU time' in page
    assert 'hv-ksm02 (0 B; CPU time n/a)' in page and 'hv-stopped (0 B; CPU time not running)' in page
    assert 'hv-down (unreachable)' in page
    assert Page(page).totals()['hosts'] == '3'


def test_host_with_nothing_to_show_is_named_under_the_chart():
    page = to_html(summarize({'hv-new': fact('ksm', 0, cpu=0.0), 'hv-busy': fact('ksm', 4096, cpu=1.0)}))
    assert 'Not in the chart: hv-new (0 B; 0 s of CPU).' in page


@given(st.integers(1, 1 << 52))
def test_axis_covers_the_largest_bar(largest):
    end, ticks = _scale(largest)
    assert end >= largest and ticks[0] == (0, '0')
    values = [value for value, _label in ticks]
    assert values == sorted(set(values)) and 2 <= len(ticks) <= 12
    assert end <= max(values) or end == largest


@pytest.mark.parametrize(
    'largest, labels',
    [
        (733478912, ['0', '200 MiB', '400 MiB', '600 MiB', '800 MiB']),
        (3 << 30, ['0', '1 GiB', '2 GiB', '3 GiB']),
        (3, ['0', '1 B', '2 B', '3 B']),
    ],
)
def test_axis_labels(largest, labels):
    assert [label for _value, label in _scale(largest)[1]] == labels


@pytest.mark.parametrize(
    'largest, labels',
    [
        (0.37, ['0', '0.1 s', '0.2 s', '0.3 s', '0.4 s']),
        (7200.0, ['0', '0.5 h', '1 h', '1.5 h', '2 h']),
        (90.25, ['0', '0.5 min', '1 min', '1.5 min', '2 min']),
        (3 * 86400 + 1, ['0', '1 d', '2 d', '3 d', '4 d']),
    ],
)
def test_time_axis_labels(largest, labels):
    end, ticks = _time_scale(largest)
    assert [label for _value, label in ticks] == labels and end >= largest


@given(st.floats(0.01, 1e9))
def test_time_axis_covers_the_largest_bar(largest):
    end, ticks = _time_scale(largest)
    values = [value for value, _label in ticks]
    assert end >= largest and values == sorted(set(values)) and 2 <= len(ticks) <= 12


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


@given(st.dictionaries(st.text(min_size=1, max_size=12), any_fact(), max_size=10))
def test_any_fleet_renders_one_bar_per_measured_figure(hosts):
    summary = summarize(hosts)
    parsed = Page(to_html(summary))
    rows = summary['hosts']
    assert len(parsed.find('rect', **MEMORY_BAR)) == summary['totals']['with_savings']
    assert [rect['data-host'] for rect in parsed.find('rect', **CPU_BAR)] == [
        row['host'] for row in rows if (row['cpu_seconds'] or 0) > 0
    ]
    assert [attrs['data-host'] for tag, attrs in parsed.elements if tag == 'tr' and 'data-host' in attrs] == [
        row['host'] for row in rows
    ]


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
    rows = re.findall(r'<tr class="[^"]*" data-host="([^"]*)">(.*?)</tr>', page)
    cells = {}
    for host, row in rows:
        after_drift = row.split('<td class="drift">', 1)[1].split('</td>', 1)[1]
        tier, available = re.findall(r'<td[^>]*>.*?</td>', after_drift)[:2]
        cells[host] = (html.unescape(re.sub('<[^>]+>', '', tier)), html.unescape(re.sub('<[^>]+>', '', available)))
    return cells


def test_tier_and_availability_beside_drift():
    page = to_html(summarize(PRESSED))
    assert '<th scope="col">Drift</th><th scope="col">Tier</th><th scope="col">Available</th>' in page
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
