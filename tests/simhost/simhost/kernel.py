"""Pure-Python kernel models (no FUSE): the public entry point.

``UksmKernel`` and ``KsmKernel`` expose ``read(attr) -> bytes``,
``write(attr, data) -> int`` (raises ``OSError``), ``is_writable(attr)`` and
``attributes()``.  ``make_kernel`` builds the model a variant needs.
"""

from __future__ import annotations

from typing import Any

from simhost.kernel_base import KernelHang, SysfsKernel
from simhost.ksm import KsmKernel
from simhost.uksm import UksmKernel, jiffies_to_msecs, msecs_to_jiffies
from simhost.variants import Variant, get_variant, kernel_version

__all__ = [
    "KernelHang",
    "KsmKernel",
    "SysfsKernel",
    "UksmKernel",
    "jiffies_to_msecs",
    "make_kernel",
    "msecs_to_jiffies",
]


def make_kernel(variant: Variant | str, state: dict[str, Any] | None = None) -> SysfsKernel | None:
    """The kernel model of a variant (None for a host without KSM)."""
    if isinstance(variant, str):
        variant = get_variant(variant)
    if variant.kind == "uksm":
        return UksmKernel(list(variant.attrs), state)
    if variant.kind == "ksm":
        return KsmKernel(list(variant.attrs), state, kernel_version(variant))
    return None
