# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report page as the tests read it: elements with their attributes, and the text."""

from __future__ import annotations

from html.parser import HTMLParser

# inside a host's element, each of these starts a new part of its text (an empty cell stays an empty part)
PART_TAGS = ('td', 'th', 'text', 'title')


class Page(HTMLParser):
    """Every element's tag and attributes, the text of the page, and the text parts of each host's table
    row and chart row (``parts``)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self._parts: dict[tuple[str, str], list[str]] = {}
        self._host: tuple[str, str] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or '' for name, value in attrs}
        self.elements.append((tag, attributes))
        if tag in ('tr', 'g') and 'data-host' in attributes:
            self._host = (tag, attributes['data-host'])
            self._parts[self._host] = []
        elif self._host and tag in PART_TAGS:
            self._parts[self._host].append('')

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, {name: value or '' for name, value in attrs}))

    def handle_endtag(self, tag):
        if self._host and tag == self._host[0]:
            self._host = None

    def handle_data(self, data):
        self.text.append(data)
        if self._host and self._parts[self._host]:
            self._parts[self._host][-1] += data

    def parts(self, tag: str, host: str) -> list[str]:
        """The texts of a host's table row (``tr``: one per cell) or chart row (``g``: label, values, tooltips)."""
        return self._parts[(tag, host)]

    def find(self, tag: str, **wanted: str) -> list[dict[str, str]]:
        return [
            attrs
            for name, attrs in self.elements
            if name == tag and all(attrs.get(key.replace('_', '-')) == value for key, value in wanted.items())
        ]

    def totals(self) -> dict[str, str]:
        return {
            attrs['data-total']: attrs['data-value']
            for _tag, attrs in self.elements
            if 'data-total' in attrs and 'data-value' in attrs
        }
