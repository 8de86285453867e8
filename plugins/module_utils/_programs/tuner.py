# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""The pressure tuner: measure available memory, pick the tier, and write it like uksm_tunable does.

Run by uksm-pressure.timer through the launcher of _install/launcher_texts.py. Every run reads the policy, the
tier in force and the live values under the host lock; it writes only when the tier changes or the
live values no longer hold the tier, through the planner and the transaction (read back, rolled back
on failure), and says so in one journal line. A failed write leaves the recorded tier as it was, so
the next run tries again.
"""

from __future__ import annotations

from .._host import persist
from .._host.lock import HostLock
from .._host.sysfs import read_attributes
from .._plan.pressure import TierError, choose_tier, measure
from .._plan.tiers import check_levels, from_sections, in_force, read_state, write_state
from ..errors import CAUGHT
from . import launcher

TYPE_CHECKING = False  # importing typing costs the boot applier ~8 ms; annotations are strings
if TYPE_CHECKING:
    import typing as t

    from .._host.sysfs import Detection
    from .._plan.tiers import TierPolicy

PREFIX = 'uksm-pressure: '


def tier_name(index: int | None) -> str:
    return 'base' if index is None else 'tier %d' % index


def _reason(
    available: float,
    policy: TierPolicy,
    old: int | None,
    new: int | None,
    stall: dict[str, float] | None,
) -> str:
    """Why the tier is what it is, e.g. ``27.3 % available, below 30 %``."""
    text = '%.1f %% available' % available
    if new is not None and (old is None or new > old):
        text += ', below %d %%' % policy.thresholds[new]
    elif new != old:
        left = 0 if new is None else new + 1  # the last tier stepped down from
        text += ', at or above %d %% (%d %% + hysteresis %d)' % (
            policy.thresholds[left] + policy.hysteresis,
            policy.thresholds[left],
            policy.hysteresis,
        )
    if stall:
        text += '; memory stall %s' % ', '.join('%s %.2f %%' % (name, value) for name, value in sorted(stall.items()))
    return text


def _equal(detection: Detection, settings: dict[str, t.Any]) -> bool:
    """Whether every attribute of ``settings`` reads as the planner would normalise it: then nothing
    drifted, and nothing is raised (a raised value differs). Reads only these attributes; anything
    else (a value that does not parse, an attribute this kernel lacks) is for the planner to judge."""
    from .._knobs.value_kinds import KnobValueError  # pylint: disable=import-outside-toplevel

    backend = detection.backend
    # a name the planner would refuse (unknown, read-only, missing from this kernel) is for it to report
    if backend is None or any(
        name not in detection.kernel_attrs or not backend.attrs[name].writable for name in settings
    ):
        return False
    tunables, choices, _stats, errors = read_attributes(detection, set(settings))
    if errors:
        return False
    for name, value in settings.items():
        kind = backend.attrs[name].kind
        try:
            coerced = kind.coerce_for(value, choices.get(name))
        except KnobValueError:
            return False
        if not kind.equivalent(kind.normalise(coerced), tunables.get(name)):
            return False
    return True


def _holds(sysroot: str, detection: Detection, settings: dict[str, t.Any]) -> bool:
    """Whether the kernel holds ``settings`` now (the idle path: reads only these attributes)."""
    # the usual idle evaluation: the tier's values read back as they are, no planner needed
    if _equal(detection, settings):
        return True
    # the planner is imported only here: measuring costs less than loading it
    from .._host.written_values import WrittenValues  # pylint: disable=import-outside-toplevel
    from .._plan.plan import HostState, drift, raise_needs  # pylint: disable=import-outside-toplevel

    backend = detection.backend
    if backend is None:
        return False
    # and what tells a raise by the kernel from drift (rung 0 of cpu_ratios for UKSM's sleep)
    names = set(settings) | raise_needs(backend, settings)
    tunables, choices, stats, errors = read_attributes(detection, names)
    if errors:
        return False  # the write path reads again and reports what cannot be read
    state = HostState(tunables, choices, stats, written=WrittenValues(sysroot, backend.name))
    drifted, problems, _raised = drift(backend, detection.kernel_attrs, state, settings)
    return not drifted and not problems


def _describe(changes: t.Sequence[dict[str, t.Any]]) -> str:
    if not changes:
        return 'nothing to write'
    # the write path only
    from .._plan.changes import REQUESTED  # pylint: disable=import-outside-toplevel

    return 'wrote ' + ', '.join(
        '%s %s -> %s%s'
        % (
            change['name'],
            persist.as_text(change['before']),
            persist.as_text(change['after']),
            '' if change['cause'] == REQUESTED else ' (%s)' % change['cause'],
        )
        for change in changes
    )


def tune(sysroot: str, out: t.Callable[[str], None], lock_timeout: float = 30.0) -> int:
    """One evaluation; 0 when the tier in force holds (written or not), 1 on a failure."""
    available, stall = measure(sysroot)
    try:
        with HostLock(sysroot, lock_timeout):
            return _tune_locked(sysroot, out, available, stall)
    except CAUGHT as error:
        out('FAILED: %s' % error)
        return 1


def _tune_locked(
    sysroot: str, out: t.Callable[[str], None], available: float | None, stall: dict[str, float] | None
) -> int:
    found = persist.for_launcher(sysroot, out, 'tune')
    if isinstance(found, int):
        return found
    policies, detection, backend, base = found
    try:
        policy = from_sections(policies, backend.name)
    except TierError as error:
        out('FAILED: the %s tiers in %s: %s' % (backend.name, persist.path_of(sysroot), error))
        return 1
    problems = check_levels(backend, base, policy)
    if problems:
        out(
            'FAILED: the %s tiers in %s cannot be used: %s'
            % (backend.name, persist.path_of(sysroot), ' | '.join(str(problem) for problem in problems))
        )
        return 1
    recorded = read_state(sysroot, backend.name)
    # a recorded tier the policy no longer has: its settings stay in force until this run replaces them
    old = in_force(recorded, policy)
    if available is None:
        out(
            'FAILED: cannot measure available memory (no MemTotal and MemAvailable in /proc/meminfo); %s kept'
            % tier_name(old)
        )
        return 1
    new = choose_tier(available, policy.thresholds, old, policy.hysteresis) if policy.tiers else None
    settings = policy.level(base, new)
    if new == recorded and _holds(sysroot, detection, settings):
        return 0
    # the write path: imported only when there is something to write
    from .._plan.tunable import run  # pylint: disable=import-outside-toplevel

    transition = '%s -> %s' % (tier_name(recorded), tier_name(new)) if new != recorded else '%s held' % tier_name(new)
    reason = _reason(available, policy, old, new, stall)
    try:
        result = run(sysroot, backend.name, settings, detection=detection, locked_by_caller=True)
    except CAUGHT as error:
        out('FAILED: %s %s: %s: %s; the next run tries again' % (backend.name, transition, reason, error))
        return 1
    write_state(sysroot, backend.name, new)
    out('%s %s: %s; %s' % (backend.name, transition, reason, _describe(result['changes'])))
    return 0


def main(argv: t.Sequence[str] | None = None) -> int:
    return launcher.run(
        'Apply the pressure tier of the persisted UKSM/KSM policy that available memory calls for (litevirt.uksm).',
        PREFIX,
        argv,
        launcher.LOCK_TIMEOUT,
        lambda sysroot, options, out: tune(sysroot, out, options['lock-timeout']),
    )
