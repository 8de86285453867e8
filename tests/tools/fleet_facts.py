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
    cpu: t.Optional[float] = None,
    percent: t.Optional[float] = None,
    legacy: bool = False,
) -> dict:
    """A uksm fact as uksm_facts returns it, with only the keys the report reads.

    ``cpu``: the sharing thread's CPU seconds (``daemon_cpu``; None, or ``running`` false: null), with
    ``percent`` its ``percent_since_start``; ``savings.bytes_per_cpu_second`` follows the fact's contract.
    ``legacy``: a fact of a collection version before ``daemon_cpu``, without either key.
    """
    available = backend is not None
    # a thread that does not run has no daemon_cpu
    measured = available and running and cpu is not None
    daemon_cpu = {'pid': 48, 'seconds': cpu, 'percent_since_start': percent} if measured else None
    per_cpu_second = int(saved / cpu) if measured and cpu > 0 else None
    gathered: dict = {
        'available': available,
        'reason': None if available else NO_INTERFACE,
        'backend': backend,
        'tunables': {'cpu_governor': governor} if governor else {},
        'savings': {
            'bytes': saved,
            'human': human_bytes(saved),
            'ratio': 40.0 if saved else None,
            'bytes_per_cpu_second': per_cpu_second,
        }
        if available
        else None,
        'daemon_running': running if available else None,
        'daemon_cpu': daemon_cpu,
        'policy': {
            'exists': bool(settings),
            'settings': settings or {},
            'drift': list(drift),
            'error': None,
            'unit': {'installed': bool(settings), 'enabled': bool(settings)},
        },
    }
    if legacy:
        del gathered['daemon_cpu']
        if gathered['savings']:
            del gathered['savings']['bytes_per_cpu_second']
    return gathered


def any_fact() -> t.Any:
    """A hypothesis strategy: a host's input to the report, None (unreachable) or a fact of any shape ``fact`` makes."""
    from hypothesis import strategies as st  # only the property tests pay for importing hypothesis

    return st.one_of(
        st.none(),
        st.builds(
            fact,
            backend=st.sampled_from(['uksm', 'ksm', None]),
            saved=st.integers(0, 1 << 50),
            governor=st.sampled_from([None, 'full', 'medium', 'low', 'quiet']),
            drift=st.lists(st.sampled_from(['run', 'sleep_millisecs', 'cpu_governor']), unique=True, max_size=3),
            running=st.booleans(),
            cpu=st.one_of(st.none(), st.just(0.0), st.floats(0.01, 1e7).map(lambda seconds: round(seconds, 2))),
            percent=st.one_of(st.none(), st.floats(0, 100).map(lambda percent: round(percent, 3))),
            legacy=st.booleans(),
        ),
    )
