# -*- coding: utf-8 -*-
# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Presets are plain, valid settings for each backend; settings given with them win."""

from __future__ import annotations

import pytest

from ansible_collections.litevirt.uksm.plugins.module_utils.attributes import BACKENDS
from ansible_collections.litevirt.uksm.plugins.module_utils.facts import gather
from ansible_collections.litevirt.uksm.plugins.module_utils.plan import HostState, make_plan
from ansible_collections.litevirt.uksm.plugins.module_utils.presets import PRESETS, preset_settings
from ansible_collections.litevirt.uksm.plugins.module_utils.tunable import run


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


def test_preset_with_overrides_on_a_host(make_host):
    root = make_host('ksm-old').paths.root
    result = run(root, 'auto', {'sleep_millisecs': 50}, preset='density')
    live = gather(root)['tunables']
    assert live['pages_to_scan'] == 1000 and live['sleep_millisecs'] == 50 and live['run'] == 1
    assert result['changed'] and 'advisor_mode' not in result['settings']
