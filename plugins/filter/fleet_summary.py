# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
name: fleet_summary
version_added: 1.0.0
author: litevirt engineering (@litevirt)
short_description: Per-host rows and fleet totals from uksm_facts
description:
  - Turns each host's C(ansible_facts.uksm) (from M(litevirt.uksm.uksm_facts)) into one report row and
    adds up the fleet's totals. Used by the C(litevirt.uksm.report) playbook; the result feeds
    P(litevirt.uksm.fleet_csv#filter) and P(litevirt.uksm.fleet_html#filter) and is written as C(report.json).
  - Nothing is recomputed from the kernel values. Memory saved is the fact's C(savings.bytes),
    drift is the fact's C(policy.drift), the collection's one definition of drift, and what sharing costs is
    the fact's C(daemon_cpu) and C(savings.bytes_per_cpu_second), and the pressure tier in force is the fact's
    C(policy.tier). Facts of collection versions that lack the first two keys are read as if the thread's CPU
    time could not be read, and those without C(policy.tier) as running their base settings.
options:
  _input:
    description:
      - A mapping of host name to that host's C(ansible_facts.uksm), or to the result registered from
        M(litevirt.uksm.uksm_facts) (unreachable and failed results included), or to V(null) when no facts
        were gathered (reported as unreachable).
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: Summarize the facts gathered on every host of the play
  ansible.builtin.set_fact:
    fleet: "{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, ['ansible_facts', 'uksm'])))
               | litevirt.uksm.fleet_summary }}"

- name: Hosts that drifted from their persisted policy
  ansible.builtin.debug:
    msg: "{{ fleet.drifted_hosts }}"
'''

RETURN = r'''
_value:
  description: The fleet summary.
  type: dict
  contains:
    totals:
      description:
        - C(hosts) every host given; C(saved_bytes) and C(saved_human) the sum of C(savings.bytes) of the hosts
          with an interface; C(by_backend) those hosts per backend; C(by_governor) the UKSM hosts per
          C(cpu_governor); C(drifted) hosts with a non-empty C(policy.drift); C(without_interface) hosts reached
          where no UKSM/KSM interface is available; C(unreachable) hosts not reached or without facts;
          C(failed) hosts reached where the module failed; C(with_savings) hosts saving more than 0 bytes.
        - What sharing costs. C(cpu_hosts) hosts whose C(uksmd)/C(ksmd) thread reports its CPU time
          (C(daemon_cpu) not null); C(cpu_seconds) the sum of that CPU time, rounded to hundredths, null when no
          host reports it; C(bytes_per_cpu_second) the memory saved by those hosts over that CPU time (an
          integer), null when it is 0.
        - Memory pressure. C(by_tier) the hosts with an interface per pressure tier in force, V(base) for the
          base settings (also hosts without tiers, and facts of collection versions without them) and
          V(tier N) for the tier of index N, counted by index whatever each host's thresholds are.
      type: dict
      sample: {hosts: 4, saved_bytes: 21676032, saved_human: 20.7 MiB, by_backend: {ksm: 1, uksm: 1},
               by_governor: {full: 1}, drifted: 1, without_interface: 1, unreachable: 1, failed: 0, with_savings: 2,
               cpu_hosts: 2, cpu_seconds: 92.5, bytes_per_cpu_second: 234335, by_tier: {base: 1, tier 0: 1}}
    hosts:
      description:
        - One row per host, with C(host), C(status) (V(ok), V(unavailable), V(unreachable) or
          V(failed)), C(available), C(backend), C(governor), C(saved_bytes), C(saved_human), C(ratio), C(drift)
          (list of attributes), C(policy_persisted), C(policy_error), C(unit_enabled), C(daemon_running),
          C(reason), C(cpu_seconds) and C(cpu_percent_since_start) (C(daemon_cpu.seconds) and
          C(daemon_cpu.percent_since_start)) and C(bytes_per_cpu_second) (C(savings.bytes_per_cpu_second)),
          C(tier) (C(policy.tier), the index of the pressure tier in force, null for the base settings),
          C(available_percent) (C(policy.available_percent)) and C(tier_available_below_percent) (that tier's
          threshold from C(policy.pressure), null for the base).
          Values that do not apply to the host, or that it does not report, are null.
        - Sorted by what sharing returns for what it costs, C(bytes_per_cpu_second), highest first (equal
          figures by host name); then the hosts without that figure, by status (V(ok), V(unavailable),
          V(unreachable), V(failed)) and within a status by host name. The order never depends on the input's.
      type: list
      elements: dict
    drifted_hosts:
      description: Names of the hosts counted in C(totals.drifted), sorted by name, as are the lists below.
      type: list
      elements: str
    without_interface_hosts:
      description: Names of the hosts counted in C(totals.without_interface).
      type: list
      elements: str
    unreachable_hosts:
      description: Names of the hosts counted in C(totals.unreachable).
      type: list
      elements: str
    failed_hosts:
      description: Names of the hosts counted in C(totals.failed).
      type: list
      elements: str
'''

import typing as t

from ansible.errors import AnsibleTypeError

from ansible_collections.litevirt.uksm.plugins.plugin_utils.fleet import summarize


def fleet_summary(hosts: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    try:
        return summarize(hosts)
    except TypeError as error:
        raise AnsibleTypeError('fleet_summary: %s' % error) from error


class FilterModule:
    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {'fleet_summary': fleet_summary}
