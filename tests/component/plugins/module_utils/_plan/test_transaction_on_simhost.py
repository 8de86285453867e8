# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writes on a kernel-like simulated sysfs: read-back, fault injection and rollback, and the lock."""

from __future__ import annotations

import pytest

from ansible_collections.litevirt.uksm.plugins.module_utils._host.lock import HostLock
from ansible_collections.litevirt.uksm.plugins.module_utils._host.sysfs import detect
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.facts import gather
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.plan import HostState, make_plan
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.transaction import ApplyError, Transaction

POLICY = {
    'cpu_governor': 'medium',
    'cpu_ratios': ['20', '30', 'MAX/4', 'MAX/2'],
    'abundant_threshold': 20,
    'thrash_threshold': 30,
    'sleep_millisecs': 5,
    'run': 0,
}
ORDER = ['cpu_governor', 'cpu_ratios', 'abundant_threshold', 'thrash_threshold', 'sleep_millisecs', 'run']


def converge(root, desired, **options):
    detection = detect(root)
    fact = gather(root)
    state = HostState(fact['tunables'], fact['choices'], fact['stats'], fact['daemon_running'])
    plan = make_plan(detection.backend, detection.kernel_attrs, state, desired, **options)
    assert plan.problems == [], [str(problem) for problem in plan.problems]
    transaction = Transaction(
        detection.backend, detection, root, fact['tunables'], allow_unmerge=options.get('allow_unmerge', False)
    )
    with HostLock(root):
        transaction.apply(plan)
    return plan


def tunables(root):
    return gather(root)['tunables']


def test_policy_converges_in_one_run_and_is_then_unchanged(make_host):
    host = make_host('uksm')
    plan = converge(host.paths.root, POLICY)
    assert [step.name for step in plan.steps] == ORDER
    live = tunables(host.paths.root)
    assert live['cpu_governor'] == 'medium' and live['max_cpu_percentage'] == 50
    assert live['cpu_ratios'] == ['20', '30', 'MAX/4', 'MAX/2']
    assert live['sleep_millisecs'] == 8  # HZ 250 rounds 5 ms up to a tick
    host.clear_log()
    assert converge(host.paths.root, POLICY).steps == []
    assert host.writes() == []
    # the kernel saw exactly one write per attribute, each newline-terminated
    assert host.state()['kmalloc32_leaks'] == 1


@pytest.mark.parametrize('position', range(len(ORDER)))
@pytest.mark.parametrize('error', ['EINVAL', 'EACCES', 'EBUSY', 'ENOMEM', 'EIO'])
def test_failure_at_each_position_restores_everything(make_host, position, error):
    host = make_host('uksm')
    before = tunables(host.paths.root)
    host.inject(ORDER[position], errno=error)
    with pytest.raises(ApplyError) as caught:
        converge(host.paths.root, POLICY)
    assert caught.value.failed == ORDER[position]
    assert error in str(caught.value)
    assert tunables(host.paths.root) == before
    assert caught.value.not_restored == []
    if position:
        assert 'cpu_governor=full' in caught.value.restored


def test_short_write_is_a_failure(make_host):
    host = make_host('uksm')
    before = tunables(host.paths.root)
    host.inject('thrash_threshold', short=1)
    with pytest.raises(ApplyError) as caught:
        converge(host.paths.root, POLICY)
    assert 'short write' in str(caught.value)
    assert tunables(host.paths.root) == before


def test_read_back_mismatch_is_a_failure(make_host):
    host = make_host('uksm')
    before = tunables(host.paths.root)
    host.inject('abundant_threshold', readback='77\n')
    with pytest.raises(ApplyError) as caught:
        converge(host.paths.root, POLICY)
    assert 'read back 77' in str(caught.value)
    assert tunables(host.paths.root) == before


def test_ksm_ebusy_with_allow_unmerge(make_host):
    host = make_host('ksm', active=True)
    plan = converge(host.paths.root, {'merge_across_nodes': 0}, allow_unmerge=True)
    assert [step.name for step in plan.steps] == ['merge_across_nodes']
    live = tunables(host.paths.root)
    assert live['merge_across_nodes'] == 0 and live['run'] == 1
    assert [entry['data'] for entry in host.writes('run')] == ['2\n', '1\n']


def test_unmerge_restores_run_before_verifying_a_policy_that_names_it(make_host):
    # found on a real kernel: run=1 (already in force, so not a step) was verified while it read 2
    host = make_host('ksm', active=True)
    converge(host.paths.root, {'merge_across_nodes': 0, 'pages_to_scan': 500, 'run': 1}, allow_unmerge=True)
    live = tunables(host.paths.root)
    assert live['merge_across_nodes'] == 0 and live['run'] == 1 and live['pages_to_scan'] == 500


def test_apply_returns_the_values_it_verified(make_host):
    host = make_host('uksm')
    root = host.paths.root
    detection = detect(root)
    fact = gather(root)
    plan = make_plan(
        detection.backend,
        detection.kernel_attrs,
        HostState(fact['tunables'], fact['choices'], fact['stats']),
        {'cpu_governor': 'low', 'sleep_millisecs': 40},
    )
    with HostLock(root):
        after = Transaction(detection.backend, detection, root, fact['tunables']).apply(plan)
    # side effects of the governor included, without a second full read
    assert after == tunables(root)
    assert after['max_cpu_percentage'] == 20 and after['cpu_ratios'] == ['10', '20', 'MAX/2', 'MAX/1']


def test_unreadable_value_after_the_writes_rolls_back_with_errno(make_host):
    host = make_host('uksm')
    root = host.paths.root
    before = tunables(root)
    detection = detect(root)
    fact = gather(root)
    plan = make_plan(
        detection.backend,
        detection.kernel_attrs,
        HostState(fact['tunables'], fact['choices'], fact['stats']),
        {'sleep_millisecs': 40, 'run': before['run']},
    )
    # run is not written (unchanged), so its first read after gather() is the final verification
    host.inject('run', errno='EIO', op='read')
    with pytest.raises(ApplyError) as caught, HostLock(root):
        Transaction(detection.backend, detection, root, fact['tunables']).apply(plan)
    assert caught.value.errno == 5 and caught.value.failed == 'run'
    assert caught.value.restored == ['sleep_millisecs=%d' % before['sleep_millisecs']]
    assert 'run cannot be read back after the run: EIO' in str(caught.value)
    assert tunables(root) == before
