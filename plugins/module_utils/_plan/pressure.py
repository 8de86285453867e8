# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""Memory pressure tiers: how available memory is measured and which tier it calls for.

A policy may carry an ordered list of tiers, each with an ``available_below_percent`` threshold
(strictly decreasing: the deeper the tier, the scarcer the memory) and settings applied on top of
the base policy while it is in force. Availability is MemAvailable over MemTotal, which counts
reclaimable caches the way the kernel itself estimates them (ksmtuned's MemFree + Buffers + Cached
overstates it). Stepping up is immediate; stepping down waits until availability is past the
threshold by the hysteresis, so a host hovering at a threshold does not flap.

Stdlib only and no I/O besides the /proc reads: the pressure tuner runs this from a timer.
The stall information of ``/proc/pressure/memory`` (kernels from 4.20 with PSI) is reported beside
availability but decides nothing: it is not there on every kernel, and availability is what the
thresholds of ksmtuned and its successors are written in.
"""

from __future__ import annotations

from .._host.sysfs import host_path, read_text
from .._knobs.value_kinds import is_decimal
from ..errors import UksmError

TYPE_CHECKING = False  # importing typing costs the boot applier ~8 ms; annotations are strings
if TYPE_CHECKING:
    import typing as t


class TierProblem:
    """A problem of the tiers with where it was written, so that a caller names the place in its own
    words (uksm_policy: the option) without reading it back from the text: ``tier`` is the tier's index
    (None: the tiers as a whole), ``in_settings`` whether it is about the tier's settings rather than its
    threshold. ``str()`` is uksm_tunable's wording: ``tier 1: ...``."""

    __slots__ = ('tier', 'text', 'in_settings')

    def __init__(self, tier: int | None, text: str, in_settings: bool = True) -> None:
        self.tier = tier
        self.text = text
        self.in_settings = in_settings

    def __str__(self) -> str:
        return self.text if self.tier is None else 'tier %d: %s' % (self.tier, self.text)

    def __repr__(self) -> str:
        return 'TierProblem(%r, %r, %r)' % (self.tier, self.text, self.in_settings)


class TierError(UksmError):
    """Tiers that cannot be used: thresholds out of range or not strictly decreasing; ``problem`` says
    which tier, when it is one tier's threshold."""

    def __init__(self, message: str, tier: int | None = None) -> None:
        self.problem = TierProblem(tier, message, in_settings=False)
        super().__init__(str(self.problem))


def available_percent(meminfo: str) -> float | None:
    """MemAvailable over MemTotal in percent, from the text of ``/proc/meminfo``; None without both."""
    values = {}
    for line in meminfo.splitlines():
        fields = line.split()
        if (
            len(fields) == 3
            and fields[0] in ('MemTotal:', 'MemAvailable:')
            and fields[2] == 'kB'
            and is_decimal(fields[1])
        ):
            values[fields[0]] = int(fields[1])
    total, available = values.get('MemTotal:'), values.get('MemAvailable:')
    if not total or available is None:
        return None
    return 100.0 * min(available, total) / total


# /proc/meminfo is about 1.5 KB, /proc/pressure/memory about 120 bytes
PROC_LIMIT = 16384


def memory_stall(text: str) -> dict[str, float] | None:
    """``some_avg10`` and ``full_avg10`` (percent of the last 10 s stalled on memory) from the text of
    ``/proc/pressure/memory``; None when it has neither."""
    found = {}
    for line in text.splitlines():
        fields = line.split()
        if fields and fields[0] in ('some', 'full'):
            for field in fields[1:]:
                name, _sep, value = field.partition('=')
                if name == 'avg10':
                    try:
                        number = float(value)
                    except ValueError:
                        continue
                    if 0.0 <= number <= 100.0:
                        found[fields[0] + '_avg10'] = number
    return found or None


def measure(sysroot: str) -> tuple[float | None, dict[str, float] | None]:
    """Availability in percent and the memory stall of the host, each None when unreadable."""
    try:
        available = available_percent(read_text(host_path(sysroot, 'proc/meminfo'), PROC_LIMIT))
    except OSError:
        available = None
    try:
        stall = memory_stall(read_text(host_path(sysroot, 'proc/pressure/memory'), PROC_LIMIT))
    except OSError:
        stall = None
    return available, stall


# a tier's available_below_percent: a whole percent of the host's memory, neither none nor all of it
MIN_THRESHOLD, MAX_THRESHOLD = 1, 99
THRESHOLDS_ACCEPTED = 'a whole number from %d to %d' % (MIN_THRESHOLD, MAX_THRESHOLD)


def check_thresholds(thresholds: t.Sequence[t.Any]) -> list[int]:
    """The tiers' ``available_below_percent`` values as ints; raises ``TierError`` naming the bad one."""
    checked: list[int] = []
    for index, value in enumerate(thresholds):
        if isinstance(value, bool) or not isinstance(value, int) or not MIN_THRESHOLD <= value <= MAX_THRESHOLD:
            raise TierError(
                'available_below_percent=%r is not accepted; accepted: %s' % (value, THRESHOLDS_ACCEPTED), tier=index
            )
        if checked and value >= checked[-1]:
            raise TierError(
                'available_below_percent=%d is not below the previous tier\'s %d; accepted: '
                'strictly decreasing thresholds, the scarcest memory last' % (value, checked[-1]),
                tier=index,
            )
        checked.append(value)
    return checked


def choose_tier(available: float, thresholds: t.Sequence[int], current: int | None, hysteresis: float) -> int | None:
    """The tier in force after measuring ``available`` percent, given the tier in force now (None: the base).

    Up at once to the deepest tier whose threshold availability is below; down one tier at a time,
    each only once availability is at or above that tier's threshold plus ``hysteresis``.
    """
    deepest = None
    for index, threshold in enumerate(thresholds):
        if available < threshold:
            deepest = index
    if current is not None and current >= len(thresholds):
        current = len(thresholds) - 1 if thresholds else None  # the policy lost tiers since
    if deepest is not None and (current is None or deepest > current):
        return deepest
    while current is not None and available >= thresholds[current] + hysteresis:
        current = current - 1 if current > 0 else None
    return current
