# -*- coding: utf-8 -*-
# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report page: self-contained, escaped, totals and one chart bar per host that saves memory."""

from __future__ import annotations


from ansible_collections.litevirt.uksm.plugins.module_utils.facts import gather
from ansible_collections.litevirt.uksm.plugins.plugin_utils.fleet import summarize
from ansible_collections.litevirt.uksm.plugins.plugin_utils.fleet_html import to_html

from html_page import Page


def test_gathered_facts_render(make_host):
    hosts = {'uksm': make_host('uksm'), 'ksm': make_host('ksm', active=True), 'plain': make_host('none')}
    summary = summarize({name: gather(host.paths.root) for name, host in hosts.items()})
    parsed = Page(to_html(summary))
    # memory bars; the CPU bars beside them are class "cpu"
    assert len(parsed.find('rect', **{'class': 'bar'})) == 2
    assert parsed.totals()['saved_bytes'] == str(summary['totals']['saved_bytes'])
    assert parsed.totals()['by_governor.full'] == '1'
