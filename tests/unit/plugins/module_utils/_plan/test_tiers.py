# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pressure tiers as a policy: which tiers can be used with a base, how they are persisted and read
back, and the tier in force recorded beside the host lock (which another user must not plant)."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.litevirt.uksm.plugins.module_utils._host import persist
from ansible_collections.litevirt.uksm.plugins.module_utils._host.paths import TIER_FILE
from ansible_collections.litevirt.uksm.plugins.module_utils._knobs.attributes import BACKENDS
from ansible_collections.litevirt.uksm.plugins.module_utils._plan import tiers
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.pressure import TierError
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.tiers import Tier, TierPolicy, check_levels
from ansible_collections.litevirt.uksm.tests.helpers import sysroot_tree

UKSM = BACKENDS['uksm']
KSM = BACKENDS['ksm']


def policy(*tier_settings, thresholds=(30, 10, 5, 2)):
    return TierPolicy([Tier(thresholds[n], settings) for n, settings in enumerate(tier_settings)], 5)


def test_levels_are_the_base_with_one_tier_on_top_not_cumulative():
    tiered = policy({'pages_to_scan': 1000}, {'sleep_millisecs': 10})
    base = {'run': 1, 'pages_to_scan': 100, 'sleep_millisecs': 20}
    assert tiered.level(base, None) == base
    assert tiered.level(base, 0) == {'run': 1, 'pages_to_scan': 1000, 'sleep_millisecs': 20}
    assert tiered.level(base, 1) == {'run': 1, 'pages_to_scan': 100, 'sleep_millisecs': 10}


def _in_tiers(problems, *tiers):
    """The problems as uksm_tunable words them, after checking that each is placed in the settings of
    the tier given for it (uksm_policy names the option from the place, not from the words)."""
    assert [(problem.tier, problem.in_settings) for problem in problems] == [(tier, True) for tier in tiers]
    return [str(problem) for problem in problems]


@pytest.mark.parametrize(
    'backend, base, tiered',
    [
        (KSM, {'run': 1, 'pages_to_scan': 100}, policy({'pages_to_scan': 1000}, {'pages_to_scan': 4000})),
        # the UKSM example: a governor per level resets max_cpu_percentage on the way down
        (
            UKSM,
            {'cpu_governor': 'quiet', 'run': 1},
            policy({'cpu_governor': 'medium'}, {'cpu_governor': 'full', 'max_cpu_percentage': 95}),
        ),
        (UKSM, {'cpu_governor': 'quiet', 'max_cpu_percentage': 20}, policy({'max_cpu_percentage': 50})),
    ],
    ids=['ksm-pages', 'uksm-governors', 'uksm-explicit-in-base'],
)
def test_tiers_whose_every_transition_writes_what_differs_are_accepted(backend, base, tiered):
    assert check_levels(backend, base, tiered) == []


def test_tier_setting_what_the_base_does_not_set_is_refused_naming_both():
    problems = _in_tiers(check_levels(KSM, {'run': 1}, policy({'pages_to_scan': 1000})), 0)
    assert problems == [
        'tier 0: sets pages_to_scan, which the base settings do not set, so stepping back down could not '
        'restore it; accepted: pages_to_scan in the base settings too'
    ]


def test_governed_attribute_without_a_governor_in_the_base_is_refused_with_the_hint():
    problems = _in_tiers(check_levels(UKSM, {'run': 1}, policy({'max_cpu_percentage': 50})), 0)
    assert problems == [
        'tier 0: sets max_cpu_percentage, which the base settings do not set, so stepping back down could not '
        'restore it; accepted: max_cpu_percentage in the base settings too (or a cpu_governor, whose preset sets it)'
    ]


def test_governed_attribute_under_the_same_governor_is_refused_naming_the_levels():
    """The governor is not rewritten when it does not change, so the preset would not come back."""
    problems = _in_tiers(
        check_levels(UKSM, {'cpu_governor': 'medium'}, policy({'max_cpu_percentage': 80}, {'cpu_governor': 'full'})),
        0,
    )
    assert problems == [
        'tier 0: sets max_cpu_percentage but runs the same cpu_governor (medium) as the base, where '
        "max_cpu_percentage is not set, so stepping from tier 0 to the base would keep tier 0's "
        'max_cpu_percentage; accepted: max_cpu_percentage in the base settings too, or another cpu_governor in '
        'tier 0'
    ]


def test_one_message_per_tier_names_every_level_it_cannot_be_restored_on():
    base = {'cpu_governor': 'medium', 'sleep_millisecs': 100}
    problems = _in_tiers(check_levels(UKSM, base, policy({'max_cpu_percentage': 80}, {'sleep_millisecs': 50})), 0)
    assert problems == [
        'tier 0: sets max_cpu_percentage but runs the same cpu_governor (medium) as the base and tier 1, where '
        "max_cpu_percentage is not set, so stepping from tier 0 to the base or tier 1 would keep tier 0's "
        'max_cpu_percentage; accepted: max_cpu_percentage in the base settings too, or another cpu_governor in '
        'tier 0'
    ]


@pytest.mark.parametrize(
    'backend, base, name, value',
    [
        (UKSM, {'cpu_governor': 'quiet', 'eval_intervals': '1000 500 400 100'}, 'eval_intervals', '0 0 0 0'),
        (UKSM, {'cpu_governor': 'quiet', 'cpu_ratios': '20 30 MAX/4 MAX/1'}, 'cpu_ratios', '20 40 MAX/4 MAX/1'),
        (KSM, {'merge_across_nodes': 1}, 'merge_across_nodes', 0),
        (KSM, {'max_page_sharing': 256}, 'max_page_sharing', 512),
    ],
)
def test_hazardous_attributes_are_refused_in_tiers(backend, base, name, value):
    problems = _in_tiers(check_levels(backend, base, policy({name: value})), 0)
    assert len(problems) == 1 and problems[0].startswith('tier 0: %s is not accepted in a tier (' % name)


def test_a_tier_that_sets_nothing_is_refused():
    assert _in_tiers(check_levels(KSM, {'run': 1}, policy({})), 0) == [
        'tier 0: sets nothing; accepted: at least one attribute to change under pressure'
    ]


# -- persisted sections -------------------------------------------------------------------------


def test_tiers_round_trip_through_the_policy_file_in_a_stable_order():
    tiered = TierPolicy(
        [Tier(30, {'pages_to_scan': 1000}), Tier(10, {'sleep_millisecs': 10, 'pages_to_scan': 4000})], 7
    )
    policies = tiers.replaced({'ksm': {'run': '1'}}, 'ksm', tiered)
    text = persist.render(policies)
    assert text.endswith(
        '\n[ksm]\nrun = 1\n'
        '\n[ksm pressure]\nhysteresis = 7\n'
        '\n[ksm tier 0]\navailable_below_percent = 30\npages_to_scan = 1000\n'
        '\n[ksm tier 1]\navailable_below_percent = 10\npages_to_scan = 4000\nsleep_millisecs = 10\n'
    )
    back = tiers.from_sections(persist.parse(text), 'ksm')
    assert back.describe() == {
        'hysteresis': 7,
        'tiers': [
            {'available_below_percent': 30, 'settings': {'pages_to_scan': '1000'}},
            {'available_below_percent': 10, 'settings': {'pages_to_scan': '4000', 'sleep_millisecs': '10'}},
        ],
    }


def test_replacing_tiers_keeps_the_other_backend_and_an_empty_policy_removes_them():
    policies = {
        'uksm': {'run': '1'},
        'uksm tier 0': {'available_below_percent': '30', 'run': '1'},
        'ksm': {'run': '1'},
        'ksm tier 0': {'available_below_percent': '20', 'run': '1'},
    }
    assert tiers.replaced(policies, 'uksm', TierPolicy()) == {
        'uksm': {'run': '1'},
        'ksm': {'run': '1'},
        'ksm tier 0': {'available_below_percent': '20', 'run': '1'},
    }


@pytest.mark.parametrize(
    'sections, message',
    [
        ({'ksm tier 1': {'available_below_percent': '10', 'run': '1'}}, '[ksm tier 0] is missing'),
        ({'ksm tier 0': {'run': '1'}}, '[ksm tier 0] has no available_below_percent'),
        ({'ksm tier 0': {'available_below_percent': 'x', 'run': '1'}}, "available_below_percent='x'"),
        (
            {
                'ksm tier 0': {'available_below_percent': '10', 'run': '1'},
                'ksm tier 1': {'available_below_percent': '20', 'run': '1'},
            },
            "is not below the previous tier's 10",
        ),
        ({'ksm pressure': {'hysteresis': '60'}}, 'hysteresis=60 is not accepted'),
        ({'ksm pressure': {'interval': '30'}}, '[ksm pressure]: interval is not a setting of it'),
    ],
    ids=['gap', 'no-threshold', 'threshold-text', 'increasing', 'hysteresis-range', 'unknown-name'],
)
def test_unusable_persisted_tiers_raise_naming_the_section(sections, message):
    with pytest.raises(TierError) as caught:
        tiers.from_sections(dict(sections, ksm={'run': '1'}), 'ksm')
    assert message in str(caught.value)


def test_sections_beyond_the_last_tier_number_are_refused_by_the_parser():
    with pytest.raises(persist.PolicyFileError) as caught:
        persist.parse('[ksm tier %d]\nrun = 1\n' % persist.MAX_TIERS)
    assert 'unknown section [ksm tier 8]' in str(caught.value)


# -- the tier in force --------------------------------------------------------------------------


def test_state_round_trip_and_the_base_leaves_no_file(tmp_path):
    root = str(tmp_path)
    assert tiers.read_state(root, 'uksm') is None
    tiers.write_state(root, 'uksm', 1)
    assert tiers.read_state(root, 'uksm') == 1 and tiers.read_state(root, 'ksm') is None
    status = os.stat(os.path.join(root, TIER_FILE))
    assert status.st_mode & 0o777 == 0o600
    assert os.stat(os.path.dirname(os.path.join(root, TIER_FILE))).st_mode & 0o777 == 0o700
    tiers.write_state(root, 'uksm', None)
    assert not os.path.exists(os.path.join(root, TIER_FILE))


@pytest.mark.parametrize(
    'plant',
    [
        lambda path: os.symlink('/etc/shadow', path),
        os.mkfifo,
        lambda path: sysroot_tree.put(
            os.path.dirname(os.path.dirname(path)), os.path.join('litevirt-uksm', 'tier'), 'uksm 1\n' * 50
        ),
        lambda path: sysroot_tree.put(
            os.path.dirname(os.path.dirname(path)), os.path.join('litevirt-uksm', 'tier'), 'uksm 99\n'
        ),
        lambda path: sysroot_tree.put(
            os.path.dirname(os.path.dirname(path)), os.path.join('litevirt-uksm', 'tier'), 'uksm -1\n'
        ),
    ],
    ids=['symlink', 'fifo', 'oversized', 'out-of-range', 'negative'],
)
def test_state_that_is_not_ours_reads_as_the_base(tmp_path, plant):
    root = str(tmp_path)
    directory = os.path.join(root, 'run', 'litevirt-uksm')
    os.makedirs(directory, mode=0o700)
    plant(os.path.join(directory, 'tier'))
    assert tiers.read_state(root, 'uksm') is None


def test_state_in_a_directory_another_user_could_write_reads_as_the_base(tmp_path):
    root = str(tmp_path)
    tiers.write_state(root, 'uksm', 0)
    os.chmod(os.path.join(root, 'run', 'litevirt-uksm'), 0o777)
    assert tiers.read_state(root, 'uksm') is None


@given(st.binary(max_size=80))
def test_any_state_file_reads_as_a_valid_index_or_the_base(data):
    import tempfile

    with tempfile.TemporaryDirectory() as root:
        directory = os.path.join(root, 'run', 'litevirt-uksm')
        os.makedirs(directory, mode=0o700)
        with open(os.path.join(directory, 'tier'), 'wb') as handle:
            handle.write(data)
        os.chmod(os.path.join(directory, 'tier'), 0o600)
        index = tiers.read_state(root, 'uksm')
    assert index is None or 0 <= index < persist.MAX_TIERS


@pytest.mark.parametrize('recorded, expected', [(None, None), (0, 0), (1, 1), (2, None), (7, None)])
def test_the_tier_in_force_is_the_recorded_one_while_the_policy_has_it(recorded, expected):
    # the one rule the applier, the facts, uksm_tunable and the tuner share: a recorded tier the policy
    # no longer has (the tiers were shortened since) puts the base in force
    policy = tiers.TierPolicy([tiers.Tier(30, {'run': '1'}), tiers.Tier(10, {'run': '1'})])
    assert tiers.in_force(recorded, policy) == expected
