# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tests/bench/bench.py: each target's ratio of medians, its 90 % interval, and what the table says of both."""

from __future__ import annotations

import os
import statistics
import sys

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'bench')
if BENCH not in sys.path:
    sys.path.insert(0, BENCH)

import bench  # noqa: E402  pylint: disable=wrong-import-position

# one noisy run of the guest (seconds): ping varies by a fifth, facts is ping plus 5 %
PING = [5.5, 5.9, 6.3, 5.7, 7.5, 6.4, 5.5, 6.9, 8.3, 6.1, 6.8, 6.3, 7.3, 5.2, 5.6, 5.5, 5.5, 7.9, 5.7, 5.5]
NOISY = [value * 1.05 * (1.2 if number % 3 == 0 else 0.9) for number, value in enumerate(PING)]


def cases(**runs: list) -> dict:
    return {case: {'runs': values, 'median': statistics.median(values)} for case, values in runs.items()}


def row(rows: list, case: str) -> dict:
    return next(found for found in rows if found['case'] == case)


def test_the_interval_holds_the_ratio_and_is_the_same_for_the_same_runs() -> None:
    ratio = statistics.median(NOISY) / statistics.median(PING)
    low, high = bench.ratio_interval(NOISY, PING)
    assert low < ratio < high
    assert (low, high) == bench.ratio_interval(NOISY, PING)
    # a fifth of noise on the guest: the interval is several hundredths wide
    assert high - low > 0.05


def test_runs_without_noise_give_an_interval_of_the_ratio_alone() -> None:
    steady = [value * 1.2 for value in PING]
    assert bench.ratio_interval(steady, PING) == (1.2, 1.2)


def test_the_rounds_of_both_cases_are_resampled_together() -> None:
    # facts took 1.1 times ping in every round, however slow the round: paired, no noise is left
    assert bench.ratio_interval([value * 1.1 for value in PING], PING) == (1.1, 1.1)
    # the same values with ping's rounds shuffled are noise again
    shuffled = PING[1:] + PING[:1]
    low, high = bench.ratio_interval([value * 1.1 for value in shuffled], PING)
    assert high - low > 0.05


def test_a_target_inside_the_interval_is_within_noise_whichever_side_the_ratio_fell_on() -> None:
    rows = bench.verdicts(cases(ping=PING, facts=NOISY), guest=True)
    facts = row(rows, 'facts')
    assert facts['target'] == 1.05
    assert facts['interval_90'][0] <= 1.05 <= facts['interval_90'][1]
    assert facts['within_noise'] is True
    assert facts['met'] is (facts['ratio'] <= 1.05)
    assert 'within noise' in bench.table('guest', cases(ping=PING, facts=NOISY), rows)


def test_a_target_outside_the_interval_is_not_within_noise_and_fails_when_missed() -> None:
    slow = [value * 1.3 for value in PING]
    rows = bench.verdicts(cases(ping=PING, facts=slow), guest=True)
    facts = row(rows, 'facts')
    assert facts == {
        'case': 'facts',
        'against': 'ping',
        'ratio': 1.3,
        'interval_90': [1.3, 1.3],
        'target': 1.05,
        'met': False,
        'within_noise': False,
    }
    assert bench.table('guest', cases(ping=PING, facts=slow), rows).splitlines()[-1].split()[-3:] == [
        '<=',
        '1.05',
        'NO',
    ]


def test_a_case_without_a_target_has_an_interval_and_no_verdict() -> None:
    rows = bench.verdicts(cases(ping=PING, facts_bare=NOISY))
    bare = row(rows, 'facts_bare')
    assert bare['target'] is None and bare['met'] is None and bare['within_noise'] is None
    assert bare['interval_90'][0] < bare['ratio'] < bare['interval_90'][1]
