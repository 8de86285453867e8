# -*- coding: utf-8 -*-
# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report page: self-contained, escaped, totals and one chart bar per host that saves memory."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.litevirt.uksm.plugins.plugin_utils.fleet import summarize
from ansible_collections.litevirt.uksm.plugins.plugin_utils.fleet_html import _scale, to_html

from fleet_facts import fact
from html_page import Page


FLEET = {
    'hv-uksm01': fact('uksm', 733478912, 'full'),
    'hv-uksm02': fact('uksm', 368640000, 'medium', drift=['cpu_governor'], settings={'uksm': {'cpu_governor': 'low'}}),
    'hv-ksm01': fact('ksm', 17203200),
    'hv-ksm02': fact('ksm', 0),
    'hv-plain': fact(None),
    'hv-down': None,
}


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


def test_totals_in_the_page_equal_the_summary():
    summary = summarize(FLEET)
    totals = Page(to_html(summary)).totals()
    expected = {key: str(value) for key, value in summary['totals'].items() if not isinstance(value, dict)}
    expected.update(
        {
            '%s.%s' % (key, name): str(count)
            for key in ('by_backend', 'by_governor')
            for name, count in summary['totals'][key].items()
        }
    )
    expected.pop('saved_human')
    expected.pop('with_savings')
    assert totals == expected
    assert totals['saved_bytes'] == str(733478912 + 368640000 + 17203200)


def test_one_bar_per_host_that_saves_memory_largest_first():
    summary = summarize(FLEET)
    bars = Page(to_html(summary)).find('rect')
    assert [rect['data-host'] for rect in bars] == ['hv-uksm01', 'hv-uksm02', 'hv-ksm01']
    assert len(bars) == summary['totals']['with_savings'] == 3
    widths = [float(rect['width']) for rect in bars]
    assert widths == sorted(widths, reverse=True) and widths[-1] >= 1
    # proportional to the bytes saved
    assert widths[1] / widths[0] == pytest.approx(368640000 / 733478912, rel=0.01)


def test_no_bar_at_all():
    page = to_html(summarize({'hv-ksm02': fact('ksm', 0), 'hv-down': None}))
    assert '<svg' not in page and 'No host saves memory' in page and 'hv-ksm02 (0 B)' in page
    assert Page(page).totals()['hosts'] == '2'


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


def test_title_and_generated_are_optional():
    page = to_html(summarize({}))
    assert '<title>UKSM/KSM fleet report</title>' in page and 'Generated' not in page
    assert re.search(r'data-total="hosts" data-value="0"', page)
