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

from .._host.paths import POLICY_FILE
from .._install.systemctl import Systemctl
from .._install.unit_setup import absent as remove_units
from .._install.unit_setup import interval_accepted
from .._install.unit_setup import present as install_units
from .._install.unit_setup import problems as unit_problems
from .._install.unit_setup import request as unit_request
from .._install.unit_texts import HYPERVISOR_UNITS
from .._plan.facts import gather
from .._plan.tunable import run, tier_policy_of
from ..errors import UksmError
from .policy_refusals import (
    conflict_refusal,
    conflict_warning,
    ksmtuned_replaced,
    name_problems,
    other_problems,
    placed,
    tier_problems,
)
from .policy_request import OPTION_NAMES, PolicyError, PolicyRequest, host_tiers


def active_conflicts(fact: dict[str, t.Any]) -> tuple[list[str], list[str]]:
    """Enabled or running services that always rewrite the interface's files, and those that may
    (tuned, depending on its profile), enabled ones first."""
    found = fact['conflicts']
    ordered = [name for name in found if found[name]['enabled']]
    ordered += [name for name in found if not found[name]['enabled'] and found[name]['running']]
    certain = [name for name in ordered if found[name]['rewrites'] == 'always']
    maybe = [name for name in ordered if found[name]['rewrites'] == 'maybe']
    return certain, maybe


def _disable(systemctl: Systemctl, fact: dict[str, t.Any], names: t.Sequence[str]) -> list[str]:
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


def _absent(request: PolicyRequest, fact: dict[str, t.Any], systemctl: Systemctl, check_mode: bool) -> dict[str, t.Any]:
    """Back to the kernel's defaults when asked (without eval_intervals unless allowed), then the units,
    the applier and the persisted policy removed."""
    done: dict[str, t.Any] = {'changes': [], 'diff': []}
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
) -> dict[str, t.Any]:
    """Bring the host to the policy (or remove it); the module's result, facts after the run included.

    ``systemctl`` makes the Systemctl when one is needed (a run that neither persists, disables nor
    removes never looks for the program)."""
    sysroot = request.sysroot
    made: list[Systemctl] = []

    def manager() -> Systemctl:
        if not made:
            made.append(systemctl())
        return made[0]

    before = gather(sysroot, lock_wait=request.lock_timeout)
    backend = before['backend']
    available = before['available']
    result: dict[str, t.Any] = {
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
    diff: list[dict[str, t.Any]] = []
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
            problems += other_problems(request, backend, not unusable_tiers)
            raise PolicyError('%s. Nothing was written.' % ' | '.join(problems), problems=problems)
        certain, maybe = active_conflicts(before)
        if certain and request.conflicts == 'fail':
            raise PolicyError(conflict_refusal(request, backend, certain))
        for name in (certain if request.conflicts == 'warn' else []) + maybe:
            warn(conflict_warning(request, backend, name, name in certain))
        try:
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
                    tier_policy_of(host_tiers(request, backend), request.pressure_hysteresis)
                    if request.persist
                    else None
                ),
                exact=request.persist,
            )
        except UksmError as error:
            if not error.details.get('problems'):
                raise
            # refused before any write: each problem named by the option it was written in
            problems = placed(request, backend, error)
            raise PolicyError('%s. Nothing was written.' % ' | '.join(problems), problems=problems) from None
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
    after = gather(sysroot, lock_wait=request.lock_timeout) if changed else before
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
