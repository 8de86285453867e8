# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rule for a sleep_millisecs uksmd raised (docs/kernel-interfaces.md, section 2.5), at its edges:
rung 0's ratio as a number and as MAX/N (down to 1), a sleep of 0, the tick rates 100, 250 and 1000,
a raise by exactly one jiffy, the bound a page of 100000 ns sets, an ema that moved since the raise,
and the evidence that the kernel holds the desired value aside (the collection's record of what it
wrote, or a per-page cost that raises it now). A property test compares the rule with the kernel's
own arithmetic, written again here from the document in another shape (fractions, not integers).
"""

from __future__ import annotations

import math
import typing as t
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.litevirt.uksm.plugins.module_utils._knobs.attributes import UKSM
from ansible_collections.litevirt.uksm.plugins.module_utils._knobs.sleep_raise import (
    EMA_CEILING_NS,
    SleepRaise,
    budget_ns,
    raise_bounds,
    raised_msecs,
    rung_real_ratio,
)
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.plan import raised_by_kernel

FULL = {'cpu_ratios': ['20', '40', 'MAX/4', 'MAX/1'], 'max_cpu_percentage': 95}
QUIET = {'cpu_ratios': ['10', '20', '40', '75'], 'max_cpu_percentage': 1}
RULE = SleepRaise()


def explain(
    desired: int,
    live: int,
    known: dict[str, t.Any] | None = None,
    ema: int | None = None,
    saved: int | None = None,
) -> dict[str, t.Any] | None:
    stats = {} if ema is None else {'ema_per_page_time': ema}
    return RULE.explain(desired, live, FULL if known is None else known, stats, saved)


# -- the kernel's arithmetic, again: exact fractions and explicit floors/ceilings --------------------


def kernel_raise(desired: int, ratio: int, ema: int, hz: int) -> int:
    """What sysfs shows after one batch of uksmd that follows a write of ``desired``."""
    jiffies = math.ceil(Fraction(desired * hz, 1000))
    usecs = math.floor(Fraction(jiffies * 10**6, hz))
    budget = math.floor(Fraction(1000 * usecs, 10000 - ratio)) * ratio
    if budget < ema:
        sleep_usecs = math.floor(math.floor(Fraction(ema * (10000 - ratio), ratio)) / 1000)
        jiffies = math.ceil(Fraction(sleep_usecs * hz, 10**6)) + 1
    return math.ceil(Fraction(jiffies * 1000, hz))


def test_the_arithmetic_reproduces_what_the_real_kernel_showed():
    # full (rung 0: 20), HZ 250, 12 written: a page of 88179 ns and more gives 52, of 100000 ns 56
    assert kernel_raise(12, 20, 90000, 250) == raised_msecs(90000, 20, 250) == 52
    assert raised_msecs(EMA_CEILING_NS, 20, 250) == 56
    # 40 written: one jiffy more once a page costs more than rung 0's 80160 ns
    assert budget_ns(40, 20, 250) == 80160
    assert kernel_raise(40, 20, 80161, 250) == 44 and kernel_raise(40, 20, 80160, 250) == 40


# -- rung 0's real ratio ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ('rung', 'max_cpu', 'ratio'),
    [
        ('20', 95, 20),
        ('1', 95, 1),
        ('MAX/100', 10, 10),  # (10000 // 100) * 10 // 100
        ('MAX/4', 95, 2375),
        ('MAX/10000', 99, 1),  # 1 * 99 // 100 is 0: the kernel takes 1
        ('MAX/151', 50, 33),  # MAX/150 reads MAX/151: 66 * 50 // 100
    ],
)
def test_rung_real_ratio_as_the_scanner_computes_it(rung, max_cpu, ratio):
    assert rung_real_ratio(rung, max_cpu) == ratio


def test_ratio_one_raises_nearly_any_sleep_up_to_about_a_second():
    known = {'cpu_ratios': ['1', '20', 'MAX/4', 'MAX/1'], 'max_cpu_percentage': 95}
    assert raise_bounds(1, 250) == (996, 1004)
    assert explain(900, 1004, known, saved=900) is not None
    assert explain(900, 1008, known, saved=900) is None  # above the bound at every tick rate but 100
    assert explain(997, 1004, known, saved=997) is None  # a sleep that long fits a page at ratio 1


def test_max_n_rung_0_uses_max_cpu_percentage():
    # MAX/100 at 10 % is 10/10000, like quiet's 10: 40 ms can be raised up to 104 at HZ 250
    known = {'cpu_ratios': ['MAX/100', 'MAX/4', 'MAX/2', 'MAX/1'], 'max_cpu_percentage': 10}
    assert explain(40, 104, known, saved=40) is not None
    # the same ladder at 99 %: rung 0 is worth 99, and 40 ms is never raised
    assert explain(40, 44, dict(known, max_cpu_percentage=99), saved=40) is None


# -- sleep 0, ticks, one jiffy -------------------------------------------------------------------------


def test_sleep_0_is_raised_after_the_first_batch_whatever_a_page_costs():
    assert budget_ns(0, 20, 250) == 0
    assert explain(0, 8, ema=500) is not None  # 0 read back as 8, seen on the real kernel
    assert explain(0, 8, saved=0) is not None


@pytest.mark.parametrize(
    ('desired', 'live', 'held'),
    [
        (12, 16, True),  # HZ 250: one jiffy (4 ms) above 12
        (12, 13, True),  # HZ 1000: one jiffy (1 ms) above 12
        (12, 30, True),  # HZ 100: 12 reads 20; one tick above is 30
        (12, 57, False),  # a tick at HZ 300 only, whose bound at ratio 20 is 54
        (12, 60, True),  # HZ 100's bound at ratio 20
        (12, 61, False),  # above every bound
        (12, 11, False),  # below the policy
    ],
)
def test_a_raise_is_a_whole_number_of_ticks_above_the_policy_within_the_bound(desired, live, held):
    assert (explain(desired, live, saved=desired) is not None) is held


def test_a_value_the_tick_explains_is_not_a_raise_but_the_value_itself():
    # 10 reads 12 at HZ 250: equivalent through the knob model, which every caller asks before the rule
    assert UKSM.attrs['sleep_millisecs'].kind.equivalent(10, 12)
    assert explain(12, 12, saved=12) is None


def test_a_raise_by_exactly_one_jiffy_counts():
    # 40 at HZ 250 under a page of 80161 ns: 44
    assert explain(40, 44, ema=80161) is not None
    assert explain(40, 44, ema=80160) is None  # that page fits rung 0: uksmd does not raise, nothing recorded


# -- the evidence that the kernel holds the policy's value aside --------------------------------------------


def test_an_ema_that_moved_by_a_factor_of_two_since_the_raise():
    # 52 came from a page of 90000 ns; it now costs 45000 or 180000 (reset to 500 above 100000): still a raise
    # as long as one of the two pieces of evidence holds
    assert explain(12, 52, ema=45000) is not None  # 45000 > 24040: uksmd raises 12 now
    assert explain(12, 52, ema=500, saved=12) is not None  # fell below the budget: the record says 12 was written
    assert explain(12, 52, ema=500) is None  # neither: the value may be anyone's


def test_the_trace_of_the_real_kernel_is_a_raise_once_the_collection_wrote_the_policy():
    # written 12, read 52 while ema_per_page_time read 8000 (the raise needed 88179 ns, seconds before)
    found = explain(12, 52, ema=8000, saved=12)
    assert found is not None and found['desired'] == 12 and found['live'] == 52
    assert found['reason'] == (
        'raised by uksmd: at 12 ms, rung 0 (cpu_ratios 20: 20/10000 of a CPU) has 24040 ns per sleep, less than '
        'scanning one page can take (up to 100000 ns; ema_per_page_time reads 8000 now), so uksmd sleeps longer '
        '(at most 56 ms) and puts 12 back every 8 evaluation rounds'
    )


def test_the_kernel_default_after_a_boot_is_drift_not_a_raise():
    # quiet's rung 0 (10) can raise 40 up to 104, and the default 100 lies within; nothing says 40 was written
    assert explain(40, 100, QUIET, ema=624) is None
    assert explain(40, 100, QUIET, ema=624, saved=20) is None  # the collection wrote something else


def test_a_value_the_bound_excludes_is_drift_even_when_the_policy_was_written():
    assert explain(12, 200, ema=90000, saved=12) is None  # 200 by hand over a policy of 12
    assert explain(100, 104, ema=99999, saved=100) is None  # rung 0 fits a page into 100 ms: never raised


def test_a_value_written_by_hand_within_the_bound_is_taken_for_a_raise():
    # the cost of the rule, stated in docs/kernel-interfaces.md: the kernel shows nothing that tells them apart
    assert explain(12, 40, ema=500, saved=12) is not None


def test_without_rung_0_or_a_number_there_is_no_raise():
    assert explain(12, 52, {}, saved=12) is None
    assert RULE.explain(12, 'garbage', FULL, {}, 12) is None
    assert RULE.explain(12, True, FULL, {}, 12) is None
    assert raised_by_kernel(UKSM, 'run', 1, 0, FULL, saved=1) is None  # no rule for run
    assert raised_by_kernel(UKSM, 'sleep_millisecs', 12, None, FULL, saved=12) is None


# -- against the kernel's arithmetic --------------------------------------------------------------------

RATIOS = st.sampled_from([1, 2, 10, 20, 30, 40, 100, 2375])


@given(st.integers(0, 1000), RATIOS, st.integers(1, EMA_CEILING_NS), st.sampled_from([100, 250, 300, 1000]))
def test_every_value_one_batch_of_uksmd_shows_is_held(desired, ratio, ema, hz):
    live = kernel_raise(desired, ratio, ema, hz)
    known = {'cpu_ratios': [str(ratio), 'MAX/4', 'MAX/2', 'MAX/1'], 'max_cpu_percentage': 95}
    held = UKSM.attrs['sleep_millisecs'].kind.equivalent(desired, live) or (
        raised_by_kernel(UKSM, 'sleep_millisecs', desired, live, known, saved=desired) is not None
    )
    assert held
    # and with the cost uksmd used, no record is needed
    if live > math.ceil(Fraction(math.ceil(Fraction(desired * hz, 1000)) * 1000, hz)):
        assert RULE.explain(desired, live, known, {'ema_per_page_time': ema}, None) is not None


@given(st.integers(0, 1000), st.integers(0, 1100), RATIOS, st.sampled_from([100, 250, 300, 1000]))
def test_no_value_above_what_a_page_of_100000_ns_gives_is_held(desired, live, ratio, hz):
    known = {'cpu_ratios': [str(ratio), 'MAX/4', 'MAX/2', 'MAX/1'], 'max_cpu_percentage': 95}
    highest = max(kernel_raise(desired, ratio, EMA_CEILING_NS, every) for every in (100, 250, 300, 1000))
    if live > highest or live < desired:
        assert RULE.explain(desired, live, known, {'ema_per_page_time': EMA_CEILING_NS}, desired) is None
