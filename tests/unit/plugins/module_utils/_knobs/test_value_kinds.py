# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Value kinds: rejection of bad input, kernel quirks, and round-trip properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.litevirt.uksm.plugins.module_utils._knobs.attributes import KSM, UKSM
from ansible_collections.litevirt.uksm.plugins.module_utils._knobs.value_kinds import (
    SUPPORTED_HZ,
    Choice,
    KernelFormatError,
    KnobValueError,
    Unsigned,
    is_decimal,
    jiffies_round_trip,
)

GOVERNOR = UKSM.attrs['cpu_governor'].kind
SLEEP = UKSM.attrs['sleep_millisecs'].kind
MAX_CPU = UKSM.attrs['max_cpu_percentage'].kind


@pytest.mark.parametrize(
    'msecs, hz, expected',
    [
        (100, 250, 100),
        (5, 250, 8),
        (1, 250, 4),
        (0, 250, 0),
        (5, 100, 10),
        (1, 300, 4),
        (7, 1000, 7),
    ],
)
def test_jiffies_round_trip(msecs, hz, expected):
    assert jiffies_round_trip(msecs, hz) == expected


def test_sleep_millisecs_read_back_at_any_hz_is_equivalent():
    for hz in SUPPORTED_HZ:
        assert SLEEP.equivalent(5, jiffies_round_trip(5, hz))
    assert not SLEEP.equivalent(5, 12)
    assert not SLEEP.equivalent(100, 104)


@pytest.mark.parametrize('written, stored', [(0, 10), (9, 10), (10, 10), (50, 50), (99, 99), (100, 99)])
def test_max_cpu_percentage_clamps(written, stored):
    assert MAX_CPU.normalise(MAX_CPU.coerce(written)) == stored


@pytest.mark.parametrize(
    'value, why',
    [
        (True, 'boolean'),
        ('yes', 'decimal'),
        (1.5, 'whole'),
        ('-1', 'range'),
        (1001, 'range'),
        (None, 'number'),
    ],
)
def test_unsigned_rejects(value, why):
    with pytest.raises(KnobValueError) as caught:
        SLEEP.coerce(value)
    assert why in str(caught.value) + caught.value.accepted
    assert '0 to 1000' in caught.value.accepted


def test_ksm_run_masks_hot_remove_bits():
    assert KSM.attrs['run'].kind.parse('6\n') == 2


def test_governor_parse_and_choices():
    assert GOVERNOR.parse_all('full [medium] low quiet \n') == ('medium', ['full', 'medium', 'low', 'quiet'])
    assert Choice(('none', 'scan-time')).parse_all('none [scan-time]\n') == ('scan-time', ['none', 'scan-time'])
    with pytest.raises(KernelFormatError):
        GOVERNOR.parse('full medium\n')


@pytest.mark.parametrize('value', ['full [medium] low quiet ', ' full', 'ful', 'FULL', '[full]', 3, 'turbo'])
def test_governor_takes_a_bare_offered_name_only(value):
    with pytest.raises(KnobValueError):
        GOVERNOR.coerce(value)


def test_governor_offered_by_kernel_wins_over_the_model():
    assert GOVERNOR.coerce('quiet', offered=['full', 'quiet']) == 'quiet'
    with pytest.raises(KnobValueError) as caught:
        GOVERNOR.coerce('low', offered=['full', 'quiet'])
    assert 'full, quiet' in caught.value.accepted


def test_misspelt_governor_expected_failure_names_the_closest_offered_one():
    with pytest.raises(KnobValueError) as caught:
        GOVERNOR.coerce('meduim')
    assert caught.value.why == 'is not offered by this kernel (did you mean medium?)'
    with pytest.raises(KnobValueError) as caught:
        GOVERNOR.coerce('turbo')
    assert caught.value.why == 'is not offered by this kernel'  # nothing close: no guess


def test_statistics_refuse_values():
    with pytest.raises(KnobValueError) as caught:
        UKSM.attrs['pages_shared'].kind.coerce(1)
    assert 'read-only' in str(caught.value)


@pytest.mark.parametrize('text', ['', 'abc\n', '1 * 2^\n', '-1\n'])
def test_scaled_counter_rejects_garbage(text):
    with pytest.raises(KernelFormatError):
        UKSM.attrs['pages_scanned'].kind.parse(text)


@given(st.integers(0, 1000), st.sampled_from(SUPPORTED_HZ))
def test_sleep_round_trip_is_equivalent(msecs, hz):
    read_back = jiffies_round_trip(msecs, hz)
    assert SLEEP.equivalent(msecs, read_back)
    if 1000 % hz == 0:
        # a whole number of milliseconds per tick: writing back what was read is stable
        assert jiffies_round_trip(read_back, hz) == read_back


@given(st.integers(0, 2**64 - 1))
def test_unsigned_round_trip(value):
    kind = Unsigned(0, 2**64 - 1)
    assert kind.parse(kind.format(kind.coerce(value))) == value


@given(st.integers(0, 100))
def test_clamp_is_idempotent(value):
    once = MAX_CPU.normalise(value)
    assert MAX_CPU.normalise(once) == once


@pytest.mark.parametrize(
    'text, signs, expected',
    [
        ('42', '', True),
        ('007', '', True),
        ('', '', False),
        ('+', '+', False),
        ('+42', '', False),
        ('+42', '+', True),
        ('-42', '+', False),
        ('-42', '+-', True),
        ('4 2', '', False),
        ('42\n', '', False),
        ('\u0664\u0662', '', False),
        ('\u00b2', '', False),
        ('++1', '+', False),
    ],
)
def test_is_decimal_accepts_ascii_digits_after_one_allowed_sign(text, signs, expected):
    assert is_decimal(text, signs) is expected
