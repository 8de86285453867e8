# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""Byte counts as people read them, the same in a host's facts and in the fleet report.

It imports nothing: the controller's report code uses it without loading the module side.
"""

from __future__ import annotations

_UNITS = ('B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB')


def human_bytes(count: int) -> str:
    """``1610612736`` -> ``1.5 GiB``."""
    value = float(count)
    for unit in _UNITS[:-1]:
        if abs(value) < 1024:
            return ('%d %s' % (value, unit)) if unit == 'B' else ('%.1f %s' % (value, unit))
        value /= 1024
    return '%.1f %s' % (value, _UNITS[-1])
