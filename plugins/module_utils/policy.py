# -*- coding: utf-8 -*-
# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""What uksm_policy (and so the policy role) does, without Ansible: a host brought to the policy in one run.

Read the host (facts.py), refuse what cannot be used before anything is written, apply and persist the
policy in one transaction (tunable.py), disable the services that would undo it (systemctl.py), install
the units (unit_setup.py), and read the host again only when something changed.
"""

from __future__ import annotations

import typing as t

from .attributes import BACKENDS
from .errors import UksmError
from .facts import gather
from .paths import POLICY_FILE
from .plan import unknown_name
from .presets import PRESETS
from .value_kinds import close_match
from .systemctl import Systemctl
from .tunable import run, tier_policy_of
from .unit_setup import MAX_INTERVAL, MIN_INTERVAL, interval_accepted
from .unit_setup import absent as remove_units
from .unit_setup import present as install_units
from .unit_setup import problems as unit_problems
from .unit_setup import request as unit_request
from .unit_texts import HYPERVISOR_UNITS


# uksm_policy_unit's options under the names uksm_policy gives them
OPTION_NAMES = {'before': 'boot_before'}
# fields of PolicyRequest that say how to name the options rather than being one a caller sets by its name
NOT_OPTIONS = ('option_prefix', 'caller_variables')
# what the policy role exports under the prefix (uksm_policy_result): a variable, never a misspelling
EXPORTED = ('result',)


class PolicyError(UksmError):
    """A policy that cannot be applied on this host; nothing was written."""


class PolicyRequest(t.NamedTuple):
    """The module's options, by their names (the role's variables without their prefix)."""

    state: str = 'present'
    preset: t.Optional[str] = None
    uksm_settings: t.Dict[str, t.Any] = {}
    ksm_settings: t.Dict[str, t.Any] = {}
    persist: bool = True
    conflicts: str = 'fail'  # fail, warn or disable
    unavailable: str = 'fail'  # fail or skip
    restore_defaults: bool = False
    allow_unmerge: bool = False
    allow_eval_intervals_memory_corruption: bool = False
    boot_before: t.Sequence[str] = ()
    python: t.Optional[str] = None
    lock_timeout: float = 30.0
    metrics: bool = False
    metrics_output: str = '/var/lib/prometheus/node-exporter/uksm.prom'
    pressure_tiers: t.Sequence[t.Dict[str, t.Any]] = ()
    pressure_interval: t.Any = 30
    pressure_hysteresis: t.Any = 5
    sysroot: str = '/'
    # how messages name the options: the role passes its variables' prefix (uksm_policy_)
    option_prefix: str = ''
    # the caller's variables with that prefix (the role's), for misspelt names
    caller_variables: t.Dict[str, t.Any] = {}


def active_conflicts(fact: t.Dict[str, t.Any]) -> t.Tuple[t.List[str], t.List[str]]:
    """Enabled or running services that always rewrite the interface's files, and those that may
    (tuned, depending on its profile), enabled ones first."""
    found = fact['conflicts']
    ordered = [name for name in found if found[name]['enabled']]
    ordered += [name for name in found if not found[name]['enabled'] and found[name]['running']]
    certain = [name for name in ordered if found[name]['rewrites'] == 'always']
    maybe = [name for name in ordered if found[name]['rewrites'] == 'maybe']
    return certain, maybe


def host_tiers(request: PolicyRequest, backend: str) -> t.List[t.Dict[str, t.Any]]:
    """The pressure tiers for the interface this host has: each tier's uksm_settings or ksm_settings."""
    key = backend + '_settings'
    return [
        {'available_below_percent': tier.get('available_below_percent'), 'settings': tier.get(key) or {}}
        for tier in request.pressure_tiers
    ]


def name_problems(request: PolicyRequest) -> t.List[str]:
    """Misspelt names: the caller's variables (the role's), the preset, and names in the settings of either
    interface that are not attributes of it, on every host whatever it runs, each reported in the option it
    was written in; an attribute of the other interface is sent to that interface's option."""
    places = [('', request.uksm_settings, request.ksm_settings)]
    places += [
        ('pressure_tiers[%d].' % index, tier.get('uksm_settings') or {}, tier.get('ksm_settings') or {})
        for index, tier in enumerate(request.pressure_tiers)
    ]
    problems = []
    if request.option_prefix:
        options = [name for name in PolicyRequest._fields if name not in NOT_OPTIONS]
        for name, value in sorted(request.caller_variables.items()):
            # compared without the prefix they share, which would make every name look close
            suffix = name[len(request.option_prefix) :] if name.startswith(request.option_prefix) else name
            hint = close_match(suffix, options, request.option_prefix)
            if suffix not in options and suffix not in EXPORTED and hint:  # a name of the caller's own is left alone
                problems.append(
                    '%s (given %r) is not a %s variable%s; accepted: the %s variables the documentation lists'
                    % (name, value, request.option_prefix, hint, request.option_prefix)
                )
    if request.preset and request.preset not in PRESETS:
        problems.append(
            '%spreset: %r is not a preset%s; accepted: %s, or the empty string for none'
            % (request.option_prefix, request.preset, close_match(request.preset, PRESETS), ', '.join(PRESETS))
        )
    for place, uksm, ksm in places:
        homes = {backend: '%s%s%s_settings' % (request.option_prefix, place, backend) for backend in BACKENDS}
        for backend, settings in (('uksm', uksm), ('ksm', ksm)):
            for name, value in settings.items():
                problem = unknown_name(BACKENDS[backend], name, value, homes)
                if problem is not None:
                    problems.append('%s: %s' % (homes[backend], problem))
    return problems


def _known(settings: t.Dict[str, t.Any], backend: str) -> t.Dict[str, t.Any]:
    return {name: value for name, value in settings.items() if name in BACKENDS[backend].attrs}


def _other_problems(request: PolicyRequest, backend: str, with_tiers: bool) -> t.List[str]:
    """What else is wrong once a refusal is certain, so that every mistake is reported in one run: the
    values of this host's settings and tiers, the names already refused left out, planned in check mode
    (nothing is written)."""
    settings = _known(request.uksm_settings if backend == 'uksm' else request.ksm_settings, backend)
    tiers = [dict(tier, settings=_known(tier['settings'], backend)) for tier in host_tiers(request, backend)]
    try:
        run(
            request.sysroot,
            backend,
            settings,
            persist_policy=request.persist,
            check_mode=True,
            preset=request.preset if request.preset in PRESETS else None,
            pressure_tiers=(
                tier_policy_of(tiers, request.pressure_hysteresis) if request.persist and with_tiers else None
            ),
        )
    except UksmError as error:
        return list(error.details.get('problems') or [str(error)])
    return []


def tier_problems(request: PolicyRequest, backend: str) -> t.List[str]:
    """What makes the tiers unusable before anything is written: tiers without a persisted policy
    (the tuner reads them from it), an interval the tuner's timer cannot have, a tier with nothing for
    this host's interface."""
    if not request.pressure_tiers:
        return []
    name = request.option_prefix
    problems = []
    if not request.persist:
        problems.append(
            '%spressure_tiers has %d tier(s) but %spersist is false; accepted: %spersist=true (the tuner reads the'
            ' tiers from the persisted policy), or no tiers' % (name, len(request.pressure_tiers), name, name)
        )
    if not interval_accepted(request.pressure_interval):
        problems.append(
            '%spressure_interval=%s is not accepted with tiers; accepted: seconds from %d to %d between two'
            ' evaluations of the tuner' % (name, request.pressure_interval, MIN_INTERVAL, MAX_INTERVAL)
        )
    for index, tier in enumerate(host_tiers(request, backend)):
        if not tier['settings']:
            problems.append(
                '%spressure_tiers[%d] has no %s_settings, and this host runs %s; accepted: at least one attribute'
                ' to change under pressure (a mixed fleet gives every tier both uksm_settings and ksm_settings)'
                % (name, index, backend, backend.upper())
            )
    return problems


def ksmtuned_replaced(request: PolicyRequest) -> str:
    """What replaces ksmtuned, which the conflict messages name."""
    if request.pressure_tiers:
        return (
            'The pressure tiers of %spressure_tiers replace ksmtuned here (uksm-pressure.timer).'
            % request.option_prefix
        )
    return (
        'The pressure tuner of this collection replaces ksmtuned: set %spressure_tiers (section "Pressure tiers" of'
        ' the litevirt.uksm.policy README) for more scanning when available memory runs short.' % request.option_prefix
    )


def _conflict_refusal(request: PolicyRequest, backend: str, certain: t.List[str]) -> str:
    message = (
        '%s rewrite%s /sys/kernel/mm/%s and would undo the policy. Nothing was written. Set %sconflicts=disable'
        % (
            ', '.join(certain),
            's' if len(certain) == 1 else '',
            backend,
            request.option_prefix,
        )
    )
    message += ' to stop and disable them, or %sconflicts=warn to carry on.' % request.option_prefix
    return message + (' ' + ksmtuned_replaced(request) if 'ksmtuned' in certain else '')


def _conflict_warning(request: PolicyRequest, backend: str, name: str, certain: bool) -> str:
    how = 'rewrites' if certain else 'can rewrite (depending on its profile)'
    warning = '%s is enabled or running and %s /sys/kernel/mm/%s.' % (name, how, backend)
    return warning + (' ' + ksmtuned_replaced(request) if name == 'ksmtuned' else '')


def _disable(systemctl: Systemctl, fact: t.Dict[str, t.Any], names: t.Sequence[str]) -> t.List[str]:
    """Stop and disable services (live), or disable the enabled ones (offline); those changed."""
    changed = []
    for name in names:
        state = fact['conflicts'][name]
        if systemctl.live:
            if not (state['enabled'] or state['running']):
                continue
            if not systemctl.check_mode:
                systemctl.run('disable', '--now', name + '.service')
        elif state['enabled']:
            if not systemctl.check_mode:
                systemctl.run('disable', name + '.service')
        else:
            continue
        changed.append(name)
    return changed


def _absent(
    request: PolicyRequest, fact: t.Dict[str, t.Any], systemctl: Systemctl, check_mode: bool
) -> t.Dict[str, t.Any]:
    """Back to the kernel's defaults when asked (without eval_intervals unless allowed), then the units,
    the applier and the persisted policy removed."""
    done: t.Dict[str, t.Any] = {'changes': [], 'diff': []}
    if request.restore_defaults and fact['available']:
        defaults = {
            name: value
            for name, value in fact['defaults'].items()
            if request.allow_eval_intervals_memory_corruption or name != 'eval_intervals'
        }
        restored = run(
            request.sysroot,
            fact['backend'],
            defaults,
            allow_unmerge=request.allow_unmerge,
            allow_eval_intervals=request.allow_eval_intervals_memory_corruption,
            check_mode=check_mode,
            lock_timeout=request.lock_timeout,
        )
        done.update(changes=restored['changes'], restored=restored['changed'], diff=restored['diff'])
    units = remove_units(request.sysroot, True, systemctl, check_mode)
    done['units'] = units
    done['diff'] += units['diff']
    return done


def apply_policy(
    request: PolicyRequest,
    systemctl: t.Callable[[], Systemctl],
    check_mode: bool,
    warn: t.Callable[[str], None],
) -> t.Dict[str, t.Any]:
    """Bring the host to the policy (or remove it); the module's result, facts after the run included.

    ``systemctl`` makes the Systemctl when one is needed (a run that neither persists, disables nor
    removes never looks for the program)."""
    sysroot = request.sysroot
    made: t.List[Systemctl] = []

    def manager() -> Systemctl:
        if not made:
            made.append(systemctl())
        return made[0]

    before = gather(sysroot)
    backend = before['backend']
    available = before['available']
    result: t.Dict[str, t.Any] = {
        'state': request.state,
        'backend': backend,
        'available': available,
        'changes': [],
        'forgotten': [],
        'units_changed': False,
        'policy_file_changed': False,
        'conflicts': [],
        'conflicts_disabled': [],
    }
    diff: t.List[t.Dict[str, t.Any]] = []
    changed = False
    messages = []
    if request.state == 'absent':
        done = _absent(request, before, manager(), check_mode)
        changed = done.get('restored', False) or done['units']['changed']
        result.update(
            changes=done['changes'],
            units_changed=done['units']['changed'],
            # predicted in check mode too: the purge removes the persisted policy
            policy_file_changed='/' + POLICY_FILE in done['units']['files'],
        )
        diff = done['diff']
        messages.append('the policy removed' if changed else 'no policy to remove')
    elif not available:
        if request.unavailable == 'fail':
            raise PolicyError(
                'this host has neither UKSM nor KSM: %s. Set %sunavailable=skip to leave such hosts alone.'
                % (before['reason'], request.option_prefix)
            )
        messages.append('skipped: neither UKSM nor KSM (%s)' % before['reason'])
    else:
        # every refusal before the first write: the names, the tiers, the units' options, the conflicting services
        unusable_tiers = tier_problems(request, backend)
        problems = name_problems(request) + unusable_tiers
        wanted_units = None
        if request.persist:
            wanted_units = unit_request(
                sysroot,
                request.python,
                request.boot_before or HYPERVISOR_UNITS,
                request.metrics,
                request.metrics_output,
                # a tuner only with tiers; tier_problems() already refuses an interval out of range
                int(request.pressure_interval)
                if request.pressure_tiers and interval_accepted(request.pressure_interval)
                else 0,
            )
            problems += unit_problems(
                wanted_units, lambda option: request.option_prefix + OPTION_NAMES.get(option, option)
            )
        if problems:
            problems += _other_problems(request, backend, not unusable_tiers)
            raise PolicyError('%s. Nothing was written.' % ' | '.join(problems), problems=problems)
        certain, maybe = active_conflicts(before)
        if certain and request.conflicts == 'fail':
            raise PolicyError(_conflict_refusal(request, backend, certain))
        for name in (certain if request.conflicts == 'warn' else []) + maybe:
            warn(_conflict_warning(request, backend, name, name in certain))
        applied = run(
            sysroot,
            backend,
            dict(request.uksm_settings if backend == 'uksm' else request.ksm_settings),
            persist_policy=request.persist,
            allow_unmerge=request.allow_unmerge,
            allow_eval_intervals=request.allow_eval_intervals_memory_corruption,
            check_mode=check_mode,
            lock_timeout=request.lock_timeout,
            preset=request.preset or None,
            # persisted, the tiers are always given: none removes tiers an earlier run persisted
            pressure_tiers=(
                tier_policy_of(host_tiers(request, backend), request.pressure_hysteresis) if request.persist else None
            ),
            exact=request.persist,
        )
        changed = applied['changed']
        diff += applied['diff']
        messages.append(applied['msg'])
        result.update(
            changes=applied['changes'],
            forgotten=applied.get('forgotten', []),
            policy_file_changed=applied.get('policy_file_changed', False),
            conflicts=certain,
        )
        if certain and request.conflicts == 'disable':
            disabled = _disable(manager(), before, certain)
            result['conflicts_disabled'] = disabled
            changed = changed or bool(disabled)
            if 'ksmtuned' in disabled:
                stopped = 'stopped and ' if sysroot == '/' else ''
                if request.pressure_tiers:
                    messages.append('ksmtuned was %sdisabled; uksm-pressure.timer applies the pressure tiers' % stopped)
                else:
                    warn(
                        'ksmtuned was %sdisabled. Nothing adjusts KSM to memory pressure now. %s'
                        % (stopped, ksmtuned_replaced(request))
                    )
        if wanted_units is not None:
            units = install_units(sysroot, wanted_units, manager(), check_mode)
            result['units_changed'] = units['changed']
            changed = changed or units['changed']
            diff += units['diff']
    after = gather(sysroot) if changed else before
    fact = after['policy']
    result.update(
        changed=changed,
        msg='; '.join(messages),
        policy_file=fact['file'] if fact['exists'] else None,
        policy=fact['settings'],
        drift=fact['drift'],
        raised_by_kernel=fact['raised_by_kernel'],
        tier=fact['tier'],
        available_percent=fact['available_percent'],
        unit=fact['unit'],
        diff=diff,
        ansible_facts={'uksm': after},
    )
    return result
