# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""From desired settings to an ordered list of writes, validated before anything is written.

``make_plan`` checks every setting (name, type, range, hazards), then walks the backend's write
order over a predicted kernel state: a governor write resets its preset, an advisor mode change
resets pages_to_scan, and only what still differs from that prediction is written. One problem
anywhere means no step at all.
"""

from __future__ import annotations

from .._knobs.attributes import (
    BACKENDS,
    HAZARD_ADVISOR_MANAGED,
    HAZARD_CORRUPTS_MEMORY,
    HAZARD_EBUSY_WHILE_SHARED,
    HAZARD_NEEDS_DAEMON,
    Backend,
)
from .._knobs.value_kinds import KnobValueError, close_match
from .._knobs.value_lists import RatioLadder

TYPE_CHECKING = False  # importing typing costs the boot applier ~8 ms; annotations are strings
if TYPE_CHECKING:
    import typing as t

    from .._host.written_values import WrittenValues


def planning_stats(backend: Backend) -> tuple[str, ...]:
    """The statistics the hazard checks need besides the tunables (each read costs a writer time),
    and the per-page cost a raised sleep is reported with."""
    needed = []
    if any(HAZARD_EBUSY_WHILE_SHARED in attr.hazards for attr in backend.attrs.values()):
        needed.append('pages_shared')
    for name in sorted(raise_needs(backend, backend.attrs)):
        if not backend.attrs[name].writable:
            needed.append(name)
    return tuple(needed)


def raised_by_kernel(
    backend: Backend,
    name: str,
    desired: t.Any,
    live: t.Any,
    known: dict[str, t.Any],
    stats: dict[str, t.Any] | None = None,
    written: WrittenValues | None = None,
    saved: t.Any = None,
) -> dict[str, t.Any] | None:
    """How the kernel made ``live`` of the (normalised) ``desired`` value by itself, or None.

    The one rule for every comparison with the kernel (planner, read-back, drift, launchers): a value
    the kernel raised is held, not drift, and not written again. ``known`` and ``stats``: the other
    attributes as the kernel has them (the rule reads the ones its ``needs`` names); ``saved``: what
    this run wrote, else ``written``: what the collection last wrote since boot.
    """
    rule = backend.attrs[name].raised_by_kernel
    if rule is None or live is None:
        return None
    if saved is None and written is not None:
        saved = written.get(name)
    return rule.explain(desired, live, known, stats or {}, saved)


def raise_needs(backend: Backend, names: t.Iterable[str]) -> set[str]:
    """The other tunables the raise rules of ``names`` read (a reader of only ``names`` reads them too)."""
    needed: set[str] = set()
    for name in names:
        rule = backend.attrs[name].raised_by_kernel if name in backend.attrs else None
        if rule is not None:
            needed.update(rule.needs)
    return needed


def raised_values(
    backend: Backend, desired: dict[str, t.Any], live: dict[str, t.Any], state: HostState
) -> dict[str, dict[str, t.Any]]:
    """Every attribute of ``desired`` (normalised) whose ``live`` value the kernel raised from it."""
    raised = {}
    for name, value in desired.items():
        if name in backend.attrs and not backend.attrs[name].kind.equivalent(value, live.get(name)):
            found = raised_by_kernel(backend, name, value, live.get(name), live, state.stats, state.written)
            if found is not None:
                raised[name] = found
    return raised


class Problem:
    """One invalid setting: the attribute, the value, why, and what is accepted."""

    def __init__(self, name: str, value: t.Any, why: str, accepted: str, known: bool = True) -> None:
        self.name = name
        self.value = value
        self.why = why
        self.accepted = accepted
        # False: the name itself is the mistake, so the message leads with it and shows the value aside
        self.known = known

    def __str__(self) -> str:
        if not self.known:
            return '%s (given %r) %s; accepted: %s' % (self.name, self.value, self.why, self.accepted)
        return '%s: %r %s; accepted: %s' % (self.name, self.value, self.why, self.accepted)


class Step:
    """One write: the attribute, the value before, the value to write and the text written."""

    def __init__(self, name: str, before: t.Any, value: t.Any, text: str) -> None:
        self.name = name
        self.before = before
        self.value = value
        self.text = text


class Plan:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.steps: list[Step] = []
        # the kernel state expected once every step is written
        self.final: dict[str, t.Any] = {}
        # every valid setting, normalised (what a persisted policy records)
        self.desired: dict[str, t.Any] = {}


class HostState:
    """What the planner needs to know about the host, as read by the facts code."""

    def __init__(
        self,
        tunables: dict[str, t.Any],
        choices: dict[str, list[str]] | None = None,
        stats: dict[str, t.Any] | None = None,
        daemon_running: bool | t.Callable[[], bool] = True,
        written: WrittenValues | None = None,
    ) -> None:
        self.tunables = tunables
        self.choices = choices or {}
        self.stats = stats or {}
        # whether the backend's kernel thread runs (a write to ``run`` blocks forever without it): known, or
        # a callable asked only when a plan writes such an attribute (hostinfo.ThreadLookup: looking reads
        # /proc/<pid>/comm of every process up to the thread, which most runs need not pay for)
        self.daemon_running = daemon_running
        # what the collection last wrote since boot, to the attributes the kernel raises by itself
        self.written = written

    def daemon_runs(self) -> bool:
        running = self.daemon_running
        return running() if callable(running) else running


def unknown_name(backend: Backend, name: str, value: t.Any, homes: dict[str, str] | None = None) -> Problem | None:
    """The problem of a name that is not an attribute of ``backend``: the other interface's (sent to its
    option when ``homes`` names where each interface's settings go), or a misspelling with the closest
    name (None when it is one of ``backend``'s)."""
    if name in backend.attrs:
        return None
    accepted = ', '.join(sorted(backend.writable))
    for other in BACKENDS.values():
        if other is not backend and name in other.attrs:
            why = 'is a %s attribute, not a %s one' % (other.name.upper(), backend.name.upper())
            home = (homes or {}).get(other.name)
            return Problem(name, value, why, '%s in %s' % (name, home) if home else accepted, known=False)
    why = 'is not a %s attribute%s' % (backend.name, close_match(name, backend.writable))
    return Problem(name, value, why, accepted, known=False)


def _check_name(backend: Backend, kernel_attrs: t.Sequence[str], name: str, value: t.Any) -> Problem | None:
    unknown = unknown_name(backend, name, value)
    if unknown is not None:
        return unknown
    attr = backend.attrs[name]
    if not attr.writable:
        return Problem(name, value, 'is a read-only statistic', 'a tunable: ' + ', '.join(sorted(backend.writable)))
    if name not in kernel_attrs:
        return Problem(
            name,
            value,
            'does not exist on this kernel' + (' (added in %s)' % attr.since if attr.since else ''),
            'the tunables this kernel has: ' + ', '.join(n for n in kernel_attrs if backend.attrs[n].writable),
        )
    return None


def _coerce(
    backend: Backend, state: HostState, desired: dict[str, t.Any], kernel_attrs: t.Sequence[str], plan: Plan
) -> dict[str, t.Any]:
    coerced = {}
    for name, value in desired.items():
        problem = _check_name(backend, kernel_attrs, name, value)
        if problem is not None:
            plan.problems.append(problem)
            continue
        kind = backend.attrs[name].kind
        try:
            coerced[name] = kind.coerce_for(value, state.choices.get(name))
        except KnobValueError as error:
            plan.problems.append(Problem(name, value, error.why, error.accepted))
    return coerced


def advisor_manages(values: dict[str, t.Any]) -> bool:
    """Whether ksmd's advisor owns the advisor-managed attributes (pages_to_scan) in ``values``."""
    return values.get('advisor_mode', 'none') != 'none'


def resets(backend: Backend, name: str, value: t.Any) -> tuple[str, ...]:
    """The attributes a write of ``value`` to ``name`` resets besides itself (docs: side effects)."""
    return tuple(backend.attrs[name].reset_values(value, {}))


def _side_effects(backend: Backend, name: str, value: t.Any, predicted: dict[str, t.Any]) -> None:
    """Update the prediction for what a write of ``name`` resets besides itself."""
    for other, reset in backend.attrs[name].reset_values(value, predicted).items():
        if other in predicted:
            predicted[other] = reset


def _hazards(backend: Backend, state: HostState, plan: Plan, allow_eval_intervals: bool, allow_unmerge: bool) -> None:
    written = {step.name: step for step in plan.steps}
    final = plan.final
    ladder_inputs = {'cpu_ratios', 'max_cpu_percentage', 'cpu_governor'}
    if ladder_inputs & set(written) and 'cpu_ratios' in final and 'max_cpu_percentage' in final:
        kind = backend.attrs['cpu_ratios'].kind
        if isinstance(kind, RatioLadder):
            try:
                kind.check_ladder(final['cpu_ratios'], final['max_cpu_percentage'])
            except KnobValueError as error:
                plan.problems.append(Problem('cpu_ratios', final['cpu_ratios'], error.why, error.accepted))
    for name, step in written.items():
        hazards = backend.attrs[name].hazards
        if HAZARD_CORRUPTS_MEMORY in hazards and not allow_eval_intervals:
            plan.problems.append(
                Problem(
                    name,
                    step.value,
                    'differs from the kernel value %s, and every write of it corrupts kernel memory' % (step.before,),
                    'the current value, a cpu_governor whose preset has these intervals, or the explicit '
                    'opt-in allow_eval_intervals_memory_corruption',
                )
            )
        if HAZARD_NEEDS_DAEMON in hazards and not state.daemon_runs():
            plan.problems.append(
                Problem(
                    name,
                    step.value,
                    'cannot be written: the %s kernel thread is gone, so the write would block '
                    'forever; reboot the host' % backend.thread,
                    'nothing until the host is rebooted',
                )
            )
        if HAZARD_ADVISOR_MANAGED in hazards and advisor_manages(final):
            plan.problems.append(
                Problem(
                    name,
                    step.value,
                    'is managed by ksmd while advisor_mode is %s' % final['advisor_mode'],
                    'no pages_to_scan with advisor_mode scan-time; set advisor_min/max_pages_to_scan instead',
                )
            )
        if HAZARD_EBUSY_WHILE_SHARED in hazards and state.stats.get('pages_shared') and not allow_unmerge:
            plan.problems.append(
                Problem(
                    name,
                    step.value,
                    'cannot change while %d pages are shared (EBUSY)' % state.stats['pages_shared'],
                    'the current value %s, or allow_unmerge (run=2 unmerges every page first)' % (step.before,),
                )
            )


def make_plan(
    backend: Backend,
    kernel_attrs: t.Sequence[str],
    state: HostState,
    desired: dict[str, t.Any],
    allow_eval_intervals: bool = False,
    allow_unmerge: bool = False,
) -> Plan:
    """Validate ``desired`` and return the writes, in the kernel's order, that reach it."""
    plan = Plan()
    coerced = _coerce(backend, state, desired, kernel_attrs, plan)
    plan.desired = {name: backend.attrs[name].kind.normalise(value) for name, value in coerced.items()}
    predicted = dict(state.tunables)
    for name in backend.write_order(coerced):
        kind = backend.attrs[name].kind
        value = coerced[name]
        current = predicted.get(name)
        after = kind.normalise(value)
        if kind.equivalent(value, current) or raised_by_kernel(
            backend, name, after, current, predicted, state.stats, state.written
        ):
            continue  # never rewrite a governor (or anything) with its current value, nor undo uksmd's raise
        plan.steps.append(Step(name, current, value, kind.format(value)))
        predicted[name] = after
        _side_effects(backend, name, value, predicted)
    plan.final = predicted
    _hazards(backend, state, plan, allow_eval_intervals, allow_unmerge)
    if plan.problems:
        plan.steps = []
    return plan


def drift(
    backend: Backend, kernel_attrs: t.Sequence[str], state: HostState, settings: dict[str, t.Any]
) -> tuple[list[str], list[str], dict[str, dict[str, t.Any]]]:
    """Attributes of a policy the kernel does not hold now, the policy's problems, and the attributes
    the kernel holds raised by itself (``raised_values``).

    The one definition of drift used by facts, the rollout, the report and the metrics: compared
    through the knob model (a clamped or rounded value is not drift), against the kernel as it is
    (not as a governor write would reset it), and without what the kernel changes itself
    (pages_to_scan while ksmd's advisor runs, a sleep uksmd raised).
    """
    if advisor_manages(state.tunables):
        settings = {
            name: value
            for name, value in settings.items()
            if name not in backend.attrs or HAZARD_ADVISOR_MANAGED not in backend.attrs[name].hazards
        }
    # hazards are the writer's business: drift is only "differs from the policy"
    plan = make_plan(backend, kernel_attrs, state, settings, allow_eval_intervals=True, allow_unmerge=True)
    raised = raised_values(backend, plan.desired, state.tunables, state)
    names = [
        name
        for name in backend.write_order(plan.desired)
        if name not in raised and not backend.attrs[name].kind.equivalent(plan.desired[name], state.tunables.get(name))
    ]
    return names, [str(problem) for problem in plan.problems], raised
