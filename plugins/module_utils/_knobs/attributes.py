# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""The attribute tables of the knob model: one declarative table per backend (``uksm``, ``ksm``).

Every attribute of the kernel ABI contract is described once here: writable or statistic, value
kind, kernel default, write stage, side effects and hazards. Modules, the role, the boot-time
applier and the generated docs all read these tables; nothing else may hard-code an attribute.
How each value is parsed, checked and formatted is in value_kinds.py.
"""

from __future__ import annotations

from .sleep_raise import SleepRaise
from .value_kinds import INT_MAX, UINT_MAX, ULONG_MAX, Boolean, Choice, Counter, Kind, ScaledCounter, Signed, Unsigned
from .value_lists import IntervalList, RatioLadder

TYPE_CHECKING = False  # importing typing costs the boot applier ~8 ms; annotations are strings
if TYPE_CHECKING:
    import typing as t

    Resets = t.Callable[[t.Any, t.Dict[str, t.Any]], t.Dict[str, t.Any]]

# Hazard identifiers, referenced by the planner and documented from HAZARDS.
HAZARD_CORRUPTS_MEMORY = 'corrupts_memory'
HAZARD_NEEDS_DAEMON = 'needs_daemon'
HAZARD_EBUSY_WHILE_SHARED = 'ebusy_while_shared'
HAZARD_ADVISOR_MANAGED = 'advisor_managed'
HAZARD_LEAKS_PER_WRITE = 'leaks_per_write'

HAZARDS = {
    HAZARD_CORRUPTS_MEMORY: (
        'Every write corrupts kernel memory (a free() into the middle of a buffer); repeated writes '
        'panic the host. Never written unless the task opts in; change intervals through a cpu_governor preset.'
    ),
    HAZARD_NEEDS_DAEMON: (
        'Writing run while the uksmd kernel thread is gone blocks forever in uninterruptible sleep; '
        'refused when uksmd is missing (a reboot is needed).'
    ),
    HAZARD_EBUSY_WHILE_SHARED: (
        'The kernel answers EBUSY when the value changes while pages are shared; changing it needs '
        'run=2 (unmerge every page), which is disruptive and needs allow_unmerge.'
    ),
    HAZARD_ADVISOR_MANAGED: (
        'Rejected with EINVAL while advisor_mode is not none, and rewritten by ksmd itself in that mode (not drift).'
    ),
    HAZARD_LEAKS_PER_WRITE: (
        'Each write leaks a small kernel allocation and a write of exactly a kmalloc size reads past '
        'its buffer: written only when the value differs, and padded to a safe length.'
    ),
}


class Attr:
    """One sysfs attribute of a backend."""

    __slots__ = (
        'name',
        'kind',
        'writable',
        'default',
        'stage',
        'description',
        'hazards',
        'since',
        'resets',
        'raised_by_kernel',
    )

    def __init__(
        self,
        name: str,
        kind: Kind,
        description: str,
        writable: bool = True,
        default: t.Any = None,
        stage: int = 0,
        hazards: t.Sequence[str] = (),
        since: str | None = None,
        resets: Resets | None = None,
        raised_by_kernel: SleepRaise | None = None,
    ) -> None:
        self.name = name
        self.kind = kind
        self.description = description
        self.writable = writable
        self.default = default
        self.stage = stage
        self.hazards = tuple(hazards)
        self.since = since
        # the side effect of a write: (value written, what is known of the other attributes) -> the
        # values the kernel gives other attributes; the planner predicts from it, the transaction
        # touches for a rollback, the changes name their cause (the description must name them too)
        self.resets = resets
        # what the kernel makes of a written value by itself, later (uksmd's raise of a short sleep):
        # a live value it explains is neither drift nor a failed read-back, and is not written again
        self.raised_by_kernel = raised_by_kernel

    def reset_values(self, value: t.Any, known: dict[str, t.Any]) -> dict[str, t.Any]:
        """The attributes a write of ``value`` resets besides this one, with the values they get."""
        return self.resets(value, known) if self.resets is not None else {}


class Backend:
    """A kernel interface: its directory, its kernel thread and its attribute table."""

    def __init__(
        self,
        name: str,
        title: str,
        thread: str,
        marker: str,
        attrs: t.Sequence[Attr],
        presets: dict[str, dict[str, t.Any]] | None = None,
    ) -> None:
        self.name = name
        self.title = title
        self.directory = 'sys/kernel/mm/' + name
        self.thread = thread
        # the file whose presence identifies this backend
        self.marker = marker
        self.attrs = {attr.name: attr for attr in attrs}
        self.presets = presets or {}

    @property
    def writable(self) -> list[str]:
        return [name for name, attr in self.attrs.items() if attr.writable]

    @property
    def statistics(self) -> list[str]:
        return [name for name, attr in self.attrs.items() if not attr.writable]

    def write_order(self, names: t.Iterable[str]) -> list[str]:
        """The names sorted into the order the kernel needs (stage, then table order)."""
        position = {name: index for index, name in enumerate(self.attrs)}
        return sorted(names, key=lambda name: (self.attrs[name].stage, position[name]))


# UKSM write stages, in the order docs/knob-reference.md lists them (the kernel's "order of writes").
_GOVERNOR, _OVERRIDES, _THRESHOLDS, _RUN_LAST = 1, 2, 3, 9

UKSM_GOVERNOR_PRESETS: dict[str, dict[str, t.Any]] = {
    'full': {
        'max_cpu_percentage': 95,
        'cpu_ratios': ['20', '40', 'MAX/4', 'MAX/1'],
        'eval_intervals': [1000, 500, 200, 50],
    },
    'medium': {
        'max_cpu_percentage': 50,
        'cpu_ratios': ['20', '30', 'MAX/4', 'MAX/1'],
        'eval_intervals': [1000, 500, 400, 100],
    },
    'low': {
        'max_cpu_percentage': 20,
        'cpu_ratios': ['10', '20', 'MAX/2', 'MAX/1'],
        'eval_intervals': [1500, 1000, 1000, 250],
    },
    'quiet': {
        'max_cpu_percentage': 1,
        'cpu_ratios': ['10', '20', '40', '75'],
        'eval_intervals': [2000, 1000, 1000, 1000],
    },
}


# the kernel boots with the full governor, and so with its preset
_BOOT = UKSM_GOVERNOR_PRESETS['full']


def _governor_preset(value: t.Any, _known: dict[str, t.Any]) -> dict[str, t.Any]:
    """A cpu_governor write sets its preset's ladder, intervals and CPU bound (even the same governor)."""
    return dict(UKSM_GOVERNOR_PRESETS.get(value, {}))


UKSM = Backend(
    'uksm',
    'UKSM (Ultra KSM)',
    'uksmd',
    'cpu_governor',
    [
        Attr(
            'cpu_governor',
            Choice(tuple(UKSM_GOVERNOR_PRESETS)),
            'CPU governor; every write resets cpu_ratios, eval_intervals and max_cpu_percentage to its preset.',
            default='full',
            stage=_GOVERNOR,
            resets=_governor_preset,
        ),
        Attr(
            'max_cpu_percentage',
            Unsigned(0, 100, clamps={(0, 9): 10, (100, 100): 99}),
            'Upper bound of uksmd CPU use in percent; scales the MAX/N rungs of cpu_ratios.',
            default=_BOOT['max_cpu_percentage'],
            stage=_OVERRIDES,
        ),
        Attr(
            'cpu_ratios',
            RatioLadder(),
            'CPU share of each of the 4 scan rungs, N in 1/10000 of a CPU or MAX/N of max_cpu_percentage.',
            default=list(_BOOT['cpu_ratios']),
            stage=_OVERRIDES,
            hazards=[HAZARD_LEAKS_PER_WRITE],
        ),
        Attr(
            'eval_intervals',
            IntervalList(),
            'Milliseconds between re-evaluations of each rung (0 scans fully).',
            default=list(_BOOT['eval_intervals']),
            stage=_OVERRIDES,
            hazards=[HAZARD_CORRUPTS_MEMORY],
        ),
        Attr(
            'abundant_threshold',
            Unsigned(0, 99),
            'Dedup percentage at which an area is promoted to a faster rung.',
            default=10,
            stage=_THRESHOLDS,
        ),
        Attr(
            'thrash_threshold',
            Unsigned(0, 99),
            'Percentage of thrashing pages above which an area is skipped; 0 disables the filter.',
            default=50,
            stage=_THRESHOLDS,
        ),
        Attr(
            'sleep_millisecs',
            Unsigned(0, 1000, jiffies=True),
            'Milliseconds uksmd sleeps between batches; uksmd lengthens a sleep in which rung 0 of cpu_ratios '
            'cannot scan one page, and puts the written value back every 8 evaluation rounds (not drift).',
            default=100,
            stage=_THRESHOLDS,
            raised_by_kernel=SleepRaise(),
        ),
        Attr(
            'run',
            Unsigned(0, 1),
            '1 runs uksmd, 0 pauses it (merged pages stay merged).',
            default=1,
            stage=_RUN_LAST,
            hazards=[HAZARD_NEEDS_DAEMON],
        ),
        Attr('pages_shared', Counter(), 'Stable pages in use.', writable=False),
        Attr(
            'pages_sharing',
            Counter(),
            'Extra mappings of the shared pages: pages saved, zero pages excluded.',
            writable=False,
        ),
        Attr('pages_unshared', Counter(), 'Nodes in the unstable tree.', writable=False),
        Attr('full_scans', Counter(), 'Full rounds over memory (starts at 1).', writable=False),
        Attr('pages_scanned', ScaledCounter(), 'Pages scanned since boot.', writable=False),
        Attr('ema_per_page_time', Counter(), 'Moving average cost to scan one page, in nanoseconds.', writable=False),
        Attr('hash_strength', Counter(), 'Adaptive hash strength; lower merges faster.', writable=False),
        Attr('sleep_times', Counter(), 'Times uksmd has slept.', writable=False),
    ],
    presets=UKSM_GOVERNOR_PRESETS,
)

# KSM write stages: advisor_mode, pages_to_scan, advisor_*, the rest, run last (docs/knob-reference.md).
_MODE, _PAGES, _ADVISOR, _REST = 1, 2, 3, 4


def _advisor_pages(value: t.Any, known: dict[str, t.Any]) -> dict[str, t.Any]:
    """A change of advisor_mode sets pages_to_scan: 100 for none, advisor_min_pages_to_scan for scan-time."""
    return {'pages_to_scan': 100 if value == 'none' else known.get('advisor_min_pages_to_scan', 500)}


KSM = Backend(
    'ksm',
    'KSM (mainline)',
    'ksmd',
    'run',
    [
        Attr(
            'advisor_mode',
            Choice(('none', 'scan-time')),
            'Advisor that tunes pages_to_scan (6.8+); a change resets pages_to_scan.',
            default='none',
            stage=_MODE,
            since='6.8',
            resets=_advisor_pages,
        ),
        Attr(
            'pages_to_scan',
            Unsigned(0, UINT_MAX),
            'Pages to scan per batch; managed by ksmd while advisor_mode is scan-time.',
            default=100,
            stage=_PAGES,
            hazards=[HAZARD_ADVISOR_MANAGED],
            since='2.6.32',
        ),
        Attr(
            'advisor_max_cpu',
            Unsigned(0, 100),
            'CPU percentage the scan-time advisor may use.',
            default=70,
            stage=_ADVISOR,
            since='6.8',
        ),
        Attr(
            'advisor_min_pages_to_scan',
            Unsigned(0, ULONG_MAX),
            'Lower bound of the advisor pages_to_scan.',
            default=500,
            stage=_ADVISOR,
            since='6.8',
        ),
        Attr(
            'advisor_max_pages_to_scan',
            Unsigned(0, ULONG_MAX),
            'Upper bound of the advisor pages_to_scan.',
            default=30000,
            stage=_ADVISOR,
            since='6.8',
        ),
        Attr(
            'advisor_target_scan_time',
            Unsigned(1, ULONG_MAX),
            'Seconds the advisor aims for per full scan.',
            default=200,
            stage=_ADVISOR,
            since='6.8',
        ),
        Attr(
            'sleep_millisecs',
            Unsigned(0, UINT_MAX),
            'Milliseconds ksmd sleeps between batches.',
            default=20,
            stage=_REST,
            since='2.6.32',
        ),
        Attr(
            'merge_across_nodes',
            Boolean(),
            'Merge pages across NUMA nodes (NUMA kernels only).',
            default=1,
            stage=_REST,
            hazards=[HAZARD_EBUSY_WHILE_SHARED],
            since='3.9',
        ),
        Attr(
            'use_zero_pages', Boolean(), 'Merge empty pages with the zero page.', default=0, stage=_REST, since='4.11'
        ),
        Attr(
            'max_page_sharing',
            Unsigned(2, INT_MAX),
            'Maximum sharers of one stable page.',
            default=256,
            stage=_REST,
            hazards=[HAZARD_EBUSY_WHILE_SHARED],
            since='4.13',
        ),
        Attr(
            'stable_node_chains_prune_millisecs',
            Unsigned(0, UINT_MAX),
            'Milliseconds between prunes of stale stable-node chains.',
            default=2000,
            stage=_REST,
            since='4.13',
        ),
        Attr(
            'smart_scan', Boolean(), 'Skip pages that did not deduplicate before.', default=1, stage=_REST, since='6.7'
        ),
        Attr(
            'run',
            Unsigned(0, 2, mask=3),
            '0 stops ksmd, 1 runs it, 2 stops it and unmerges every page.',
            default=0,
            stage=_RUN_LAST,
            since='2.6.32',
        ),
        Attr('pages_shared', Counter(), 'Stable pages in use.', writable=False, since='2.6.32'),
        Attr(
            'pages_sharing',
            Counter(),
            'Extra mappings of the shared pages: pages saved.',
            writable=False,
            since='2.6.32',
        ),
        Attr('pages_unshared', Counter(), 'Pages scanned but not shared.', writable=False, since='2.6.32'),
        Attr('pages_volatile', Signed(), 'Pages changing too fast to be merged.', writable=False, since='2.6.32'),
        Attr('full_scans', Counter(), 'Full rounds over mergeable memory.', writable=False, since='2.6.32'),
        Attr('stable_node_chains', Counter(), 'Stable nodes that hit max_page_sharing.', writable=False, since='4.13'),
        Attr('stable_node_dups', Counter(), 'Duplicated stable nodes in chains.', writable=False, since='4.13'),
        Attr(
            'general_profit', Signed(), 'Bytes saved minus metadata cost; can be negative.', writable=False, since='6.4'
        ),
        Attr('pages_scanned', Counter(), 'Pages scanned since boot.', writable=False, since='6.6'),
        Attr('ksm_zero_pages', Signed(), 'Empty pages merged with the zero page.', writable=False, since='6.6'),
        Attr('pages_skipped', Counter(), 'Pages smart_scan skipped.', writable=False, since='6.7'),
    ],
)

BACKENDS = {UKSM.name: UKSM, KSM.name: KSM}

# Detection tries UKSM first: a kernel has one of the two, and UKSM is the litevirt default.
DETECTION_ORDER = (UKSM, KSM)
