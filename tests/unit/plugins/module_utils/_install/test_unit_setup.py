# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tuner's interval: what unit_setup accepts (tests/unit/test_documented_ranges.py: what the documents say)."""

from __future__ import annotations

import pytest

from ansible_collections.litevirt.uksm.plugins.module_utils._install.unit_setup import (
    MAX_INTERVAL,
    MIN_INTERVAL,
    interval_accepted,
)


@pytest.mark.parametrize('seconds', [MIN_INTERVAL, 30, MAX_INTERVAL, str(MAX_INTERVAL)])
def test_seconds_in_the_range_are_accepted(seconds):
    assert interval_accepted(seconds)


@pytest.mark.parametrize('seconds', [MIN_INTERVAL - 1, MAX_INTERVAL + 1, -5, '5s', '', None, 2.5])
def test_seconds_outside_the_range_are_refused_expected_failure(seconds):
    assert not interval_accepted(seconds)
