#!/usr/bin/python
# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: uksm_policy_unit
short_description: Install the boot-time UKSM/KSM policy applier and its systemd unit
version_added: 1.0.0
description:
  - Installs C(uksm-policy.service), a oneshot unit that applies the persisted policy
    (C(/etc/litevirt-uksm/policy.conf), written by M(litevirt.uksm.uksm_tunable) with O(litevirt.uksm.uksm_tunable#module:persist=true))
    at every boot, and enables it. The C(litevirt.uksm.policy) role uses it.
  - The applier is the collection's own module_utils, copied byte for byte from the collection running this
    module into C(/usr/lib/litevirt-uksm/uksm_policy), with a launcher C(/usr/lib/litevirt-uksm/uksm-policy-apply).
    Boot therefore validates, orders, reads back, rolls back and locks exactly like the modules.
  - The package is compiled to bytecode at install, for the Python running this module (timestamp-based, as
    Debian's C(py3compile) does), and the unit runs C(python -I -S -B), isolated from the environment,
    site-packages and C(.pth) hooks, so applying a policy takes little more than starting Python.
  - The unit runs early (C(DefaultDependencies=no), before C(sysinit.target), like C(systemd-sysctl.service)),
    is ordered before the services that start guests, is skipped when neither C(/sys/kernel/mm/uksm) nor
    C(/sys/kernel/mm/ksm) exists or no policy is persisted, logs one line per change or failure to the journal
    (C(journalctl -u uksm-policy)), fails without holding up the boot, and runs sandboxed with no capability.
  - C(systemctl start uksm-policy) re-applies the policy on demand (drift repair). The unit does not remain
    active after it exited for that reason; C(systemctl status uksm-policy) shows the result of the last run.
  - With O(metrics=true) it also installs C(uksm-metrics.timer), which runs C(uksm-metrics.service) every minute
    to write the facts of M(litevirt.uksm.uksm_facts) (statistics, memory saved, policy drift) as Prometheus
    metrics to O(metrics_output), for the node_exporter textfile collector. The file is replaced atomically.
    The service reads C(/sys) read-only and may write only that file's directory.
  - "With O(pressure_interval) it also installs C(uksm-pressure.timer), which runs C(uksm-pressure.service) every
    O(pressure_interval) seconds: the pressure tuner, C(/usr/lib/litevirt-uksm/uksm-pressure-tune), which applies
    the pressure tier of the persisted policy (O(litevirt.uksm.uksm_tunable#module:pressure_tiers)) that available
    memory calls for, through the same planner, read-back, rollback and lock, and logs one line per change
    (C(journalctl -u uksm-pressure)). It replaces C(ksmtuned)."
  - Under a O(sysroot) other than C(/), or when systemd is not running, enabling uses C(systemctl --root),
    which works offline (image builds, chroots). On a live host the manager is reloaded when a unit changes,
    and the metrics timer is started when it is enabled.
author:
  - litevirt engineering (@litevirt)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - litevirt.uksm.host
  - litevirt.uksm.host.action_group
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Shows each unit file before and after.
  platform:
    platforms: posix
options:
  state:
    description:
      - V(present) installs (or updates) the unit, the launcher and the applier package, and removes files of an
        older version from C(/usr/lib/litevirt-uksm).
      - V(absent) stops and disables the units and removes all of them, and the metrics file.
    type: str
    choices: [present, absent]
    default: present
  enabled:
    description: Whether the unit starts at boot. Only with O(state=present).
    type: bool
    default: true
  purge:
    description:
      - With O(state=absent), also delete the persisted policy (and its directory when empty), the record of what
        was written C(/run/litevirt-uksm/written) and the lock file C(/run/litevirt-uksm/lock) (and its directory),
        under that lock. It waits up to 30 seconds for a running
        M(litevirt.uksm.uksm_tunable) or boot applier to finish.
    type: bool
    default: false
  python:
    description:
      - Python 3 interpreter that runs the applier, as an absolute path on the host.
      - Defaults to the interpreter running this module when O(sysroot=/), otherwise C(/usr/bin/python3).
    type: path
  before:
    description:
      - Units the applier must finish before, so guests start under the policy. Units that do not exist are
        ignored by systemd.
    type: list
    elements: str
    default: [libvirtd.service, libvirt-guests.service, virtqemud.service, pve-guests.service, nova-compute.service,
              incus.service]
  metrics:
    description:
      - Install and enable C(uksm-metrics.timer) and C(uksm-metrics.service), which write Prometheus metrics to
        O(metrics_output) every minute. Only with O(state=present).
      - V(false) disables and removes them, their launcher and the file they wrote, so node_exporter stops
        exporting stale values.
    type: bool
    default: false
  metrics_output:
    description:
      - File the metrics are written to, as an absolute path on the host ending in C(.prom), in the directory that
        node_exporter's textfile collector reads (C(--collector.textfile.directory); Debian's by default).
      - The service is skipped while that directory does not exist. A file written at a previous path is removed.
    type: path
    default: /var/lib/prometheus/node-exporter/uksm.prom
  pressure_interval:
    description:
      - Seconds between two evaluations of the pressure tuner; install and enable C(uksm-pressure.timer) and
        C(uksm-pressure.service). Only with O(state=present). From 5 to 3600.
      - Omitted (or V(0)), the tuner's timer, service and launcher are disabled and removed, and the tier it
        recorded is forgotten.
    type: int
notes:
  - Requires C(systemctl) on the managed node.
seealso:
  - module: litevirt.uksm.uksm_tunable
'''

EXAMPLES = r'''
- name: Re-apply the persisted policy at every boot
  litevirt.uksm.uksm_policy_unit:

- name: Install into an image being built, offline
  litevirt.uksm.uksm_policy_unit:
    sysroot: /srv/images/hv-rootfs
    python: /usr/bin/python3

- name: Also write Prometheus metrics every minute for node_exporter
  litevirt.uksm.uksm_policy_unit:
    metrics: true

- name: Also run the pressure tuner every 30 seconds (the policy has pressure tiers)
  litevirt.uksm.uksm_policy_unit:
    pressure_interval: 30

- name: Remove the units, the applier and the persisted policy
  litevirt.uksm.uksm_policy_unit:
    state: absent
    purge: true
'''

RETURN = r'''
unit:
  description: Path of the unit file, as the host sees it.
  returned: success
  type: str
  sample: /etc/systemd/system/uksm-policy.service
enabled:
  description: Whether the unit is enabled after the run (predicted in check mode).
  returned: success
  type: bool
files:
  description: Files written, updated or removed by this run, as the host sees them (bytecode included).
  returned: success
  type: list
  elements: str
  sample: [/usr/lib/litevirt-uksm/uksm_policy/_plan/plan.py, /usr/lib/litevirt-uksm/uksm_policy/_plan/__pycache__/plan.cpython-311.pyc,
           /etc/systemd/system/uksm-policy.service]
installed:
  description: Files of the boot applier, the metrics writer and the pressure tuner on the host after the run
    (predicted in check mode).
  returned: success
  type: list
  elements: str
metrics:
  description: The metrics timer after the run (predicted in check mode).
  returned: success
  type: dict
  contains:
    enabled:
      description: Whether C(uksm-metrics.timer) is installed and enabled.
      type: bool
    output:
      description: File the metrics are written to, null when O(metrics) is off.
      type: str
      sample: /var/lib/prometheus/node-exporter/uksm.prom
pressure:
  description: The pressure tuner's timer after the run (predicted in check mode).
  returned: success
  type: dict
  contains:
    enabled:
      description: Whether C(uksm-pressure.timer) is installed and enabled.
      type: bool
    interval:
      description: Seconds between two evaluations, null when O(pressure_interval) is off.
      type: int
      sample: 30
errno:
  description: Error number of a file of the installation that could not be read, written or removed, V(1) (EPERM)
    for a path refused as unsafe (a symlink, or a directory another user could write).
  returned: failure, when a file failed
  type: int
  sample: 1
'''

from ansible.module_utils.basic import AnsibleModule

# compile_once first: every module_utils file imported after it is compiled once, not twice
from ansible_collections.litevirt.uksm.plugins.module_utils import compile_once  # noqa: F401  pylint: disable=unused-import
from ansible_collections.litevirt.uksm.plugins.module_utils._host import paths
from ansible_collections.litevirt.uksm.plugins.module_utils._host.sysfs import check_sysroot
from ansible_collections.litevirt.uksm.plugins.module_utils._install import unit_setup, unit_texts
from ansible_collections.litevirt.uksm.plugins.module_utils._install.systemctl import Systemctl, SystemctlError
from ansible_collections.litevirt.uksm.plugins.module_utils.errors import CAUGHT, failure
from ansible_collections.litevirt.uksm.plugins.module_utils.host_options import SYSROOT


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            'state': {'type': 'str', 'default': 'present', 'choices': ['present', 'absent']},
            'enabled': {'type': 'bool', 'default': True},
            'purge': {'type': 'bool', 'default': False},
            'python': {'type': 'path'},
            'before': {'type': 'list', 'elements': 'str', 'default': list(unit_texts.HYPERVISOR_UNITS)},
            'metrics': {'type': 'bool', 'default': False},
            'metrics_output': {'type': 'path', 'default': paths.METRICS_OUTPUT},
            'pressure_interval': {'type': 'int'},
            **SYSROOT,
        },
        supports_check_mode=True,
    )
    try:
        sysroot = check_sysroot(module.params['sysroot'])
    except CAUGHT as error:
        module.fail_json(**failure(error))
    systemctl = Systemctl(
        module.run_command, module.get_bin_path('systemctl', required=True), sysroot, module.check_mode
    )
    params = module.params
    try:
        if params['state'] == 'present':
            wanted = unit_setup.request(
                sysroot,
                params['python'],
                params['before'],
                params['metrics'],
                params['metrics_output'],
                params['pressure_interval'],
                params['enabled'],
            )
            result = unit_setup.present(sysroot, wanted, systemctl, module.check_mode)
        else:
            result = unit_setup.absent(sysroot, params['purge'], systemctl, module.check_mode)
    except (SystemctlError, unit_setup.UnitOptionError) as error:
        module.fail_json(**failure(error))
    except CAUGHT as error:
        reason = failure(error)
        doing = 'install' if module.params['state'] == 'present' else 'remove'
        reason['msg'] = 'cannot %s the boot applier under %s: %s' % (doing, sysroot, reason['msg'])
        module.fail_json(**reason)
    result['unit'] = '/' + paths.UNIT_FILE
    if not module._diff:
        result.pop('diff')
    module.exit_json(**result)


if __name__ == '__main__':
    main()
