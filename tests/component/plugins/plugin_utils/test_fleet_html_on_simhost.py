# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report page from facts gathered on simulated hosts: totals, and a chart that counts each host."""

from __future__ import annotations

from ansible_collections.litevirt.uksm.plugins.module_utils._plan.facts import gather
from ansible_collections.litevirt.uksm.plugins.plugin_utils.fleet import summarize
from ansible_collections.litevirt.uksm.plugins.plugin_utils.fleet_html import to_html
from ansible_collections.litevirt.uksm.tests.helpers.html_page import Page


def test_gathered_facts_render(make_host):
    hosts = {'uksm': make_host('uksm'), 'ksm': make_host('ksm', active=True), 'plain': make_host('none')}
    summary = summarize({name: gather(host.paths.root) for name, host in hosts.items()})
    parsed = Page(to_html(summary))
    # the two hosts with an interface save memory: each is counted once in the histogram of memory saved
    saved = parsed.find('rect', data_chart='saved')
    assert sum(float(rect['data-value']) for rect in saved) == 2
    assert all(rect['class'] == 'bar' for rect in saved)
    backends = {rect['data-bin']: int(float(rect['data-value'])) for rect in parsed.find('rect', data_chart='backend')}
    assert sum(backends.values()) == summary['totals']['saved_bytes'] > 0
    assert parsed.totals()['saved_bytes'] == str(summary['totals']['saved_bytes'])
    assert parsed.totals()['by_governor.full'] == '1'
    assert [attrs['data-status'] for attrs in parsed.find('tr') if 'data-host' in attrs].count('ok') == 2
