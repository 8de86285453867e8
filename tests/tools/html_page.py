# -*- coding: utf-8 -*-
# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report page as the tests read it: elements with their attributes, and the text."""

from __future__ import annotations

import typing as t
from html.parser import HTMLParser


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
