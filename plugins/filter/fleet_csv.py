# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
name: fleet_csv
version_added: 1.0.0
author: litevirt engineering (@litevirt)
short_description: The rows of a fleet summary as CSV
description:
  - One line per host of a P(litevirt.uksm.fleet_summary#filter) result, in its order (most memory saved per
    CPU second first), after a header line naming the columns C(host), C(status), C(available), C(backend),
    C(governor), C(saved_bytes), C(saved_human), C(ratio), C(drift), C(policy_persisted), C(policy_error),
    C(unit_enabled), C(daemon_running), C(reason), C(cpu_seconds), C(cpu_percent_since_start),
    C(bytes_per_cpu_second), C(tier), C(available_percent), C(tier_available_below_percent).
  - C(cpu_seconds), C(cpu_percent_since_start) and C(bytes_per_cpu_second) say what sharing costs, from C(daemon_cpu) of M(litevirt.uksm.uksm_facts) - the CPU
    seconds of the C(uksmd)/C(ksmd) kernel thread, that time in percent of one CPU since the thread started - and
    what it returns for it, the memory saved per CPU second. They were added after the others, so that
    consumers that read columns by position keep working. They are empty for a host whose thread is not
    running or cannot be read, and for facts of collection versions without C(daemon_cpu).
  - C(tier), C(available_percent) and C(tier_available_below_percent) say how the host stands with memory
    pressure, from the C(policy) fact of M(litevirt.uksm.uksm_facts) - the index of the pressure tier in force
    (C(policy.tier), empty for the base settings), the memory available in percent of the total
    (C(policy.available_percent)), and the C(available_below_percent) threshold of that tier (from
    C(policy.pressure), empty for the base). They come last for the same reason, and are empty for facts of
    collection versions without pressure tiers.
  - Booleans are V(true) or V(false), null values are empty, the drifted attributes are separated by spaces.
options:
  _input:
    description: The result of P(litevirt.uksm.fleet_summary#filter).
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: Write the fleet as CSV
  ansible.builtin.copy:
    content: "{{ fleet | litevirt.uksm.fleet_csv }}"
    dest: /srv/reports/uksm.csv
    mode: "0644"
'''

RETURN = r'''
_value:
  description: The CSV text, lines ending with a newline.
  type: str
  sample: |
    host,status,available,backend,governor,saved_bytes,saved_human,ratio,drift,policy_persisted,policy_error,unit_enabled,daemon_running,reason,cpu_seconds,cpu_percent_since_start,bytes_per_cpu_second,tier,available_percent,tier_available_below_percent
    hv01,ok,true,uksm,full,733478912,699.5 MiB,40.0,,true,,true,true,,90.25,0.104,8127190,1,8.5,10
    hv02,ok,true,ksm,,0,0 B,,,false,,false,true,,,,,,62.0,
'''

import typing as t

from ansible.errors import AnsibleTypeError

from ansible_collections.litevirt.uksm.plugins.plugin_utils.fleet import to_csv


def fleet_csv(summary: t.Mapping[str, t.Any]) -> str:
    try:
        return to_csv(summary)
    except (TypeError, KeyError, AttributeError) as error:
        raise AnsibleTypeError('fleet_csv: expected the result of fleet_summary: %r' % error) from error


class FilterModule:
    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {'fleet_csv': fleet_csv}
