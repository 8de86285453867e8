# -*- coding: utf-8 -*-
# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hand-written uksm facts for the fleet report's tests."""

from __future__ import annotations

import typing as t

from ansible_collections.litevirt.uksm.plugins.module_utils.facts import human_bytes

NO_INTERFACE = '/sys/kernel/mm/uksm does not exist; /sys/kernel/mm/ksm does not exist'


def fact(
    backend: t.Optional[str],
    saved: int = 0,
    governor: t.Optional[str] = None,
    drift: t.Sequence[str] = (),
    settings: t.Optional[dict] = None,
    running: bool = True,
) -> dict:
    """A uksm fact as uksm_facts returns it, with only the keys the report reads."""
    available = backend is not None
    return {
        'available': available,
        'reason': None if available else NO_INTERFACE,
        'backend': backend,
        'tunables': {'cpu_governor': governor} if governor else {},
        'savings': {'bytes': saved, 'human': human_bytes(saved), 'ratio': 40.0 if saved else None}
        if available
        else None,
        'daemon_running': running if available else None,
        'policy': {
            'exists': bool(settings),
            'settings': settings or {},
            'drift': list(drift),
            'error': None,
            'unit': {'installed': bool(settings), 'enabled': bool(settings)},
        },
    }
