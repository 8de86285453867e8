# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The paths of uksm_policy (see result_paths): present on UKSM and KSM in each mode, converged, with
tiers and timers, each answer to conflicting services, hosts without an interface, state absent; the
refusals before any write and a kernel error with its rollback.
"""

from __future__ import annotations

import errno
import os
import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.litevirt.uksm.plugins.modules import uksm_policy
from ansible_collections.litevirt.uksm.tests.helpers import sysroot_tree
from ansible_collections.litevirt.uksm.tests.helpers.module_run import exits, fails
from ansible_collections.litevirt.uksm.tests.helpers.offline_systemctl import live_manager
from ansible_collections.litevirt.uksm.tests.helpers.result_paths import Result, Scene, path

# the module these paths run
MODULE = uksm_policy
POLICY = uksm_policy.main
BASE = {'ksm_settings': {'pages_to_scan': 200, 'run': 1}, 'uksm_settings': {'cpu_governor': 'medium', 'run': 1}}
TIERS = [{'available_below_percent': 30, 'ksm_settings': {'pages_to_scan': 1000}, 'uksm_settings': {}}]


def _args(root: str, **options: t.Any) -> Result:
    return dict(BASE, sysroot=root, **options)


def _ksmtuned(root: str) -> None:
    sysroot_tree.unit_file(root, 'etc/systemd/system/ksmtuned.service')
    sysroot_tree.enable(root, 'etc/systemd/system/ksmtuned.service', 'multi-user.target')


@path(uksm_policy, 'UKSM, check and diff mode')
def _policy_uksm_check(scene: Scene) -> Result:
    host = scene.fake_host('uksm')
    scene.systemctl()
    result = exits(POLICY, _args(host.root), check_mode=True, diff=True)
    assert result['changed'] and host.attempts == [] and result['backend'] == 'uksm'
    return result


@path(uksm_policy, 'KSM, applied, persisted, units installed')
def _policy_ksm(scene: Scene) -> Result:
    host = scene.fake_host('ksm')
    scene.systemctl()
    result = exits(POLICY, _args(host.root))
    assert result['changed'] and result['units_changed'] and result['policy_file_changed']
    assert result['ansible_facts']['uksm']['policy']['exists'] and result['drift'] == []
    return result


@path(uksm_policy, 'KSM, converged: nothing changed')
def _policy_converged(scene: Scene) -> Result:
    host = scene.fake_host('ksm')
    systemctl = scene.systemctl()
    exits(POLICY, _args(host.root))
    del systemctl.commands[:]
    result = exits(POLICY, _args(host.root))
    assert not result['changed'] and systemctl.commands == []
    return result


@path(uksm_policy, 'KSM, an attribute no longer in the policy is forgotten')
def _policy_forgotten(scene: Scene) -> Result:
    host = scene.fake_host('ksm')
    scene.systemctl()
    exits(POLICY, _args(host.root, ksm_settings={'pages_to_scan': 200, 'sleep_millisecs': 30}))
    result = exits(POLICY, _args(host.root, ksm_settings={'pages_to_scan': 200}))
    assert result['forgotten'] == ['sleep_millisecs'] and result['policy'] == {'ksm': {'pages_to_scan': 200}}
    return result


@path(uksm_policy, 'KSM, not persisted')
def _policy_not_persisted(scene: Scene) -> Result:
    host = scene.fake_host('ksm')
    result = exits(POLICY, _args(host.root, persist=False))
    assert result['changed'] and not result['units_changed'] and result['policy_file'] is None
    return result


@path(uksm_policy, 'KSM, pressure tiers and metrics, a tier in force, diff mode')
def _policy_tiers(scene: Scene) -> Result:
    host = scene.fake_host('ksm')
    scene.systemctl()
    sysroot_tree.meminfo(host.root, available_percent=20)
    result = exits(POLICY, _args(host.root, pressure_tiers=TIERS, metrics=True), diff=True)
    assert result['tier'] == 0 and result['available_percent'] == 20.0
    return result


@path(uksm_policy, 'KSM, ksmtuned enabled, warned about')
def _policy_warn(scene: Scene) -> Result:
    host = scene.fake_host('ksm')
    scene.systemctl()
    _ksmtuned(host.root)
    warnings: list[str] = []
    scene.monkeypatch.setattr(AnsibleModule, 'warn', lambda _module, warning: warnings.append(warning))
    result = exits(POLICY, _args(host.root, conflicts='warn'))
    assert result['conflicts'] == ['ksmtuned'] and result['conflicts_disabled'] == []
    assert warnings[0].startswith('ksmtuned is enabled or running and rewrites /sys/kernel/mm/ksm.'), warnings
    return result


@path(uksm_policy, 'KSM, ksmtuned disabled offline')
def _policy_disable(scene: Scene) -> Result:
    host = scene.fake_host('ksm')
    systemctl = scene.systemctl()
    _ksmtuned(host.root)
    result = exits(POLICY, _args(host.root, conflicts='disable'))
    assert result['conflicts_disabled'] == ['ksmtuned'] and ['disable', 'ksmtuned.service'] in systemctl.verbs()
    return result


@path(uksm_policy, 'KSM, ksmtuned stopped and disabled on the live manager')
def _policy_disable_live(scene: Scene) -> Result:
    host = scene.fake_host('ksm')
    _ksmtuned(host.root)
    fake = live_manager(scene.monkeypatch, host.root)
    result = exits(POLICY, _args(host.root, conflicts='disable', pressure_tiers=TIERS))
    assert ['disable', '--now', 'ksmtuned.service'] in fake.verbs()
    return result


@path(uksm_policy, 'no interface, skipped')
def _policy_skipped(scene: Scene) -> Result:
    result = exits(POLICY, _args(scene.root(), unavailable='skip'))
    assert not result['changed'] and result['available'] is False and result['backend'] is None
    return result


@path(uksm_policy, 'absent, defaults restored, units and policy removed, diff mode')
def _policy_absent(scene: Scene) -> Result:
    host = scene.fake_host('uksm')
    scene.systemctl()
    exits(POLICY, _args(host.root))
    result = exits(POLICY, {'sysroot': host.root, 'state': 'absent', 'restore_defaults': True}, diff=True)
    assert result['changed'] and result['policy_file_changed'] and result['policy_file'] is None
    assert {change['name'] for change in result['changes']} >= {'cpu_governor'}
    return result


@path(uksm_policy, 'absent, nothing there, check mode')
def _policy_absent_unchanged(scene: Scene) -> Result:
    host = scene.fake_host('ksm')
    scene.systemctl()
    result = exits(POLICY, {'sysroot': host.root, 'state': 'absent'}, check_mode=True)
    assert not result['changed'] and not result['policy_file_changed']
    return result


# -- refusals before anything is written ----------------------------------------------------------


def _refused(scene: Scene, args: Result, message: str, backend: str | None = 'ksm') -> Result:
    root = scene.fake_host(backend).root if backend else scene.root()
    systemctl = scene.systemctl()
    failure = fails(POLICY, dict(args, sysroot=root))
    assert message in failure['msg'], failure['msg']
    assert not os.path.exists(os.path.join(root, 'etc/litevirt-uksm')) and systemctl.commands == []
    return failure


@path(uksm_policy, 'argument spec: a value of the wrong type')
def _policy_spec(scene: Scene) -> Result:
    return _refused(scene, {'persist': 'sometimes'}, "argument 'persist' is of type str")


@path(uksm_policy, 'no interface on the host')
def _policy_unavailable(scene: Scene) -> Result:
    return _refused(scene, {}, 'this host has neither UKSM nor KSM', backend=None)


@path(uksm_policy, 'ksmtuned enabled, conflicts=fail')
def _policy_conflict(scene: Scene) -> Result:
    root = scene.root()
    _ksmtuned(root)
    return _refused(scene, dict(BASE), 'ksmtuned rewrites /sys/kernel/mm/ksm and would undo the policy')


@path(uksm_policy, 'pressure tiers and unit options refused together')
def _policy_options(scene: Scene) -> Result:
    failure = _refused(
        scene,
        dict(BASE, pressure_tiers=[{'available_below_percent': 30}], python='python3', option_prefix='p_'),
        'p_pressure_tiers[0] has no ksm_settings, and this host runs KSM',
    )
    assert failure['problems'][1].startswith("p_python: 'python3' is not accepted")
    return failure


@path(uksm_policy, 'invalid settings')
def _policy_settings(scene: Scene) -> Result:
    failure = _refused(scene, {'ksm_settings': {'run': 7}}, 'Nothing was written')
    assert failure['problems'] == ['ksm_settings: run: 7 is out of range; accepted: an integer from 0 to 2'], failure
    return failure


@path(uksm_policy, 'kernel EINVAL on a write, rolled back')
def _policy_einval(scene: Scene) -> Result:
    host = scene.fake_host('uksm')
    scene.systemctl()
    host.fail('run', errno.EINVAL)
    failure = fails(POLICY, _args(host.root, uksm_settings={'cpu_governor': 'low', 'run': 0}))
    assert failure['failed_attribute'] == 'run' and failure['restored'] == ['cpu_governor=full'], failure
    return failure
