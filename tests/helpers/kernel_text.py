# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a simulated kernel holds settings, read as the kernel prints them (not through the collection's parsers)."""

from __future__ import annotations

import typing as t


def tokens(value: t.Any) -> list[str]:
    """A setting as the words the kernel prints: lists space-separated, numbers in decimal."""
    return [str(item) for item in value] if isinstance(value, (list, tuple)) else str(value).split()


def kernel_holds(host: t.Any, settings: dict[str, t.Any]) -> bool:
    """Every attribute of ``settings`` reads its value on the simulated host (``simhost.control.Control``);
    a bracketed choice such as ``full [medium] low quiet`` reads as the chosen word."""
    for name, value in settings.items():
        words = host.read(name).split()
        chosen = [word[1:-1] for word in words if word.startswith('[')]
        if (chosen or words) != tokens(value):
            return False
    return True
