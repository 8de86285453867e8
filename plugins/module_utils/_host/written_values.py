# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""What the collection last wrote since boot to the attributes the kernel raises by itself.

uksmd keeps the written sleep_millisecs aside and shows a raised one (docs/kernel-interfaces.md,
section 2.5); sysfs never shows the written value. This record stands in for it: one line per
attribute (``uksm sleep_millisecs 12``) in ``/run/litevirt-uksm/written``, beside the host lock
(root's alone), written by the transaction under the lock at the end of a run that wrote such an attribute, and
gone at reboot like the kernel's own. A missing, planted or damaged record only makes a raise look
like drift, which one write repairs.
"""

from __future__ import annotations

from .._knobs.value_kinds import is_decimal
from ..errors import UksmError
from .paths import WRITTEN_FILE
from .safefiles import read_file

# a line per attribute of each backend: a few dozen bytes
MAX_BYTES = 1024


class WrittenValues:
    """The record of one backend, read at the first question (most runs never ask)."""

    def __init__(self, sysroot: str, backend: str) -> None:
        self.sysroot = sysroot
        self.backend = backend
        self._lines: dict[tuple[str, str], int] | None = None

    def _load(self) -> dict[tuple[str, str], int]:
        if self._lines is None:
            self._lines = {}
            try:
                found = read_file(self.sysroot, WRITTEN_FILE, MAX_BYTES)
            except (OSError, UksmError):
                found = None
            for line in found[0].decode('ascii', 'replace').splitlines() if found else ():
                fields = line.split()
                if len(fields) == 3 and is_decimal(fields[2]):
                    self._lines[(fields[0], fields[1])] = int(fields[2])
        return self._lines

    def get(self, name: str) -> int | None:
        """The value last written to ``name`` since boot, None when unknown."""
        return self._load().get((self.backend, name))

    def record(self, name: str, value: int) -> None:
        """Remember a write (under the host lock, when the run ends). A record that cannot be written
        is not a failed write: the next run then sees the raise as drift and writes once more."""
        lines = self._load()
        if lines.get((self.backend, name)) == value:
            return
        lines[(self.backend, name)] = value
        text = ''.join('%s %s %d\n' % (key[0], key[1], number) for key, number in sorted(lines.items()))
        # where used: most runs only read the record
        from .safewrites import replace_file  # pylint: disable=import-outside-toplevel

        try:
            replace_file(self.sysroot, WRITTEN_FILE, text.encode('ascii'), 0o600, directory_mode=0o700, durable=False)
        except (OSError, UksmError):
            pass
