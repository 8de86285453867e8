#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: uksm_policy_unit
short_description: Install the boot-time UKSM/KSM policy applier and its systemd unit
version_added: 0.1.0
description:
  - Installs C(uksm-policy.service), a oneshot unit that applies the persisted policy
    (C(/etc/litevirt-uksm/policy.conf), written by M(litevirt.uksm.uksm_tunable) with O(litevirt.uksm.uksm_tunable#module:persist=true))
    at every boot, and enables it. The C(litevirt.uksm.policy) role uses it.
  - The applier is the collection's own module_utils, copied byte for byte from the collection running this
    module into C(/usr/lib/litevirt-uksm/uksm_policy), with a launcher C(/usr/lib/litevirt-uksm/uksm-policy-apply).
    Boot therefore validates, orders, reads back, rolls back and locks exactly like the modules.
  - The unit runs early (C(DefaultDependencies=no), before C(sysinit.target), like C(systemd-sysctl.service)),
    is ordered before the services that start guests, is skipped when neither C(/sys/kernel/mm/uksm) nor
    C(/sys/kernel/mm/ksm) exists or no policy is persisted, logs one line per change or failure to the journal
    (C(journalctl -u uksm-policy)), fails without holding up the boot, and runs sandboxed with no capability.
  - C(systemctl start uksm-policy) re-applies the policy on demand (drift repair). The unit does not remain
    active after it exited for that reason; C(systemctl status uksm-policy) shows the result of the last run.
  - Under a O(sysroot) other than C(/), or when systemd is not running, enabling uses C(systemctl --root),
    which works offline (image builds, chroots). On a live host the manager is reloaded when the unit changes.
author:
  - litevirt engineering (@litevirt)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - litevirt.uksm.host.action_group
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Shows the unit file before and after.
  platform:
    platforms: posix
options:
  state:
    description:
      - V(present) installs (or updates) the unit, the launcher and the applier package, and removes files of an
        older version from C(/usr/lib/litevirt-uksm).
      - V(absent) stops and disables the unit and removes all of them.
    type: str
    choices: [present, absent]
    default: present
  enabled:
    description: Whether the unit starts at boot. Only with O(state=present).
    type: bool
    default: true
  purge:
    description:
      - With O(state=absent), also delete the persisted policy (and its directory when empty) and the lock file
        C(/run/lock/litevirt-uksm.lock).
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
  sysroot:
    description:
      - Root of the host's file system. Every installed path is taken under it, and C(systemctl --root) is used.
    type: path
    default: /
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

- name: Remove the unit, the applier and the persisted policy
  litevirt.uksm.uksm_policy_unit:
    state: absent
    purge: true
'''

RETURN = r'''
unit:
  description: Path of the unit file, as the host sees it.
  returned: always
  type: str
  sample: /etc/systemd/system/uksm-policy.service
enabled:
  description: Whether the unit is enabled after the run (predicted in check mode).
  returned: always
  type: bool
files:
  description: Files written, updated or removed by this run, as the host sees them.
  returned: always
  type: list
  elements: str
  sample: [/usr/lib/litevirt-uksm/uksm_policy/plan.py, /etc/systemd/system/uksm-policy.service]
installed:
  description: Files of the boot applier on the host after the run (predicted in check mode).
  returned: always
  type: list
  elements: str
'''

import os
import re
import sys

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.litevirt.uksm.plugins.module_utils import bootunit
from ansible_collections.litevirt.uksm.plugins.module_utils.lock import LOCK_FILE
from ansible_collections.litevirt.uksm.plugins.module_utils.persist import POLICY_FILE, remove as remove_policy
from ansible_collections.litevirt.uksm.plugins.module_utils.sysfs import SysrootError, check_sysroot, host_path

# What may go into the unit file unquoted: no whitespace, specifiers (%) or newlines.
_UNIT_NAME = re.compile(r'^[A-Za-z0-9:_.@\\-]+\.(service|target|socket|mount|path|timer|slice|scope)$')
_PYTHON = re.compile(r'^/[A-Za-z0-9._+/-]+$')


class Systemctl:
    """``systemctl`` on the live manager, or offline on a file tree."""

    def __init__(self, module: AnsibleModule, sysroot: str) -> None:
        self.module = module
        self.live = sysroot == '/' and os.path.isdir('/run/systemd/system')
        self.base = [module.get_bin_path('systemctl', required=True)] + ([] if self.live else ['--root', sysroot])

    def run(self, *args: str, check: bool = True) -> int:
        rc, out, err = self.module.run_command(self.base + list(args))
        if check and rc != 0:
            self.module.fail_json(msg='systemctl %s failed (rc %d): %s' % (' '.join(args), rc, (err or out).strip()))
        return rc

    def is_enabled(self) -> bool:
        rc, out, _err = self.module.run_command(self.base + ['is-enabled', bootunit.UNIT_NAME])
        return rc == 0 and out.strip() == 'enabled'


def _host(paths):
    return ['/' + path for path in paths]


def present(module: AnsibleModule, sysroot: str, systemctl: Systemctl) -> dict:
    params = module.params
    python = params['python'] or (sys.executable if sysroot == '/' else '/usr/bin/python3')
    if not _PYTHON.match(python):
        module.fail_json(msg='python: %r is not accepted; accepted: an absolute path of letters, digits and ._+-/'
                         % python)
    bad = [name for name in params['before'] if not _UNIT_NAME.match(name)]
    if bad:
        module.fail_json(msg='before: %s not accepted; accepted: systemd unit names such as libvirtd.service'
                         % ', '.join(repr(name) for name in bad))
    files = bootunit.artefacts(python, params['before'])
    unit_path = host_path(sysroot, bootunit.UNIT_FILE)
    before_text = _read(unit_path)
    changed_files = bootunit.install(sysroot, files, module.check_mode)
    if changed_files and systemctl.live and not module.check_mode:
        systemctl.run('daemon-reload')
    enabled = systemctl.is_enabled()
    toggle = params['enabled'] != enabled
    if toggle and not module.check_mode:
        systemctl.run('enable' if params['enabled'] else 'disable', bootunit.UNIT_NAME)
    return {
        'changed': bool(changed_files) or toggle,
        'enabled': params['enabled'],
        'files': _host(changed_files),
        'installed': _host(file.path for file in files),
        'diff': {'before': before_text, 'after': files[-1].text, 'before_header': '/' + bootunit.UNIT_FILE,
                 'after_header': '/' + bootunit.UNIT_FILE},
    }


def absent(module: AnsibleModule, sysroot: str, systemctl: Systemctl) -> dict:
    unit_path = host_path(sysroot, bootunit.UNIT_FILE)
    before_text = _read(unit_path)
    changed = False
    if before_text and systemctl.is_enabled():
        changed = True
        if not module.check_mode:
            systemctl.run('disable', bootunit.UNIT_NAME)
    if before_text and systemctl.live and not module.check_mode:
        systemctl.run('stop', bootunit.UNIT_NAME)
    removed = bootunit.uninstall(sysroot, module.check_mode)
    if module.params['purge']:
        if os.path.lexists(host_path(sysroot, POLICY_FILE)):
            removed.append(POLICY_FILE)
        if not module.check_mode:
            remove_policy(sysroot)
            # runtime state that every uksm_tunable run recreates: removed, but not a change
            if os.path.lexists(host_path(sysroot, LOCK_FILE)):
                os.unlink(host_path(sysroot, LOCK_FILE))
    if removed and systemctl.live and not module.check_mode:
        systemctl.run('daemon-reload')
    return {
        'changed': changed or bool(removed),
        'enabled': False,
        'files': _host(removed),
        'installed': [],
        'diff': {'before': before_text, 'after': '', 'before_header': '/' + bootunit.UNIT_FILE,
                 'after_header': '/' + bootunit.UNIT_FILE},
    }


def _read(path: str) -> str:
    try:
        with open(path, 'r', encoding='utf-8') as handle:
            return handle.read()
    except (FileNotFoundError, UnicodeDecodeError):
        return ''


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            'state': {'type': 'str', 'default': 'present', 'choices': ['present', 'absent']},
            'enabled': {'type': 'bool', 'default': True},
            'purge': {'type': 'bool', 'default': False},
            'python': {'type': 'path'},
            'before': {'type': 'list', 'elements': 'str', 'default': list(bootunit.HYPERVISOR_UNITS)},
            'sysroot': {'type': 'path', 'default': '/'},
        },
        supports_check_mode=True,
    )
    try:
        sysroot = check_sysroot(module.params['sysroot'])
    except SysrootError as error:
        module.fail_json(msg=str(error))
    systemctl = Systemctl(module, sysroot)
    try:
        result = (present if module.params['state'] == 'present' else absent)(module, sysroot, systemctl)
    except OSError as error:
        module.fail_json(msg='cannot install the boot applier under %s: %s' % (sysroot, error))
    result['unit'] = '/' + bootunit.UNIT_FILE
    if not module._diff:
        result.pop('diff')
    module.exit_json(**result)


if __name__ == '__main__':
    main()
