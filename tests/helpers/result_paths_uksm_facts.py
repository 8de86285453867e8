# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The paths of uksm_facts (see result_paths): UKSM, KSM, an old KSM and no interface, with and
without a policy, and its refusals.
"""

from __future__ import annotations

import os

from ansible_collections.litevirt.uksm.plugins.module_utils._host import persist
from ansible_collections.litevirt.uksm.plugins.module_utils._host.lock import HostLock
from ansible_collections.litevirt.uksm.plugins.module_utils._plan import facts
from ansible_collections.litevirt.uksm.plugins.modules import uksm_facts
from ansible_collections.litevirt.uksm.tests.helpers import sysroot_tree
from ansible_collections.litevirt.uksm.tests.helpers.module_run import exits, fails
from ansible_collections.litevirt.uksm.tests.helpers.result_paths import Result, Scene, path

# the module these paths run
MODULE = uksm_facts
FACTS = uksm_facts.main


@path(uksm_facts, 'UKSM with its thread, a persisted policy with tiers, a tier in force, PSI, drift')
def _facts_uksm_policy(scene: Scene) -> Result:
    root = scene.root()
    sysroot_tree.uksm(root)
    sysroot_tree.meminfo(root, zero_kib=4, available_percent=20)
    sysroot_tree.memory_pressure(root, 0.12, 0.0)
    sysroot_tree.process(root, 17, 'uksmd')
    sysroot_tree.thread_cpu(root, 17, 'uksmd', 300, 75, 100, '1000.00 900.00')
    sysroot_tree.unit_file(root, 'etc/systemd/system/uksm-policy.service')
    sysroot_tree.enable(root, 'etc/systemd/system/uksm-policy.service', 'sysinit.target')
    sysroot_tree.unit_file(root, 'usr/lib/systemd/system/tuned.service')
    policy = {'cpu_governor': 'medium', 'run': '1'}
    tiers = {'uksm pressure': {'hysteresis': '5'}, 'uksm tier 0': {'available_below_percent': '30', 'run': '0'}}
    persist.save(root, persist.render(dict({'uksm': policy}, **tiers)))
    sysroot_tree.put(root, 'run/litevirt-uksm/tier', 'uksm 0\n')
    os.chmod(os.path.join(root, 'run/litevirt-uksm'), 0o700)
    result = exits(FACTS, {'sysroot': root})
    fact = result['ansible_facts']['uksm']
    assert fact['daemon_cpu'] is not None and fact['policy']['tier'] == 0 and fact['policy']['drift']
    assert fact['policy']['pressure'] is not None and fact['policy']['error'] is None, fact['policy']
    return result


@path(uksm_facts, 'KSM at its defaults, check mode')
def _facts_ksm(scene: Scene) -> Result:
    root = scene.root()
    sysroot_tree.ksm(root)
    result = exits(FACTS, {'sysroot': root}, check_mode=True)
    assert result['ansible_facts']['uksm']['backend'] == 'ksm'
    return result


@path(uksm_facts, 'an old KSM kernel, unknown and unreadable attributes, the lock held')
def _facts_old_ksm(scene: Scene) -> Result:
    root = scene.root()
    sysroot_tree.ksm_old(root, sleep_millisecs='soon\n')
    sysroot_tree.put(root, 'sys/kernel/mm/ksm/new_knob', '1\n')
    scene.monkeypatch.setattr(facts, 'LOCK_WAIT', 0.1)  # the facts wait no longer for the writer below
    with HostLock(root, timeout=1):
        result = exits(FACTS, {'sysroot': root})
    fact = result['ansible_facts']['uksm']
    assert fact['errors'] and fact['unknown_attributes'] == ['new_knob'] and fact['lock']['holder'] == os.getpid()
    return result


@path(uksm_facts, 'no interface, a policy file that does not parse')
def _facts_unavailable(scene: Scene) -> Result:
    root = scene.root()
    persist.save(root, '[ksm]\nrun: 1\n')
    result = exits(FACTS, {'sysroot': root})
    fact = result['ansible_facts']['uksm']
    assert fact['available'] is False and fact['policy']['error']
    return result


@path(uksm_facts, 'forced backend the host lacks')
def _facts_forced_backend(scene: Scene) -> Result:
    root = scene.root()
    sysroot_tree.uksm(root)
    result = exits(FACTS, {'sysroot': root, 'backend': 'ksm'})
    assert result['ansible_facts']['uksm']['available'] is False
    return result


@path(uksm_facts, 'relative sysroot')
def _facts_relative(scene: Scene) -> Result:
    scene.monkeypatch.chdir(scene.tmp)
    failure = fails(FACTS, {'sysroot': 'hv01'})
    assert failure['msg'] == "sysroot must be an absolute path, got 'hv01'"
    return failure


@path(uksm_facts, 'sysroot with a NUL byte')
def _facts_nul(scene: Scene) -> Result:
    failure = fails(FACTS, {'sysroot': scene.tmp + '/\x00'})
    assert failure['msg'] == 'sysroot must not contain NUL bytes'
    return failure


@path(uksm_facts, 'argument spec: an unknown backend')
def _facts_spec(scene: Scene) -> Result:
    failure = fails(FACTS, {'sysroot': scene.tmp, 'backend': 'zswap'})
    assert failure['msg'].startswith('value of backend must be one of')
    return failure
