# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""uksm_tunable run in-process on plain file trees: the argument spec's refusals, sysroot and backend,
check mode and diff, the documented result keys, and every error as one fail_json with its details.

The trees are regular files, which keep no side effects and are not truncated by a write: a real run
here only changes values to ones at least as long, on KSM (no governor presets to emulate).
"""

from __future__ import annotations

import errno
import os

import pytest
import yaml

from ansible_collections.litevirt.uksm.plugins.module_utils._host import persist
from ansible_collections.litevirt.uksm.plugins.module_utils._host.lock import HostLock
from ansible_collections.litevirt.uksm.plugins.module_utils._knobs.attributes import KSM
from ansible_collections.litevirt.uksm.plugins.module_utils._plan import tunable
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.transaction import ApplyError
from ansible_collections.litevirt.uksm.plugins.module_utils.errors import UksmError
from ansible_collections.litevirt.uksm.plugins.modules import uksm_tunable
from ansible_collections.litevirt.uksm.tests.helpers import sysroot_tree
from ansible_collections.litevirt.uksm.tests.helpers.module_run import exits, fails
from ansible_collections.litevirt.uksm.tests.helpers.tree_snapshot import snapshot

RETURNED = yaml.safe_load(uksm_tunable.RETURN)
KSM_DIR = 'sys/kernel/mm/ksm'
POLICY = 'etc/litevirt-uksm/policy.conf'
TUNABLES = ', '.join(sorted(KSM.writable))


@pytest.fixture
def ksm_root(tmp_path):
    root = str(tmp_path / 'hv01')
    sysroot_tree.ksm(root)
    return root


@pytest.fixture
def uksm_root(tmp_path):
    root = str(tmp_path / 'hv02')
    sysroot_tree.uksm(root)
    sysroot_tree.process(root, 17, 'uksmd')
    return root


def _value(root, name):
    return sysroot_tree.read(root, '%s/%s' % (KSM_DIR, name))


# -- the argument spec ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    'args, message',
    [
        ({}, 'one of the following is required: settings, name, preset'),
        (
            {'settings': {'run': 1}, 'name': 'run', 'value': 1},
            'parameters are mutually exclusive: settings|name',
        ),
        ({'name': 'run'}, 'parameters are required together: name, value'),
        ({'value': 1, 'preset': 'quiet'}, 'parameters are required together: name, value'),
        ({'state': 'absent', 'preset': 'off'}, 'state is absent but any of the following are missing: settings, name'),
        ({'preset': 'turbo'}, 'value of preset must be one of: density, balanced, quiet, off, got: turbo'),
        ({'settings': {'run': 1}, 'state': 'latest'}, 'value of state must be one of: present, absent, got: latest'),
        ({'settings': {'run': 1}, 'backend': 'zswap'}, 'value of backend must be one of: auto, uksm, ksm, got: zswap'),
    ],
)
def test_invalid_combinations_and_choices_are_refused_by_the_argument_spec(ksm_root, args, message):
    before = snapshot(ksm_root)
    assert fails(uksm_tunable.main, dict(args, sysroot=ksm_root))['msg'] == message
    assert snapshot(ksm_root) == before


@pytest.mark.parametrize(
    'option, value',
    [
        ('settings', 'run=1 pages_to_scan'),  # not a dict, nor key=value pairs all through
        ('persist', 'sometimes'),
        ('allow_unmerge', 'perhaps'),
        ('lock_timeout', 'soon'),
        ('settings', ['run', 1]),
    ],
)
def test_values_of_the_wrong_type_are_refused_by_the_argument_spec(ksm_root, option, value):
    args = {'settings': {'run': 1}} if option != 'settings' else {}
    failure = fails(uksm_tunable.main, dict(args, sysroot=ksm_root, **{option: value}))
    assert option in failure['msg']
    assert _value(ksm_root, 'run') == '0\n'


def test_an_unknown_option_is_refused(ksm_root):
    failure = fails(uksm_tunable.main, {'sysroot': ksm_root, 'settings': {'run': 1}, 'values': {'run': 1}})
    assert failure['msg'].startswith('Unsupported parameters for') and 'values' in failure['msg']


def test_preset_with_state_absent_is_refused_by_the_module(ksm_root):
    failure = fails(
        uksm_tunable.main, {'sysroot': ksm_root, 'state': 'absent', 'preset': 'off', 'name': 'run', 'value': 0}
    )
    assert failure == {'msg': 'preset is only for state=present; list the attributes to forget in settings'}


def test_relative_sysroot_fails_with_the_reason(ksm_root, monkeypatch):
    monkeypatch.chdir(os.path.dirname(ksm_root))
    failure = fails(uksm_tunable.main, {'sysroot': 'hv01', 'settings': {'run': 1}})
    assert failure == {'msg': "sysroot must be an absolute path, got 'hv01'"}


# -- check mode, diff and the result --------------------------------------------------------------


def test_check_mode_predicts_the_change_and_writes_nothing(ksm_root):
    before = snapshot(ksm_root)
    result = exits(
        uksm_tunable.main, {'sysroot': ksm_root, 'settings': {'sleep_millisecs': 50, 'run': 1}}, check_mode=True
    )
    assert snapshot(ksm_root) == before  # no write, no lock file, no policy
    assert result == {
        'changed': True,
        'backend': 'ksm',
        'settings': {'sleep_millisecs': 50, 'run': 1},
        'changes': [
            {'name': 'sleep_millisecs', 'before': 20, 'after': 50, 'cause': 'requested'},
            {'name': 'run', 'before': 0, 'after': 1, 'cause': 'requested'},
        ],
        'msg': '2 requested, 2 changed',
        'raised_by_kernel': {},
    }


def test_check_mode_with_persist_writes_no_policy_but_shows_it_in_the_diff(ksm_root):
    before = snapshot(ksm_root)
    result = exits(
        uksm_tunable.main,
        {'sysroot': ksm_root, 'settings': {'sleep_millisecs': '50'}, 'persist': True},
        check_mode=True,
        diff=True,
    )
    assert snapshot(ksm_root) == before
    assert result['changed'] is True and result['policy_file'] == os.path.join(ksm_root, POLICY)
    live, policy = result['diff']
    assert live == {
        'before': {'sleep_millisecs': 20},
        'after': {'sleep_millisecs': 50},
        'before_header': '/sys/kernel/mm/ksm',
        'after_header': '/sys/kernel/mm/ksm',
    }
    assert policy['before'] == '' and policy['after'] == persist.render({'ksm': {'sleep_millisecs': '50'}})


def test_a_run_writes_reads_back_and_is_then_idempotent(ksm_root):
    args = {'sysroot': ksm_root, 'settings': {'sleep_millisecs': 50, 'pages_to_scan': '1000'}}
    result = exits(uksm_tunable.main, args)
    assert result['changed'] is True
    assert result['settings'] == {'pages_to_scan': 1000, 'sleep_millisecs': 50}  # in write order, typed
    assert [change['name'] for change in result['changes']] == ['pages_to_scan', 'sleep_millisecs']
    assert 'diff' not in result and 'policy_file' not in result
    assert set(result) <= set(RETURNED) | {'changed', 'msg'}
    assert _value(ksm_root, 'sleep_millisecs') == '50\n' and _value(ksm_root, 'pages_to_scan') == '1000\n'
    # the lock was taken and released: root's directory, nobody holds it
    assert os.listdir(os.path.join(ksm_root, 'run/litevirt-uksm')) == ['lock']
    again = exits(uksm_tunable.main, args)
    assert again == {
        'changed': False,
        'backend': 'ksm',
        'settings': {'pages_to_scan': 1000, 'sleep_millisecs': 50},
        'changes': [],
        'msg': '2 requested, 0 changed: all already set',
        'raised_by_kernel': {},
    }


def test_name_and_value_set_one_attribute(ksm_root):
    result = exits(uksm_tunable.main, {'sysroot': ksm_root, 'name': 'run', 'value': '1'})
    assert result['settings'] == {'run': 1} and result['changes'] == [
        {'name': 'run', 'before': 0, 'after': 1, 'cause': 'requested'}
    ]
    assert _value(ksm_root, 'run') == '1\n'


def test_preset_is_expanded_for_the_detected_backend_and_settings_override_it(ksm_root):
    result = exits(
        uksm_tunable.main,
        {'sysroot': ksm_root, 'preset': 'quiet', 'settings': {'sleep_millisecs': 500}},
        check_mode=True,
    )
    assert result['settings'] == {'advisor_mode': 'none', 'pages_to_scan': 100, 'sleep_millisecs': 500, 'run': 1}
    assert [change['name'] for change in result['changes']] == ['sleep_millisecs', 'run']


def test_preset_skips_what_an_old_kernel_lacks(tmp_path):
    root = str(tmp_path)
    sysroot_tree.ksm_old(root)
    result = exits(uksm_tunable.main, {'sysroot': root, 'preset': 'density'}, check_mode=True)
    assert result['settings'] == {'pages_to_scan': 1000, 'sleep_millisecs': 20, 'use_zero_pages': 1, 'run': 1}


def test_governor_change_in_check_mode_predicts_the_preset_it_installs(uksm_root):
    result = exits(uksm_tunable.main, {'sysroot': uksm_root, 'settings': {'cpu_governor': 'quiet'}}, check_mode=True)
    assert result['backend'] == 'uksm' and result['changed'] is True
    assert result['changes'] == [
        {'name': 'cpu_governor', 'before': 'full', 'after': 'quiet', 'cause': 'requested'},
        {'name': 'max_cpu_percentage', 'before': 95, 'after': 1, 'cause': 'reset by cpu_governor'},
        {
            'name': 'cpu_ratios',
            'before': ['20', '40', 'MAX/4', 'MAX/1'],
            'after': ['10', '20', '40', '75'],
            'cause': 'reset by cpu_governor',
        },
        {
            'name': 'eval_intervals',
            'before': [1000, 500, 200, 50],
            'after': [2000, 1000, 1000, 1000],
            'cause': 'reset by cpu_governor',
        },
    ]
    assert (
        result['msg'] == '1 requested, 4 changed: cpu_governor reset max_cpu_percentage, cpu_ratios and eval_intervals'
    )


def test_persist_records_the_settings_and_state_absent_forgets_them(ksm_root):
    result = exits(
        uksm_tunable.main, {'sysroot': ksm_root, 'settings': {'sleep_millisecs': 50, 'run': 1}, 'persist': True}
    )
    assert result['changed'] is True and result['policy_file'] == os.path.join(ksm_root, POLICY)
    assert persist.load(ksm_root)[0] == {'ksm': {'sleep_millisecs': '50', 'run': '1'}}
    # the live values already hold: persisting again changes nothing
    assert (
        exits(uksm_tunable.main, {'sysroot': ksm_root, 'name': 'run', 'value': 1, 'persist': True})['changed'] is False
    )
    forgotten = exits(uksm_tunable.main, {'sysroot': ksm_root, 'state': 'absent', 'settings': {'run': None}}, diff=True)
    assert forgotten['changed'] is True and forgotten['backend'] == 'ksm'
    assert forgotten['diff'][0]['after'] == persist.render({'ksm': {'sleep_millisecs': '50'}})
    assert persist.load(ksm_root)[0] == {'ksm': {'sleep_millisecs': '50'}}
    assert _value(ksm_root, 'run') == '1\n'  # absent leaves the live value alone


def test_state_absent_in_check_mode_keeps_the_policy(ksm_root):
    persist.save(ksm_root, persist.render({'ksm': {'run': '1'}}))
    before = snapshot(ksm_root)
    result = exits(
        uksm_tunable.main, {'sysroot': ksm_root, 'state': 'absent', 'name': 'run', 'value': 1}, check_mode=True
    )
    assert result['changed'] is True and snapshot(ksm_root) == before


def test_state_absent_on_a_host_without_an_interface_needs_a_backend(tmp_path):
    root = str(tmp_path)
    failure = fails(uksm_tunable.main, {'sysroot': root, 'state': 'absent', 'settings': {'run': 1}})
    assert failure['msg'].startswith('no UKSM or KSM interface to record the policy for (')
    assert failure['msg'].endswith('); set backend')
    result = exits(uksm_tunable.main, {'sysroot': root, 'state': 'absent', 'settings': {'run': 1}, 'backend': 'uksm'})
    assert result['changed'] is False and result['backend'] == 'uksm'


def test_explicit_backend_the_kernel_lacks_fails_naming_what_it_has_expected_failure(ksm_root):
    failure = fails(uksm_tunable.main, {'sysroot': ksm_root, 'backend': 'uksm', 'settings': {'run': 1}})
    assert failure == {
        'msg': 'backend=uksm: /sys/kernel/mm/uksm does not exist on this host; it has KSM (backend: auto or ksm)'
    }


# -- errors of the run as one fail_json -----------------------------------------------------------


def test_invalid_settings_fail_with_every_problem_and_write_nothing(ksm_root):
    sysfs_before = snapshot(os.path.join(ksm_root, 'sys'))
    failure = fails(
        uksm_tunable.main,
        {'sysroot': ksm_root, 'settings': {'run': 7, 'sleep_milisecs': 10, 'pages_shared': 1, 'use_zero_pages': 'x'}},
    )
    assert set(failure) == {'msg', 'problems'}
    assert failure['problems'] == [
        "run: 7 is out of range; accepted: an integer from 0 to 2",
        'sleep_milisecs (given 10) is not a ksm attribute (did you mean sleep_millisecs?); accepted: ' + TUNABLES,
        'pages_shared: 1 is a read-only statistic; accepted: a tunable: ' + TUNABLES,
        "use_zero_pages: 'x' is not a decimal integer; accepted: 0 or 1 (true or false)",
    ]
    assert failure['msg'] == '4 invalid setting(s), nothing was written: ' + ' | '.join(failure['problems'])
    assert snapshot(os.path.join(ksm_root, 'sys')) == sysfs_before


def test_eval_intervals_without_the_opt_in_is_refused(uksm_root):
    failure = fails(uksm_tunable.main, {'sysroot': uksm_root, 'settings': {'eval_intervals': '1000 500 400 100'}})
    assert failure['msg'].startswith('1 invalid setting(s), nothing was written: eval_intervals: ')
    assert 'corrupts kernel memory' in failure['msg']
    result = exits(
        uksm_tunable.main,
        {
            'sysroot': uksm_root,
            'settings': {'eval_intervals': '1000 500 400 100'},
            'allow_eval_intervals_memory_corruption': True,
        },
        check_mode=True,
    )
    assert result['settings'] == {'eval_intervals': [1000, 500, 400, 100]}


def test_a_lock_held_longer_than_lock_timeout_fails_naming_the_holder(ksm_root):
    with HostLock(ksm_root, timeout=1):
        failure = fails(uksm_tunable.main, {'sysroot': ksm_root, 'settings': {'run': 1}, 'lock_timeout': 0.1})
    assert failure == {
        'msg': '/run/litevirt-uksm/lock is held by another writer (pid %d) for more than 0.1s' % os.getpid()
    }
    assert _value(ksm_root, 'run') == '0\n'


def test_an_unreadable_value_fails_before_anything_is_written(ksm_root):
    os.remove(os.path.join(ksm_root, KSM_DIR, 'pages_shared'))
    os.mkdir(os.path.join(ksm_root, KSM_DIR, 'pages_shared'))
    failure = fails(uksm_tunable.main, {'sysroot': ksm_root, 'settings': {'run': 1}})
    assert failure == {'msg': 'cannot read the current values: pages_shared: cannot read: Is a directory (errno 21)'}


def test_a_failed_write_is_one_failure_with_the_attribute_errno_and_restored(ksm_root, monkeypatch):
    def run(*_args, **_kwargs):
        raise ApplyError(
            "writing run='1' failed: EBUSY (Device or resource busy); restored: sleep_millisecs=20",
            'run',
            errno.EBUSY,
            ['sleep_millisecs=20'],
            [],
        )

    monkeypatch.setattr(tunable, 'run', run)
    assert fails(uksm_tunable.main, {'sysroot': ksm_root, 'settings': {'run': 1}}) == {
        'msg': "writing run='1' failed: EBUSY (Device or resource busy); restored: sleep_millisecs=20",
        'failed_attribute': 'run',
        'errno': errno.EBUSY,
        'restored': ['sleep_millisecs=20'],
        'not_restored': [],
    }


@pytest.mark.parametrize(
    'error, expected',
    [
        (UksmError('refused', problems=['a']), {'msg': 'refused', 'problems': ['a']}),
        (PermissionError(errno.EACCES, 'Permission denied'), {'msg': '[Errno 13] Permission denied', 'errno': 13}),
    ],
)
def test_errors_of_the_family_and_of_the_system_fail_the_task_with_their_details(
    ksm_root, monkeypatch, error, expected
):
    def run(*_args, **_kwargs):
        raise error

    monkeypatch.setattr(tunable, 'run', run)
    assert fails(uksm_tunable.main, {'sysroot': ksm_root, 'settings': {'run': 1}}) == expected


def test_options_reach_the_run_as_documented(ksm_root, monkeypatch):
    calls = []

    def run(*args, **kwargs):
        calls.append((args, kwargs))
        return {'changed': False, 'backend': 'ksm', 'changes': [], 'settings': {}, 'diff': []}

    monkeypatch.setattr(tunable, 'run', run)
    exits(
        uksm_tunable.main,
        {
            'sysroot': ksm_root + '/',
            'backend': 'ksm',
            'settings': {'run': 1},
            'persist': 'yes',
            'allow_unmerge': True,
            'allow_eval_intervals_memory_corruption': 'true',
            'lock_timeout': '2.5',
        },
        check_mode=True,
    )
    assert calls == [
        (
            (ksm_root, 'ksm', {'run': 1}),
            {
                'state': 'present',
                'persist_policy': True,
                'allow_unmerge': True,
                'allow_eval_intervals': True,
                'check_mode': True,
                'lock_timeout': 2.5,
                'preset': None,
                'pressure_tiers': None,
            },
        )
    ]


def test_a_read_back_that_does_not_parse_fails_with_a_rollback_naming_the_attribute(ksm_root):
    """A write answered by a value the model cannot parse is a read-back that disagrees: it is
    restored like a failed write, not reported as a bare parse error with the earlier writes left in place.

    Here the tree's regular file keeps the tail of the longer old value ('200\\n' overwritten by '5\\n').
    """
    sysroot_tree.ksm(ksm_root, sleep_millisecs='200\n')
    failure = fails(uksm_tunable.main, {'sysroot': ksm_root, 'settings': {'pages_to_scan': 1000, 'sleep_millisecs': 5}})
    assert failure['failed_attribute'] == 'sleep_millisecs' and failure['errno'] == errno.EIO
    assert failure['restored'] == ['pages_to_scan=100']
    assert failure['msg'].startswith(
        "writing sleep_millisecs='5' failed: EIO (expected an unsigned integer, read '5\\n0\\n'); "
        'restored: pages_to_scan=100; NOT restored: sleep_millisecs=200: EIO'
    )
    assert failure['not_restored'] == ["sleep_millisecs=200: EIO (expected an unsigned integer, read '5\\n0\\n')"]
    assert _value(ksm_root, 'pages_to_scan').split() == ['100']


# -- pressure tiers -------------------------------------------------------------------------------

KSM_TIERS = [
    {'available_below_percent': 30, 'settings': {'pages_to_scan': 1000}},
    {'available_below_percent': 10, 'settings': {'pages_to_scan': 4000}},
]


def test_pressure_tiers_are_persisted_and_the_tier_memory_calls_for_applied(ksm_root):
    sysroot_tree.meminfo(ksm_root, available_percent=20)
    result = exits(
        uksm_tunable.main,
        {
            'sysroot': ksm_root,
            'settings': {'run': 1, 'pages_to_scan': 200},
            'persist': True,
            'pressure_tiers': KSM_TIERS,
            'pressure_hysteresis': 3,
        },
    )
    assert result['pressure'] == {
        'tier': 0,
        'tier_settings': {'pages_to_scan': 1000},
        'available_percent': 20.0,
        'memory_stall': None,
    }
    assert _value(ksm_root, 'pages_to_scan') == '1000\n'
    assert sysroot_tree.read(ksm_root, POLICY).endswith(
        '[ksm]\npages_to_scan = 200\nrun = 1\n'
        '\n[ksm pressure]\nhysteresis = 3\n'
        '\n[ksm tier 0]\navailable_below_percent = 30\npages_to_scan = 1000\n'
        '\n[ksm tier 1]\navailable_below_percent = 10\npages_to_scan = 4000\n'
    )
    assert sysroot_tree.read(ksm_root, 'run/litevirt-uksm/tier') == 'ksm 0\n'
    assert set(result) <= set(RETURNED) | {'changed', 'msg'}
    assert set(result['pressure']) == set(RETURNED['pressure']['contains'])


@pytest.mark.parametrize(
    'args, message',
    [
        (
            {'pressure_tiers': KSM_TIERS},
            'pressure tiers are read by the tuner from the persisted policy; set persist=true',
        ),
        (
            {'persist': True, 'pressure_tiers': [KSM_TIERS[1], KSM_TIERS[0]]},
            "pressure tiers: tier 1: available_below_percent=30 is not below the previous tier's 10; accepted: "
            'strictly decreasing thresholds, the scarcest memory last; nothing was written',
        ),
        (
            {'persist': True, 'pressure_tiers': KSM_TIERS, 'pressure_hysteresis': 90},
            'pressure tiers: hysteresis=90 is not accepted; accepted: a whole number of percent points from 0 to '
            '50; nothing was written',
        ),
        (
            {'persist': True, 'pressure_tiers': [{'available_below_percent': 30}]},
            'missing required arguments: settings found in pressure_tiers',
        ),
        (
            {'persist': True, 'pressure_tiers': [{'available_below_percent': 30, 'settings': {'sleep_millisecs': 5}}]},
            '1 invalid setting(s), nothing was written: tier 0: sets sleep_millisecs, which the base settings do not '
            'set, so stepping back down could not restore it; accepted: sleep_millisecs in the base settings too',
        ),
        (
            {
                'persist': True,
                'pressure_tiers': [{'available_below_percent': 30, 'settings': {'pages_to_scan': 'lots'}}],
            },
            "1 invalid setting(s), nothing was written: tier 0: pages_to_scan: 'lots' ",
        ),
        (
            {'state': 'absent', 'pressure_tiers': []},
            'pressure_tiers is only for state=present; an empty list removes the tiers',
        ),
    ],
    ids=['no-persist', 'increasing', 'hysteresis', 'no-settings', 'base-lacks-it', 'bad-value', 'absent'],
)
def test_unusable_pressure_tiers_are_refused_before_any_write_expected_failure(ksm_root, args, message):
    sysroot_tree.meminfo(ksm_root, available_percent=5)
    before = snapshot(os.path.join(ksm_root, 'sys'))
    failure = fails(uksm_tunable.main, dict(args, sysroot=ksm_root, settings={'run': 1, 'pages_to_scan': 200}))
    assert failure['msg'].startswith(message)
    assert snapshot(os.path.join(ksm_root, 'sys')) == before
    assert not os.path.exists(os.path.join(ksm_root, POLICY))
    assert not os.path.exists(os.path.join(ksm_root, 'run/litevirt-uksm/tier'))


def test_check_mode_with_tiers_predicts_the_tier_and_writes_nothing(ksm_root):
    sysroot_tree.meminfo(ksm_root, available_percent=5)
    before = snapshot(ksm_root)
    result = exits(
        uksm_tunable.main,
        {'sysroot': ksm_root, 'settings': {'pages_to_scan': 200}, 'persist': True, 'pressure_tiers': KSM_TIERS},
        check_mode=True,
    )
    assert result['changed'] is True and result['pressure']['tier'] == 1
    assert result['changes'] == [{'name': 'pages_to_scan', 'before': 100, 'after': 4000, 'cause': 'requested'}]
    assert snapshot(ksm_root) == before
