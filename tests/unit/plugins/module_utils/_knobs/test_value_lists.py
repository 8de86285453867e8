# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""UKSM's list kinds (cpu_ratios, eval_intervals): rejection of bad input, kernel quirks, round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.litevirt.uksm.plugins.module_utils._knobs.value_kinds import (
    KMALLOC_SIZES,
    UINT_MAX,
    KnobValueError,
)
from ansible_collections.litevirt.uksm.plugins.module_utils._knobs.value_lists import IntervalList, RatioLadder

LADDER = RatioLadder()
INTERVALS = IntervalList()


@pytest.mark.parametrize(
    'value',
    [
        '20 40 MAX/4',
        '20 40 MAX/4 MAX/1 5',
        '20 40 MAX/4 10000',
        '0 40 MAX/4 MAX/1',
        '20 40 MAX/0 MAX/1',
        '20 40 MAX/10001 MAX/1',
        '20 -40 MAX/4 MAX/1',
        '20 4x MAX/4 MAX/1',
        'max/4 40 MAX/4 MAX/1',
        [20, True, 'MAX/4', 'MAX/1'],
        42,
    ],
)
def test_cpu_ratios_rejects(value):
    with pytest.raises(KnobValueError):
        LADDER.coerce(value)


def test_cpu_ratios_ladder_guard():
    LADDER.check_ladder(['20', '40', 'MAX/4', 'MAX/1'], 95)
    with pytest.raises(KnobValueError) as caught:
        LADDER.check_ladder(['20', '400', 'MAX/4', 'MAX/1'], 10)
    assert 'decreasing' in str(caught.value)


def test_cpu_ratios_never_written_with_a_kmalloc_size():
    # "1 2 3 4\n" is 8 bytes and "MAX/100 MAX/1000 MAX/1000 MAX/1\n" 32: both kmalloc sizes
    text = LADDER.format(['1', '2', '3', '4'])
    assert len(text) not in KMALLOC_SIZES
    assert text == '+1 2 3 4\n'
    assert LADDER.format(['MAX/100', 'MAX/1000', 'MAX/1000', 'MAX/1']) == 'MAX/+100 MAX/1000 MAX/1000 MAX/1\n'


@pytest.mark.parametrize('value', ['1 2 3', [1, 2, 3, -1], [1, 2, 3, UINT_MAX + 1], [1, 2, 3, 'x'], [1, 2, 3, False]])
def test_eval_intervals_rejects(value):
    with pytest.raises(KnobValueError):
        INTERVALS.coerce(value)


RUNG = st.one_of(st.integers(1, 9999).map(str), st.integers(1, 10000).map(lambda n: 'MAX/%d' % n))


@given(st.lists(RUNG, min_size=4, max_size=4))
def test_ladder_round_trip_and_idempotent_normalisation(rungs):
    value = LADDER.coerce(rungs)
    text = LADDER.format(value)
    assert len(text) not in KMALLOC_SIZES
    assert text.endswith('\n') and not text.endswith(' \n')
    # the kernel accepts the padded form; what it means is the same ladder
    assert LADDER.normalise(LADDER.coerce(text.replace('+', ''))) == LADDER.normalise(value)
    once = LADDER.normalise(value)
    assert LADDER.normalise(once) == once
    # what the kernel prints back (with its trailing space) parses to the normalised value
    assert LADDER.parse(' '.join(once) + ' \n') == once


@given(st.lists(st.integers(0, UINT_MAX), min_size=4, max_size=4))
def test_intervals_round_trip(values):
    assert INTERVALS.parse(INTERVALS.format(INTERVALS.coerce(values))) == values
