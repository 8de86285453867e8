# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""The bytecode of the boot applier's package installed on a host, for the payload files that are its sources.

A host that has the boot applier installed keeps a copy of most module_utils files, in the same folders,
with their bytecode, compiled by the installer (_install/installation.compile_package). A module's payload
file whose source is byte for byte the installed copy runs from that bytecode (compile_once asks
``code``), read the way every file root reads is (safefiles: no symlink, each directory root's own and
writable by nobody else), and valid only as CPython validates a timestamp-based .pyc (its header names
the installed source's mtime and size). Anything else, or any doubt, is None: the payload is compiled.

Kept apart from compile_once, which zipimport compiles twice at every run (this file is compiled once,
and only where a module asks for the host's bytecode).
"""

from __future__ import annotations

import importlib.util
import marshal
import os
import sys
import types

from .paths import PACKAGE_DIR
from .safefiles import open_dir, open_file, open_subdir, read_bounded

TYPE_CHECKING = False  # importing typing costs the boot applier ~8 ms; annotations are strings
if TYPE_CHECKING:
    import typing as t

# the most a .pyc of ours may hold (the largest is a few tens of KB)
MAX_BYTECODE = 1 << 22


def pyc_header(source: os.stat_result) -> bytes:
    """The header of this Python's timestamp-based bytecode of a source with this status (PEP 552)."""
    stamp = (int(source.st_mtime) & 0xFFFFFFFF).to_bytes(4, 'little') + (source.st_size & 0xFFFFFFFF).to_bytes(
        4, 'little'
    )
    return importlib.util.MAGIC_NUMBER + bytes(4) + stamp


class InstalledBytecode:
    """The installed package, opened once by descriptor; each of its directories opened when first asked."""

    def __init__(self, package: int) -> None:
        self.package = package
        # descriptors of each directory of it ('' its top, '_host', ...) and of that directory's __pycache__;
        # None: unusable
        self.directories: dict[str, tuple[int, int] | None] = {}

    def _directories(self, subpackage: str) -> tuple[int, int] | None:
        """Descriptors of the installed directory ``subpackage`` ('' for its top) and of its __pycache__,
        each opened from the one above it with safefiles' checks; None when unusable."""
        if '.' in subpackage:  # the host's package has no deeper directories
            return None
        if subpackage not in self.directories:
            shown = '/' + '/'.join(filter(None, (PACKAGE_DIR, subpackage)))
            found = None
            directory = None
            try:
                directory = open_subdir(self.package, subpackage, shown) if subpackage else os.dup(self.package)
                found = directory, open_subdir(directory, '__pycache__', shown + '/__pycache__')
            except OSError:
                if directory is not None:
                    os.close(directory)
            self.directories[subpackage] = found
        return self.directories[subpackage]

    def code(self, relative: str, source: bytes) -> t.Any:
        """The installed bytecode of the module ``relative`` (``_host.safefiles``) when its installed
        source is ``source``, else None."""
        subpackage, _dot, name = relative.rpartition('.')
        directories = self._directories(subpackage)
        if directories is None:
            return None
        package, cache = directories
        try:
            handle, status = open_file(package, name + '.py', name)
            try:
                if read_bounded(handle, len(source), name) != source:
                    return None
            finally:
                os.close(handle)
            handle, _status = open_file(cache, '%s.%s.pyc' % (name, sys.implementation.cache_tag), name)
            try:
                data = read_bounded(handle, MAX_BYTECODE, name)
            finally:
                os.close(handle)
            if data[:16] != pyc_header(status):
                return None
            code = marshal.loads(data[16:])
            return code if isinstance(code, types.CodeType) else None
        except (OSError, ValueError, EOFError, TypeError):
            # absent, refused, another version, a torn or foreign file: compiled from the payload
            return None


def open_installed(sysroot: str) -> InstalledBytecode | None:
    """The package installed under ``sysroot``, or None: not installed, not safely, no usable path, or a
    Python that keeps no bytecode."""
    if not sys.implementation.cache_tag:
        return None
    try:
        if not os.path.isabs(sysroot):
            return None  # the module refuses it in a moment
        # the directories inside it are opened from this descriptor: those above were checked on the way
        return InstalledBytecode(open_dir(sysroot, PACKAGE_DIR))
    except (OSError, TypeError, ValueError):
        return None
