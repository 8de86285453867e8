# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""What a write changed and why, in results and in the launchers' journal lines.

A governor write resets cpu_ratios, eval_intervals and max_cpu_percentage; an advisor mode change
resets pages_to_scan. Each change names its cause, so "3 requested, 5 changed" adds up.
"""

from __future__ import annotations

from .plan import resets

TYPE_CHECKING = False  # importing typing costs the boot applier ~8 ms; annotations are strings
if TYPE_CHECKING:
    import typing as t

    from .._knobs.attributes import Backend
    from .plan import Step

REQUESTED = 'requested'
RESET_BY = 'reset by '


def cause(backend: Backend, name: str, requested: t.Container[str], steps: t.Sequence[Step]) -> str:
    """``requested``, or ``reset by <attribute>`` for the last write that reset ``name``."""
    if name in requested:
        return REQUESTED
    for step in reversed(steps):
        if name in resets(backend, step.name, step.value):
            return RESET_BY + step.name
    # read back changed though nothing written resets it: the kernel (or a concurrent writer) did
    return 'changed outside this run'


def _names(names: t.Sequence[str]) -> str:
    return names[0] if len(names) == 1 else '%s and %s' % (', '.join(names[:-1]), names[-1])


def summary(
    requested: t.Sequence[str],
    changes: t.Sequence[dict[str, t.Any]],
    raised: dict[str, dict[str, t.Any]] | None = None,
) -> str:
    """``3 requested, 5 changed: cpu_governor reset max_cpu_percentage, cpu_ratios and eval_intervals;
    run already set``: the requested attributes that changed, those a write reset, those the kernel
    holds raised by itself (``plan.raised_values``), those left."""
    raised = raised or {}
    written = {change['name'] for change in changes if change['cause'] == REQUESTED}
    by_cause: dict[str, list[str]] = {}
    for change in changes:
        if change['cause'] != REQUESTED:
            by_cause.setdefault(change['cause'], []).append(change['name'])
    parts = []
    for why, names in by_cause.items():
        if why.startswith(RESET_BY):
            parts.append('%s reset %s' % (why[len(RESET_BY) :], _names(names)))
        else:
            parts.append('%s %s' % (_names(names), why))
    for name, found in raised.items():
        parts.append('%s reads %s for %s (raised by the kernel)' % (name, found['live'], found['desired']))
    unchanged = [name for name in requested if name not in written and name not in raised]
    if unchanged:
        parts.append('all already set' if len(unchanged) == len(requested) else _names(unchanged) + ' already set')
    text = '%d requested, %d changed' % (len(requested), len(changes))
    return text + (': ' + '; '.join(parts) if parts else '')
