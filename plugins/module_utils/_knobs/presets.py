# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""Named policies for common intents, as plain settings per backend.

A preset is only a starting point: settings given next to it override its values, and its
attributes that a kernel lacks (KSM advisor before 6.8, use_zero_pages before 4.11) are skipped.
UKSM presets pick a governor and leave its ladder (cpu_ratios, eval_intervals,
max_cpu_percentage) to the governor's own preset, which the governor write installs.
"""

from __future__ import annotations

TYPE_CHECKING = False  # importing typing costs the boot applier ~8 ms; annotations are strings
if TYPE_CHECKING:
    import typing as t


class Preset:
    def __init__(self, summary: str, tradeoff: str, settings: dict[str, dict[str, t.Any]]) -> None:
        self.summary = summary
        self.tradeoff = tradeoff
        self.settings = settings  # backend name -> attribute -> value


PRESETS = {
    'density': Preset(
        'Most memory saved: fastest scanning.',
        'Most CPU spent on scanning and more copy-on-write faults when guests write merged pages; '
        'shares more pages between tenants, which matters where guests do not trust each other.',
        {
            'uksm': {'cpu_governor': 'full', 'run': 1},
            'ksm': {
                'advisor_mode': 'none',
                'pages_to_scan': 1000,
                'sleep_millisecs': 20,
                'use_zero_pages': 1,
                'run': 1,
            },
        },
    ),
    'balanced': Preset(
        'Good savings at moderate CPU cost.',
        'Sharing builds up more slowly after guests start than with density.',
        {
            'uksm': {'cpu_governor': 'medium', 'run': 1},
            'ksm': {'advisor_mode': 'none', 'pages_to_scan': 300, 'sleep_millisecs': 20, 'run': 1},
        },
    ),
    'quiet': Preset(
        'Sharing at the smallest CPU cost.',
        'Memory is found and saved slowly (minutes to hours on large hosts); pick it for CPU-bound hosts.',
        {
            'uksm': {'cpu_governor': 'quiet', 'run': 1},
            'ksm': {'advisor_mode': 'none', 'pages_to_scan': 100, 'sleep_millisecs': 200, 'run': 1},
        },
    ),
    'off': Preset(
        'No scanning.',
        'Pages already merged stay merged until guests write them; nothing new is saved.',
        {'uksm': {'run': 0}, 'ksm': {'run': 0}},
    ),
}


def preset_settings(name: str, backend: str, kernel_attrs: t.Iterable[str]) -> dict[str, t.Any]:
    """The preset's settings for ``backend``, without the attributes this kernel lacks."""
    kernel_attrs = set(kernel_attrs)
    return {attr: value for attr, value in PRESETS[name].settings[backend].items() if attr in kernel_attrs}
