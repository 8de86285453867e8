#!/usr/bin/python
# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: uksm_tunable
short_description: Set UKSM or KSM tunables, validated, ordered, verified and rolled back on failure
version_added: 1.0.0
description:
  - Sets one or many attributes of C(/sys/kernel/mm/uksm) (UKSM) or C(/sys/kernel/mm/ksm) (mainline KSM) in one task.
  - Every setting is validated by the collection's knob model before anything is written; one invalid
    setting means nothing is written, and every invalid setting is reported with the attribute, the value
    and what is accepted.
  - "Writes follow the kernel's order. UKSM: C(cpu_governor) (only when it differs, because every write resets
    C(cpu_ratios), C(eval_intervals) and C(max_cpu_percentage) to the governor's preset), then C(max_cpu_percentage),
    C(cpu_ratios), C(eval_intervals), then C(abundant_threshold), C(thrash_threshold), C(sleep_millisecs),
    and C(run) last. KSM: C(advisor_mode), C(pages_to_scan), the C(advisor_*) values, the rest, C(run) last."
  - Values the kernel already holds are not written, after normalisation (clamps such as C(max_cpu_percentage)
    0..9 stored as 10, C(sleep_millisecs) rounded up to the kernel tick, C(MAX/150) read back as C(MAX/151)).
  - Each write is read back; a failed write (EINVAL, EACCES, EBUSY, ENOMEM, EIO, a short write) or a
    read-back that disagrees restores every attribute this run changed, governor first, and fails with the
    errno and what was restored.
  - A host-wide lock (C(<sysroot>/run/litevirt-uksm/lock), in a directory only root may write), shared with the
    boot-time applier of the C(litevirt.uksm.policy) role, serialises read-compare-write and the update of the
    persisted policy; a writer that waits longer than O(lock_timeout) fails with the holder's pid. Check mode
    holds it shared, so its prediction is never read halfway through another writer's run; it waits as long,
    then reads anyway.
  - Nothing another user could plant is followed; the lock directory, the policy file and its directory are
    refused, with the path and the reason, when they are a symlink, not a regular file or directory, owned by
    another user or writable by group or others. The policy file is replaced atomically and fsynced with its
    directory, so a crash or a power loss leaves the old policy or the new one whole.
author:
  - litevirt engineering (@litevirt)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - litevirt.uksm.host
  - litevirt.uksm.host.writes
  - litevirt.uksm.host.backend
  - litevirt.uksm.host.action_group
attributes:
  check_mode:
    support: full
    details: Predicts C(changed) exactly from the knob model and writes nothing, the persisted policy included.
  diff_mode:
    support: full
    details: Shows the live attributes before and after, and the persisted policy file when O(persist=true).
  platform:
    platforms: posix
options:
  settings:
    description:
      - Attributes to set, as a dictionary of attribute name to value.
      - Lists (C(cpu_ratios), C(eval_intervals)) may be given as YAML lists or space-separated strings.
      - Mutually exclusive with O(name).
    type: dict
  preset:
    description:
      - A named policy for a common intent, expressed as plain settings of the detected backend
        (listed with their trade-offs in the R(knob reference,ansible_collections.litevirt.uksm.docsite.knob_reference),
        also C(docs/knob-reference.md) in the installed collection). O(settings) or O(name) given with it
        override its values; its attributes that this kernel lacks are skipped.
      - V(density) saves the most memory for the most CPU, V(balanced) trades some savings for CPU,
        V(quiet) spends the least CPU, V(off) stops scanning.
      - Only with O(state=present).
    type: str
    choices: [density, balanced, quiet, "off"]
  name:
    description: A single attribute to set; use with O(value). Mutually exclusive with O(settings).
    type: str
  value:
    description: Value of O(name).
    type: raw
  state:
    description:
      - V(present) sets the values (and records them when O(persist=true)).
      - V(absent) removes the named attributes from the persisted policy and leaves the live values alone.
    type: str
    choices: [present, absent]
    default: present
  persist:
    description:
      - Also record the settings in C(<sysroot>/etc/litevirt-uksm/policy.conf), the policy that the boot-time
        unit of the C(litevirt.uksm.policy) role applies at every boot. Written atomically with a managed
        header, in a stable order.
    type: bool
    default: false
  pressure_tiers:
    description:
      - Memory pressure tiers for the pressure tuner (C(uksm-pressure.timer), installed by
        M(litevirt.uksm.uksm_policy_unit) with O(litevirt.uksm.uksm_policy_unit#module:pressure_interval)),
        in order, the scarcest memory last, at most 8. The settings of this task are the base, in force while memory is
        plentiful; a tier's settings apply on top of the base while C(MemAvailable / MemTotal) is below its
        threshold. Requires O(persist=true); they are persisted in the policy file beside the base.
      - Every tier is validated with the base before anything is written, like O(settings). A tier may set only
        attributes the base sets (on UKSM also C(max_cpu_percentage) when the tier's C(cpu_governor) differs,
        since a governor write resets it), so that stepping back down restores the base exactly, and none whose
        writes corrupt or leak kernel memory or fail while pages are shared (C(eval_intervals), C(cpu_ratios),
        C(merge_across_nodes), C(max_page_sharing)).
      - The task also applies the tier that available memory calls for now (see RV(pressure)) and records it,
        as the tuner would. An empty list removes the tiers and returns the host to the base.
      - Omitted, the persisted tiers are left as they are.
    type: list
    elements: dict
    suboptions:
      available_below_percent:
        description: The tier is in force while available memory is below this percentage of the total (1 to 99,
          strictly decreasing from tier to tier).
        type: int
        required: true
      settings:
        description: Attributes to set on top of the base while the tier is in force.
        type: dict
        required: true
notes:
  - "Refused on UKSM: a C(cpu_ratios) rung of 10000 or more (it kills C(uksmd)); ladders whose effective ratios
    decrease; a C(cpu_governor) value with spaces or brackets; writing C(run) while the C(uksmd) thread is gone
    (the write would block forever, a reboot is needed)."
  - Refused on KSM - C(pages_to_scan) while C(advisor_mode) is C(scan-time) (ksmd manages it).
  - C(cpu_ratios) is written only when it differs (each write leaks kernel memory) and never with a byte
    count equal to a kmalloc size.
  - Every attribute, its range and its hazards are in the collection's
    R(knob reference,ansible_collections.litevirt.uksm.docsite.knob_reference), also C(docs/knob-reference.md)
    in the installed collection.
seealso:
  - module: litevirt.uksm.uksm_facts
'''

EXAMPLES = r'''
- name: Run UKSM with the medium governor and a lighter first rung
  litevirt.uksm.uksm_tunable:
    settings:
      cpu_governor: medium
      cpu_ratios: [10, 30, MAX/4, MAX/1]
      sleep_millisecs: 200
      run: 1
    persist: true

- name: Apply the balanced preset with a longer sleep, whichever of UKSM and KSM the host runs
  litevirt.uksm.uksm_tunable:
    preset: balanced
    settings:
      sleep_millisecs: 200
    persist: true

- name: Pause KSM page merging
  litevirt.uksm.uksm_tunable:
    name: run
    value: 0

- name: Change merge_across_nodes on a busy KSM host (unmerges every page)
  litevirt.uksm.uksm_tunable:
    settings:
      merge_across_nodes: 0
    allow_unmerge: true

- name: Quiet while memory is plentiful, harder under pressure (the tuner applies the tiers)
  litevirt.uksm.uksm_tunable:
    settings:
      cpu_governor: quiet
      run: 1
    pressure_tiers:
      - available_below_percent: 30
        settings: {cpu_governor: medium}
      - available_below_percent: 10
        settings: {cpu_governor: full, max_cpu_percentage: 95}
    pressure_hysteresis: 5
    persist: true

- name: Stop re-applying sleep_millisecs at boot, keep the live value
  litevirt.uksm.uksm_tunable:
    settings:
      sleep_millisecs: 200
    state: absent
'''

RETURN = r'''
backend:
  description: Interface used, V(uksm) or V(ksm) (with O(state=absent), the one the policy was recorded for).
  returned: success
  type: str
  sample: uksm
settings:
  description:
    - Values of the requested attributes after the run, as the kernel reads them (predicted in check mode).
    - Empty with O(state=absent), which writes nothing to the kernel.
  returned: success
  type: dict
  sample: {cpu_governor: medium, sleep_millisecs: 200, run: 1}
changes:
  description:
    - Every attribute whose value changed, including those a governor write reset, in write order (predicted in
      check mode). Empty with O(state=absent).
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The attribute.
      type: str
      sample: max_cpu_percentage
    before:
      description: Its value before the run, typed as in RV(settings).
      type: raw
      sample: 95
    after:
      description: Its value after the run (predicted in check mode), typed as in RV(settings).
      type: raw
      sample: 50
    cause:
      description: >-
        Why it changed. V(requested) for an attribute of the request; V(reset by cpu_governor) for one a
        governor write reset to the governor's preset, V(reset by advisor_mode) for C(pages_to_scan) after an
        advisor mode change; V(changed outside this run) when the read-back differs and nothing written explains it.
      type: str
      sample: reset by cpu_governor
  sample:
    - {name: cpu_governor, before: full, after: medium, cause: requested}
    - {name: max_cpu_percentage, before: 95, after: 50, cause: reset by cpu_governor}
raised_by_kernel:
  description:
    - Requested attributes the kernel holds at another value it set itself, keyed by attribute name; each value
      has C(desired) (the requested value, normalised), C(live) (what the kernel reads) and C(reason) (one sentence,
      with the figures it was decided from). They are not written (the task stays unchanged for them), and a
      read-back of such a value does not fail the run. Empty when there is none, and with O(state=absent).
    - On UKSM, uksmd lengthens a C(sleep_millisecs) in which rung 0 of C(cpu_ratios) cannot scan one page, up to a
      bound, and puts the written value back every 8 evaluation rounds (the knob reference says when and how far).
    - In diff mode each one is also shown, with its reason, beside the diff of a task that changed something.
  returned: success, when O(state=present)
  type: dict
  version_added: 1.1.0
  sample:
    sleep_millisecs:
      desired: 12
      live: 52
      reason: >-
        raised by uksmd: at 12 ms, rung 0 (cpu_ratios 20: 20/10000 of a CPU) has 24040 ns per sleep, less than
        scanning one page can take (up to 100000 ns; ema_per_page_time reads 90000 now), so uksmd sleeps longer
        (at most 56 ms) and puts 12 back every 8 evaluation rounds
msg:
  description: >-
    One line that adds the run up: how many attributes were requested and changed, what a write reset, what
    the kernel holds raised by itself and what was already set; with O(state=absent), what was removed from
    the persisted policy.
  returned: success
  type: str
  sample: "3 requested, 5 changed: cpu_governor reset max_cpu_percentage, cpu_ratios and eval_intervals; run already set"
policy_file:
  description: Path of the persisted policy.
  returned: success, when O(persist=true) or O(state=absent)
  type: str
  sample: /etc/litevirt-uksm/policy.conf
policy_file_changed:
  description: Whether the persisted policy file was (or, in check mode, would be) rewritten.
  returned: success, when O(persist=true) or O(state=absent)
  type: bool
  sample: true
pressure:
  description: The pressure tier in force after the run (predicted in check mode).
  returned: success, when O(pressure_tiers) is given
  type: dict
  contains:
    tier:
      description: Index of the tier in force in O(pressure_tiers), null for the base.
      type: int
      sample: 0
    tier_settings:
      description: The settings of that tier, normalised, null for the base.
      type: dict
      sample: {cpu_governor: medium}
    available_percent:
      description: C(MemAvailable) over C(MemTotal) in percent, null when C(/proc/meminfo) lacks them (the tier
        in force is kept then).
      type: float
      sample: 27.3
    memory_stall:
      description: The memory stall of C(/proc/pressure/memory), null without PSI. Reported, not used to pick the tier.
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
problems:
  description: Every invalid setting (of O(settings), O(preset) and each tier of O(pressure_tiers)), with the
    attribute, the value and what is accepted.
  returned: failure, when settings were refused before anything was written
  type: list
  elements: str
  sample: ["run: 7 is out of range; accepted: an integer from 0 to 2"]
errno:
  description:
    - Error number of the failed write or read-back of RV(failed_attribute); null when the value read back after
      the run differed without an error (a side effect the knob model did not predict).
    - Also the error number of a file that could not be read or written (the lock, the policy file), V(1) (EPERM)
      for a path refused as unsafe.
  returned: failure, when a write, a read or a file failed
  type: int
  sample: 22
failed_attribute:
  description: The attribute whose write or read-back failed.
  returned: failure, when a write or a read-back failed (the run was rolled back)
  type: str
  sample: sleep_millisecs
restored:
  description: Attributes written back to their value before the run, as C(name=value).
  returned: failure, when a write or a read-back failed (the run was rolled back)
  type: list
  elements: str
  sample: [cpu_governor=full]
not_restored:
  description: Attributes the rollback could not write back, each with the reason (the host needs attention).
  returned: failure, when a write or a read-back failed (the run was rolled back)
  type: list
  elements: str
  sample: ["run=1: EIO (Input/output error)"]
'''

from ansible.module_utils.basic import AnsibleModule

# first: every module_utils file imported after it is compiled once (or taken from the host's bytecode)
from ansible_collections.litevirt.uksm.plugins.module_utils import compile_once
from ansible_collections.litevirt.uksm.plugins.module_utils._knobs.presets import PRESETS
from ansible_collections.litevirt.uksm.plugins.module_utils.errors import CAUGHT, failure
from ansible_collections.litevirt.uksm.plugins.module_utils.host_options import HOST, WRITES


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            'settings': {'type': 'dict'},
            'preset': {'type': 'str', 'choices': list(PRESETS)},
            'name': {'type': 'str'},
            'value': {'type': 'raw'},
            'state': {'type': 'str', 'default': 'present', 'choices': ['present', 'absent']},
            'persist': {'type': 'bool', 'default': False},
            'pressure_tiers': {
                'type': 'list',
                'elements': 'dict',
                'options': {
                    'available_below_percent': {'type': 'int', 'required': True},
                    'settings': {'type': 'dict', 'required': True},
                },
            },
            **HOST,
            **WRITES,
        },
        mutually_exclusive=[('settings', 'name')],
        required_one_of=[('settings', 'name', 'preset')],
        required_if=[('state', 'absent', ('settings', 'name'), True)],
        required_together=[('name', 'value')],
        supports_check_mode=True,
    )
    # what the work needs, imported once the sysroot is known: from the bytecode the host keeps of it
    compile_once.use_host_bytecode(module.params['sysroot'])
    from ansible_collections.litevirt.uksm.plugins.module_utils._host.sysfs import check_sysroot
    from ansible_collections.litevirt.uksm.plugins.module_utils._plan.tunable import run, tier_policy_of

    params = module.params
    if params['state'] == 'absent' and params['preset']:
        module.fail_json(msg='preset is only for state=present; list the attributes to forget in settings')
    if params['state'] == 'absent' and params['pressure_tiers'] is not None:
        module.fail_json(msg='pressure_tiers is only for state=present; an empty list removes the tiers')
    desired = params['settings'] if params['settings'] is not None else {}
    if params['name'] is not None:
        desired = {params['name']: params['value']}
    try:
        tiers = None
        if params['pressure_tiers'] is not None:
            tiers = tier_policy_of(params['pressure_tiers'], params['pressure_hysteresis'])
        result = run(
            check_sysroot(params['sysroot']),
            params['backend'],
            desired,
            state=params['state'],
            persist_policy=params['persist'],
            allow_unmerge=params['allow_unmerge'],
            allow_eval_intervals=params['allow_eval_intervals_memory_corruption'],
            check_mode=module.check_mode,
            lock_timeout=params['lock_timeout'],
            preset=params['preset'],
            pressure_tiers=tiers,
        )
    except CAUGHT as error:
        module.fail_json(**failure(error))
    if not module._diff:
        result.pop('diff', None)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
