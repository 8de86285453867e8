# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""What uksm_tunable does, without Ansible: plan, write under the lock, persist."""

from __future__ import annotations

from .._host.hostinfo import ThreadLookup
from .._host.lock import HostLock, ReadLock
from .._host.sysfs import detect, read_attributes
from .._host.written_values import WrittenValues
from .._knobs.presets import preset_settings
from ..errors import UksmError
from .changes import cause, summary
from .plan import HostState, Plan, make_plan, planning_stats, raised_values

TYPE_CHECKING = False  # importing typing costs the boot applier ~8 ms; annotations are strings
if TYPE_CHECKING:
    import typing as t

    from .._host.sysfs import Detection
    from .._knobs.attributes import Backend
    from .pressure import TierProblem
    from .tiers import TierPolicy

    Problems = t.List[t.Union[str, TierProblem]]

# The pressure tiers' code (tiers.py, pressure.py, and persist.py through tiers.py) is imported where a
# task has tiers: a plain apply does not compile it.


class TunableError(UksmError):
    """A request that cannot be applied here: invalid settings, no interface, unreadable values.

    A refusal of settings also keeps its problems as they were found (``placed``): a tier's as a
    ``TierProblem`` that knows its tier, so uksm_policy names each by its option without parsing the text."""

    placed: t.Sequence[str | TierProblem] = ()


def _refusal(problems: Problems, message: str | None = None, shown: list[str] | None = None) -> TunableError:
    shown = shown or [str(problem) for problem in problems]
    error = TunableError(
        message or '%d invalid setting(s), nothing was written: %s' % (len(shown), ' | '.join(shown)), problems=shown
    )
    error.placed = list(problems)
    return error


def _host_state(detection: Detection, sysroot: str) -> HostState:
    """The tunables and the statistics the planner needs (not every statistic: each read costs)."""
    backend = detection.backend
    if backend is None:
        raise TunableError('no UKSM or KSM interface on this host: %s' % detection.reason)
    needed = planning_stats(backend)
    names = [name for name in detection.kernel_attrs if backend.attrs[name].writable or name in needed]
    tunables, choices, stats, errors = read_attributes(detection, names)
    if errors:
        raise TunableError('cannot read the current values: %s' % '; '.join(errors))
    return HostState(
        tunables,
        choices,
        stats,
        ThreadLookup(sysroot, backend.thread),
        WrittenValues(sysroot, backend.name),
    )


def _missing(sysroot: str, backend_choice: str, detection: Detection) -> str:
    """Why there is nothing to write: for a forced backend, also what the host has instead."""
    if backend_choice == 'auto':
        return 'no UKSM or KSM interface on this host: %s' % detection.reason
    other = detect(sysroot).backend
    has = (
        'it has %s (backend: auto or %s)' % (other.name.upper(), other.name) if other else 'it has neither UKSM nor KSM'
    )
    return 'backend=%s: %s on this host; %s' % (backend_choice, detection.reason, has)


def _persist(
    sysroot: str,
    backend: str,
    settings: dict[str, t.Any],
    record: bool,
    check_mode: bool,
    tier_policy: TierPolicy | None = None,
    exact: bool = False,
) -> tuple[bool, str, str, str, list[str]]:
    """Record (or remove) settings in the policy file, and replace the backend's tiers with
    ``tier_policy`` when given; ``exact``: also forget the backend's other recorded attributes.
    (changed, path, before text, after text, the attributes forgotten)."""
    # imported only when a task persists: a plain apply does not pay for loading it
    from .._host import persist  # pylint: disable=import-outside-toplevel

    try:
        policies, before = persist.load(sysroot)
    except persist.PolicyFileError as error:
        raise TunableError('%s: %s' % (persist.path_of(sysroot), error)) from None
    forgotten = [name for name in policies.get(backend, {}) if name not in settings] if exact else []
    after_policies = persist.updated(policies, backend, dict.fromkeys(forgotten), False)
    after_policies = persist.updated(after_policies, backend, settings, record)
    if tier_policy is not None:
        from .tiers import replaced  # pylint: disable=import-outside-toplevel

        after_policies = replaced(after_policies, backend, tier_policy)
    after = persist.render(after_policies) if after_policies else ''
    path = persist.path_of(sysroot)
    if after == before:
        return False, path, before, after, forgotten
    if not check_mode:
        if after:
            persist.save(sysroot, after)
        else:
            persist.remove(sysroot)
    return True, path, before, after, forgotten


def tier_policy_of(tiers: t.Sequence[dict[str, t.Any]], hysteresis: t.Any) -> TierPolicy:
    """The tiers as the module takes them (``available_below_percent`` and ``settings`` each); raises
    TunableError for thresholds or a hysteresis that cannot be used, and for more tiers than the policy
    file has sections for (render() would drop the others without a word)."""
    from .._host.persist import MAX_TIERS  # pylint: disable=import-outside-toplevel
    from .pressure import TierError, check_thresholds  # pylint: disable=import-outside-toplevel
    from .tiers import Tier, TierPolicy, check_hysteresis  # pylint: disable=import-outside-toplevel

    try:
        if len(tiers) > MAX_TIERS:
            raise TierError('%d given; accepted: at most %d' % (len(tiers), MAX_TIERS))
        thresholds = check_thresholds([tier.get('available_below_percent') for tier in tiers])
        return TierPolicy(
            [Tier(thresholds[index], dict(tier.get('settings') or {})) for index, tier in enumerate(tiers)],
            check_hysteresis(hysteresis),
        )
    except TierError as error:
        # a refusal of settings, like the planner's: its problem is returned with it
        problem = 'pressure tiers: %s' % error
        raise _refusal([error.problem], problem + '; nothing was written', [problem]) from None


def _plan_tiers(
    backend: Backend,
    detection: Detection,
    current: HostState,
    desired: dict[str, t.Any],
    tier_policy: TierPolicy,
    options: dict[str, bool],
    reported: t.Sequence[str] = (),
) -> tuple[Problems, list[Plan], TierPolicy]:
    """Problems of the tiers, the plan of each level, and the tiers normalised as the file records them.

    A level is the base with a tier on top: the base's own problems (``reported``) come back in each
    level's plan and are left out there, so that each mistake is reported once, where it was written."""
    from .pressure import TierProblem  # pylint: disable=import-outside-toplevel
    from .tiers import Tier, TierPolicy, check_levels  # pylint: disable=import-outside-toplevel

    problems: Problems = list(check_levels(backend, desired, tier_policy))
    plans = []
    normalised = []
    for index, tier in enumerate(tier_policy.tiers):
        plan = make_plan(backend, detection.kernel_attrs, current, tier_policy.level(desired, index), **options)
        problems += [
            TierProblem(index, str(problem))
            for problem in plan.problems
            if problem.name in tier.settings or str(problem) not in reported
        ]
        plans.append(plan)
        values = {name: plan.desired.get(name, value) for name, value in tier.settings.items()}
        normalised.append(Tier(tier.available_below_percent, values))
    return problems, plans, TierPolicy(normalised, tier_policy.hysteresis)


def run(
    sysroot: str,
    backend_choice: str,
    desired: dict[str, t.Any],
    state: str = 'present',
    persist_policy: bool = False,
    allow_unmerge: bool = False,
    allow_eval_intervals: bool = False,
    check_mode: bool = False,
    lock_timeout: float = 30.0,
    preset: str | None = None,
    detection: Detection | None = None,
    locked_by_caller: bool = False,
    pressure_tiers: TierPolicy | None = None,
    exact: bool = False,
) -> dict[str, t.Any]:
    """Apply ``desired`` (or record it, ``state=absent`` forgets it); ``detection`` saves a second
    look at the sysfs directory when the caller already detected the backend; ``locked_by_caller``:
    the caller holds the host lock already (the boot applier, which reads the policy under it).

    ``pressure_tiers`` (with ``persist_policy``): validated with ``desired`` as their base, persisted
    in place of the backend's tiers, and the tier available memory calls for now is applied and
    recorded, as the tuner would (an empty TierPolicy removes the tiers and returns to the base).
    ``exact`` (with ``persist_policy``): the persisted policy becomes ``desired`` alone, attributes an
    earlier run recorded besides it are forgotten (``forgotten``) in the same write."""
    # a writer holds the lock alone; check mode writes nothing and holds it shared, so its prediction
    # is read between two writes (after lock_timeout it reads anyway) and no lock file is left behind
    lock: HostLock | ReadLock
    if check_mode and not locked_by_caller:
        lock = ReadLock(sysroot, lock_timeout)
    else:
        lock = HostLock(sysroot, lock_timeout, take=not locked_by_caller)
    detection = detection or detect(sysroot, backend_choice)
    backend = detection.backend
    result: dict[str, t.Any] = {
        'changed': False,
        'backend': backend.name if backend else None,
        'changes': [],
        'settings': {},
    }
    if state == 'absent':
        name = backend.name if backend else (backend_choice if backend_choice != 'auto' else None)
        if name is None:
            raise TunableError('no UKSM or KSM interface to record the policy for (%s); set backend' % detection.reason)
        with lock:
            changed, path, before, after_text, _forgotten = _persist(
                sysroot, name, desired, record=False, check_mode=check_mode
            )
        result.update(
            changed=changed,
            backend=name,
            policy_file=path,
            policy_file_changed=changed,
            msg='%s %s the persisted %s policy' % (', '.join(desired), 'removed from' if changed else 'not in', name),
            diff=[{'before': before, 'after': after_text, 'before_header': path, 'after_header': path}],
        )
        return result
    if backend is None:
        raise TunableError(_missing(sysroot, backend_choice, detection))
    if pressure_tiers is not None and not persist_policy:
        raise TunableError('pressure tiers are read by the tuner from the persisted policy; set persist=true')
    if preset:
        desired = dict(preset_settings(preset, backend.name, detection.kernel_attrs), **desired)
    # the policy file is written under the lock too, so two writers never interleave their updates
    with lock:
        current = _host_state(detection, sysroot)
        options = {'allow_eval_intervals': allow_eval_intervals, 'allow_unmerge': allow_unmerge}
        plan = base_plan = make_plan(backend, detection.kernel_attrs, current, desired, **options)
        reported = [str(problem) for problem in plan.problems]
        problems: Problems = list(reported)
        if pressure_tiers is not None:
            tier_problems, level_plans, pressure_tiers = _plan_tiers(
                backend, detection, current, desired, pressure_tiers, options, reported
            )
            problems += tier_problems
        if problems:
            raise _refusal(problems)
        if pressure_tiers is not None:
            from .pressure import choose_tier, measure  # pylint: disable=import-outside-toplevel
            from .tiers import in_force, read_state  # pylint: disable=import-outside-toplevel

            recorded = read_state(sysroot, backend.name)
            old = in_force(recorded, pressure_tiers)
            available, stall = measure(sysroot)
            new = old
            if available is not None and pressure_tiers.tiers:
                new = choose_tier(available, pressure_tiers.thresholds, old, pressure_tiers.hysteresis)
            elif not pressure_tiers.tiers:
                new = None
            if new is not None:
                plan = level_plans[new]
            result['pressure'] = {
                'tier': new,
                'tier_settings': dict(pressure_tiers.tiers[new].settings) if new is not None else None,
                'available_percent': None if available is None else round(available, 1),
                'memory_stall': stall,
            }
        if plan.steps and not check_mode:
            # the write path only when there is something to write: a converged run does not compile it
            from .transaction import Transaction  # pylint: disable=import-outside-toplevel

            after = Transaction(
                backend,
                detection,
                sysroot,
                current.tunables,
                allow_unmerge=allow_unmerge,
                allow_eval_intervals=allow_eval_intervals,
                written=current.written,
                daemon_check=current.daemon_runs,
            ).apply(plan)
        else:
            after = plan.final
        result['settings'] = {name: after.get(name) for name in backend.write_order(n for n in desired if n in after)}
        result['changes'] = [
            {
                'name': name,
                'before': current.tunables.get(name),
                'after': after.get(name),
                'cause': cause(backend, name, plan.desired, plan.steps),
            }
            for name in backend.write_order(n for n in after if current.tunables.get(n) != after.get(n))
        ]
        result['changed'] = bool(plan.steps)
        # what the kernel holds raised by itself (uksmd's sleep): held, not written, and said why
        result['raised_by_kernel'] = raised = raised_values(backend, plan.desired, after, current)
        result['msg'] = summary(list(plan.desired), result['changes'], raised)
        diffs = [
            {
                'before': {change['name']: change['before'] for change in result['changes']},
                'after': {change['name']: change['after'] for change in result['changes']},
                'before_header': '/' + backend.directory,
                'after_header': '/' + backend.directory,
            }
        ]
        diffs += [
            {'prepared': '%s: %s (%s)\n' % (name, found['live'], found['reason'])} for name, found in raised.items()
        ]
        if persist_policy:
            # record what was asked for (normalised), so check mode and a real run persist the same bytes
            changed, path, before, after_text, forgotten = _persist(
                sysroot, backend.name, base_plan.desired, True, check_mode, pressure_tiers, exact
            )
            result['changed'] = result['changed'] or changed
            result['policy_file_changed'] = changed
            if pressure_tiers is not None and not check_mode and new != recorded:
                from .tiers import write_state  # pylint: disable=import-outside-toplevel

                write_state(sysroot, backend.name, new)
            result['policy_file'] = path
            if exact:
                result['forgotten'] = forgotten
            diffs.append({'before': before, 'after': after_text, 'before_header': path, 'after_header': path})
    result['diff'] = diffs
    return result
