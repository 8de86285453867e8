#!/usr/bin/python
# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: uksm_policy
short_description: Bring a host to one UKSM/KSM memory sharing policy, now and at every boot, in one call
version_added: 1.1.0
description:
  - Does in one run on the host what the
    R(litevirt.uksm.policy role,ansible_collections.litevirt.uksm.policy_role) does (the role is this module's task).
    It detects UKSM or KSM, refuses what cannot be used before anything is written (settings, pressure tiers,
    unit options, services that would undo the policy), applies the policy for that interface with the
    transaction of M(litevirt.uksm.uksm_tunable) (validated, ordered, read back, rolled back on failure),
    persists exactly that policy (attributes an earlier run persisted besides it are forgotten in the same
    write), installs the units of M(litevirt.uksm.uksm_policy_unit), and returns the host's facts after the run.
  - On a host that already runs the policy it only reads, in one module round trip per host.
  - Every option is the role variable of the same name without its C(uksm_policy_) prefix; the role README
    describes them with their trade-offs.
author:
  - litevirt engineering (@litevirt)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.facts
  - litevirt.uksm.host
  - litevirt.uksm.host.writes
  - litevirt.uksm.host.action_group
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Shows the attributes, the persisted policy and each unit file before and after.
  facts:
    support: full
    details: Sets C(ansible_facts.uksm), as M(litevirt.uksm.uksm_facts) returns it, read after the run.
  platform:
    platforms: posix
options:
  state:
    description:
      - V(present) applies and persists the policy and installs the boot unit.
      - V(absent) removes the units, the applier, the persisted policy and the lock file, and writes the kernel
        defaults back when O(restore_defaults) is true.
    type: str
    choices: [present, absent]
    default: present
  preset:
    description:
      - A named policy for whichever interface the host has, one of V(density), V(balanced), V(quiet) and
        V(off); the settings of O(uksm_settings) and O(ksm_settings) override its values. The empty string
        means none. Another name is refused before any write, with the closest preset's name.
    type: str
    default: ""
  uksm_settings:
    description: Attributes of C(/sys/kernel/mm/uksm) to value, applied on UKSM hosts.
    type: dict
    default: {}
  ksm_settings:
    description: Attributes of C(/sys/kernel/mm/ksm) to value, applied on KSM hosts.
    type: dict
    default: {}
  persist:
    description:
      - Persist the policy (C(/etc/litevirt-uksm/policy.conf)) and install the boot unit that re-applies it.
      - V(false) applies the policy now only and leaves persisted files as they are.
    type: bool
    default: true
  conflicts:
    description:
      - What to do about enabled or running services that rewrite this interface's files (C(ksmtuned) and
        C(ksm.service) on KSM hosts). V(fail) stops before anything is written, V(disable) stops and disables
        them after the policy is applied, V(warn) carries on with a warning.
      - C(tuned) rewrites them only with some profiles; it is always only warned about.
    type: str
    choices: [fail, disable, warn]
    default: fail
  unavailable:
    description: What to do on a host with neither UKSM nor KSM, V(fail) or V(skip) (RV(available) is false).
    type: str
    choices: [fail, skip]
    default: fail
  restore_defaults:
    description:
      - With O(state=absent), write the kernel defaults back (C(eval_intervals) only with
        O(allow_eval_intervals_memory_corruption)).
    type: bool
    default: false
  boot_before:
    description:
      - Units the boot applier must finish before. Empty keeps the default list of
        M(litevirt.uksm.uksm_policy_unit); a list replaces it.
    type: list
    elements: str
    default: []
  python:
    description:
      - Python 3 that runs the boot applier, an absolute path on the host. Empty uses the interpreter running
        this module (or C(/usr/bin/python3) under a O(sysroot)).
    type: str
    default: ""
  metrics:
    description:
      - Install C(uksm-metrics.timer), which writes the facts as Prometheus metrics every minute to
        O(metrics_output). Only with O(persist). V(false) removes the timer, its service and the metrics file.
    type: bool
    default: false
  metrics_output:
    description: File the metrics are written to, an absolute path ending in C(.prom) in node_exporter's textfile
      directory.
    type: path
    default: /var/lib/prometheus/node-exporter/uksm.prom
  pressure_tiers:
    description:
      - Memory pressure tiers, in order, the scarcest memory last, at most 8. The policy is the base; a tier's
        settings for the host's interface apply on top of it while C(MemAvailable) is below its
        O(pressure_tiers[].available_below_percent) of C(MemTotal). Persisted with the policy;
        C(uksm-pressure.timer) applies the tier in force every O(pressure_interval) seconds, and this run applies
        it now. Requires O(persist).
      - Each tier is checked with the base before anything is written (see M(litevirt.uksm.uksm_tunable)'s
        O(litevirt.uksm.uksm_tunable#module:pressure_tiers)); a tier without settings for the host's interface is
        refused. The empty list removes the tiers and the tuner.
    type: list
    elements: dict
    default: []
    suboptions:
      available_below_percent:
        description: The tier is in force while available memory is below this percentage of the total (1 to 99,
          strictly decreasing from tier to tier).
        type: int
        required: true
      uksm_settings:
        description: UKSM attributes to set on top of O(uksm_settings) while the tier is in force.
        type: dict
        default: {}
      ksm_settings:
        description: KSM attributes to set on top of O(ksm_settings) while the tier is in force.
        type: dict
        default: {}
  pressure_interval:
    description: Seconds between two evaluations of the pressure tuner, from 5 to 3600; only with O(pressure_tiers).
    type: int
    default: 30
  option_prefix:
    description:
      - How refusals name the options, for a caller whose users know them by other names. The
        C(litevirt.uksm.policy) role passes C(uksm_policy_), so its messages name its variables.
    type: str
    default: ""
  caller_variables:
    description:
      - The caller's variables whose names start with O(option_prefix), name to value. A name close to an
        option's name with that prefix is refused before any write as a misspelling, naming the closest (a
        name of the caller's own, not close to one, is left alone), so that a misspelt variable of the
        C(litevirt.uksm.policy) role does not leave its default in force.
      - Left out with O(option_prefix) set, the module's action plugin fills it on the controller with the
        task's variables under that prefix that are not options of the task (what the role relies on).
    type: dict
    default: {}
notes:
  - Requires C(systemctl) on the managed node when it persists, disables services or removes the policy.
seealso:
  - module: litevirt.uksm.uksm_tunable
  - module: litevirt.uksm.uksm_policy_unit
  - module: litevirt.uksm.uksm_facts
'''

EXAMPLES = r'''
- name: The balanced preset now and at every boot, whichever of UKSM and KSM the host runs
  litevirt.uksm.uksm_policy:
    preset: balanced

- name: Quiet while memory is plentiful, harder under pressure; disable ksmtuned
  litevirt.uksm.uksm_policy:
    uksm_settings: {cpu_governor: quiet, run: 1}
    ksm_settings: {pages_to_scan: 100, sleep_millisecs: 200, run: 1}
    pressure_tiers:
      - available_below_percent: 20
        uksm_settings: {cpu_governor: full, max_cpu_percentage: 95}
        ksm_settings: {pages_to_scan: 1000, sleep_millisecs: 20}
    conflicts: disable
    metrics: true

- name: Remove the policy and give the kernel its defaults back
  litevirt.uksm.uksm_policy:
    state: absent
    restore_defaults: true
'''

RETURN = r'''
state:
  description: The O(state) applied.
  returned: success
  type: str
  sample: present
backend:
  description: The interface found, V(uksm) or V(ksm), null on a host with neither.
  returned: success
  type: str
  sample: uksm
available:
  description: Whether the host has UKSM or KSM; without either, O(state=present) leaves it alone
    (O(unavailable=skip)) or fails.
  returned: success
  type: bool
  sample: true
changes:
  description: Every attribute whose value changed (or would, in check mode), as M(litevirt.uksm.uksm_tunable)'s
    RV(litevirt.uksm.uksm_tunable#module:changes); with O(state=absent), those the defaults wrote back.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The attribute.
      type: str
      sample: max_cpu_percentage
    before:
      description: Its value before the run.
      type: raw
      sample: 95
    after:
      description: Its value after the run (predicted in check mode).
      type: raw
      sample: 50
    cause:
      description: Why it changed (V(requested), V(reset by cpu_governor), ...).
      type: str
      sample: requested
forgotten:
  description: Attributes an earlier run persisted that this policy no longer sets, removed from the persisted
    policy by this run.
  returned: success
  type: list
  elements: str
  sample: [sleep_millisecs]
policy_file_changed:
  description: Whether the persisted policy was (or would be) written or removed.
  returned: success
  type: bool
units_changed:
  description: Whether a unit, launcher or file of the applier was (or would be) installed, changed or removed.
  returned: success
  type: bool
conflicts:
  description: Services found enabled or running that rewrite this interface's files.
  returned: success
  type: list
  elements: str
  sample: [ksmtuned]
conflicts_disabled:
  description: Those of RV(conflicts) this run stopped and disabled (O(conflicts=disable)).
  returned: success
  type: list
  elements: str
  sample: [ksmtuned]
policy_file:
  description: Path of the persisted policy after the run, null when there is none.
  returned: success
  type: str
  sample: /etc/litevirt-uksm/policy.conf
policy:
  description: The persisted policy after the run, keyed by backend, then attribute name.
  returned: success
  type: dict
  sample: {uksm: {cpu_governor: medium, run: 1}}
drift:
  description: Attributes of the settings in force (the base, or the base with the tier in force) that the kernel
    does not hold after the run.
  returned: success
  type: list
  elements: str
  sample: []
raised_by_kernel:
  description: Attributes the kernel holds at a value it set itself (uksmd's C(sleep_millisecs)), keyed by
    attribute name, each with C(desired), C(live) and C(reason); not drift.
  returned: success
  type: dict
  sample: {}
tier:
  description: Index of the pressure tier in force after the run, null for the base.
  returned: success
  type: int
  sample: 0
available_percent:
  description: C(MemAvailable) over C(MemTotal) in percent, null when C(/proc/meminfo) lacks them.
  returned: success
  type: float
  sample: 27.3
unit:
  description: The boot unit after the run.
  returned: success
  type: dict
  contains:
    name:
      description: Name of the unit.
      type: str
      sample: uksm-policy.service
    installed:
      description: Whether C(uksm-policy.service) is installed.
      type: bool
    enabled:
      description: Whether it is enabled.
      type: bool
problems:
  description: Every refused option (pressure tiers, unit options, and the settings of each interface), with the
    option, the value and what is accepted.
  returned: failure, when options were refused before anything was written
  type: list
  elements: str
  sample: ["pressure_interval=2 is not accepted with tiers; accepted: seconds from 5 to 3600 between two evaluations of the tuner"]
errno:
  description: Error number of the failed write or read-back of RV(failed_attribute), or of a file that could not
    be read or written; V(1) (EPERM) for a path refused as unsafe.
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
from ansible_collections.litevirt.uksm.plugins.module_utils._policy.policy_request import ARGUMENT_SPEC, PolicyRequest
from ansible_collections.litevirt.uksm.plugins.module_utils.errors import CAUGHT, failure


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(ARGUMENT_SPEC),
        supports_check_mode=True,
    )
    # what the work needs, imported once the sysroot is known: from the bytecode the host keeps of it
    compile_once.use_host_bytecode(module.params['sysroot'])
    from ansible_collections.litevirt.uksm.plugins.module_utils._host.sysfs import check_sysroot
    from ansible_collections.litevirt.uksm.plugins.module_utils._install.systemctl import Systemctl
    from ansible_collections.litevirt.uksm.plugins.module_utils._policy.policy import apply_policy

    params = module.params
    try:
        sysroot = check_sysroot(params['sysroot'])
        request = PolicyRequest(**dict({name: params[name] for name in PolicyRequest._fields}, sysroot=sysroot))

        def systemctl() -> Systemctl:
            program = module.get_bin_path('systemctl', required=True)
            return Systemctl(module.run_command, program, sysroot, module.check_mode)

        result = apply_policy(request, systemctl, module.check_mode, module.warn)
    except CAUGHT as error:
        module.fail_json(**failure(error))
    if not module._diff:
        result.pop('diff')
    module.exit_json(**result)


if __name__ == '__main__':
    main()
