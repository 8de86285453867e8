# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The paths of uksm_tunable (see result_paths): success in each mode, on UKSM, KSM and a host without
either, with each state; the refusals before any write; the kernel's errors with their rollback.
"""

from __future__ import annotations

import errno
import os
import typing as t

from ansible_collections.litevirt.uksm.plugins.module_utils._host import persist
from ansible_collections.litevirt.uksm.plugins.module_utils._host.lock import HostLock
from ansible_collections.litevirt.uksm.plugins.modules import uksm_tunable
from ansible_collections.litevirt.uksm.tests.helpers import sysroot_tree
from ansible_collections.litevirt.uksm.tests.helpers.fake_sysfs import FakeHost
from ansible_collections.litevirt.uksm.tests.helpers.module_run import exits, fails
from ansible_collections.litevirt.uksm.tests.helpers.result_paths import Result, Scene, path

# the module these paths run
MODULE = uksm_tunable

# -- success ----------------------------------------------------------------------------------------

TUNABLE = uksm_tunable.main
KSM_TIERS = [
    {'available_below_percent': 30, 'settings': {'pages_to_scan': 1000}},
    {'available_below_percent': 10, 'settings': {'pages_to_scan': 4000}},
]


@path(uksm_tunable, 'KSM, check mode')
def _tunable_ksm_check(scene: Scene) -> Result:
    host = scene.fake_host('ksm')
    result = exits(TUNABLE, {'sysroot': host.root, 'settings': {'sleep_millisecs': 50, 'run': 1}}, check_mode=True)
    assert result['changed'] and host.attempts == []
    return result


@path(uksm_tunable, 'KSM, written and read back, diff mode')
def _tunable_ksm_diff(scene: Scene) -> Result:
    host = scene.fake_host('ksm')
    result = exits(TUNABLE, {'sysroot': host.root, 'settings': {'sleep_millisecs': 50, 'run': 1}}, diff=True)
    assert host.writes == [('sleep_millisecs', '50\n'), ('run', '1\n')] and 'diff' in result
    return result


@path(uksm_tunable, 'KSM, nothing to change')
def _tunable_ksm_unchanged(scene: Scene) -> Result:
    host = scene.fake_host('ksm')
    result = exits(TUNABLE, {'sysroot': host.root, 'name': 'sleep_millisecs', 'value': 20})
    assert not result['changed'] and host.attempts == []
    return result


@path(uksm_tunable, 'KSM, preset')
def _tunable_ksm_preset(scene: Scene) -> Result:
    host = scene.fake_host('ksm')
    result = exits(TUNABLE, {'sysroot': host.root, 'preset': 'balanced', 'settings': {'sleep_millisecs': 200}})
    assert result['settings']['sleep_millisecs'] == 200
    return result


@path(uksm_tunable, 'KSM, EBUSY unmerged with allow_unmerge')
def _tunable_ksm_unmerge(scene: Scene) -> Result:
    host = scene.fake_host('ksm', values={'run': '1\n', 'pages_shared': '10\n', 'pages_sharing': '40\n'})
    result = exits(TUNABLE, {'sysroot': host.root, 'settings': {'merge_across_nodes': 0}, 'allow_unmerge': True})
    assert ('run', '2\n', None) in host.attempts
    return result


@path(uksm_tunable, 'UKSM, governor write resets its preset, diff mode')
def _tunable_uksm_governor(scene: Scene) -> Result:
    host = scene.fake_host('uksm')
    result = exits(TUNABLE, {'sysroot': host.root, 'settings': {'cpu_governor': 'medium'}}, diff=True)
    assert [change['name'] for change in result['changes']][:2] == ['cpu_governor', 'max_cpu_percentage']
    return result


@path(uksm_tunable, 'UKSM, a sleep uksmd raised is held, not written, diff mode')
def _tunable_uksm_raised(scene: Scene) -> Result:
    # full's rung 0 (20/10000 of a CPU) has 24040 ns per 12 ms sleep; a page costs 90000 ns now
    host = scene.fake_host('uksm', values={'sleep_millisecs': '52\n', 'ema_per_page_time': '90000\n'})
    result = exits(TUNABLE, {'sysroot': host.root, 'settings': {'sleep_millisecs': 12, 'run': 1}}, diff=True)
    assert not result['changed'] and host.attempts == []
    assert result['raised_by_kernel']['sleep_millisecs']['live'] == 52
    return result


@path(uksm_tunable, 'UKSM, persist, check and diff mode')
def _tunable_uksm_persist_check(scene: Scene) -> Result:
    host = scene.fake_host('uksm')
    args = {'sysroot': host.root, 'settings': {'sleep_millisecs': 200}, 'persist': True}
    result = exits(TUNABLE, args, check_mode=True, diff=True)
    assert len(result['diff']) == 2 and not os.path.exists(persist.path_of(host.root))
    return result


@path(uksm_tunable, 'KSM, persist')
def _tunable_ksm_persist(scene: Scene) -> Result:
    host = scene.fake_host('ksm')
    result = exits(TUNABLE, {'sysroot': host.root, 'settings': {'sleep_millisecs': 50}, 'persist': True})
    assert result['policy_file'] == persist.path_of(host.root) and os.path.exists(result['policy_file'])
    return result


@path(uksm_tunable, 'KSM, state absent forgets persisted names, diff mode')
def _tunable_absent(scene: Scene) -> Result:
    host = scene.fake_host('ksm')
    persist.save(host.root, persist.render({'ksm': {'run': '1', 'sleep_millisecs': '50'}}))
    result = exits(TUNABLE, {'sysroot': host.root, 'state': 'absent', 'settings': {'run': None}}, diff=True)
    assert result['changed'] and persist.load(host.root)[0] == {'ksm': {'sleep_millisecs': '50'}}
    return result


@path(uksm_tunable, 'no interface, state absent with a forced backend')
def _tunable_absent_no_interface(scene: Scene) -> Result:
    root = scene.root()
    result = exits(TUNABLE, {'sysroot': root, 'state': 'absent', 'name': 'run', 'value': 1, 'backend': 'uksm'})
    assert result['backend'] == 'uksm' and not result['changed']
    return result


def _tiered(scene: Scene, available: float | None, **options: t.Any) -> tuple[FakeHost, Result]:
    host = scene.fake_host('ksm')
    if available is not None:
        sysroot_tree.meminfo(host.root, available_percent=available)
    args = {
        'sysroot': host.root,
        'settings': {'run': 1, 'pages_to_scan': 200},
        'persist': True,
        'pressure_tiers': KSM_TIERS,
    }
    args.update(options.pop('args', {}))
    return host, exits(TUNABLE, args, **options)


@path(uksm_tunable, 'KSM, pressure tiers, a tier in force, diff mode')
def _tunable_tiers(scene: Scene) -> Result:
    sysroot_tree.memory_pressure(scene.root(), 0.12, 0.0)
    host, result = _tiered(scene, 20, diff=True)
    assert result['pressure']['tier'] == 0 and result['pressure']['memory_stall'] is not None
    assert sysroot_tree.read(host.root, 'run/litevirt-uksm/tier') == 'ksm 0\n'
    return result


@path(uksm_tunable, 'KSM, pressure tiers, check mode')
def _tunable_tiers_check(scene: Scene) -> Result:
    _host, result = _tiered(scene, 5, check_mode=True)
    assert result['pressure']['tier'] == 1
    return result


@path(uksm_tunable, 'KSM, pressure tiers, no MemAvailable')
def _tunable_tiers_unmeasured(scene: Scene) -> Result:
    _host, result = _tiered(scene, None)
    assert result['pressure']['available_percent'] is None and result['pressure']['tier'] is None
    return result


@path(uksm_tunable, 'KSM, empty pressure tiers remove them')
def _tunable_tiers_removed(scene: Scene) -> Result:
    _host, result = _tiered(scene, 50, args={'pressure_tiers': []})
    assert result['pressure'] == {'tier': None, 'tier_settings': None, 'available_percent': 50.0, 'memory_stall': None}
    return result


# -- refusals before anything is written ----------------------------------------------------------


def _refused(scene: Scene, args: Result, message: str, backend: str | None = 'ksm') -> Result:
    root = scene.fake_host(backend).root if backend else scene.root()
    failure = fails(TUNABLE, dict(args, sysroot=root))
    assert message in failure['msg'], failure['msg']
    return failure


@path(uksm_tunable, 'argument spec: settings and name together')
def _tunable_spec_exclusive(scene: Scene) -> Result:
    args = {'settings': {'run': 1}, 'name': 'run', 'value': 1}
    return _refused(scene, args, 'parameters are mutually exclusive: settings|name')


@path(uksm_tunable, 'argument spec: a value of the wrong type')
def _tunable_spec_type(scene: Scene) -> Result:
    return _refused(scene, {'settings': {'run': 1}, 'lock_timeout': 'soon'}, 'lock_timeout')


@path(uksm_tunable, 'argument spec: an unknown option')
def _tunable_spec_unknown(scene: Scene) -> Result:
    return _refused(scene, {'settings': {'run': 1}, 'values': {}}, 'Unsupported parameters for')


@path(uksm_tunable, 'preset with state absent')
def _tunable_preset_absent(scene: Scene) -> Result:
    args = {'state': 'absent', 'preset': 'off', 'name': 'run', 'value': 0}
    return _refused(scene, args, 'preset is only for state=present')


@path(uksm_tunable, 'pressure tiers with state absent')
def _tunable_tiers_absent(scene: Scene) -> Result:
    args = {'state': 'absent', 'pressure_tiers': [], 'name': 'run', 'value': 0}
    return _refused(scene, args, 'pressure_tiers is only for state=present')


@path(uksm_tunable, 'relative sysroot')
def _tunable_relative_sysroot(scene: Scene) -> Result:
    scene.monkeypatch.chdir(scene.tmp)
    failure = fails(TUNABLE, {'sysroot': 'hv01', 'settings': {'run': 1}})
    assert failure['msg'] == "sysroot must be an absolute path, got 'hv01'"
    return failure


@path(uksm_tunable, 'no interface on the host')
def _tunable_no_interface(scene: Scene) -> Result:
    return _refused(scene, {'settings': {'run': 1}}, 'no UKSM or KSM interface on this host', backend=None)


@path(uksm_tunable, 'forced backend the host lacks')
def _tunable_forced_backend(scene: Scene) -> Result:
    args = {'settings': {'run': 1}, 'backend': 'uksm'}
    return _refused(scene, args, 'backend=uksm: /sys/kernel/mm/uksm does not exist on this host; it has KSM')


@path(uksm_tunable, 'forced backend on a host without either')
def _tunable_forced_backend_none(scene: Scene) -> Result:
    args = {'settings': {'run': 1}, 'backend': 'ksm'}
    return _refused(scene, args, 'it has neither UKSM nor KSM', backend=None)


@path(uksm_tunable, 'state absent without an interface or a backend')
def _tunable_absent_unknown_backend(scene: Scene) -> Result:
    args = {'state': 'absent', 'settings': {'run': 1}}
    return _refused(scene, args, 'no UKSM or KSM interface to record the policy for', backend=None)


@path(uksm_tunable, 'invalid settings')
def _tunable_invalid(scene: Scene) -> Result:
    failure = _refused(scene, {'settings': {'run': 7, 'sleep_milisecs': 10}}, '2 invalid setting(s)')
    assert len(failure['problems']) == 2
    return failure


@path(uksm_tunable, 'eval_intervals without its opt-in')
def _tunable_eval_intervals(scene: Scene) -> Result:
    return _refused(scene, {'settings': {'eval_intervals': '1000 500 400 100'}}, 'corrupts kernel memory', 'uksm')


@path(uksm_tunable, 'run without uksmd')
def _tunable_no_daemon(scene: Scene) -> Result:
    host = scene.fake_host('uksm', values={'run': '0\n'}, daemon=False)
    failure = fails(TUNABLE, {'sysroot': host.root, 'settings': {'run': 1}})
    assert 'the uksmd kernel thread is gone' in failure['msg']
    return failure


@path(uksm_tunable, 'pressure tiers without persist')
def _tunable_tiers_unpersisted(scene: Scene) -> Result:
    args = {'settings': {'pages_to_scan': 200}, 'pressure_tiers': KSM_TIERS}
    return _refused(scene, args, 'set persist=true')


@path(uksm_tunable, 'pressure tiers, more than the policy file holds')
def _tunable_tiers_too_many(scene: Scene) -> Result:
    tiers = [{'available_below_percent': 90 - 9 * index, 'settings': {'pages_to_scan': 200}} for index in range(9)]
    args = {'settings': {'pages_to_scan': 200}, 'persist': True, 'pressure_tiers': tiers}
    return _refused(scene, args, 'pressure tiers: 9 given')


@path(uksm_tunable, 'pressure tiers, thresholds not decreasing')
def _tunable_tiers_increasing(scene: Scene) -> Result:
    args = {'settings': {'pages_to_scan': 200}, 'persist': True, 'pressure_tiers': KSM_TIERS[::-1]}
    return _refused(scene, args, 'is not below the previous tier')


@path(uksm_tunable, 'pressure tiers, hysteresis out of range')
def _tunable_tiers_hysteresis(scene: Scene) -> Result:
    args = {'settings': {'pages_to_scan': 200}, 'persist': True, 'pressure_tiers': KSM_TIERS, 'pressure_hysteresis': 90}
    return _refused(scene, args, 'hysteresis=90 is not accepted')


@path(uksm_tunable, 'pressure tiers, a tier the base cannot restore')
def _tunable_tiers_invalid(scene: Scene) -> Result:
    tiers = [{'available_below_percent': 30, 'settings': {'sleep_millisecs': 5}}]
    args = {'settings': {'pages_to_scan': 200}, 'persist': True, 'pressure_tiers': tiers}
    failure = _refused(scene, args, 'which the base settings do not set')
    assert failure['problems']
    return failure


@path(uksm_tunable, 'a current value that cannot be read')
def _tunable_unreadable(scene: Scene) -> Result:
    host = scene.fake_host('ksm')
    host.set('sleep_millisecs', 'soon\n')
    failure = fails(TUNABLE, {'sysroot': host.root, 'settings': {'run': 1}})
    assert failure['msg'].startswith('cannot read the current values: sleep_millisecs')
    return failure


@path(uksm_tunable, 'lock held longer than lock_timeout')
def _tunable_lock_timeout(scene: Scene) -> Result:
    host = scene.fake_host('ksm')
    with HostLock(host.root, timeout=1):
        failure = fails(TUNABLE, {'sysroot': host.root, 'settings': {'run': 1}, 'lock_timeout': 0.1})
    assert 'is held by another writer' in failure['msg'] and host.attempts == []
    return failure


@path(uksm_tunable, 'lock directory writable by others')
def _tunable_unsafe_lock(scene: Scene) -> Result:
    host = scene.fake_host('ksm')
    directory = os.path.join(host.root, 'run/litevirt-uksm')
    os.makedirs(directory)
    os.chmod(directory, 0o777)
    failure = fails(TUNABLE, {'sysroot': host.root, 'settings': {'run': 1}})
    assert failure['msg'].startswith('refusing /run/litevirt-uksm: writable by group or others')
    return failure


@path(uksm_tunable, 'policy file that does not parse')
def _tunable_bad_policy(scene: Scene) -> Result:
    host = scene.fake_host('ksm')
    persist.save(host.root, '[ksm]\nrun: 1\n')
    failure = fails(TUNABLE, {'sysroot': host.root, 'settings': {'run': 1}, 'persist': True})
    assert 'line 2: expected "name = value"' in failure['msg']
    return failure


@path(uksm_tunable, 'policy file that is a symlink')
def _tunable_symlinked_policy(scene: Scene) -> Result:
    host = scene.fake_host('ksm')
    os.makedirs(os.path.join(host.root, 'etc/litevirt-uksm'))
    os.symlink('/etc/passwd', persist.path_of(host.root))
    failure = fails(TUNABLE, {'sysroot': host.root, 'settings': {'run': 1}, 'persist': True})
    assert failure['msg'] == 'refusing /etc/litevirt-uksm/policy.conf: it is a symlink'
    return failure


@path(uksm_tunable, 'tier in force that cannot be recorded')
def _tunable_tier_unrecorded(scene: Scene) -> Result:
    host = scene.fake_host('ksm')
    sysroot_tree.meminfo(host.root, available_percent=20)
    os.makedirs(os.path.join(host.root, 'run/litevirt-uksm/tier'))
    args = {'sysroot': host.root, 'settings': {'pages_to_scan': 200}, 'persist': True, 'pressure_tiers': KSM_TIERS}
    failure = fails(TUNABLE, args)
    assert failure['msg'].startswith('refusing /run/litevirt-uksm/tier')
    return failure


# -- the kernel fails a write, the run is rolled back -----------------------------------------------


def _kernel_failure(host: FakeHost, settings: Result, attribute: str) -> Result:
    failure = fails(TUNABLE, {'sysroot': host.root, 'settings': settings})
    assert failure['failed_attribute'] == attribute, failure
    return failure


@path(uksm_tunable, 'kernel EINVAL on a write, rolled back')
def _tunable_einval(scene: Scene) -> Result:
    host = scene.fake_host('uksm')
    host.fail('sleep_millisecs', errno.EINVAL)
    failure = _kernel_failure(host, {'cpu_governor': 'low', 'sleep_millisecs': 40}, 'sleep_millisecs')
    assert failure['errno'] == errno.EINVAL and failure['restored'] == ['cpu_governor=full']
    return failure


@path(uksm_tunable, 'short write')
def _tunable_short_write(scene: Scene) -> Result:
    host = scene.fake_host('ksm')
    host.short('sleep_millisecs', 1)
    failure = _kernel_failure(host, {'sleep_millisecs': 50}, 'sleep_millisecs')
    assert failure['errno'] == errno.EIO
    return failure


@path(uksm_tunable, 'KSM, EBUSY without allow_unmerge')
def _tunable_ebusy(scene: Scene) -> Result:
    host = scene.fake_host('ksm')
    host.fail('max_page_sharing', errno.EBUSY)
    failure = _kernel_failure(host, {'max_page_sharing': 512}, 'max_page_sharing')
    assert failure['errno'] == errno.EBUSY
    return failure


@path(uksm_tunable, 'read-back that differs')
def _tunable_read_back(scene: Scene) -> Result:
    host = scene.fake_host('uksm')
    host.read_back('abundant_threshold', '77\n')
    failure = _kernel_failure(host, {'abundant_threshold': 20}, 'abundant_threshold')
    assert failure['errno'] == errno.EIO
    return failure


@path(uksm_tunable, 'side effect the model did not predict (no errno)')
def _tunable_side_effect(scene: Scene) -> Result:
    host = scene.fake_host('uksm')
    host.side_effect('thrash_threshold', 'abundant_threshold', '33\n')
    failure = _kernel_failure(host, {'abundant_threshold': 20, 'thrash_threshold': 30}, 'abundant_threshold')
    assert failure['errno'] is None
    return failure


@path(uksm_tunable, 'value unreadable at the verification')
def _tunable_unverifiable(scene: Scene) -> Result:
    host = scene.fake_host('uksm')
    host.fail_read('thrash_threshold', errno.EIO)
    failure = _kernel_failure(host, {'sleep_millisecs': 40, 'thrash_threshold': 50}, 'thrash_threshold')
    assert failure['msg'].startswith('thrash_threshold cannot be read back after the run')
    return failure


@path(uksm_tunable, 'rollback that cannot restore (not_restored)')
def _tunable_not_restored(scene: Scene) -> Result:
    host = scene.fake_host('uksm')
    host.fail('thrash_threshold', errno.EINVAL)
    host.fail('abundant_threshold', errno.EIO, skip=1)
    failure = _kernel_failure(host, {'abundant_threshold': 20, 'thrash_threshold': 30}, 'thrash_threshold')
    assert failure['not_restored'] == ['abundant_threshold=10: EIO (Input/output error)']
    return failure
