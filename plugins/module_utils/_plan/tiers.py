# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""Pressure tiers of a policy: what they are, which of them can be used, and the tier in force.

A level is what the kernel runs at one moment: the base settings alone, or the base with one tier's
settings on top. Every transition writes a level through the planner, so a level must say everything
another level changes: a tier may set only what the base sets, or (UKSM) what the base's governor
preset determines when the two levels run different governors (the governor write resets it). Then
stepping back down to the base leaves exactly the base. Attributes whose writes corrupt memory, leak
kernel memory or fail with EBUSY while pages are shared are not for a tuner that writes unattended.
(A base that sets its own cpu_ratios under tiers that change cpu_governor still has cpu_ratios
written again after each governor write, one leaked kmalloc-32 object each: the hysteresis keeps
such transitions rare, and the README says so.)

The tier in force lives in ``/run/litevirt-uksm/tier`` beside the host lock (root's alone, gone at
reboot, when the boot applier writes the base).
"""

from __future__ import annotations

from .._host import persist
from .._host.paths import TIER_FILE
from .._host.safefiles import read_file
from .._knobs.attributes import HAZARD_CORRUPTS_MEMORY, HAZARD_EBUSY_WHILE_SHARED, HAZARD_LEAKS_PER_WRITE
from .._knobs.value_kinds import is_decimal
from ..errors import UksmError
from .pressure import THRESHOLDS_ACCEPTED, TierError, TierProblem, check_thresholds

TYPE_CHECKING = False  # importing typing costs the boot applier ~8 ms; annotations are strings
if TYPE_CHECKING:
    import typing as t

    from .._knobs.attributes import Backend

# Hazards a tier may not carry: the tuner writes a tier at every transition, with nobody watching.
UNATTENDED_HAZARDS = (HAZARD_CORRUPTS_MEMORY, HAZARD_LEAKS_PER_WRITE, HAZARD_EBUSY_WHILE_SHARED)
DEFAULT_HYSTERESIS = 5
MAX_HYSTERESIS = 50
# "uksm 1\n": a few bytes; more is not ours
MAX_STATE_BYTES = 64


class Tier:
    def __init__(self, available_below_percent: int, settings: dict[str, t.Any]) -> None:
        self.available_below_percent = available_below_percent
        self.settings = settings


class TierPolicy:
    """A backend's tiers, in order (the scarcest memory last), and the hysteresis in percent points."""

    def __init__(self, tiers: t.Sequence[Tier] = (), hysteresis: int = DEFAULT_HYSTERESIS) -> None:
        self.tiers = list(tiers)
        self.hysteresis = hysteresis

    @property
    def thresholds(self) -> list[int]:
        return [tier.available_below_percent for tier in self.tiers]

    def level(self, base: dict[str, t.Any], index: int | None) -> dict[str, t.Any]:
        """The settings in force at tier ``index`` (None: the base): the base with the tier on top."""
        if index is None:
            return dict(base)
        return dict(base, **self.tiers[index].settings)

    def describe(self) -> dict[str, t.Any]:
        """As the facts report it."""
        return {
            'hysteresis': self.hysteresis,
            'tiers': [
                {'available_below_percent': tier.available_below_percent, 'settings': dict(tier.settings)}
                for tier in self.tiers
            ],
        }


def check_hysteresis(value: t.Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_HYSTERESIS:
        raise TierError(
            'hysteresis=%r is not accepted; accepted: a whole number of percent points from 0 to %d'
            % (value, MAX_HYSTERESIS)
        )
    return value


def _names(backend: Backend, settings: dict[str, t.Any]) -> set[str]:
    return {name for name in settings if name in backend.attrs}


def check_levels(backend: Backend, base: dict[str, t.Any], policy: TierPolicy) -> list[TierProblem]:
    """What makes the tiers unusable with this base, one problem each, placed in the tier it was written
    in ([] when none).

    Values are the planner's business (each level is planned like any setting); this checks what
    the planner cannot see: that every transition between two levels writes everything that differs.
    """
    problems: list[TierProblem] = []
    # each level by its tier (None: the base)
    levels: dict[int | None, dict[str, t.Any]] = {None: dict(base)}
    levels.update((index, policy.level(base, index)) for index in range(len(policy.tiers)))
    for index, tier in enumerate(policy.tiers):
        if not tier.settings:
            problems.append(
                TierProblem(index, 'sets nothing; accepted: at least one attribute to change under pressure')
            )
        for name in sorted(_names(backend, tier.settings)):
            hazards = [hazard for hazard in backend.attrs[name].hazards if hazard in UNATTENDED_HAZARDS]
            if hazards:
                problems.append(
                    TierProblem(
                        index,
                        '%s is not accepted in a tier (%s: a write the tuner repeats unattended); accepted: '
                        'set it in the base settings only' % (name, ', '.join(hazards)),
                    )
                )
    governed = {name for preset in backend.presets.values() for name in preset}
    for index, tier in enumerate(policy.tiers):
        for name in sorted(_names(backend, tier.settings) - set(base)):
            governor = base.get('cpu_governor')
            if name not in governed or governor is None:
                problems.append(
                    TierProblem(
                        index,
                        'sets %s, which the base settings do not set, so stepping back down could not restore it;'
                        ' accepted: %s in the base settings too%s'
                        % (name, name, ' (or a cpu_governor, whose preset sets it)' if name in governed else ''),
                    )
                )
    for name in sorted(governed & set().union(*(_names(backend, tier.settings) for tier in policy.tiers))):
        if name in base or 'cpu_governor' not in base:
            continue  # every level sets it, or the base lacks it (reported above)
        setters = [level for level, values in levels.items() if name in values]
        # the level that sets it (a tier: the base does not) -> the levels it cannot be restored on: a level
        # without it gets the preset from the governor write on the way there, only from another governor
        stuck: dict[int | None, list[str]] = {}
        for level, values in levels.items():
            same = [tier for tier in setters if levels[tier].get('cpu_governor') == values.get('cpu_governor')]
            if name not in values and same:
                stuck.setdefault(same[0], []).append(_label(level))
        for setter, labels in stuck.items():
            text = (
                "sets %(name)s but runs the same cpu_governor (%(governor)s) as %(levels)s, where "
                "%(name)s is not set, so stepping from %(setter)s to %(either)s would keep %(setter)s's %(name)s; "
                'accepted: %(name)s in the base settings too, or another cpu_governor in %(setter)s'
                % {
                    'setter': _label(setter),
                    'name': name,
                    'governor': levels[setter].get('cpu_governor'),
                    'levels': ' and '.join(labels),
                    'either': ' or '.join(labels),
                }
            )
            problems.append(TierProblem(setter, text))
    return problems


def _label(level: int | None) -> str:
    return 'the base' if level is None else 'tier %d' % level


def from_sections(policies: persist.Policies, backend: str) -> TierPolicy:
    """The tiers persisted for ``backend`` (none: an empty TierPolicy); raises TierError for unusable ones."""
    pressure = policies.get(persist.pressure_section(backend), {})
    hysteresis = DEFAULT_HYSTERESIS
    for name, text in pressure.items():
        if name != 'hysteresis':
            raise TierError(
                '[%s]: %s is not a setting of it; accepted: hysteresis' % (persist.pressure_section(backend), name)
            )
        hysteresis = check_hysteresis(int(text) if is_decimal(text) else text)
    found: list[tuple[t.Any, dict[str, str]]] = []
    for index in range(persist.MAX_TIERS):
        section = policies.get(persist.tier_section(backend, index))
        if section is None:
            if any(persist.tier_section(backend, n) in policies for n in range(index + 1, persist.MAX_TIERS)):
                raise TierError(
                    '[%s] is missing; accepted: tiers numbered from 0 without gaps'
                    % persist.tier_section(backend, index)
                )
            break
        settings = dict(section)
        threshold = settings.pop('available_below_percent', None)
        if threshold is None:
            raise TierError(
                '[%s] has no available_below_percent; accepted: %s'
                % (persist.tier_section(backend, index), THRESHOLDS_ACCEPTED)
            )
        found.append((int(threshold) if is_decimal(threshold) else threshold, settings))
    thresholds = check_thresholds([threshold for threshold, _settings in found])
    return TierPolicy([Tier(thresholds[n], settings) for n, (_threshold, settings) in enumerate(found)], hysteresis)


def to_sections(backend: str, policy: TierPolicy) -> persist.Policies:
    """The sections that persist ``policy`` (none for a policy without tiers)."""
    if not policy.tiers:
        return {}
    sections = {persist.pressure_section(backend): {'hysteresis': str(policy.hysteresis)}}
    for index, tier in enumerate(policy.tiers):
        section = {'available_below_percent': str(tier.available_below_percent)}
        section.update((name, persist.as_text(value)) for name, value in tier.settings.items())
        sections[persist.tier_section(backend, index)] = section
    return sections


def replaced(policies: persist.Policies, backend: str, policy: TierPolicy) -> persist.Policies:
    """Policies with ``backend``'s pressure and tier sections replaced by those of ``policy``."""
    ours = {persist.pressure_section(backend)} | {persist.tier_section(backend, n) for n in range(persist.MAX_TIERS)}
    result = {name: dict(values) for name, values in policies.items() if name not in ours}
    result.update(to_sections(backend, policy))
    return result


def read_state(sysroot: str, backend: str) -> int | None:
    """The tier the tuner recorded for ``backend``; None for the base, for no file, and for a file that is
    not ours. Which tier is in force also depends on the policy: see in_force()."""
    try:
        found = read_file(sysroot, TIER_FILE, MAX_STATE_BYTES)
    except (OSError, UksmError):
        return None
    if found is None:
        return None
    fields = found[0].decode('ascii', 'replace').split()
    if len(fields) != 2 or fields[0] != backend or not is_decimal(fields[1]) or int(fields[1]) >= persist.MAX_TIERS:
        return None
    return int(fields[1])


def in_force(recorded: int | None, policy: TierPolicy) -> int | None:
    """The tier in force: the one recorded, while the policy still has it; else the base (None)."""
    return recorded if recorded is not None and recorded < len(policy.tiers) else None


def write_state(sysroot: str, backend: str, index: int | None) -> None:
    """Record the tier in force (the base: no file), in the lock's directory, root's alone."""
    # where used: facts read the tier, and the tuner writes it only when the tier changes
    from .._host.safewrites import remove_file, replace_file  # pylint: disable=import-outside-toplevel

    if index is None:
        remove_file(sysroot, TIER_FILE)
    else:
        replace_file(
            sysroot,
            TIER_FILE,
            ('%s %d\n' % (backend, index)).encode('ascii'),
            0o600,
            directory_mode=0o700,
            durable=False,
        )
