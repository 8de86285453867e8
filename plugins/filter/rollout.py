# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the rollout playbook: its per-host summary and that summary as JUnit XML."""

from __future__ import annotations

import typing as t

from ansible_collections.litevirt.uksm.plugins.plugin_utils.rollout import junit, summarize


class FilterModule:
    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {'rollout_summary': summarize, 'rollout_junit': junit}
