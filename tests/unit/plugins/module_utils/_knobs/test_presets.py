# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Presets are plain, valid settings for each backend; settings given with them win."""

from __future__ import annotations

import pytest

from ansible_collections.litevirt.uksm.plugins.module_utils._knobs.attributes import BACKENDS
from ansible_collections.litevirt.uksm.plugins.module_utils._knobs.presets import PRESETS, preset_settings
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.plan import HostState, make_plan


@pytest.mark.parametrize('name', sorted(PRESETS))
@pytest.mark.parametrize('backend', sorted(BACKENDS))
def test_every_preset_is_valid_on_a_default_kernel(name, backend):
    model = BACKENDS[backend]
    defaults = {attr: model.attrs[attr].default for attr in model.writable}
    plan = make_plan(
        model,
        list(model.attrs),
        HostState(defaults, {'cpu_governor': list(model.presets)}),
        preset_settings(name, backend, model.attrs),
    )
    assert plan.problems == []


def test_attributes_the_kernel_lacks_are_skipped():
    old_kernel = ['run', 'pages_to_scan', 'sleep_millisecs']
    assert preset_settings('density', 'ksm', old_kernel) == {'pages_to_scan': 1000, 'sleep_millisecs': 20, 'run': 1}
