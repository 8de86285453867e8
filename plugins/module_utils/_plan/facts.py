# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""Assemble ``ansible_facts.uksm``: tunables, statistics, memory saved, daemon and conflicts."""

from __future__ import annotations

import posix

from .._host import persist
from .._host.hostinfo import CONFLICTING_SERVICES, ksm_zero_kib, page_size, root_processes, services, thread_cpu
from .._host.lock import ReadLock
from .._host.paths import LOCK_FILE, POLICY_FILE
from .._host.sysfs import Detection, detect, read_attributes
from .._host.written_values import WrittenValues
from .._knobs.attributes import BACKENDS
from ..byte_sizes import human_bytes
from .pressure import TierError, measure

TYPE_CHECKING = False  # importing typing costs the boot applier ~8 ms; annotations are strings
if TYPE_CHECKING:
    import typing as t

# seconds facts wait for a writer before reading anyway: writes take well under a second, an
# unmerge of a large host (KSM run=2) can take minutes
LOCK_WAIT = 10.0


def savings(
    stats: dict[str, t.Any],
    zero_bytes: int | None,
    page_bytes: int,
    cpu: dict[str, t.Any] | None = None,
) -> dict[str, t.Any]:
    """Memory saved: ``pages_sharing * page_size`` plus the merged zero pages; and per CPU second
    the sharing thread spent (``cpu``, from ``thread_cpu``), None when it spent none or is not running."""
    sharing = stats.get('pages_sharing')
    shared = stats.get('pages_shared')
    saved = (sharing or 0) * page_bytes + max(zero_bytes or 0, 0)
    return {
        'bytes': saved,
        'human': human_bytes(saved),
        'ratio': round(float(sharing) / shared, 2) if shared and sharing is not None else None,
        'bytes_per_cpu_second': int(saved / cpu['seconds']) if cpu and cpu['seconds'] > 0 else None,
    }


def writable(detection: Detection) -> bool:
    """Whether the tunables can be written (false on a read-only /sys, e.g. in a container)."""
    if detection.backend is None:
        return False
    return posix.access(detection.attr_path(detection.backend.marker), posix.W_OK)


def policy(
    sysroot: str,
    detection: Detection,
    tunables: dict[str, t.Any],
    choices: dict[str, list[str]],
    stats: dict[str, t.Any] | None = None,
) -> dict[str, t.Any]:
    """The persisted policy, the pressure tier in force, which attributes of the settings in force
    (the base, or the base with that tier on top) the kernel does not hold now (drift), and which it
    holds raised by itself (not drift)."""
    available, stall = measure(sysroot)
    fact = {
        'file': '/' + POLICY_FILE,
        'exists': False,
        'settings': {},
        'pressure': None,
        'tier': None,
        'tier_settings': None,
        'available_percent': None if available is None else round(available, 1),
        'memory_stall': stall,
        'drift': [],
        'raised_by_kernel': {},
        'error': None,
        'unit': persist.unit_state(sysroot),
    }
    try:
        policies, text = persist.load(sysroot)
    except (OSError, persist.PolicyFileError) as error:
        fact['error'] = 'cannot read %s: %s' % (fact['file'], error)
        return fact
    fact.update(
        exists=bool(text),
        settings={name: persist.typed(name, values) for name, values in policies.items() if name in BACKENDS},
    )
    backend = detection.backend
    section = policies.get(backend.name) if backend else None
    if backend is not None and section:
        # the planner is imported only here: a host without a policy does not pay for loading it
        from .plan import HostState, drift  # pylint: disable=import-outside-toplevel

        problems = []
        if persist.tier_section(backend.name, 0) in policies:
            # the tier code only for a policy with tiers: most hosts do not pay for compiling it
            from .tiers import check_levels, from_sections, in_force, read_state  # pylint: disable=import-outside-toplevel

            try:
                tiers = from_sections(policies, backend.name)
            except TierError as error:
                problems.append('pressure tiers: %s' % error)
            else:
                described = tiers.describe()
                for tier in described['tiers']:
                    tier['settings'] = persist.typed(backend.name, tier['settings'])
                fact['pressure'] = described
                problems += [str(problem) for problem in check_levels(backend, section, tiers)]
                index = in_force(read_state(sysroot, backend.name), tiers)
                if index is not None:
                    fact.update(tier=index, tier_settings=persist.typed(backend.name, tiers.tiers[index].settings))
                    section = tiers.level(section, index)
        fact['drift'], planned, fact['raised_by_kernel'] = drift(
            backend,
            detection.kernel_attrs,
            HostState(tunables, choices, stats, written=WrittenValues(sysroot, backend.name)),
            section,
        )
        problems += planned
        if problems:
            fact['error'] = 'the persisted %s policy does not apply here: %s' % (backend.name, ' | '.join(problems))
    return fact


def gather(sysroot: str, backend_choice: str = 'auto', lock_wait: float | None = None) -> dict[str, t.Any]:
    """The whole fact; never raises because a host lacks UKSM or KSM.

    Read under the host lock, shared: the live values, the policy and the tier in force all from
    between two writes, never from halfway through one. A writer holding it for longer than
    ``lock_wait`` seconds (default ``LOCK_WAIT``) is waited for no longer: the host is read anyway,
    and ``lock.holder`` names it."""
    with ReadLock(sysroot, LOCK_WAIT if lock_wait is None else lock_wait) as writer:
        return _gather(sysroot, backend_choice, writer)


def _gather(sysroot: str, backend_choice: str, writer: int | None) -> dict[str, t.Any]:
    detection = detect(sysroot, backend_choice)
    wanted_processes = {'uksmd', 'ksmd'} | {c.process for c in CONFLICTING_SERVICES.values() if c.process}
    pids = root_processes(sysroot, wanted_processes)
    running = set(pids)
    fact: dict[str, t.Any] = {
        'available': detection.available,
        'reason': detection.reason,
        'backend': None,
        'path': None,
        'sysroot': sysroot,
        'writable': False,
        'tunables': {},
        'choices': {},
        'stats': {},
        'zero_pages': None,
        'page_size': page_size(),
        'savings': None,
        'daemon': None,
        'daemon_running': None,
        'daemon_cpu': None,
        'unknown_attributes': [],
        'errors': [],
        'defaults': {},
        'policy': None,
        # a writer that held the host lock for longer than we waited, e.g. a long unmerge
        'lock': {'path': '/' + LOCK_FILE, 'holder': writer},
        'conflicts': services(sysroot, running, detection.backend.name if detection.backend else None),
    }
    backend = detection.backend
    if backend is None:
        fact['policy'] = policy(sysroot, detection, {}, {})
        return fact
    tunables, choices, stats, errors = read_attributes(detection)
    # what sharing costs: the kernel thread's CPU time, beside what it saves
    cpu = thread_cpu(sysroot, pids[backend.thread]) if backend.thread in pids else None
    if backend.name == 'uksm':
        # UKSM reports zero pages only in /proc/meminfo, in KiB
        zero_kib = ksm_zero_kib(sysroot)
        zero_bytes = None if zero_kib is None else zero_kib * 1024
        zero_pages = None if zero_bytes is None else zero_bytes // fact['page_size']
    else:
        zero_pages = stats.get('ksm_zero_pages')
        zero_bytes = None if zero_pages is None else zero_pages * fact['page_size']
    fact.update(
        {
            'backend': backend.name,
            'path': '/' + backend.directory,
            'writable': writable(detection),
            'tunables': tunables,
            'choices': choices,
            'stats': stats,
            'zero_pages': zero_pages,
            'savings': savings(stats, zero_bytes, fact['page_size'], cpu),
            'daemon': backend.thread,
            'daemon_running': backend.thread in running,
            'daemon_cpu': cpu,
            'unknown_attributes': detection.unknown,
            'errors': errors,
            'defaults': {name: backend.attrs[name].default for name in backend.write_order(tunables)},
            'policy': policy(sysroot, detection, tunables, choices, stats),
        }
    )
    return fact
