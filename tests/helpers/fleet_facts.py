# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hand-written uksm facts for the fleet report's tests."""

from __future__ import annotations

import typing as t

from ansible_collections.litevirt.uksm.plugins.module_utils.byte_sizes import human_bytes

NO_INTERFACE = '/sys/kernel/mm/uksm does not exist; /sys/kernel/mm/ksm does not exist'


def fact(
    backend: str | None,
    saved: int = 0,
    governor: str | None = None,
    drift: t.Sequence[str] = (),
    settings: dict | None = None,
    running: bool = True,
    cpu: float | None = None,
    percent: float | None = None,
    legacy: bool = False,
    tier: int | None = None,
    thresholds: t.Sequence[int] = (),
    available_percent: float | None = None,
) -> dict:
    """A uksm fact as uksm_facts returns it, with only the keys the report reads.

    ``cpu``: the sharing thread's CPU seconds (``daemon_cpu``; None, or ``running`` false: null), with
    ``percent`` its ``percent_since_start``; ``savings.bytes_per_cpu_second`` follows the fact's contract.
    ``tier``: the index of the pressure tier in force (None: the base), among tiers with these
    ``thresholds`` (``available_below_percent``; none: ``policy.pressure`` null); ``available_percent``
    is ``policy.available_percent``. Without an interface there are no tiers, as uksm_facts reports it.
    ``legacy``: a fact of a collection version before ``daemon_cpu`` and pressure tiers, without their keys.
    """
    assert tier is None or 0 <= tier < len(thresholds), (tier, thresholds)
    available = backend is not None
    # a thread that does not run has no daemon_cpu
    measured = available and running and cpu is not None
    daemon_cpu = {'pid': 48, 'seconds': cpu, 'percent_since_start': percent} if measured else None
    per_cpu_second = int(saved / cpu) if measured and cpu > 0 else None
    pressure = None
    if available and thresholds:
        tiers = [{'available_below_percent': below, 'settings': {'run': 1}} for below in thresholds]
        pressure = {'hysteresis': 5, 'tiers': tiers}
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
            'pressure': pressure,
            'tier': tier if available else None,
            'tier_settings': {'run': 1} if available and tier is not None else None,
            'available_percent': available_percent,
            'memory_stall': None,
            'drift': list(drift),
            'error': None,
            'unit': {'installed': bool(settings), 'enabled': bool(settings)},
        },
    }
    if legacy:
        del gathered['daemon_cpu']
        for key in ('pressure', 'tier', 'tier_settings', 'available_percent', 'memory_stall'):
            del gathered['policy'][key]
        if gathered['savings']:
            del gathered['savings']['bytes_per_cpu_second']
    return gathered


def any_fact() -> t.Any:
    """A hypothesis strategy: a host's input to the report, None (unreachable) or a fact of any shape ``fact`` makes."""
    from hypothesis import strategies as st  # only the property tests pay for importing hypothesis

    def with_pressure(pressure: tuple[int | None, tuple[int, ...]], **options: t.Any) -> dict:
        return fact(tier=pressure[0], thresholds=pressure[1], **options)

    return st.one_of(
        st.none(),
        st.builds(
            with_pressure,
            pressure=st.sampled_from([(None, ()), (None, (30, 10)), (0, (30, 10)), (1, (30, 10)), (0, (25,))]),
            available_percent=st.one_of(st.none(), st.floats(0, 100).map(lambda percent: round(percent, 1))),
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
