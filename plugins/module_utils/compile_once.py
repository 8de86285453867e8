# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""Each module_utils file of an AnsiballZ payload compiled once, not twice, or not at all.

A module runs from a zip file, and CPython's zipimport compiles a module's source once to name its
file and again to run it (python/cpython#141276): that second compile is most of what a converged
run costs above ``ansible.builtin.ping``. Imported first by every module: while the collection's
module_utils come from a zip, their imports go through a finder that reads the source from the same
zip and compiles it once, and the run collects no garbage (see ``_install``). Anywhere else (files on disk,
the controller, tests) it does nothing.

A host that has the boot applier installed keeps a copy of most module_utils files, in the same
folders, with their bytecode, compiled by the installer (_install/installation.compile_package). After ``use_host_bytecode``, a
file whose source in the payload is byte for byte the installed copy runs from that bytecode,
read the way every file root reads is (safefiles: no symlink, each directory root's own and
writable by nobody else), and valid only as CPython validates a timestamp-based .pyc (its header
names the installed source's mtime and size). Anything else, or any doubt, compiles as before.
"""

from __future__ import annotations

import gc
import importlib.util
import marshal
import os
import sys
import types
import typing as t

_PACKAGE = __name__.rpartition('.')[0]


class _ZipSourceLoader:
    """Finds and loads the package's modules from the zip the package came from, one compile each."""

    def __init__(self, archive_loader: t.Any, directory: str) -> None:
        self._zip = archive_loader
        self._directory = directory
        # a descriptor of the installed package, once use_host_bytecode found it
        self.host_package: int | None = None
        # descriptors of each directory of it ('' its top, '_host', ...) and of that directory's __pycache__,
        # opened when a module of it is first imported; None: unusable
        self.host_directories: dict[str, tuple[int, int] | None] = {}

    def find_spec(self, fullname: str, _path: t.Any = None, _target: t.Any = None) -> t.Any:
        if not fullname.startswith(_PACKAGE + '.'):
            return None
        # a module of the package or of one of its sub-packages (a sub-package itself is zipimport's)
        origin = self._origin(fullname)
        try:
            source = self._zip.get_data(origin)
        except OSError:
            # not a plain module of the package: zipimport decides
            return None
        # with an origin given, a spec always comes back (and the loader is not asked for a file name)
        spec = t.cast(t.Any, importlib.util.spec_from_loader(fullname, t.cast(t.Any, self), origin=origin))
        spec.has_location = True
        spec.loader_state = source
        return spec

    def create_module(self, _spec: t.Any) -> None:
        return None

    def exec_module(self, module: t.Any) -> None:
        spec = module.__spec__
        code = self._host_code(spec.name[len(_PACKAGE) + 1 :], spec.loader_state)
        if code is None:
            code = compile(spec.loader_state, spec.origin, 'exec', dont_inherit=True)
        exec(code, module.__dict__)  # pylint: disable=exec-used

    def _host_directories(self, subpackage: str) -> tuple[int, int] | None:
        """Descriptors of the installed package's directory ``subpackage`` ('' for its top) and of its
        __pycache__, each opened from the one above it with safefiles' checks; None when unusable."""
        if self.host_package is None or '.' in subpackage:  # the host's package has no deeper directories
            return None
        if subpackage not in self.host_directories:
            from ._host.paths import PACKAGE_DIR  # pylint: disable=import-outside-toplevel
            from ._host.safefiles import open_subdir  # pylint: disable=import-outside-toplevel

            shown = '/' + '/'.join(filter(None, (PACKAGE_DIR, subpackage)))
            found = None
            directory = None
            try:
                directory = (
                    open_subdir(self.host_package, subpackage, shown) if subpackage else os.dup(self.host_package)
                )
                found = directory, open_subdir(directory, '__pycache__', shown + '/__pycache__')
            except OSError:
                if directory is not None:
                    os.close(directory)
            self.host_directories[subpackage] = found
        return self.host_directories[subpackage]

    def _host_code(self, relative: str, source: bytes) -> t.Any:
        """The installed copy's bytecode of the module ``relative`` (``_host.safefiles``) when its source is
        ``source``, else None."""
        subpackage, _dot, name = relative.rpartition('.')
        directories = self._host_directories(subpackage)
        if directories is None:
            return None
        package, cache = directories
        from ._host.safefiles import open_file, read_bounded  # pylint: disable=import-outside-toplevel

        try:
            handle, status = open_file(package, name + '.py', name)
            try:
                if read_bounded(handle, len(source), name) != source:
                    return None
            finally:
                os.close(handle)
            handle, _status = open_file(cache, '%s.%s.pyc' % (name, sys.implementation.cache_tag), name)
            try:
                data = read_bounded(handle, 1 << 22, name)
            finally:
                os.close(handle)
            if data[:16] != pyc_header(status):
                return None
            code = marshal.loads(data[16:])
            return code if isinstance(code, types.CodeType) else None
        except (OSError, ValueError, EOFError, TypeError):
            # absent, refused, another version, a torn or foreign file: compiled from the payload
            return None

    def get_source(self, fullname: str) -> str:
        """For tracebacks (linecache)."""
        return self._zip.get_data(self._origin(fullname)).decode('utf-8')

    def _origin(self, fullname: str) -> str:
        """The payload's file of a module of the package (``..._host.safefiles``: ``<dir>/_host/safefiles.py``)."""
        return '%s/%s.py' % (self._directory, fullname[len(_PACKAGE) + 1 :].replace('.', '/'))


def pyc_header(source: os.stat_result) -> bytes:
    """The header of this Python's timestamp-based bytecode of a source with this status (PEP 552)."""
    stamp = (int(source.st_mtime) & 0xFFFFFFFF).to_bytes(4, 'little') + (source.st_size & 0xFFFFFFFF).to_bytes(
        4, 'little'
    )
    return importlib.util.MAGIC_NUMBER + bytes(4) + stamp


def use_host_bytecode(sysroot: str) -> None:
    """Load the module_utils imported from now on from the host's installed bytecode where it is theirs.

    Called by a module once it knows the sysroot, before it imports what its work needs.
    """
    finder = next((finder for finder in sys.meta_path if isinstance(finder, _ZipSourceLoader)), None)
    if finder is None or finder.host_package is not None or not sys.implementation.cache_tag:
        return
    from ._host.paths import PACKAGE_DIR  # pylint: disable=import-outside-toplevel
    from ._host.safefiles import open_dir  # pylint: disable=import-outside-toplevel

    try:
        if not os.path.isabs(sysroot):
            return  # the module refuses it in a moment
        # the directories inside it are opened from this descriptor: those above were checked on the way
        finder.host_package = open_dir(sysroot, PACKAGE_DIR)
    except (OSError, TypeError, ValueError):
        return  # not installed, not safely, or no path at all: compiled from the payload


def _install() -> None:
    # this file's own loader: a zipimporter (it has an archive) only inside a payload
    archive_loader = globals().get('__loader__')
    directories = list(getattr(sys.modules.get(_PACKAGE), '__path__', None) or [])
    if not hasattr(archive_loader, 'archive') or len(directories) != 1:
        return
    # A module run is one short process. What it imports from here on makes thousands of objects, and
    # each 700 of them started a collection, now and then a full one over everything the payload had
    # loaded (a few ms a run); what the run leaves as garbage is freed when it exits, moments later.
    gc.disable()
    if not any(isinstance(finder, _ZipSourceLoader) for finder in sys.meta_path):
        sys.meta_path.insert(0, _ZipSourceLoader(archive_loader, directories[0]))


_install()
