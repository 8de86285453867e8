# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Memory pressure tiers: availability from /proc/meminfo, threshold checks, and the choice with hysteresis."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.litevirt.uksm.plugins.module_utils._plan.pressure import (
    TierError,
    available_percent,
    check_thresholds,
    choose_tier,
)

MEMINFO = 'MemTotal:       16000000 kB\nMemFree:         1000000 kB\nMemAvailable:    4000000 kB\nCached: 5 kB\n'
TIERS = [30, 10]  # the example of the role README: below 30 %, below 10 %


def test_availability_is_memavailable_over_memtotal():
    assert available_percent(MEMINFO) == 25.0


@pytest.mark.parametrize(
    'text',
    [
        '',
        'MemTotal:       16000000 kB\n',  # a kernel before 3.14 has no MemAvailable
        'MemTotal:              0 kB\nMemAvailable:  5 kB\n',
        'MemTotal:       16000000 kB\nMemAvailable:   -5 kB\n',
        'MemTotal:       16000000 MB\nMemAvailable:    5 MB\n',
    ],
    ids=['empty', 'no-memavailable', 'zero-total', 'negative', 'other-unit'],
)
def test_availability_without_usable_lines_is_none(text):
    assert available_percent(text) is None


def test_availability_never_exceeds_100_percent():
    assert available_percent('MemTotal: 100 kB\nMemAvailable: 150 kB\n') == 100.0


@given(st.text(max_size=400))
def test_availability_of_any_text_is_none_or_a_percentage(text):
    result = available_percent(text)
    assert result is None or 0.0 <= result <= 100.0


def test_thresholds_are_checked_and_kept():
    assert check_thresholds([30, 10]) == [30, 10]
    assert check_thresholds([]) == []


@pytest.mark.parametrize(
    'thresholds, message',
    [
        ([0], 'tier 0: available_below_percent=0 is not accepted; accepted: a whole number from 1 to 99'),
        ([30, 100], 'tier 1: available_below_percent=100 is not accepted'),
        ([30, True], 'tier 1: available_below_percent=True is not accepted'),
        (['30'], "tier 0: available_below_percent='30' is not accepted"),
        ([10, 30], "tier 1: available_below_percent=30 is not below the previous tier's 10"),
        ([30, 30], "tier 1: available_below_percent=30 is not below the previous tier's 30"),
    ],
)
def test_thresholds_out_of_range_or_not_decreasing_are_refused(thresholds, message):
    with pytest.raises(TierError) as caught:
        check_thresholds(thresholds)
    assert message in str(caught.value)
    # the place travels with the problem: the tier named in the message, and its threshold, not its settings
    problem = caught.value.problem
    assert (problem.tier, problem.in_settings) == (int(message.split()[1].rstrip(':')), False)
    assert str(problem) == str(caught.value)


@pytest.mark.parametrize(
    'available, current, expected',
    [
        (50.0, None, None),  # plenty: the base
        (29.9, None, 0),  # below 30: up to the first tier at once
        (9.0, None, 1),  # below 10: straight to the deepest
        (9.0, 0, 1),
        (31.0, 0, 0),  # back above 30 but not past 30 + 5: stay
        (35.0, 0, None),  # past the hysteresis: down to the base
        (12.0, 1, 1),  # above 10 but below 15: stay
        (15.0, 1, 0),  # past 10 + 5, not past 30 + 5: one tier down
        (40.0, 1, None),  # past both: down to the base in one evaluation
        (25.0, 1, 0),
    ],
)
def test_choose_tier_steps_up_at_once_and_down_past_the_hysteresis(available, current, expected):
    assert choose_tier(available, TIERS, current, 5) == expected


def test_choose_tier_with_fewer_tiers_than_the_one_in_force_starts_from_the_deepest_left():
    assert choose_tier(20.0, [30], 3, 5) == 0
    assert choose_tier(50.0, [], 2, 5) is None


THRESHOLDS = st.lists(st.integers(1, 99), unique=True, max_size=5).map(lambda values: sorted(values, reverse=True))


@settings(max_examples=300, deadline=None)
@given(
    THRESHOLDS,
    st.floats(0, 100, allow_nan=False),
    st.integers(-1, 5),
    st.integers(0, 20),
)
def test_choose_tier_properties(thresholds, available, current_index, hysteresis):
    current = None if current_index < 0 or current_index >= len(thresholds) else current_index
    chosen = choose_tier(available, thresholds, current, hysteresis)
    level = -1 if chosen is None else chosen
    pressed = [index for index, threshold in enumerate(thresholds) if available < threshold]
    # never below the tier the pressure calls for
    assert level >= (max(pressed) if pressed else -1)
    # never above the deeper of that tier and the one in force: no step up without pressure
    assert level <= max(max(pressed) if pressed else -1, -1 if current is None else current)
    # a tier left behind is left only past its threshold plus the hysteresis
    if current is not None and level < current:
        assert all(available >= thresholds[index] + hysteresis for index in range(level + 1, current + 1))
    # the same measurement again changes nothing: no flapping
    assert choose_tier(available, thresholds, chosen, hysteresis) == chosen
