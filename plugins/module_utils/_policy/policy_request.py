# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""What uksm_policy is asked: its options by name, and the pressure tiers as this host's interface reads them."""

from __future__ import annotations

import typing as t

from .._host.paths import METRICS_OUTPUT
from ..errors import UksmError
from ..host_options import SYSROOT, WRITES

# uksm_policy_unit's options under the names uksm_policy gives them
OPTION_NAMES = {'before': 'boot_before'}
# fields of PolicyRequest that say how to name the options rather than being one a caller sets by its name
NOT_OPTIONS = ('option_prefix', 'caller_variables')
# what the policy role exports under the prefix (uksm_policy_result): a variable, never a misspelling
EXPORTED = ('result',)


class PolicyError(UksmError):
    """A policy that cannot be applied on this host; nothing was written."""


class PolicyRequest(t.NamedTuple):
    """The module's options, by their names (the role's variables without their prefix). Their defaults
    are the argument spec's, written once below: ``request_of`` fills them in."""

    state: str
    preset: str | None  # '' or None: no preset
    uksm_settings: dict[str, t.Any]
    ksm_settings: dict[str, t.Any]
    persist: bool
    conflicts: str  # fail, warn or disable
    unavailable: str  # fail or skip
    restore_defaults: bool
    allow_unmerge: bool
    allow_eval_intervals_memory_corruption: bool
    boot_before: t.Sequence[str]
    python: str | None  # '' or None: the host's own
    lock_timeout: float
    metrics: bool
    metrics_output: str
    pressure_tiers: t.Sequence[dict[str, t.Any]]
    pressure_interval: t.Any
    pressure_hysteresis: t.Any
    sysroot: str
    # how messages name the options: the role passes its variables' prefix (uksm_policy_)
    option_prefix: str
    # the caller's variables with that prefix (the role's), for misspelt names
    caller_variables: dict[str, t.Any]


# the module's argument spec: one option per field of PolicyRequest (a unit test holds them together)
ARGUMENT_SPEC: dict[str, t.Any] = {
    'state': {'type': 'str', 'default': 'present', 'choices': ['present', 'absent']},
    # checked by the policy, which names the closest preset (choices would list an empty one)
    'preset': {'type': 'str', 'default': ''},
    'uksm_settings': {'type': 'dict', 'default': {}},
    'ksm_settings': {'type': 'dict', 'default': {}},
    'persist': {'type': 'bool', 'default': True},
    'conflicts': {'type': 'str', 'default': 'fail', 'choices': ['fail', 'disable', 'warn']},
    'unavailable': {'type': 'str', 'default': 'fail', 'choices': ['fail', 'skip']},
    'restore_defaults': {'type': 'bool', 'default': False},
    'boot_before': {'type': 'list', 'elements': 'str', 'default': []},
    'python': {'type': 'str', 'default': ''},
    'metrics': {'type': 'bool', 'default': False},
    'metrics_output': {'type': 'path', 'default': METRICS_OUTPUT},
    'pressure_tiers': {
        'type': 'list',
        'elements': 'dict',
        'default': [],
        'options': {
            'available_below_percent': {'type': 'int', 'required': True},
            'uksm_settings': {'type': 'dict', 'default': {}},
            'ksm_settings': {'type': 'dict', 'default': {}},
        },
    },
    'pressure_interval': {'type': 'int', 'default': 30},
    'option_prefix': {'type': 'str', 'default': ''},
    'caller_variables': {'type': 'dict', 'default': {}},
    **SYSROOT,
    **WRITES,
}


def request_of(**options: t.Any) -> PolicyRequest:
    """A request of these options and the argument spec's defaults for the others (the module passes
    every option; this is for callers that name a few, such as the unit tests)."""
    import copy  # pylint: disable=import-outside-toplevel

    unknown = sorted(set(options) - set(PolicyRequest._fields))
    if unknown:
        raise TypeError('not options of uksm_policy: %s' % ', '.join(unknown))
    return PolicyRequest(
        **{
            name: options[name] if name in options else copy.deepcopy(ARGUMENT_SPEC[name].get('default'))
            for name in PolicyRequest._fields
        }
    )


def host_tiers(request: PolicyRequest, backend: str) -> list[dict[str, t.Any]]:
    """The pressure tiers for the interface this host has: each tier's uksm_settings or ksm_settings."""
    key = backend + '_settings'
    return [
        {'available_below_percent': tier.get('available_below_percent'), 'settings': tier.get(key) or {}}
        for tier in request.pressure_tiers
    ]
