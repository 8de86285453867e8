# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/_policy/policy_refusals.py: what uksm_policy refuses before any write, in the words of the option
the value was given in (a run that refuses: test_policy.py)."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.litevirt.uksm.plugins.module_utils._policy.policy_refusals import name_problems, tier_problems
from ansible_collections.litevirt.uksm.plugins.module_utils._policy.policy_request import request_of


def test_tier_problems_expected_failure_name_the_option_the_value_and_what_is_accepted() -> None:
    request = request_of(
        persist=False,
        pressure_interval='2',
        pressure_tiers=[{'available_below_percent': 30, 'uksm_settings': {'run': 1}}],
        option_prefix='uksm_policy_',
    )
    assert tier_problems(request, 'ksm') == [
        'uksm_policy_pressure_tiers has 1 tier(s) but uksm_policy_persist is false; accepted: uksm_policy_persist=true'
        ' (the tuner reads the tiers from the persisted policy), or no tiers',
        'uksm_policy_pressure_interval=2 is not accepted with tiers; accepted: seconds from 5 to 3600 between two'
        ' evaluations of the tuner',
        'uksm_policy_pressure_tiers[0] has no ksm_settings, and this host runs KSM; accepted: at least one attribute'
        ' to change under pressure (a mixed fleet gives every tier both uksm_settings and ksm_settings)',
    ]
    assert tier_problems(request, 'uksm')[2:] == []
    assert tier_problems(request._replace(pressure_tiers=[]), 'ksm') == []


@pytest.mark.parametrize('interval', [5, 3600, '30'])
def test_intervals_the_tuner_can_have_are_accepted(interval: t.Any) -> None:
    request = request_of(
        pressure_interval=interval, pressure_tiers=[{'available_below_percent': 30, 'ksm_settings': {'run': 1}}]
    )
    assert tier_problems(request, 'ksm') == []


def test_name_problems_expected_failure_send_the_other_interfaces_attribute_to_its_option() -> None:
    request = request_of(
        uksm_settings={'pages_to_scan': 100, 'run': 1},
        ksm_settings={'cpu_governor': 'full'},
        pressure_tiers=[{'available_below_percent': 30, 'uksm_settings': {'pages_to_scan': 4000}}],
        option_prefix='uksm_policy_',
    )
    uksm_names = 'abundant_threshold, cpu_governor, cpu_ratios, eval_intervals, max_cpu_percentage, run, '
    assert name_problems(request) == [
        'uksm_policy_uksm_settings: pages_to_scan (given 100) is a KSM attribute, not a UKSM one; accepted: '
        'pages_to_scan in uksm_policy_ksm_settings',
        "uksm_policy_ksm_settings: cpu_governor (given 'full') is a UKSM attribute, not a KSM one; accepted: "
        'cpu_governor in uksm_policy_uksm_settings',
        'uksm_policy_pressure_tiers[0].uksm_settings: pages_to_scan (given 4000) is a KSM attribute, not a UKSM '
        'one; accepted: pages_to_scan in uksm_policy_pressure_tiers[0].ksm_settings',
    ]
    misspelt = name_problems(request_of(uksm_settings={'cpu_govenor': 'medium'}))
    assert misspelt == [
        "uksm_settings: cpu_govenor (given 'medium') is not a uksm attribute (did you mean cpu_governor?); "
        'accepted: ' + uksm_names + 'sleep_millisecs, thrash_threshold'
    ]


@pytest.mark.parametrize(
    'preset, hint', [('dense', ' (did you mean density?)'), ('balance', ' (did you mean balanced?)'), ('max', '')]
)
def test_unknown_preset_expected_failure_names_the_closest_and_no_empty_choice(preset: str, hint: str) -> None:
    assert name_problems(request_of(preset=preset, option_prefix='uksm_policy_')) == [
        'uksm_policy_preset: %r is not a preset%s; accepted: density, balanced, quiet, off, or the empty string '
        'for none' % (preset, hint)
    ]
    assert name_problems(request_of(preset='')) == []


def test_misspelt_role_variable_expected_failure_names_the_closest_and_leaves_other_names_alone() -> None:
    variables = {
        'uksm_policy_stat': 'absent',  # meant state: without the check, the policy would be applied
        'uksm_policy_preset': 'quiet',
        'uksm_policy_owner': 'team-virt',  # the user's own, close to no option
        'uksm_policy_result': {'changed': False},  # what the role exported at an earlier run
    }
    request = request_of(option_prefix='uksm_policy_', caller_variables=variables)
    assert name_problems(request) == [
        "uksm_policy_stat (given 'absent') is not a uksm_policy_ variable (did you mean uksm_policy_state?); "
        'accepted: the uksm_policy_ variables the documentation lists'
    ]
    # without a prefix (the module called by itself) there are no caller variables to judge
    assert name_problems(request_of(caller_variables=variables)) == []
