#!/usr/bin/python
# -*- coding: utf-8 -*-
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
  sample: [/usr/lib/litevirt-uksm/uksm_policy/plan.py, /usr/lib/litevirt-uksm/uksm_policy/__pycache__/plan.cpython-311.pyc,
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

import os
import re
import sys
import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.litevirt.uksm.plugins.module_utils import installation, paths, unit_texts
from ansible_collections.litevirt.uksm.plugins.module_utils.errors import CAUGHT, failure
from ansible_collections.litevirt.uksm.plugins.module_utils.host_options import SYSROOT
from ansible_collections.litevirt.uksm.plugins.module_utils.lock import HostLock
from ansible_collections.litevirt.uksm.plugins.module_utils.persist import remove as remove_policy
from ansible_collections.litevirt.uksm.plugins.module_utils.safefiles import read_file, remove_file
from ansible_collections.litevirt.uksm.plugins.module_utils.sysfs import check_sysroot, host_path
from ansible_collections.litevirt.uksm.plugins.module_utils.systemctl import Systemctl, SystemctlError

# What may go into the unit file unquoted: no whitespace, specifiers (%) or newlines.
_UNIT_NAME = re.compile(r'^[A-Za-z0-9:_.@\\-]+\.(service|target|socket|mount|path|timer|slice|scope)$')
_PYTHON = re.compile(r'^/[A-Za-z0-9._+/-]+$')
_OUTPUT = re.compile(r'^/[A-Za-z0-9._+/-]+/[A-Za-z0-9._+-]+\.prom$')
# purge waits this long for a writer of the policy to finish
PURGE_LOCK_TIMEOUT = 30.0
# the policy unit's diff first, then the metrics units', then the tuner's
_UNIT_FILES = installation.UNIT_FILES
# seconds between two runs of the tuner
MIN_INTERVAL = 5
MAX_INTERVAL = 3600


def _host(paths):
    return ['/' + path for path in paths]


def _unit_texts(sysroot: str) -> dict:
    return {path: _read(sysroot, path) for path in _UNIT_FILES}


def _diff(before: dict, after: dict) -> list:
    """One diff per unit file; the metrics units only when they exist before or after."""
    return [
        {'before': before[path], 'after': after.get(path, ''), 'before_header': '/' + path, 'after_header': '/' + path}
        for path in _UNIT_FILES
        if path == paths.UNIT_FILE or before[path] or after.get(path)
    ]


def _old_output(sysroot: str, before: dict, output: t.Optional[str], check_mode: bool) -> list:
    """Remove the file the installed metrics service wrote, unless it is the one wanted now."""
    old = unit_texts.metrics_output_of(before[paths.METRICS_UNIT_FILES[0]])
    return [] if old is None or old == output else installation.remove_output(sysroot, old, check_mode)


def present(module: AnsibleModule, sysroot: str, systemctl: Systemctl) -> dict:
    params = module.params
    python = params['python'] or (sys.executable if sysroot == '/' else '/usr/bin/python3')
    if not _PYTHON.match(python):
        module.fail_json(
            msg='python: %r is not accepted; accepted: an absolute path of letters, digits and ._+-/' % python
        )
    bad = [name for name in params['before'] if not _UNIT_NAME.match(name)]
    if bad:
        module.fail_json(
            msg='before: %s not accepted; accepted: systemd unit names such as libvirtd.service'
            % ', '.join(repr(name) for name in bad)
        )
    output = params['metrics_output'] if params['metrics'] else None
    if output is not None and (not _OUTPUT.match(output) or os.path.normpath(output) != output):
        module.fail_json(
            msg='metrics_output: %r is not accepted; accepted: an absolute, normalised path of letters, '
            'digits and ._+-/ below a directory, ending in .prom' % output
        )
    interval = params['pressure_interval'] or None
    if interval is not None and not MIN_INTERVAL <= interval <= MAX_INTERVAL:
        module.fail_json(
            msg='pressure_interval: %r is not accepted; accepted: seconds from %d to %d, or 0 for no tuner'
            % (interval, MIN_INTERVAL, MAX_INTERVAL)
        )
    files = installation.artefacts(python, params['before'], output, interval)
    before = _unit_texts(sysroot)
    # systemctl needs the timer's file to disable it
    toggled = output is None and systemctl.disable_timer()
    toggled = (interval is None and systemctl.disable_timer(paths.PRESSURE_TIMER)) or toggled
    changed_files = installation.install(sysroot, files, module.check_mode)
    changed_files += installation.compile_package(sysroot, changed_files, module.check_mode)
    if output is None:
        changed_files += installation.remove_units(sysroot, paths.METRICS_UNIT_FILES, module.check_mode)
    if interval is None:
        changed_files += installation.remove_units(sysroot, paths.PRESSURE_UNIT_FILES, module.check_mode)
        changed_files += _forget_tier(sysroot, module.check_mode)
    changed_files += _old_output(sysroot, before, output, module.check_mode)
    if changed_files and systemctl.live and not module.check_mode:
        systemctl.run('daemon-reload')
    if params['enabled'] != systemctl.is_enabled():
        toggled = True
        if not module.check_mode:
            systemctl.run('enable' if params['enabled'] else 'disable', paths.UNIT_NAME)
    if output is not None:
        toggled = systemctl.enable_timer(paths.METRICS_TIMER) or toggled
    if interval is not None:
        toggled = systemctl.enable_timer(paths.PRESSURE_TIMER) or toggled
    return {
        'changed': bool(changed_files) or toggled,
        'enabled': params['enabled'],
        'files': _host(changed_files),
        'installed': _host(file.path for file in files),
        'metrics': {'enabled': output is not None, 'output': output},
        'pressure': {'enabled': interval is not None, 'interval': interval},
        'diff': _diff(before, {file.path: file.text for file in files}),
    }


def absent(module: AnsibleModule, sysroot: str, systemctl: Systemctl) -> dict:
    before = _unit_texts(sysroot)
    before_text = before[paths.UNIT_FILE]
    changed = bool(before[paths.METRICS_UNIT_FILES[1]]) and systemctl.disable_timer()
    changed = (bool(before[paths.PRESSURE_UNIT_FILES[1]]) and systemctl.disable_timer(paths.PRESSURE_TIMER)) or changed
    if before_text and systemctl.is_enabled():
        changed = True
        if not module.check_mode:
            systemctl.run('disable', paths.UNIT_NAME)
    if before_text and systemctl.live and not module.check_mode:
        systemctl.run('stop', paths.UNIT_NAME)
    removed = installation.uninstall(sysroot, module.check_mode)
    removed += _old_output(sysroot, before, None, module.check_mode)
    removed += _forget_tier(sysroot, module.check_mode)
    if module.params['purge']:
        if os.path.lexists(host_path(sysroot, paths.POLICY_FILE)):
            removed.append(paths.POLICY_FILE)
        if not module.check_mode:
            # under the lock, so no writer is between reading and replacing the policy; a writer
            # that waited for this lock file sees it is gone and locks the next one
            with HostLock(sysroot, PURGE_LOCK_TIMEOUT):
                remove_policy(sysroot)
                # runtime state that every uksm_tunable run recreates: removed, but not a change
                remove_file(sysroot, paths.WRITTEN_FILE)
                remove_file(sysroot, paths.LOCK_FILE, remove_empty_directory=True)
    if removed and systemctl.live and not module.check_mode:
        systemctl.run('daemon-reload')
    return {
        'changed': changed or bool(removed),
        'enabled': False,
        'files': _host(removed),
        'installed': [],
        'metrics': {'enabled': False, 'output': None},
        'pressure': {'enabled': False, 'interval': None},
        'diff': _diff(before, {}),
    }


def _forget_tier(sysroot: str, check_mode: bool) -> list:
    """Without a tuner no tier is in force: the recorded one would keep the boot applier and the facts
    at a tier nothing maintains."""
    if not os.path.lexists(host_path(sysroot, paths.TIER_FILE)):
        return []
    if not check_mode:
        remove_file(sysroot, paths.TIER_FILE)
    return [paths.TIER_FILE]


def _read(sysroot: str, relative: str) -> str:
    found = read_file(sysroot, relative, installation.MAX_INSTALLED_BYTES)
    return '' if found is None else found[0].decode('utf-8', 'replace')


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
    try:
        result = (present if module.params['state'] == 'present' else absent)(module, sysroot, systemctl)
    except SystemctlError as error:
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
