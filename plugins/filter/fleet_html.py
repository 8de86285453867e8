# -*- coding: utf-8 -*-
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
    it, with the totals (what sharing saves and what it costs in CPU time), a chart of memory saved beside CPU
    time per host, and a table of every host.
  - The style is inline CSS and the chart inline SVG. Per host, in the summary's order (most memory saved per
    CPU second first), it has a bar of memory saved and, in a second panel with its own scale, a bar of CPU
    seconds of the C(uksmd)/C(ksmd) thread, then the memory saved per CPU second as text. Only hosts that save
    memory or report CPU time get a row. A host whose thread is not running shows C(not running), one whose
    CPU time cannot be read (or whose facts come from an older collection) C(n/a), never a 0.
  - The table shows each host's pressure tier in force beside its drift, V(base) or V(tier N) followed by the
    tier's C(available_below_percent) in parentheses, then the memory available in percent; a card counts the
    hosts per tier.
  - The chart has a text alternative and every bar a tooltip; the page has no script and refers to no other
    file or URL. Host names and values are HTML-escaped.
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

from ansible.errors import AnsibleTypeError

from ansible_collections.litevirt.uksm.plugins.plugin_utils.fleet_html import to_html


def fleet_html(summary, title='UKSM/KSM fleet report', generated=''):
    try:
        return to_html(summary, title=title, generated=generated)
    except (TypeError, KeyError, AttributeError) as error:
        raise AnsibleTypeError('fleet_html: expected the result of fleet_summary: %r' % error) from error


class FilterModule:
    def filters(self):
        return {'fleet_html': fleet_html}
