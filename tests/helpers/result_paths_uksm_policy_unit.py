# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The paths of uksm_policy_unit (see result_paths): present and absent, check and diff mode, offline
and on the live manager, with and without its timers; its refusals, systemctl's failures and the
file errors.
"""

from __future__ import annotations

import os

from ansible_collections.litevirt.uksm.plugins.module_utils._host import paths, persist
from ansible_collections.litevirt.uksm.plugins.module_utils._host.lock import HostLock
from ansible_collections.litevirt.uksm.plugins.module_utils._install import unit_setup
from ansible_collections.litevirt.uksm.plugins.modules import uksm_policy_unit
from ansible_collections.litevirt.uksm.tests.helpers.module_run import exits, fails
from ansible_collections.litevirt.uksm.tests.helpers.offline_systemctl import live_manager
from ansible_collections.litevirt.uksm.tests.helpers.result_paths import Result, Scene, path

# the module these paths run
MODULE = uksm_policy_unit
UNIT = uksm_policy_unit.main


@path(uksm_policy_unit, 'present, check and diff mode')
def _unit_check(scene: Scene) -> Result:
    scene.systemctl()
    result = exits(UNIT, {'sysroot': scene.root()}, check_mode=True, diff=True)
    assert result['changed'] and os.listdir(scene.root()) == []
    return result


@path(uksm_policy_unit, 'present, installed, then unchanged')
def _unit_installed(scene: Scene) -> Result:
    scene.systemctl()
    exits(UNIT, {'sysroot': scene.root()})
    result = exits(UNIT, {'sysroot': scene.root()})
    assert not result['changed'] and result['files'] == []
    return result


@path(uksm_policy_unit, 'present, not enabled')
def _unit_disabled(scene: Scene) -> Result:
    scene.systemctl()
    result = exits(UNIT, {'sysroot': scene.root(), 'enabled': False})
    assert result['enabled'] is False
    return result


@path(uksm_policy_unit, 'present with metrics and the pressure tuner, diff mode')
def _unit_timers(scene: Scene) -> Result:
    scene.systemctl()
    result = exits(UNIT, {'sysroot': scene.root(), 'metrics': True, 'pressure_interval': 30}, diff=True)
    assert result['metrics']['enabled'] and result['pressure'] == {'enabled': True, 'interval': 30}
    return result


@path(uksm_policy_unit, 'present, the timers turned off again')
def _unit_timers_off(scene: Scene) -> Result:
    scene.systemctl()
    exits(UNIT, {'sysroot': scene.root(), 'metrics': True, 'pressure_interval': 30})
    result = exits(UNIT, {'sysroot': scene.root()}, diff=True)
    assert result['changed'] and not result['metrics']['enabled'] and not result['pressure']['enabled']
    return result


@path(uksm_policy_unit, 'present on the live manager')
def _unit_live(scene: Scene) -> Result:
    fake = live_manager(scene.monkeypatch, scene.root())
    result = exits(UNIT, {'sysroot': scene.root(), 'metrics': True})
    assert ['start', paths.METRICS_TIMER] in fake.verbs()
    return result


@path(uksm_policy_unit, 'absent with purge, check mode')
def _unit_absent_check(scene: Scene) -> Result:
    scene.systemctl()
    exits(UNIT, {'sysroot': scene.root()})
    result = exits(UNIT, {'sysroot': scene.root(), 'state': 'absent', 'purge': True}, check_mode=True, diff=True)
    assert result['changed'] and result['installed'] == []
    return result


@path(uksm_policy_unit, 'absent with purge')
def _unit_absent(scene: Scene) -> Result:
    scene.systemctl()
    exits(UNIT, {'sysroot': scene.root(), 'metrics': True})
    persist.save(scene.root(), persist.render({'ksm': {'run': '1'}}))
    result = exits(UNIT, {'sysroot': scene.root(), 'state': 'absent', 'purge': True})
    assert result['changed'] and '/etc/litevirt-uksm/policy.conf' in result['files']
    return result


@path(uksm_policy_unit, 'absent, nothing installed')
def _unit_absent_unchanged(scene: Scene) -> Result:
    scene.systemctl()
    result = exits(UNIT, {'sysroot': scene.root(), 'state': 'absent'})
    assert not result['changed']
    return result


def _unit_refused(scene: Scene, args: Result, message: str) -> Result:
    scene.systemctl()
    failure = fails(UNIT, dict(args, sysroot=scene.root()))
    assert message in failure['msg'], failure['msg']
    return failure


@path(uksm_policy_unit, 'argument spec: a value of the wrong type')
def _unit_spec(scene: Scene) -> Result:
    return _unit_refused(scene, {'enabled': 'sometimes'}, "argument 'enabled' is of type str")


@path(uksm_policy_unit, 'python refused')
def _unit_python(scene: Scene) -> Result:
    return _unit_refused(scene, {'python': 'python3'}, "python: 'python3' is not accepted")


@path(uksm_policy_unit, 'before refused')
def _unit_before(scene: Scene) -> Result:
    return _unit_refused(scene, {'before': ['a b.service']}, "before: 'a b.service' not accepted")


@path(uksm_policy_unit, 'metrics_output refused')
def _unit_output(scene: Scene) -> Result:
    return _unit_refused(scene, {'metrics': True, 'metrics_output': '/uksm.prom'}, "metrics_output: '/uksm.prom'")


@path(uksm_policy_unit, 'pressure_interval refused')
def _unit_interval(scene: Scene) -> Result:
    return _unit_refused(scene, {'pressure_interval': 2}, 'pressure_interval: 2 is not accepted')


@path(uksm_policy_unit, 'relative sysroot')
def _unit_relative(scene: Scene) -> Result:
    scene.systemctl()
    scene.monkeypatch.chdir(scene.tmp)
    failure = fails(UNIT, {'sysroot': 'hv01'})
    assert failure['msg'] == "sysroot must be an absolute path, got 'hv01'"
    return failure


@path(uksm_policy_unit, 'no systemctl on the host')
def _unit_no_systemctl(scene: Scene) -> Result:
    scene.monkeypatch.setenv('PATH', scene.root('empty-path'))
    failure = fails(UNIT, {'sysroot': scene.root()})
    assert failure['msg'].startswith('Failed to find required executable "systemctl"'), failure['msg']
    return failure


@path(uksm_policy_unit, 'systemctl fails')
def _unit_systemctl_fails(scene: Scene) -> Result:
    scene.systemctl(fail='enable')
    failure = fails(UNIT, {'sysroot': scene.root()})
    assert failure['msg'].startswith('systemctl enable uksm-policy.service failed (rc 1)')
    return failure


@path(uksm_policy_unit, 'an unsafe path on the way')
def _unit_unsafe(scene: Scene) -> Result:
    scene.systemctl()
    os.makedirs(os.path.join(scene.root(), 'usr/lib'))
    os.symlink(scene.tmp, os.path.join(scene.root(), 'usr/lib/litevirt-uksm'))
    failure = fails(UNIT, {'sysroot': scene.root()})
    assert 'refusing /usr/lib/litevirt-uksm' in failure['msg']
    return failure


@path(uksm_policy_unit, 'a sysroot that does not exist')
def _unit_missing_sysroot(scene: Scene) -> Result:
    scene.systemctl()
    failure = fails(UNIT, {'sysroot': os.path.join(scene.tmp, 'gone')})
    assert failure['msg'].startswith('cannot install the boot applier under ')
    return failure


@path(uksm_policy_unit, 'purge while a writer holds the lock')
def _unit_purge_locked(scene: Scene) -> Result:
    scene.systemctl()
    root = scene.root()
    exits(UNIT, {'sysroot': root})
    scene.monkeypatch.setattr(unit_setup, 'PURGE_LOCK_TIMEOUT', 0.1)
    with HostLock(root, timeout=1):
        failure = fails(UNIT, {'sysroot': root, 'state': 'absent', 'purge': True})
    assert failure['msg'].startswith('cannot remove the boot applier under %s: ' % root)
    assert failure['msg'].endswith('is held by another writer (pid %d) for more than 0.1s' % os.getpid())
    return failure
