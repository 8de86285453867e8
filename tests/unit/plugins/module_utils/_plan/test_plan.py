# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planning: validation before any write, the kernel's order, side effects and hazard guards."""

from __future__ import annotations

import pytest

from ansible_collections.litevirt.uksm.plugins.module_utils._knobs.attributes import KSM, UKSM
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.plan import (
    HostState,
    drift,
    make_plan,
    planning_stats,
    raise_needs,
)


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
        ({'hash_strength': 1}, 'hash_strength (given 1) is a UKSM attribute, not a KSM one; accepted: ', {}),
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


class Record:
    """What the collection wrote since boot (written_values.WrittenValues), without a file."""

    def __init__(self, **values):
        self.values = values

    def get(self, name):
        return self.values.get(name)


def raised_state(sleep, ema=624, **written):
    state = uksm_state(sleep_millisecs=sleep)
    state.stats['ema_per_page_time'] = ema
    state.written = Record(**written)
    return state


def test_a_sleep_uksmd_raised_from_the_policy_is_not_written_again():
    assert uksm_plan({'sleep_millisecs': 12}, raised_state(52, sleep_millisecs=12)).steps == []
    assert uksm_plan({'sleep_millisecs': 12}, raised_state(52, ema=90000)).steps == []


def test_a_sleep_in_the_band_of_a_raise_without_evidence_is_written():
    # the default 100 after a boot, under quiet (rung 0: 10, which can raise 40 up to 104)
    state = raised_state(100)
    state.tunables.update(cpu_governor='quiet', cpu_ratios=['10', '20', '40', '75'], max_cpu_percentage=1)
    assert [(step.name, step.text) for step in uksm_plan({'sleep_millisecs': 40}, state).steps] == [
        ('sleep_millisecs', '40\n')
    ]


def test_a_raise_is_judged_at_the_rung_0_the_plan_leaves():
    # 104 is a raise of 40 under quiet, not under full (whose bound is 56): the governor write comes first
    state = raised_state(104, sleep_millisecs=40)
    state.tunables.update(cpu_governor='quiet', cpu_ratios=['10', '20', '40', '75'], max_cpu_percentage=1)
    assert uksm_plan({'sleep_millisecs': 40}, state).steps == []
    steps = uksm_plan({'cpu_governor': 'full', 'sleep_millisecs': 40}, state).steps
    assert [step.name for step in steps] == ['cpu_governor', 'sleep_millisecs']


def test_drift_names_a_raise_beside_the_drift_not_in_it():
    state = raised_state(52, ema=8000, sleep_millisecs=12)
    state.tunables['thrash_threshold'] = 30
    names, problems, raised = drift(UKSM, list(UKSM.attrs), state, {'sleep_millisecs': 12, 'thrash_threshold': 50})
    assert names == ['thrash_threshold'] and problems == []
    assert list(raised) == ['sleep_millisecs'] and raised['sleep_millisecs']['live'] == 52
    assert 'ema_per_page_time reads 8000 now' in raised['sleep_millisecs']['reason']
    # 200 by hand over the same policy is drift
    state.tunables['sleep_millisecs'] = 200
    assert drift(UKSM, list(UKSM.attrs), state, {'sleep_millisecs': 12})[0] == ['sleep_millisecs']


def test_the_planner_reads_the_per_page_cost_a_raise_is_judged_with():
    assert planning_stats(UKSM) == ('ema_per_page_time',)
    assert planning_stats(KSM) == ('pages_shared',)
    assert raise_needs(UKSM, ['sleep_millisecs', 'run']) == {'cpu_ratios', 'max_cpu_percentage', 'ema_per_page_time'}
    assert raise_needs(KSM, ['sleep_millisecs', 'unknown']) == set()
