# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""Why uksm_policy refuses a policy, in the words of the option the caller wrote it in.

Every refusal happens before the first write. Names are judged on every host, whatever interface it
runs (a misspelling is one everywhere); values, tiers and units on the host that would use them. With
the role, options are named by its variables (``option_prefix``, ``uksm_policy_``).
"""

from __future__ import annotations

import typing as t

from .._install.unit_setup import MAX_INTERVAL, MIN_INTERVAL, interval_accepted
from .._knobs.attributes import BACKENDS
from .._knobs.presets import PRESETS
from .._knobs.value_kinds import close_match
from .._plan.plan import unknown_name
from .._plan.tunable import run, tier_policy_of
from ..errors import UksmError
from .policy_request import EXPORTED, NOT_OPTIONS, PolicyRequest, host_tiers


def name_problems(request: PolicyRequest) -> list[str]:
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


def _known(settings: dict[str, t.Any], backend: str) -> dict[str, t.Any]:
    return {name: value for name, value in settings.items() if name in BACKENDS[backend].attrs}


def other_problems(request: PolicyRequest, backend: str, with_tiers: bool) -> list[str]:
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
        return placed(request, backend, error)
    return []


def placed(request: PolicyRequest, backend: str, error: UksmError) -> list[str]:
    """The planner's problems (uksm_tunable's refusal) named by the option they were written in, from
    where the planner found each: ``uksm_policy_pressure_tiers[1].uksm_settings: ...`` for a tier's
    settings, ``uksm_policy_pressure_tiers[1]: ...`` for its threshold, the base settings for the rest."""
    name = request.option_prefix
    named = []
    for problem in getattr(error, 'placed', None) or error.details.get('problems') or [str(error)]:
        if isinstance(problem, str):
            where = '%s%s_settings' % (name, backend)  # the base's own
        elif problem.tier is None:
            where = name + 'pressure_tiers'  # the tiers as a whole
        elif problem.in_settings:
            where = '%spressure_tiers[%d].%s_settings' % (name, problem.tier, backend)
        else:
            where = '%spressure_tiers[%d]' % (name, problem.tier)
        named.append('%s: %s' % (where, problem if isinstance(problem, str) else problem.text))
    return named


def tier_problems(request: PolicyRequest, backend: str) -> list[str]:
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


def conflict_refusal(request: PolicyRequest, backend: str, certain: list[str]) -> str:
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


def conflict_warning(request: PolicyRequest, backend: str, name: str, certain: bool) -> str:
    how = 'rewrites' if certain else 'can rewrite (depending on its profile)'
    warning = '%s is enabled or running and %s /sys/kernel/mm/%s.' % (name, how, backend)
    return warning + (' ' + ksmtuned_replaced(request) if name == 'ksmtuned' else '')
