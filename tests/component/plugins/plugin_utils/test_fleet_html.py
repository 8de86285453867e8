# -*- coding: utf-8 -*-
# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report page: self-contained, escaped, totals and one chart bar per host that saves memory."""

from __future__ import annotations

import typing as t
from html.parser import HTMLParser


from ansible_collections.litevirt.uksm.plugins.module_utils.facts import gather
from ansible_collections.litevirt.uksm.plugins.plugin_utils.fleet import summarize
from ansible_collections.litevirt.uksm.plugins.plugin_utils.fleet_html import to_html

from fleet_facts import fact


class Page(HTMLParser):
    """Every element's tag and attributes, and the text of the page."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.elements: t.List[t.Tuple[str, t.Dict[str, str]]] = []
        self.text: t.List[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {name: value or '' for name, value in attrs}))

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        self.text.append(data)

    def find(self, tag: str, **wanted: str) -> t.List[t.Dict[str, str]]:
        return [
            attrs
            for name, attrs in self.elements
            if name == tag and all(attrs.get(key.replace('_', '-')) == value for key, value in wanted.items())
        ]

    def totals(self) -> t.Dict[str, str]:
        return {
            attrs['data-total']: attrs['data-value']
            for _tag, attrs in self.elements
            if 'data-total' in attrs and 'data-value' in attrs
        }


FLEET = {
    'hv-uksm01': fact('uksm', 733478912, 'full'),
    'hv-uksm02': fact('uksm', 368640000, 'medium', drift=['cpu_governor'], settings={'uksm': {'cpu_governor': 'low'}}),
    'hv-ksm01': fact('ksm', 17203200),
    'hv-ksm02': fact('ksm', 0),
    'hv-plain': fact(None),
    'hv-down': None,
}


def test_gathered_facts_render(make_host):
    hosts = {'uksm': make_host('uksm'), 'ksm': make_host('ksm', active=True), 'plain': make_host('none')}
    summary = summarize({name: gather(host.paths.root) for name, host in hosts.items()})
    parsed = Page(to_html(summary))
    assert len(parsed.find('rect')) == 2
    assert parsed.totals()['saved_bytes'] == str(summary['totals']['saved_bytes'])
    assert parsed.totals()['by_governor.full'] == '1'
