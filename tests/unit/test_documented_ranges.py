# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every range the policy's documents state is the code's: the tuner's interval, a tier's threshold and the
hysteresis, where users read them (the modules' documentation, the role's argument spec and README)."""

from __future__ import annotations

import os
import re

import pytest

from ansible_collections.litevirt.uksm.plugins.module_utils._install.unit_setup import MAX_INTERVAL, MIN_INTERVAL
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.pressure import MAX_THRESHOLD, MIN_THRESHOLD
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.tiers import MAX_HYSTERESIS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCUMENTS = (
    'plugins/modules/uksm_policy.py',
    'plugins/modules/uksm_policy_unit.py',
    'roles/policy/meta/argument_specs.yml',
    'roles/policy/README.md',
)
RANGES = {(MIN_INTERVAL, MAX_INTERVAL), (MIN_THRESHOLD, MAX_THRESHOLD), (0, MAX_HYSTERESIS)}
STATED = re.compile(r'\b(\d+) to (\d+)\b')


@pytest.mark.parametrize('relative', DOCUMENTS)
def test_every_stated_range_is_one_of_the_code_and_the_interval_is_stated(relative):
    with open(os.path.join(ROOT, relative), encoding='utf-8') as handle:
        stated = {(int(low), int(high)) for low, high in STATED.findall(handle.read())}
    assert stated <= RANGES, relative
    assert (MIN_INTERVAL, MAX_INTERVAL) in stated, relative


def test_a_range_of_another_value_is_recognised_expected_failure():
    assert {(int(low), int(high)) for low, high in STATED.findall('from 5 to 7200 seconds')} - RANGES
