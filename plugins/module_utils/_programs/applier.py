# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""The boot-time applier: write the persisted policy with the same code as uksm_tunable.

The policy role installs these module_utils files as a package on the host, with a small
launcher that calls ``main()`` and exits with its status, from a oneshot unit. One line per change or failure goes to
stdout, which systemd sends to the journal.
"""

from __future__ import annotations

from .._host import persist
from .._host.lock import HostLock
from .._plan.changes import REQUESTED
from .._plan.tunable import run
from ..errors import CAUGHT
from . import launcher

TYPE_CHECKING = False  # importing typing costs the boot applier ~8 ms; annotations are strings
if TYPE_CHECKING:
    import typing as t

PREFIX = 'uksm-policy: '


def apply_policy(sysroot: str, out: t.Callable[[str], None], lock_timeout: float = 30.0) -> int:
    """Apply the persisted policy of the detected backend; 0 on success, 1 on failure.

    The policy is read under the host lock: a playbook that replaces it while we wait for the lock
    is followed by its new policy, never undone by the one read before.
    """
    try:
        with HostLock(sysroot, lock_timeout):
            return _apply_locked(sysroot, out)
    except CAUGHT as error:
        out('FAILED: %s' % error)
        return 1


def _apply_locked(sysroot: str, out: t.Callable[[str], None]) -> int:
    found = persist.for_launcher(sysroot, out, 'apply')
    if isinstance(found, int):
        return found
    policies, detection, backend, settings = found
    settings, level = _level_in_force(sysroot, policies, backend.name, settings)
    result = run(sysroot, backend.name, dict(settings), detection=detection, locked_by_caller=True)
    for change in result['changes']:
        out(
            '%s %s: %s -> %s%s'
            % (
                backend.name,
                change['name'],
                persist.as_text(change['before']),
                persist.as_text(change['after']),
                '' if change['cause'] == REQUESTED else ' (%s)' % change['cause'],
            )
        )
    out('%s policy applied%s: %s' % (backend.name, level, result['msg']))
    return 0


def _level_in_force(
    sysroot: str, policies: persist.Policies, backend: str, base: dict[str, str]
) -> tuple[dict[str, str], str]:
    """The base, or the base with the pressure tier the tuner put in force on top (none at boot: the
    tier is recorded under /run), so starting the unit again repairs drift without undoing the tuner."""
    if persist.tier_section(backend, 0) not in policies:
        return base, ''
    # imported only for a policy with tiers: the boot applier of any other policy does not pay for it
    from .._plan.pressure import TierError  # pylint: disable=import-outside-toplevel
    from .._plan.tiers import from_sections, in_force, read_state  # pylint: disable=import-outside-toplevel

    recorded = read_state(sysroot, backend)
    if recorded is None:
        return base, ''  # at boot: the tiers are not even parsed
    try:
        tiers = from_sections(policies, backend)
    except TierError:
        return base, ''  # the tuner reports what is wrong with them at its next run
    index = in_force(recorded, tiers)
    if index is None:
        return base, ''
    return tiers.level(base, index), ' (pressure tier %d in force)' % index


def main(argv: t.Sequence[str] | None = None) -> int:
    return launcher.run(
        'Apply the persisted UKSM/KSM policy (litevirt.uksm).',
        PREFIX,
        argv,
        launcher.LOCK_TIMEOUT,
        lambda sysroot, options, out: apply_policy(sysroot, out, options['lock-timeout']),
    )
