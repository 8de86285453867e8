#!/usr/bin/python
# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: uksm_facts
short_description: Gather UKSM or KSM tunables, statistics and memory saved
version_added: 1.0.0
description:
  - Reads C(/sys/kernel/mm/uksm) (UKSM, "Ultra KSM") or C(/sys/kernel/mm/ksm) (mainline KSM) and
    returns them as the single fact C(ansible_facts.uksm).
  - Never writes and never fails because a host lacks UKSM or KSM; RV(ansible_facts.uksm.available)
    and RV(ansible_facts.uksm.reason) say why instead.
  - Values are typed by the collection's knob model, the same one M(litevirt.uksm.uksm_tunable)
    uses, so facts can be compared with a policy directly.
author:
  - litevirt engineering (@litevirt)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.facts
  - litevirt.uksm.host
  - litevirt.uksm.host.backend
  - litevirt.uksm.host.action_group
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  facts:
    support: full
  platform:
    platforms: posix
notes:
  - Only kernel files are read; no command runs on the host. Conflicting services are detected from
    systemd unit files and C(/proc), so hosts without systemd work too.
seealso:
  - module: litevirt.uksm.uksm_tunable
'''

EXAMPLES = r'''
- name: Gather UKSM/KSM facts
  litevirt.uksm.uksm_facts:

- name: Show memory saved by page sharing
  ansible.builtin.debug:
    msg: "{{ inventory_hostname }} saves {{ ansible_facts.uksm.savings.human }}"
  when: ansible_facts.uksm.available

- name: Fail when uksmd died (nothing merges any more; a reboot is needed)
  ansible.builtin.assert:
    that: ansible_facts.uksm.daemon_running
    fail_msg: "{{ ansible_facts.uksm.daemon }} is not running on {{ inventory_hostname }}"
  when: ansible_facts.uksm.available

- name: Read a simulated host tree instead of the real /
  litevirt.uksm.uksm_facts:
    sysroot: /srv/simhosts/hv01
'''

RETURN = r'''
ansible_facts:
  description: Facts added to the host.
  returned: success
  type: dict
  contains:
    uksm:
      description: UKSM/KSM state of the host.
      returned: always
      type: dict
      contains:
        available:
          description: Whether a supported UKSM or KSM interface was found.
          type: bool
          sample: true
        reason:
          description: Why no interface is available; null when one is.
          type: str
          sample: /sys/kernel/mm/uksm does not exist; /sys/kernel/mm/ksm does not exist
        backend:
          description: V(uksm), V(ksm), or null.
          type: str
          sample: uksm
        path:
          description: Host path of the interface directory (under O(sysroot)).
          type: str
          sample: /sys/kernel/mm/uksm
        sysroot:
          description: The O(sysroot) the facts were read under.
          type: str
          sample: /
        writable:
          description: Whether the tunables can be written (false when C(/sys) is read-only).
          type: bool
        tunables:
          description:
            - Every writable attribute present, typed. Integers are ints; C(cpu_governor) and
              C(advisor_mode) are the active name; C(cpu_ratios) is a list of 4 strings; C(eval_intervals)
              is a list of 4 ints; KSM booleans are 0 or 1.
          type: dict
          sample: {run: 1, sleep_millisecs: 100, cpu_governor: full, max_cpu_percentage: 95,
                   cpu_ratios: ["20", "40", "MAX/4", "MAX/1"], eval_intervals: [1000, 500, 200, 50],
                   abundant_threshold: 10, thrash_threshold: 50}
        choices:
          description: For bracketed attributes, the names the kernel offers.
          type: dict
          sample: {cpu_governor: [full, medium, low, quiet]}
        stats:
          description:
            - Every read-only statistic present, as an int. C(general_profit) can be negative;
              C(pages_scanned) is expanded from the kernel's C(N * 2^B) form.
          type: dict
          sample: {pages_shared: 1200, pages_sharing: 48000, full_scans: 5}
        zero_pages:
          description:
            - Empty pages merged into the zero page. UKSM reports them in C(/proc/meminfo) (C(KsmZeroPages), KiB,
              converted to pages); KSM in C(ksm_zero_pages). Null when the kernel does not report them.
          type: int
        page_size:
          description: Page size in bytes.
          type: int
          sample: 4096
        savings:
          description: Memory saved by sharing; null when no interface is available.
          type: dict
          contains:
            bytes:
              description: C(pages_sharing * page_size) plus the merged zero pages, in bytes.
              type: int
              sample: 196608000
            human:
              description: RV(ansible_facts.uksm.savings.bytes) in binary units.
              type: str
              sample: 187.5 MiB
            ratio:
              description: C(pages_sharing / pages_shared), null when nothing is shared.
              type: float
              sample: 40.0
            bytes_per_cpu_second:
              description:
                - Memory saved per second of CPU time the sharing thread has spent
                  (RV(ansible_facts.uksm.savings.bytes) over RV(ansible_facts.uksm.daemon_cpu.seconds)), that is what
                  sharing returns for what it costs. Null when the thread is not running or has spent no CPU time.
              type: int
              sample: 52428800
        daemon:
          description: Name of the kernel thread, C(uksmd) or C(ksmd).
          type: str
        daemon_running:
          description:
            - Whether that kernel thread exists. A UKSM host without C(uksmd) merges nothing any more
              and a write to C(run) would block forever; it needs a reboot.
          type: bool
        daemon_cpu:
          description:
            - What sharing costs, the CPU time of that kernel thread since it started (from
              C(/proc/<pid>/stat) and C(/proc/uptime)). Null when the thread is not running or its
              figures cannot be read.
          type: dict
          contains:
            pid:
              description: Process id of the kernel thread.
              type: int
              sample: 48
            seconds:
              description: User plus system CPU time, in seconds (C(utime + stime) over the clock tick).
              type: float
              sample: 3.75
            percent_since_start:
              description:
                - RV(ansible_facts.uksm.daemon_cpu.seconds) over the thread's lifetime, in percent of one CPU.
                  Null when the uptime cannot be read.
              type: float
              sample: 0.512
        unknown_attributes:
          description: Files in the interface directory that the knob model does not know.
          type: list
          elements: str
        errors:
          description: Attributes that could not be read or parsed, with the reason.
          type: list
          elements: str
        conflicts:
          description:
            - Services that write the same files as a policy (C(ksmtuned), C(ksm), C(tuned)), each with
              C(installed), C(enabled) and C(running), found from unit files and C(/proc), and C(rewrites),
              whether it rewrites the detected interface's files, V(always), V(maybe) (tuned, depending on
              its profile) or V(never) (ksmtuned on a UKSM host).
          type: dict
          sample: {ksmtuned: {installed: false, enabled: false, running: false, rewrites: always}}
        lock:
          description:
            - The host-wide lock, in a directory only root may write. Every writer (M(litevirt.uksm.uksm_tunable),
              M(litevirt.uksm.uksm_policy), the boot applier, the pressure tuner) holds it while it writes; the facts
              are read holding it shared, so they never mix values read before and after one write.
          type: dict
          contains:
            path:
              description: Path of the lock file, as the host sees it.
              type: str
              sample: /run/litevirt-uksm/lock
            holder:
              description:
                - Pid of a writer that held the lock for longer than the facts wait for it (10 seconds, or the
                  O(litevirt.uksm.uksm_policy#module:lock_timeout) of M(litevirt.uksm.uksm_policy)). The host was then
                  read while it wrote, so RV(ansible_facts.uksm.policy.drift) may show a change in progress.
                - V(0) when the pid is unknown; null when the facts were read between two writes (or there is no lock
                  file yet, or it is not root's alone).
              type: int
              sample: null
        defaults:
          description: Kernel default of each tunable present, from the knob model (what a reboot restores).
          type: dict
          sample: {cpu_governor: full, max_cpu_percentage: 95, sleep_millisecs: 100, run: 1}
        policy:
          description: The persisted policy that the boot unit of the C(litevirt.uksm.policy) role applies.
          type: dict
          contains:
            file:
              description: Path of the policy file, as the host sees it.
              type: str
              sample: /etc/litevirt-uksm/policy.conf
            exists:
              description: Whether a policy is persisted.
              type: bool
            settings:
              description: >-
                The persisted settings per interface, typed as in C(tunables) (integers, lists, names); a value
                the knob model cannot read stays the text of the file (C(policy.error) says why).
              type: dict
              sample: {uksm: {cpu_governor: medium, sleep_millisecs: 200, run: 1}}
            pressure:
              description:
                - The persisted pressure tiers of the detected interface (O(litevirt.uksm.uksm_tunable#module:pressure_tiers)),
                  null without tiers.
              type: dict
              contains:
                hysteresis:
                  description: Percent points above a tier's threshold before the tuner steps down from it.
                  type: int
                  sample: 5
                tiers:
                  description: Each tier, in order.
                  type: list
                  elements: dict
                  sample: [{available_below_percent: 30, settings: {cpu_governor: medium}}]
                  contains:
                    available_below_percent:
                      description: The tier is in force while available memory is below this percentage.
                      type: int
                      sample: 30
                    settings:
                      description: Attributes set on top of the base while the tier is in force, as persisted.
                      type: dict
                      sample: {cpu_governor: medium}
            tier:
              description: Index of the pressure tier the tuner put in force, null for the base (and at boot).
              type: int
              sample: 0
            tier_settings:
              description: The settings of that tier, as persisted and typed like C(policy.settings), null for the base.
              type: dict
              sample: {cpu_governor: medium}
            available_percent:
              description: C(MemAvailable) over C(MemTotal) in percent (what the tiers' thresholds compare with),
                null when C(/proc/meminfo) lacks them.
              type: float
              sample: 27.3
            memory_stall:
              description: The memory stall of C(/proc/pressure/memory), null without PSI.
              type: dict
              contains:
                some_avg10:
                  description: Percent of the last 10 seconds in which some task stalled on memory.
                  type: float
                  sample: 0.12
                full_avg10:
                  description: Percent of the last 10 seconds in which all non-idle tasks stalled on memory at once.
                  type: float
                  sample: 0.0
            drift:
              description:
                - Attributes of the settings in force (the persisted base, or the base with the pressure tier in
                  force on top, so a tuned host is not drifted) whose live value differs, compared through the
                  knob model (a clamped or rounded value is not drift, nor C(pages_to_scan) while the KSM advisor
                  manages it, nor a C(sleep_millisecs) uksmd raised, see RV(ansible_facts.uksm.policy.raised_by_kernel)).
                  The same definition is used by the rollout, the report and the metrics.
              type: list
              elements: str
              sample: [cpu_governor, run]
            raised_by_kernel:
              description:
                - Attributes of the settings in force that the kernel holds at another value it set itself, which is
                  not drift, keyed by attribute name; each value has C(desired) (the value in force), C(live) (what
                  the kernel reads) and C(reason) (one sentence, with the figures it was decided from).
                - On UKSM, uksmd lengthens a C(sleep_millisecs) in which rung 0 of C(cpu_ratios) cannot scan one
                  page, up to a bound, and puts the written value back every 8 evaluation rounds (the knob reference
                  says when and how far). Empty when there is none.
              type: dict
              version_added: 1.1.0
              sample:
                sleep_millisecs:
                  desired: 12
                  live: 52
                  reason: >-
                    raised by uksmd: at 12 ms, rung 0 (cpu_ratios 20: 20/10000 of a CPU) has 24040 ns per sleep, less
                    than scanning one page can take (up to 100000 ns; ema_per_page_time reads 8000 now), so uksmd sleeps
                    longer (at most 56 ms) and puts 12 back every 8 evaluation rounds
            error:
              description: Why the policy file cannot be read or does not apply to this kernel, else null.
              type: str
            unit:
              description: The boot unit C(uksm-policy.service), as its files show it.
              type: dict
              contains:
                name:
                  description: Name of the unit.
                  type: str
                  sample: uksm-policy.service
                installed:
                  description: Whether its unit file exists.
                  type: bool
                enabled:
                  description: Whether it is enabled (linked into the C(.wants) directory of its target).
                  type: bool
'''

from ansible.module_utils.basic import AnsibleModule

# first: every module_utils file imported after it is compiled once (or taken from the host's bytecode)
from ansible_collections.litevirt.uksm.plugins.module_utils import compile_once
from ansible_collections.litevirt.uksm.plugins.module_utils.errors import CAUGHT, failure
from ansible_collections.litevirt.uksm.plugins.module_utils.host_options import HOST


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(HOST),
        supports_check_mode=True,
    )
    # what the work needs, imported once the sysroot is known: from the bytecode the host keeps of it
    compile_once.use_host_bytecode(module.params['sysroot'])
    from ansible_collections.litevirt.uksm.plugins.module_utils._host.sysfs import check_sysroot
    from ansible_collections.litevirt.uksm.plugins.module_utils._plan.facts import gather

    try:
        sysroot = check_sysroot(module.params['sysroot'])
    except CAUGHT as error:
        module.fail_json(**failure(error))
    module.exit_json(changed=False, ansible_facts={'uksm': gather(sysroot, module.params['backend'])})


if __name__ == '__main__':
    main()
