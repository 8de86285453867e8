# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""uksmd raises a short sleep_millisecs: which live values the kernel makes of a desired one.

After every batch, uksmd lengthens a sleep in which rung 0 of cpu_ratios cannot scan one page,
and puts the written value back every 8 evaluation rounds (docs/kernel-interfaces.md, section
2.5). The per-page cost it uses (``ema_per_page_time``) changes at every batch, so the one read
now does not tell what raised the sleep seconds ago; what one read can decide is whether the live
value is one the kernel can make of the desired one: a whole number of ticks above it, no higher
than a page of the highest cost uksmd uses raises it, and only when such a page does not fit rung
0's share of the desired sleep. The planner, the read-back, drift and the launchers ask this rule
(through ``Attr.raised_by_kernel``), so a raise is never drift and never written again.
"""

from __future__ import annotations

from .value_kinds import SUPPORTED_HZ

TYPE_CHECKING = False  # importing typing costs the boot applier ~8 ms; annotations are strings
if TYPE_CHECKING:
    import typing as t

# CPU shares of cpu_ratios are in 1/10000 of a CPU (the kernel's TIME_RATIO_SCALE).
SCALE = 10000
# The highest per-page cost (ns) uksmd computes a sleep from: above it, it resets the cost to 500.
EMA_CEILING_NS = 100000
# uksmd puts the written sleep back at every batch of one evaluation round in this many.
RESTORE_ROUNDS = 8


def _msecs_to_jiffies(msecs: int, hz: int) -> int:
    return -(-msecs * hz // 1000)


def _jiffies_to_msecs(jiffies: int, hz: int) -> int:
    return -(-jiffies * 1000 // hz)


def _jiffies_to_usecs(jiffies: int, hz: int) -> int:
    return jiffies * 1000000 // hz


def _usecs_to_jiffies(usecs: int, hz: int) -> int:
    return -(-usecs * hz // 1000000)


def _round_trip(msecs: int, hz: int) -> int:
    return _jiffies_to_msecs(_msecs_to_jiffies(msecs, hz), hz)


def rung_real_ratio(rung: str, max_cpu_percentage: int) -> int:
    """The CPU share (1/10000) the scanner gives a rung: ``N``, or for ``MAX/N`` its part of
    max_cpu_percentage (the kernel's rung_real_ratio(), at least 1)."""
    if rung.startswith('MAX/'):
        real = (SCALE // int(rung[4:])) * max_cpu_percentage // 100
    else:
        real = int(rung)
    return real or 1


def budget_ns(sleep_msecs: int, ratio: int, hz: int) -> int:
    """The nanoseconds rung 0 may spend per sleep (the kernel's integer arithmetic, left to right)."""
    return 1000 * _jiffies_to_usecs(_msecs_to_jiffies(sleep_msecs, hz), hz) // (SCALE - ratio) * ratio


def raised_msecs(ema_ns: int, ratio: int, hz: int) -> int:
    """The sleep_millisecs uksmd sets when one page costs ``ema_ns`` more than the budget."""
    return _jiffies_to_msecs(_usecs_to_jiffies(ema_ns * (SCALE - ratio) // ratio // 1000, hz) + 1, hz)


def raise_bounds(ratio: int, hz: int) -> tuple[int | None, int]:
    """The largest sleep uksmd can raise at this rung 0 ratio and tick rate (None: not even 0 ms, which
    cannot happen), and the highest value it raises any sleep to (the knob reference's table)."""
    raisable = [msecs for msecs in range(0, 1001) if budget_ns(msecs, ratio, hz) < EMA_CEILING_NS]
    return (max(raisable) if raisable else None), raised_msecs(EMA_CEILING_NS, ratio, hz)


def _ratio_of(known: dict[str, t.Any]) -> tuple[int, str] | None:
    """Rung 0's real ratio from the live cpu_ratios and max_cpu_percentage, and how to name it."""
    rungs = known.get('cpu_ratios')
    max_cpu = known.get('max_cpu_percentage')
    if not rungs or not isinstance(max_cpu, int):
        return None
    try:
        ratio = rung_real_ratio(rungs[0], max_cpu)
    except ValueError:
        return None
    if ratio >= SCALE:
        return None
    named = rungs[0] if not rungs[0].startswith('MAX/') else '%s at max_cpu_percentage %d' % (rungs[0], max_cpu)
    return ratio, named


class SleepRaise:
    """The rule for UKSM's sleep_millisecs; ``needs`` names the other attributes it reads."""

    needs = ('cpu_ratios', 'max_cpu_percentage', 'ema_per_page_time')

    def explain(
        self,
        desired: int,
        live: t.Any,
        known: dict[str, t.Any],
        stats: dict[str, t.Any],
        saved: int | None,
    ) -> dict[str, t.Any] | None:
        """``{'desired', 'live', 'reason'}`` when uksmd raised ``desired`` to ``live``, else None.

        ``live`` must be a raise uksmd can make of ``desired`` at the live rung 0, and the kernel must
        hold ``desired`` aside: ``saved``, what the collection last wrote since boot, says so, or else
        the live per-page cost shows uksmd raising it now. Without either, the live value may be one
        nobody raised (the kernel default after a boot, a value written by hand): drift.
        """
        found = _ratio_of(known)
        if found is None or not isinstance(live, int) or isinstance(live, bool):
            return None
        ratio, named = found
        ema = stats.get('ema_per_page_time')
        for hz in SUPPORTED_HZ:
            budget = budget_ns(desired, ratio, hz)
            ceiling = raised_msecs(EMA_CEILING_NS, ratio, hz)
            if not (budget < EMA_CEILING_NS and _round_trip(desired, hz) < live <= ceiling):
                continue
            if _jiffies_to_msecs(live * hz // 1000, hz) != live:
                continue  # what sysfs shows of no whole number of ticks at this HZ
            raising_now = isinstance(ema, int) and budget < ema
            if saved != desired and not raising_now:
                continue
            return {
                'desired': desired,
                'live': live,
                'reason': (
                    'raised by uksmd: at %d ms, rung 0 (cpu_ratios %s: %d/%d of a CPU) has %d ns per sleep, less than '
                    'scanning one page can take (up to %d ns%s), so uksmd sleeps longer (at most %d ms) and puts %d '
                    'back every %d evaluation rounds'
                )
                % (
                    desired,
                    named,
                    ratio,
                    SCALE,
                    budget,
                    EMA_CEILING_NS,
                    '; ema_per_page_time reads %d now' % ema if isinstance(ema, int) else '',
                    ceiling,
                    desired,
                    RESTORE_ROUNDS,
                ),
            }
        return None
