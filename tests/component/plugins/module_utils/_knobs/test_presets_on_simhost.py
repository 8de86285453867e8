# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Presets are plain, valid settings for each backend; settings given with them win."""

from __future__ import annotations

from ansible_collections.litevirt.uksm.plugins.module_utils._plan.facts import gather
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.tunable import run


def test_preset_with_overrides_on_a_host(make_host):
    root = make_host('ksm-old').paths.root
    result = run(root, 'auto', {'sleep_millisecs': 50}, preset='density')
    live = gather(root)['tunables']
    assert live['pages_to_scan'] == 1000 and live['sleep_millisecs'] == 50 and live['run'] == 1
    assert result['changed'] and 'advisor_mode' not in result['settings']
