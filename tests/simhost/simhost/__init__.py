"""Simulated Linux host exposing the UKSM/KSM sysfs knobs through FUSE.

The package plays the kernel: it implements the sysfs ABI of
``/sys/kernel/mm/uksm`` and ``/sys/kernel/mm/ksm`` from the project's ABI
contract (``docs/kernel-interfaces.md``), independently of the collection's own code.
"""

from __future__ import annotations

__version__ = "1.0.0"
