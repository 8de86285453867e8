# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
name: fleet_html
version_added: 1.0.0
author: litevirt engineering (@litevirt)
short_description: A fleet summary as a self-contained HTML page
description:
  - Renders a P(litevirt.uksm.fleet_summary#filter) result as one HTML page that needs no network to view
    it, with the totals (what sharing saves and what it costs in CPU time), a chart that summarises the fleet,
    and a table of every host that sorts and filters in the page.
  - The chart has a bounded number of bars whatever the number of hosts, in five panels of inline SVG. Three
    count the hosts with UKSM or KSM by memory saved, by CPU seconds of the C(uksmd)/C(ksmd) thread and by
    memory saved per CPU second, in at most eight bins on a logarithmic scale with round bounds (powers of 4
    bytes; 10 ms, 0.1 s, 1 s, 10 s, 1 min, 10 min, 1 h, 6 h, 1 d, 7 d, 30 d, 365 d), each panel with grey bars
    for the hosts without the figure (C(nothing saved), C(not running), C(n/a), C(0 s), C(no figure),
    C(0 B/s)). Two add up the memory saved per backend and per pressure tier. Every panel has a text
    alternative listing its bars, and every bar a tooltip.
  - The table lists every host in the summary's order (most memory saved per CPU second first). A host whose
    thread is not running shows C(not running), one whose CPU time cannot be read (or whose facts come from an
    older collection) C(n/a), never a 0. It shows each host's pressure tier in force beside its drift,
    V(base) or V(tier N) followed by the tier's C(available_below_percent) in parentheses, then the memory
    available in percent; a card counts the hosts per tier.
  - A small inline script sorts the table by any column (select the heading; again to reverse; numbers as
    numbers, missing values last) and filters it by text, status, backend, pressure tier and drift, with a
    count of the hosts shown. Without the script (blocked, or a viewer that does not run scripts) the page is
    the same table in the summary's order. The script holds no data and writes no markup.
  - Style and script are inline, and a Content-Security-Policy allows exactly those two (by their SHA-256
    hashes) and no fetch of any kind; the page refers to no other file or URL. Host names and values are
    HTML-escaped. Every step is one pass over the hosts (sorting them, n log n).
positional: title, generated
options:
  _input:
    description: The result of P(litevirt.uksm.fleet_summary#filter).
    type: dict
    required: true
  title:
    description: The page's title and heading.
    type: str
    default: UKSM/KSM fleet report
  generated:
    description: When the facts were gathered, shown under the title; nothing is shown when empty.
    type: str
    default: ''
'''

EXAMPLES = r'''
- name: Write the fleet report
  ansible.builtin.copy:
    content: "{{ fleet | litevirt.uksm.fleet_html('Hypervisors', now(utc=true, fmt='%Y-%m-%d %H:%M UTC')) }}"
    dest: /srv/reports/uksm.html
    mode: "0644"
'''

RETURN = r'''
_value:
  description: The HTML page.
  type: str
'''

import typing as t

from ansible.errors import AnsibleTypeError

from ansible_collections.litevirt.uksm.plugins.plugin_utils.fleet_html import to_html


def fleet_html(summary: t.Mapping[str, t.Any], title: str = 'UKSM/KSM fleet report', generated: str = '') -> str:
    try:
        return to_html(summary, title=title, generated=generated)
    except (TypeError, KeyError, AttributeError) as error:
        raise AnsibleTypeError('fleet_html: expected the result of fleet_summary: %r' % error) from error


class FilterModule:
    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {'fleet_html': fleet_html}
