# -*- coding: utf-8 -*-
# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planning: validation before any write, the kernel's order, side effects and hazard guards."""

from __future__ import annotations

import pytest

from ansible_collections.litevirt.uksm.plugins.module_utils.attributes import KSM, UKSM
from ansible_collections.litevirt.uksm.plugins.module_utils.plan import HostState, make_plan


def uksm_state(**changes):
    tunables = {name: attr.default for name, attr in UKSM.attrs.items() if attr.writable}
    tunables.update(changes)
    return HostState(tunables, {'cpu_governor': ['full', 'medium', 'low', 'quiet']}, {'pages_shared': 1200})


def ksm_state(pages_shared=0, **changes):
    tunables = {name: attr.default for name, attr in KSM.attrs.items() if attr.writable}
    tunables.update(changes)
    return HostState(tunables, {'advisor_mode': ['none', 'scan-time']}, {'pages_shared': pages_shared})


def uksm_plan(desired, state=None, **options):
    return make_plan(UKSM, list(UKSM.attrs), state or uksm_state(), desired, **options)


def ksm_plan(desired, state=None, kernel_attrs=None, **options):
    return make_plan(KSM, kernel_attrs or list(KSM.attrs), state or ksm_state(), desired, **options)


def test_nothing_to_do_when_values_match():
    plan = uksm_plan({'cpu_governor': 'full', 'run': 1, 'sleep_millisecs': '100', 'max_cpu_percentage': 95})
    assert plan.problems == [] and plan.steps == []


def test_clamped_value_is_not_a_change():
    assert uksm_plan({'max_cpu_percentage': 5}, uksm_state(max_cpu_percentage=10)).steps == []
    assert uksm_plan({'max_cpu_percentage': 100}, uksm_state(max_cpu_percentage=99)).steps == []


def test_governor_plus_overrides_in_order_over_the_preset():
    plan = uksm_plan(
        {
            'run': 0,
            'cpu_ratios': '20 30 MAX/4 MAX/2',
            'cpu_governor': 'medium',
            'max_cpu_percentage': 50,
            'sleep_millisecs': 5,
        }
    )
    assert [step.name for step in plan.steps] == ['cpu_governor', 'cpu_ratios', 'sleep_millisecs', 'run']
    # max_cpu_percentage 50 is the medium preset: the governor write sets it, no extra write
    assert plan.final['max_cpu_percentage'] == 50
    assert plan.final['cpu_ratios'] == ['20', '30', 'MAX/4', 'MAX/2']
    assert plan.steps[0].text == 'medium\n'


def test_same_governor_is_never_rewritten():
    plan = uksm_plan(
        {'cpu_governor': 'medium', 'cpu_ratios': ['20', '30', 'MAX/4', 'MAX/1']},
        uksm_state(cpu_governor='medium', max_cpu_percentage=50, cpu_ratios=['20', '30', 'MAX/4', 'MAX/1']),
    )
    assert plan.steps == []


def test_eval_intervals_matching_the_new_preset_needs_no_write():
    plan = uksm_plan({'cpu_governor': 'low', 'eval_intervals': [1500, 1000, 1000, 250]})
    assert plan.problems == [] and [step.name for step in plan.steps] == ['cpu_governor']


def test_eval_intervals_write_needs_the_opt_in():
    plan = uksm_plan({'eval_intervals': [1, 2, 3, 4], 'run': 0})
    assert plan.steps == [] and 'corrupts kernel memory' in str(plan.problems[0])
    allowed = uksm_plan({'eval_intervals': [1, 2, 3, 4]}, allow_eval_intervals=True)
    assert [step.name for step in allowed.steps] == ['eval_intervals']


def test_run_is_refused_when_uksmd_is_gone():
    state = uksm_state(run=0)
    state.daemon_running = False
    plan = uksm_plan({'run': 1}, state)
    assert plan.steps == [] and 'reboot' in str(plan.problems[0])
    # nothing to write means nothing to refuse
    assert uksm_plan({'run': 0}, state).problems == []


def test_ladder_guard_uses_the_final_max_cpu_percentage():
    plan = uksm_plan({'max_cpu_percentage': 10, 'cpu_ratios': '20 400 MAX/4 MAX/1'})
    assert plan.steps == [] and 'decreasing' in str(plan.problems[0])


def test_sleep_millisecs_rounded_by_the_kernel_is_not_a_change():
    assert uksm_plan({'sleep_millisecs': 5}, uksm_state(sleep_millisecs=8)).steps == []


@pytest.mark.parametrize(
    'desired, fragment',
    [
        ({'cpu_gov': 'full'}, 'did you mean cpu_governor'),
        ({'pages_shared': 1}, 'read-only statistic'),
        ({'run': True}, 'boolean'),
        ({'run': 2}, 'out of range'),
        ({'sleep_millisecs': 1001}, 'out of range'),
        ({'max_cpu_percentage': -1}, 'out of range'),
        ({'cpu_governor': 'full [medium]'}, 'bare name'),
        ({'cpu_governor': 'turbo'}, 'not offered'),
        ({'cpu_ratios': '20 40 MAX/4 10000'}, 'kill uksmd'),
        ({'cpu_ratios': '20 40 MAX/4'}, 'instead of 4'),
        ({'abundant_threshold': 100}, 'out of range'),
        ({'thrash_threshold': 'lots'}, 'not a decimal'),
        ({'eval_intervals': [1, 2, 3, 2**32]}, 'truncate'),
    ],
)
def test_uksm_bad_input(desired, fragment):
    plan = uksm_plan(desired)
    assert plan.steps == []
    message = str(plan.problems[0])
    assert fragment in message
    name = list(desired)[0]
    assert message.startswith(name) and 'accepted' in message


def test_every_invalid_setting_is_reported():
    plan = uksm_plan({'run': 5, 'sleep_millisecs': -3, 'abundant_threshold': 10, 'bogus': 1})
    assert sorted(problem.name for problem in plan.problems) == ['bogus', 'run', 'sleep_millisecs']
    assert plan.steps == []


def test_ksm_order_and_advisor_side_effect():
    plan = ksm_plan({'run': 1, 'advisor_mode': 'scan-time', 'advisor_max_cpu': 50, 'sleep_millisecs': 50})
    assert [step.name for step in plan.steps] == ['advisor_mode', 'advisor_max_cpu', 'sleep_millisecs', 'run']
    assert plan.final['pages_to_scan'] == 500


@pytest.mark.parametrize(
    'desired, fragment, options',
    [
        ({'advisor_mode': 'scan-time', 'pages_to_scan': 300}, 'managed by ksmd', {}),
        ({'merge_across_nodes': 0}, 'EBUSY', {'state': ksm_state(pages_shared=10)}),
        ({'max_page_sharing': 1}, 'out of range', {}),
        ({'advisor_target_scan_time': 0}, 'out of range', {}),
        ({'use_zero_pages': 'maybe'}, 'not a decimal', {}),
        ({'run': 3}, 'out of range', {}),
        ({'smart_scan': 1}, 'does not exist on this kernel', {'kernel_attrs': ['run', 'pages_to_scan']}),
        ({'hash_strength': 1}, 'not a ksm attribute', {}),
    ],
)
def test_ksm_bad_input(desired, fragment, options):
    plan = ksm_plan(desired, **options)
    assert plan.steps == [] and fragment in ' '.join(str(problem) for problem in plan.problems)


def test_ksm_unmerge_opt_in_allows_the_change():
    plan = ksm_plan({'merge_across_nodes': 0}, ksm_state(pages_shared=10), allow_unmerge=True)
    assert [step.name for step in plan.steps] == ['merge_across_nodes']
    # writing the current value never fails, so it is never a problem
    assert ksm_plan({'merge_across_nodes': True}, ksm_state(pages_shared=10)).problems == []
