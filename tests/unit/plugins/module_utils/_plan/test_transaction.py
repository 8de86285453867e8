# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The transaction on a tree of regular files: one write() per attribute in the kernel's order, each
read back; any failure (an errno, a short write, a read-back that differs or cannot be parsed, a side
effect nobody predicted, uksmd gone) restores what the run changed, governor first, never writes
eval_intervals without the opt-in, and says in its message what failed, with which errno, what was
restored and what was not. KSM's EBUSY is met with run=2 only when allowed, and run is put back.

The kernel's side of a write (EINVAL, EBUSY, a short write, a clamp, a governor's preset) is
fake_sysfs.FakeHost, which stands in for os.write and read_text inside transaction.py.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
import typing as t

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ansible_collections.litevirt.uksm.plugins.module_utils._host.sysfs import detect, read_attributes
from ansible_collections.litevirt.uksm.plugins.module_utils._host.written_values import WrittenValues
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.plan import HostState, Plan, make_plan
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.transaction import ApplyError, Transaction, write_text
from ansible_collections.litevirt.uksm.plugins.module_utils.errors import failure
from ansible_collections.litevirt.uksm.tests.helpers.fake_sysfs import UKSM_PRESETS, FakeHost
from ansible_collections.litevirt.uksm.tests.helpers.owners import NOBODY

POLICY = {
    'cpu_governor': 'medium',
    'cpu_ratios': ['20', '30', 'MAX/4', 'MAX/2'],
    'abundant_threshold': 20,
    'thrash_threshold': 30,
    'sleep_millisecs': 40,
}
ORDER = ['cpu_governor', 'cpu_ratios', 'abundant_threshold', 'thrash_threshold', 'sleep_millisecs']
TEXTS = {
    'cpu_governor': 'medium\n',
    'cpu_ratios': '20 30 MAX/4 MAX/2\n',
    'abundant_threshold': '20\n',
    'thrash_threshold': '30\n',
    'sleep_millisecs': '40\n',
}


def host_for(tmp_path: t.Any, monkeypatch: t.Any, backend: str = 'uksm', **options: t.Any) -> FakeHost:
    return FakeHost(tmp_path, backend, **options).install(monkeypatch)


def prepare(host: FakeHost, desired: dict[str, t.Any], **options: t.Any) -> tuple[Plan, Transaction]:
    """The plan for ``desired`` over what the host reads now, and a transaction to apply it."""
    detection = detect(host.root)
    assert detection.backend is not None
    tunables, choices, stats, errors = read_attributes(detection)
    assert errors == []
    plan = make_plan(detection.backend, detection.kernel_attrs, HostState(tunables, choices, stats), desired, **options)
    assert plan.problems == [], [str(problem) for problem in plan.problems]
    return plan, Transaction(detection.backend, detection, host.root, tunables, **options)


def tunables(host: FakeHost) -> dict[str, t.Any]:
    return read_attributes(detect(host.root))[0]


def open_descriptors() -> int:
    return len(os.listdir('/proc/self/fd'))


# write_text: the single write() a store expects


def test_write_text_hands_the_whole_text_to_one_write(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    write_text(host.path('thrash_threshold'), '30\n')
    assert host.attempts == [('thrash_threshold', '30\n', None)]
    assert host.read('thrash_threshold') == '30\n'


def test_write_text_short_write_fails_with_eio(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    host.short('thrash_threshold', 1)
    descriptors = open_descriptors()
    with pytest.raises(OSError) as caught:
        write_text(host.path('thrash_threshold'), '30\n')
    assert caught.value.errno == errno.EIO
    assert 'short write: 1 of 3 bytes accepted' in str(caught.value)
    assert open_descriptors() == descriptors


def test_write_text_refused_by_the_kernel_fails_and_closes_its_descriptor(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    host.fail('sleep_millisecs', errno.EINVAL)
    descriptors = open_descriptors()
    with pytest.raises(OSError) as caught:
        write_text(host.path('sleep_millisecs'), '5000\n')
    assert caught.value.errno == errno.EINVAL
    assert open_descriptors() == descriptors
    assert host.read('sleep_millisecs') == '100\n'


def test_write_text_to_a_missing_attribute_fails_without_creating_it(tmp_path):
    with pytest.raises(FileNotFoundError):
        write_text(str(tmp_path / 'run'), '1\n')
    assert not (tmp_path / 'run').exists()


# a run that succeeds


def test_policy_is_written_in_kernel_order_once_each_and_verified(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    plan, transaction = prepare(host, POLICY)
    after = transaction.apply(plan)
    assert host.attempts == [(name, TEXTS[name], None) for name in ORDER]
    # what apply returns is the kernel as it reads now, the governor's preset included
    assert after == tunables(host)
    assert after['max_cpu_percentage'] == 50 and after['eval_intervals'] == [1000, 500, 400, 100]
    assert after['cpu_ratios'] == ['20', '30', 'MAX/4', 'MAX/2']
    assert transaction.touched['cpu_governor'] == 'full'


def test_second_run_of_the_same_policy_writes_nothing(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    plan, transaction = prepare(host, POLICY)
    transaction.apply(plan)
    written = list(host.attempts)
    plan, transaction = prepare(host, POLICY)
    assert plan.steps == []
    assert transaction.apply(plan) == tunables(host)
    assert host.attempts == written


def test_values_the_kernel_clamps_or_rounds_are_accepted(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    plan, transaction = prepare(host, {'max_cpu_percentage': 5, 'sleep_millisecs': 5, 'cpu_ratios': '1 2 3 MAX/150'})
    after = transaction.apply(plan)
    # the asked values are written; the kernel keeps 10 (clamp), 8 (a 250 Hz tick) and MAX/151
    assert host.writes == [('max_cpu_percentage', '5\n'), ('cpu_ratios', '1 2 3 MAX/150\n'), ('sleep_millisecs', '5\n')]
    assert after['max_cpu_percentage'] == 10 and after['sleep_millisecs'] == 8
    assert after['cpu_ratios'] == ['1', '2', '3', 'MAX/151']


def test_a_ladder_of_a_kmalloc_size_is_written_padded_and_verified(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    # '2 4 MAX/4 MAX/1\n' is 16 bytes, a kmalloc size: written with a '+', which the kernel drops
    plan, transaction = prepare(host, {'cpu_ratios': ['2', '4', 'MAX/4', 'MAX/1']})
    after = transaction.apply(plan)
    assert host.writes == [('cpu_ratios', '+2 4 MAX/4 MAX/1\n')]
    assert after['cpu_ratios'] == ['2', '4', 'MAX/4', 'MAX/1']


# a write that fails, at every position


RESTORED_AFTER_FAILING = {
    # the governor's restore brings its preset (cpu_ratios) back: nothing more is written for it
    'cpu_governor': [],
    'cpu_ratios': ['cpu_governor=full'],
    'abundant_threshold': ['cpu_governor=full'],
    'thrash_threshold': ['cpu_governor=full', 'abundant_threshold=10'],
    'sleep_millisecs': ['cpu_governor=full', 'abundant_threshold=10', 'thrash_threshold=50'],
}


@pytest.mark.parametrize('failing', ORDER)
@pytest.mark.parametrize('error', ['EINVAL', 'EACCES', 'EBUSY', 'ENOMEM', 'EIO'])
def test_write_failing_at_each_position_fails_and_restores_everything(tmp_path, monkeypatch, failing, error):
    host = host_for(tmp_path, monkeypatch)
    before = host.texts()
    plan, transaction = prepare(host, POLICY)
    host.fail(failing, getattr(errno, error))
    with pytest.raises(ApplyError) as caught:
        transaction.apply(plan)
    restored = RESTORED_AFTER_FAILING[failing]
    assert caught.value.failed == failing
    assert caught.value.errno == getattr(errno, error)
    assert caught.value.restored == restored and caught.value.not_restored == []
    assert str(caught.value) == 'writing %s=%r failed: %s (%s); restored: %s' % (
        failing,
        TEXTS[failing].strip(),
        error,
        os.strerror(getattr(errno, error)),
        ', '.join(restored) or 'nothing was changed',
    )
    assert host.texts() == before
    # the writes up to the failing one, then the rollback's, in write order
    position = ORDER.index(failing)
    assert host.attempts[position] == (failing, TEXTS[failing], getattr(errno, error))
    assert host.writes[position:] == [(text.split('=')[0], text.split('=')[1] + '\n') for text in restored]
    assert failure(caught.value) == {
        'msg': str(caught.value),
        'failed_attribute': failing,
        'errno': getattr(errno, error),
        'restored': restored,
        'not_restored': [],
    }


def test_errno_without_a_symbolic_name_is_shown_by_number(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    plan, transaction = prepare(host, {'thrash_threshold': 30})
    host.fail('thrash_threshold', 4242)
    with pytest.raises(ApplyError) as caught:
        transaction.apply(plan)
    assert caught.value.errno == 4242
    assert "writing thrash_threshold='30' failed: errno 4242 (%s)" % os.strerror(4242) in str(caught.value)


def test_short_write_fails_with_eio_and_restores(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    before = host.texts()
    plan, transaction = prepare(host, POLICY)
    host.short('thrash_threshold', 1)
    with pytest.raises(ApplyError) as caught:
        transaction.apply(plan)
    assert caught.value.errno == errno.EIO and caught.value.failed == 'thrash_threshold'
    assert "writing thrash_threshold='30' failed: EIO (short write: 1 of 3 bytes accepted)" in str(caught.value)
    assert host.texts() == before


def test_read_back_that_differs_fails_with_eio_and_restores(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    before = host.texts()
    plan, transaction = prepare(host, POLICY)
    host.read_back('abundant_threshold', '77\n')
    with pytest.raises(ApplyError) as caught:
        transaction.apply(plan)
    assert caught.value.errno == errno.EIO and caught.value.failed == 'abundant_threshold'
    assert "failed: EIO (read back 77 after writing '20')" in str(caught.value)
    assert caught.value.restored == ['cpu_governor=full', 'abundant_threshold=10']
    assert host.texts() == before


def test_unparseable_read_back_fails_with_eio_and_restores_the_rest(tmp_path, monkeypatch):
    # the kernel prints something the model cannot parse after our write: a failure like any other,
    # with the rest restored, not an exception that leaves the governor changed
    host = host_for(tmp_path, monkeypatch)
    before = host.texts()
    plan, transaction = prepare(host, POLICY)
    host.read_back('abundant_threshold', 'twenty\n')
    with pytest.raises(ApplyError) as caught:
        transaction.apply(plan)
    unreadable = "EIO (expected an unsigned integer, read 'twenty\\n')"
    assert caught.value.errno == errno.EIO and caught.value.failed == 'abundant_threshold'
    # what it holds cannot be known, so it is not written over blindly, and the message says so
    assert caught.value.restored == ['cpu_governor=full']
    assert caught.value.not_restored == ['abundant_threshold=10: ' + unreadable]
    assert str(caught.value) == (
        "writing abundant_threshold='20' failed: %s; restored: cpu_governor=full; NOT restored: "
        'abundant_threshold=10: %s' % (unreadable, unreadable)
    )
    assert dict(host.texts(), abundant_threshold='10\n') == before


# uksmd and run


def test_run_write_is_refused_with_esrch_when_uksmd_is_gone(tmp_path, monkeypatch):
    # planned while uksmd ran; it died before the write: a write to run would block forever
    host = host_for(tmp_path, monkeypatch, daemon=False)
    before = host.texts()
    plan, transaction = prepare(host, {'sleep_millisecs': 40, 'run': 0})
    with pytest.raises(ApplyError) as caught:
        transaction.apply(plan)
    assert caught.value.failed == 'run' and caught.value.errno == errno.ESRCH
    assert "writing run='0' failed: ESRCH (uksmd is gone: a write to run would block forever; reboot the host)" in str(
        caught.value
    )
    assert caught.value.restored == ['sleep_millisecs=100']
    assert [name for name, _text, _outcome in host.attempts] == ['sleep_millisecs', 'sleep_millisecs']
    assert host.texts() == before


def test_uksmd_of_another_user_does_not_count_and_run_is_refused(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch, daemon=False)
    host.add_process(4242, 'uksmd', uid=NOBODY)  # any process may call itself uksmd
    plan, transaction = prepare(host, {'run': 0})
    with pytest.raises(ApplyError) as caught:
        transaction.apply(plan)
    assert caught.value.errno == errno.ESRCH and 'uksmd is gone' in str(caught.value)
    assert host.attempts == []


def test_run_is_written_last_when_uksmd_runs(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    plan, transaction = prepare(host, dict(POLICY, run=0))
    after = transaction.apply(plan)
    assert host.writes == [(name, TEXTS[name]) for name in ORDER] + [('run', '0\n')]
    assert after['run'] == 0


# KSM: EBUSY while pages are shared


def ksm_host(tmp_path: t.Any, monkeypatch: t.Any, **values: str) -> FakeHost:
    """A KSM host that runs and shares pages: merge_across_nodes and max_page_sharing are EBUSY."""
    texts = dict({'run': '1\n', 'pages_shared': '10\n', 'pages_sharing': '40\n'}, **values)
    return host_for(tmp_path, monkeypatch, 'ksm', values=texts)


def test_ebusy_with_allow_unmerge_unmerges_writes_and_restores_run(tmp_path, monkeypatch):
    host = ksm_host(tmp_path, monkeypatch)
    plan, transaction = prepare(host, {'merge_across_nodes': 0}, allow_unmerge=True)
    after = transaction.apply(plan)
    assert host.attempts == [
        ('merge_across_nodes', '0\n', errno.EBUSY),
        ('run', '2\n', None),
        ('merge_across_nodes', '0\n', None),
        ('run', '1\n', None),
    ]
    assert after['merge_across_nodes'] == 0 and after['run'] == 1
    assert tunables(host)['run'] == 1


def test_ebusy_without_allow_unmerge_fails_and_unmerges_nothing(tmp_path, monkeypatch):
    # planned while nothing was shared; pages were merged before the write
    host = ksm_host(tmp_path, monkeypatch, pages_shared='0\n')
    plan, transaction = prepare(host, {'merge_across_nodes': 0, 'max_page_sharing': 512})
    host.set('pages_shared', '10\n')
    before = host.texts()
    with pytest.raises(ApplyError) as caught:
        transaction.apply(plan)
    assert caught.value.errno == errno.EBUSY and caught.value.failed == 'merge_across_nodes'
    assert str(caught.value) == (
        "writing merge_across_nodes='0' failed: EBUSY (%s); restored: nothing was changed" % os.strerror(errno.EBUSY)
    )
    assert host.attempts == [('merge_across_nodes', '0\n', errno.EBUSY)]
    assert host.texts() == before


def test_ebusy_of_an_attribute_without_the_hazard_fails_without_unmerging(tmp_path, monkeypatch):
    host = ksm_host(tmp_path, monkeypatch)
    plan, transaction = prepare(host, {'sleep_millisecs': 50}, allow_unmerge=True)
    host.fail('sleep_millisecs', errno.EBUSY)
    with pytest.raises(ApplyError) as caught:
        transaction.apply(plan)
    assert caught.value.errno == errno.EBUSY
    assert [name for name, _text, _outcome in host.attempts] == ['sleep_millisecs']


def test_unmerge_keeps_the_run_the_plan_asks_for(tmp_path, monkeypatch):
    host = ksm_host(tmp_path, monkeypatch)
    plan, transaction = prepare(host, {'merge_across_nodes': 0, 'run': 0}, allow_unmerge=True)
    after = transaction.apply(plan)
    assert host.writes == [('run', '2\n'), ('merge_across_nodes', '0\n'), ('run', '0\n')]
    assert after['run'] == 0 and after['merge_across_nodes'] == 0


def test_unmerge_restores_run_before_verifying_a_policy_that_names_it(tmp_path, monkeypatch):
    # run=1 is in force (not a step) but is verified: it must not read 2 from the unmerge then
    host = ksm_host(tmp_path, monkeypatch)
    plan, transaction = prepare(host, {'merge_across_nodes': 0, 'pages_to_scan': 500, 'run': 1}, allow_unmerge=True)
    after = transaction.apply(plan)
    assert host.writes == [('pages_to_scan', '500\n'), ('run', '2\n'), ('merge_across_nodes', '0\n'), ('run', '1\n')]
    assert after['run'] == 1 and after['pages_to_scan'] == 500 and after['merge_across_nodes'] == 0


def test_unmerge_that_fails_fails_the_step_and_restores(tmp_path, monkeypatch):
    host = ksm_host(tmp_path, monkeypatch)
    before = host.texts()
    plan, transaction = prepare(host, {'pages_to_scan': 500, 'merge_across_nodes': 0}, allow_unmerge=True)
    host.fail('run', errno.ENOMEM)
    with pytest.raises(ApplyError) as caught:
        transaction.apply(plan)
    assert caught.value.failed == 'merge_across_nodes' and caught.value.errno == errno.ENOMEM
    assert "writing merge_across_nodes='0' failed: ENOMEM" in str(caught.value)
    assert caught.value.restored == ['pages_to_scan=100']
    assert host.texts() == before


# the verification at the end


def test_unreadable_value_at_verification_fails_with_errno_and_restores(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    before = host.texts()
    # run=1 is in force, so not written: its first read is the final verification
    plan, transaction = prepare(host, {'sleep_millisecs': 40, 'run': 1})
    host.fail_read('run', errno.EIO)
    with pytest.raises(ApplyError) as caught:
        transaction.apply(plan)
    assert caught.value.failed == 'run' and caught.value.errno == errno.EIO
    assert caught.value.restored == ['sleep_millisecs=100']
    assert str(caught.value) == (
        'run cannot be read back after the run: EIO (Input/output error); restored: sleep_millisecs=100'
    )
    assert host.texts() == before


def test_unreadable_value_at_verification_of_a_run_without_writes_fails(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    plan, transaction = prepare(host, {'run': 1})
    assert plan.steps == []
    host.fail_read('run', errno.EACCES)
    with pytest.raises(ApplyError) as caught:
        transaction.apply(plan)
    assert str(caught.value).endswith(': EACCES (Permission denied); restored: nothing was changed')
    assert host.attempts == []


def test_side_effect_the_model_did_not_predict_fails_verification_and_restores(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    before = host.texts()
    host.side_effect('thrash_threshold', 'abundant_threshold', '33\n')
    plan, transaction = prepare(host, {'abundant_threshold': 20, 'thrash_threshold': 30})
    with pytest.raises(ApplyError) as caught:
        transaction.apply(plan)
    assert caught.value.failed == 'abundant_threshold' and caught.value.errno is None
    assert str(caught.value) == (
        'abundant_threshold reads 33 after the run instead of 20 (a side effect the model did not predict); '
        'restored: abundant_threshold=10, thrash_threshold=50'
    )
    assert host.texts() == before


def test_value_read_back_after_the_last_write_is_not_read_again_by_the_verification(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    # written last (sleep after abundant): a second read of it would fail, and none is made
    host.fail_read('sleep_millisecs', errno.EIO, skip=1)
    plan, transaction = prepare(host, {'abundant_threshold': 20, 'sleep_millisecs': 40})
    after = transaction.apply(plan)
    assert [name for name, _text, _outcome in host.attempts] == ['abundant_threshold', 'sleep_millisecs']
    assert after['sleep_millisecs'] == 40 and after == tunables(host)


def test_value_read_back_before_a_later_write_is_read_again_by_the_verification_and_fails(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    # read back after its write, then sleep_millisecs is written: the verification reads it again
    host.fail_read('abundant_threshold', errno.EIO, skip=1)
    plan, transaction = prepare(host, {'abundant_threshold': 20, 'sleep_millisecs': 40})
    with pytest.raises(ApplyError) as caught:
        transaction.apply(plan)
    assert caught.value.failed == 'abundant_threshold' and caught.value.errno == errno.EIO
    assert str(caught.value).startswith('abundant_threshold cannot be read back after the run: EIO')


def test_changes_the_model_predicts_are_read_once_and_returned(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    plan, transaction = prepare(host, {'cpu_governor': 'low'})
    after = transaction.apply(plan)
    assert after['max_cpu_percentage'] == 20 and after['cpu_ratios'] == ['10', '20', 'MAX/2', 'MAX/1']
    assert after == tunables(host)


# the rollback


def custom_intervals_host(tmp_path: t.Any, monkeypatch: t.Any) -> FakeHost:
    """A host whose eval_intervals are not its governor's: written once by someone who opted in."""
    return host_for(tmp_path, monkeypatch, values={'eval_intervals': '1 2 3 4 \n'})


def test_rollback_leaves_eval_intervals_at_the_preset_and_says_so(tmp_path, monkeypatch):
    host = custom_intervals_host(tmp_path, monkeypatch)
    plan, transaction = prepare(host, {'cpu_governor': 'medium', 'thrash_threshold': 30})
    host.fail('thrash_threshold', errno.EINVAL)
    with pytest.raises(ApplyError) as caught:
        transaction.apply(plan)
    left = 'eval_intervals (left at the preset; writing it corrupts kernel memory)'
    assert caught.value.restored == ['cpu_governor=full'] and caught.value.not_restored == [left]
    assert str(caught.value).endswith('; restored: cpu_governor=full; NOT restored: ' + left)
    assert 'eval_intervals' not in [name for name, _text, _outcome in host.attempts]
    assert host.read('eval_intervals') == UKSM_PRESETS['full']['eval_intervals']


def test_rollback_with_the_opt_in_writes_eval_intervals_back(tmp_path, monkeypatch):
    host = custom_intervals_host(tmp_path, monkeypatch)
    before = host.texts()
    plan, transaction = prepare(host, {'cpu_governor': 'medium', 'thrash_threshold': 30}, allow_eval_intervals=True)
    host.fail('thrash_threshold', errno.EINVAL)
    with pytest.raises(ApplyError) as caught:
        transaction.apply(plan)
    assert caught.value.restored == ['cpu_governor=full', 'eval_intervals=[1, 2, 3, 4]']
    assert caught.value.not_restored == []
    # the governor first: its write resets the intervals, which are then written back
    assert host.writes[-2:] == [('cpu_governor', 'full\n'), ('eval_intervals', '1 2 3 4\n')]
    assert host.texts() == before


def test_rollback_of_eval_intervals_it_cannot_read_says_nothing_and_writes_nothing(tmp_path, monkeypatch):
    host = custom_intervals_host(tmp_path, monkeypatch)
    plan, transaction = prepare(host, {'cpu_governor': 'medium', 'thrash_threshold': 30})
    host.fail('thrash_threshold', errno.EINVAL)
    host.fail_read('eval_intervals', errno.EIO)
    with pytest.raises(ApplyError) as caught:
        transaction.apply(plan)
    assert caught.value.restored == ['cpu_governor=full'] and caught.value.not_restored == []
    assert 'eval_intervals' not in [name for name, _text, _outcome in host.attempts]


def quiet_host(tmp_path: t.Any, monkeypatch: t.Any) -> FakeHost:
    """A host on the quiet governor, whose max_cpu_percentage of 1 no direct write can give (it clamps to 10)."""
    values = dict(UKSM_PRESETS['quiet'], cpu_governor='full medium low [quiet] \n')
    return host_for(tmp_path, monkeypatch, values=values)


def test_rollback_leaves_alone_what_the_run_did_not_change(tmp_path, monkeypatch):
    # the failed governor write changed nothing; a rollback that wrote max_cpu_percentage=1 back
    # over the 1 the kernel holds would leave 10 and call it restored
    host = quiet_host(tmp_path, monkeypatch)
    before = host.texts()
    plan, transaction = prepare(host, {'cpu_governor': 'full'})
    host.fail('cpu_governor', errno.EINVAL)
    with pytest.raises(ApplyError) as caught:
        transaction.apply(plan)
    assert str(caught.value) == (
        "writing cpu_governor='full' failed: EINVAL (Invalid argument); restored: nothing was changed"
    )
    assert host.writes == []
    assert host.texts() == before


def test_rollback_of_a_governor_brings_back_its_whole_preset(tmp_path, monkeypatch):
    host = quiet_host(tmp_path, monkeypatch)
    before = host.texts()
    plan, transaction = prepare(host, {'cpu_governor': 'full', 'thrash_threshold': 30})
    host.fail('thrash_threshold', errno.EIO)
    with pytest.raises(ApplyError) as caught:
        transaction.apply(plan)
    # the governor's write resets max_cpu_percentage to the preset's 1: nothing more to write
    assert caught.value.restored == ['cpu_governor=quiet'] and caught.value.not_restored == []
    assert host.writes == [('cpu_governor', 'full\n'), ('cpu_governor', 'quiet\n')]
    assert host.texts() == before


def test_rollback_that_the_kernel_stores_differently_is_not_restored(tmp_path, monkeypatch):
    # quiet's max_cpu_percentage of 1 comes only from the governor: a write of 1 is stored as 10
    host = quiet_host(tmp_path, monkeypatch)
    plan, transaction = prepare(host, {'max_cpu_percentage': 50, 'thrash_threshold': 30})
    host.fail('thrash_threshold', errno.EIO)
    with pytest.raises(ApplyError) as caught:
        transaction.apply(plan)
    assert caught.value.restored == []
    assert caught.value.not_restored == ["max_cpu_percentage=1: EIO (read back 10 after writing '1')"]
    assert str(caught.value).endswith(
        "; restored: nothing; NOT restored: max_cpu_percentage=1: EIO (read back 10 after writing '1')"
    )
    assert host.read('max_cpu_percentage') == '10\n'


def test_run_that_cannot_be_restored_after_an_unmerge_fails_and_restores_the_rest(tmp_path, monkeypatch):
    host = ksm_host(tmp_path, monkeypatch)
    plan, transaction = prepare(host, {'pages_to_scan': 500, 'merge_across_nodes': 0}, allow_unmerge=True)
    host.fail('run', errno.EIO, skip=1)  # run=2 passes, putting run=1 back does not
    with pytest.raises(ApplyError) as caught:
        transaction.apply(plan)
    assert caught.value.failed == 'run' and caught.value.errno == errno.EIO
    assert caught.value.restored == ['pages_to_scan=100', 'merge_across_nodes=1']
    assert caught.value.not_restored == ['run=1: EIO (Input/output error)']
    assert str(caught.value) == (
        "writing run='1' failed: EIO (Input/output error); restored: pages_to_scan=100, merge_across_nodes=1; "
        'NOT restored: run=1: EIO (Input/output error)'
    )
    assert host.read('run') == '2\n' and host.read('merge_across_nodes') == '1\n'


def test_rollback_reports_what_it_could_not_restore_with_errno(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    plan, transaction = prepare(host, {'abundant_threshold': 20, 'thrash_threshold': 30, 'sleep_millisecs': 40})
    host.fail('thrash_threshold', errno.EINVAL)
    host.fail('abundant_threshold', errno.EIO, skip=1)  # its own write passes, the restore fails
    with pytest.raises(ApplyError) as caught:
        transaction.apply(plan)
    assert caught.value.restored == []
    assert caught.value.not_restored == ['abundant_threshold=10: EIO (Input/output error)']
    assert str(caught.value) == (
        "writing thrash_threshold='30' failed: EINVAL (Invalid argument); restored: nothing; "
        'NOT restored: abundant_threshold=10: EIO (Input/output error)'
    )
    assert host.read('abundant_threshold') == '20\n'
    assert 'sleep_millisecs' not in [name for name, _text, _outcome in host.attempts]


def test_rollback_that_fails_after_a_failed_verification_says_so(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    plan, transaction = prepare(host, {'sleep_millisecs': 40, 'run': 1})
    host.fail_read('run', errno.EIO)
    host.fail('sleep_millisecs', errno.EIO, skip=1)
    with pytest.raises(ApplyError) as caught:
        transaction.apply(plan)
    assert caught.value.not_restored == ['sleep_millisecs=100: EIO (Input/output error)']
    assert str(caught.value) == (
        'run cannot be read back after the run: EIO (Input/output error); restored: nothing; '
        'NOT restored: sleep_millisecs=100: EIO (Input/output error)'
    )


def test_rollback_after_an_unpredicted_side_effect_that_fails_says_so(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    host.side_effect('thrash_threshold', 'abundant_threshold', '33\n')
    plan, transaction = prepare(host, {'abundant_threshold': 20, 'thrash_threshold': 30})
    host.fail('thrash_threshold', errno.EIO, skip=1)
    with pytest.raises(ApplyError) as caught:
        transaction.apply(plan)
    assert caught.value.restored == ['abundant_threshold=10']
    assert str(caught.value).endswith(
        '; restored: abundant_threshold=10; NOT restored: thrash_threshold=50: EIO (Input/output error)'
    )


# any policy, any failure: the kernel is as before, or as the plan says


UKSM_SETTINGS = {
    'cpu_governor': st.sampled_from(['full', 'medium', 'low', 'quiet']),
    'max_cpu_percentage': st.integers(0, 100),
    'cpu_ratios': st.lists(st.integers(1, 50), min_size=2, max_size=2).map(
        lambda low: [str(min(low)), str(max(low)), 'MAX/4', 'MAX/1']
    ),
    'abundant_threshold': st.integers(0, 99),
    'thrash_threshold': st.integers(0, 99),
    'sleep_millisecs': st.integers(0, 1000),
}
FAULTS = st.sampled_from([errno.EINVAL, errno.EIO, errno.ENOMEM, errno.EBUSY, 'short', 'read back', 'garbage'])
# a read-back that parses, but to something else than any write of this model gives
OTHER = {'cpu_governor': 'full [none] \n', 'cpu_ratios': '9 9 9 9 \n'}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    start=st.sampled_from(['full', 'medium', 'low', 'quiet']),
    desired=st.fixed_dictionaries({}, optional=UKSM_SETTINGS),
    fault=st.one_of(st.none(), st.tuples(st.integers(0, 10), FAULTS)),
)
def test_any_uksm_policy_ends_as_planned_or_as_before_but_for_what_it_reports(start, desired, fault):
    with tempfile.TemporaryDirectory() as root, pytest.MonkeyPatch.context() as monkeypatch:
        values = dict(UKSM_PRESETS[start], cpu_governor='full medium low quiet \n'.replace(start, '[%s]' % start))
        host = host_for(root, monkeypatch, values=values)
        check_policy_with_fault(host, desired, fault, lambda step: OTHER.get(step.name, '1234567\n'))


def check_policy_with_fault(
    host: FakeHost,
    desired: dict[str, t.Any],
    fault: tuple[int, t.Any] | None,
    wrong_read_back: t.Callable[[t.Any], str],
    managed: t.Sequence[str] = (),
) -> None:
    """Plan ``desired``, arm ``fault`` (step index, errno or kind) on one step and apply: the policy
    holds, or the host is as before but for what the error reports (and ``managed``, ksmd's own)."""
    before = host.texts()
    detection = detect(host.root)
    assert detection.backend is not None
    current, choices, stats, _errors = read_attributes(detection)
    plan = make_plan(detection.backend, detection.kernel_attrs, HostState(current, choices, stats), desired)
    if plan.problems:
        return  # refused before any write (a decreasing ladder, pages_to_scan under the advisor)
    failing = None
    if fault is not None and plan.steps:
        step = plan.steps[fault[0] % len(plan.steps)]
        failing = step.name
        if fault[1] == 'short':
            host.short(failing, 1)
        elif fault[1] == 'read back':
            host.read_back(failing, wrong_read_back(step))
        elif fault[1] == 'garbage':
            host.read_back(failing, '?\n')
        else:
            host.fail(failing, fault[1])
    transaction = Transaction(detection.backend, detection, host.root, current)
    if failing is None:
        after = transaction.apply(plan)
        assert after == tunables(host)
        for name, value in plan.desired.items():
            assert detection.backend.attrs[name].kind.equivalent(value, after[name]), name
        assert [name for name, _text in host.writes] == [step.name for step in plan.steps]
        return
    with pytest.raises(ApplyError) as caught:
        transaction.apply(plan)
    assert caught.value.failed == failing
    # what differs from before is exactly what the error says was not restored
    after = host.texts()
    differing = sorted(name for name in before if after[name] != before[name] and name not in managed)
    assert differing == sorted(re.match('[a-z_]+', entry).group() for entry in caught.value.not_restored)
    for entry in caught.value.not_restored:
        assert entry in str(caught.value)
    # and the rollback never tried a write the kernel refuses
    assert [name for name, _text, outcome in host.attempts if outcome is not None and name != failing] == []


# KSM: an advisor mode change resets pages_to_scan, which ksmd owns while the advisor runs


def advisor_host(tmp_path: t.Any, monkeypatch: t.Any, mode: str) -> FakeHost:
    """A KSM 6.8 host in advisor ``mode``: pages_to_scan 300 in mode none, ksmd's 500 in scan-time."""
    texts = {
        'advisor_mode': '[none] scan-time\n' if mode == 'none' else 'none [scan-time]\n',
        'pages_to_scan': '300\n' if mode == 'none' else '500\n',
    }
    return host_for(tmp_path, monkeypatch, 'ksm', values=texts)


def test_rollback_of_an_advisor_start_brings_back_pages_to_scan(tmp_path, monkeypatch):
    host = advisor_host(tmp_path, monkeypatch, 'none')
    before = host.texts()
    plan, transaction = prepare(host, {'advisor_mode': 'scan-time', 'advisor_max_cpu': 50})
    host.fail('advisor_max_cpu', errno.EIO)
    with pytest.raises(ApplyError) as caught:
        transaction.apply(plan)
    # the kernel set pages_to_scan to advisor_min_pages_to_scan; the rollback writes 300 after mode none
    assert host.texts() == before
    assert caught.value.restored == ['advisor_mode=none', 'pages_to_scan=300']
    assert caught.value.not_restored == []


def test_rollback_of_an_advisor_stop_leaves_pages_to_scan_to_ksmd(tmp_path, monkeypatch):
    host = advisor_host(tmp_path, monkeypatch, 'scan-time')
    before = host.texts()
    plan, transaction = prepare(host, {'advisor_mode': 'none', 'pages_to_scan': 200, 'sleep_millisecs': 50})
    host.fail('sleep_millisecs', errno.EIO)
    with pytest.raises(ApplyError) as caught:
        transaction.apply(plan)
    # advisor back on: pages_to_scan is ksmd's again (a write of it would be EINVAL), so none is tried
    assert host.texts() == before
    assert caught.value.restored == ['advisor_mode=scan-time']
    assert caught.value.not_restored == []
    assert [name for name, _text, _outcome in host.attempts].count('pages_to_scan') == 1


KSM_SETTINGS = {
    'advisor_mode': st.sampled_from(['none', 'scan-time']),
    'pages_to_scan': st.integers(0, 5000),
    'advisor_max_cpu': st.integers(1, 100),
    'advisor_min_pages_to_scan': st.integers(1, 1000),
    'sleep_millisecs': st.integers(0, 1000),
    'max_page_sharing': st.integers(2, 1024),
    'run': st.integers(0, 1),
}
KSM_FAULTS = st.sampled_from([errno.EINVAL, errno.EIO, errno.ENOMEM, 'short', 'read back'])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    start=st.sampled_from(['none', 'scan-time']),
    desired=st.fixed_dictionaries({}, optional=KSM_SETTINGS),
    fault=st.one_of(st.none(), st.tuples(st.integers(0, 10), KSM_FAULTS)),
)
# the advisor's start reset pages_to_scan, and a later write failed
@example(start='none', desired={'advisor_mode': 'scan-time', 'sleep_millisecs': 50}, fault=(1, errno.EIO))
def test_any_ksm_policy_ends_as_planned_or_as_before_but_for_what_it_reports(start, desired, fault):
    with tempfile.TemporaryDirectory() as root, pytest.MonkeyPatch.context() as monkeypatch:
        host = advisor_host(root, monkeypatch, start)
        host.set('pages_shared', '0\n')
        other_mode = {'none': 'none [scan-time]\n', 'scan-time': '[none] scan-time\n'}
        # with the advisor back, pages_to_scan is ksmd's (the kernel set it from the advisor's
        # minimum, and ksmd moves it from there): not drift, and never written
        check_policy_with_fault(
            host,
            desired,
            fault,
            lambda step: other_mode[step.value] if step.name == 'advisor_mode' else '1234567\n',
            managed=['pages_to_scan'] if start == 'scan-time' else [],
        )


# a sleep uksmd raised (docs/kernel-interfaces.md, section 2.5)


def test_a_read_back_that_uksmd_raised_does_not_fail_the_write_and_the_write_is_recorded(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    host.read_back('sleep_millisecs', '52\n')  # uksmd ran a batch between the write of 12 and the read
    detection = detect(host.root)
    written = WrittenValues(host.root, 'uksm')
    state = HostState(*read_attributes(detection)[:3], written=written)
    plan = make_plan(detection.backend, detection.kernel_attrs, state, {'sleep_millisecs': 12})
    after = Transaction(detection.backend, detection, host.root, state.tunables, written=written).apply(plan)
    assert after['sleep_millisecs'] == 52 and host.writes == [('sleep_millisecs', '12\n')]
    assert WrittenValues(host.root, 'uksm').get('sleep_millisecs') == 12


def test_a_read_back_above_what_uksmd_can_raise_fails_and_restores_expected_failure(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    host.read_back('sleep_millisecs', '200\n')  # 12 under full: uksmd raises it to 56 ms at most
    plan, transaction = prepare(host, {'sleep_millisecs': 12})
    with pytest.raises(ApplyError) as caught:
        transaction.apply(plan)
    assert caught.value.failed == 'sleep_millisecs' and caught.value.errno == errno.EIO
    assert "read back 200 after writing '12'" in str(caught.value)
