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

After ``use_host_bytecode``, a file whose source in the payload is byte for byte the copy the boot
applier's installer left on the host runs from that copy's bytecode (_host/installed_bytecode, which
says when it is trusted); anything else compiles as before. This file is small on purpose: zipimport
compiles it twice at every run.
"""

from __future__ import annotations

import gc
import importlib.util
import os
import sys
import typing as t

_PACKAGE = __name__.rpartition('.')[0]


class _ZipSourceLoader:
    """Finds and loads the package's modules from the zip the package came from, one compile each."""

    def __init__(self, archive_loader: t.Any, directory: str) -> None:
        self._zip = archive_loader
        self._directory = directory
        # the host's installed package (_host/installed_bytecode), once use_host_bytecode found it
        self.host: t.Any = None

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
        code = None if self.host is None else self.host.code(spec.name[len(_PACKAGE) + 1 :], spec.loader_state)
        if code is None:
            code = compile(spec.loader_state, spec.origin, 'exec', dont_inherit=True)
        exec(code, module.__dict__)  # pylint: disable=exec-used

    def get_source(self, fullname: str) -> str:
        """For tracebacks (linecache)."""
        return self._zip.get_data(self._origin(fullname)).decode('utf-8')

    def _origin(self, fullname: str) -> str:
        """The payload's file of a module of the package (``..._host.safefiles``: ``<dir>/_host/safefiles.py``)."""
        return '%s/%s.py' % (self._directory, fullname[len(_PACKAGE) + 1 :].replace('.', '/'))


def use_host_bytecode(sysroot: str) -> None:
    """Load the module_utils imported from now on from the host's installed bytecode where it is theirs.

    Called by a module once it knows the sysroot, before it imports what its work needs.
    """
    finder = next((finder for finder in sys.meta_path if isinstance(finder, _ZipSourceLoader)), None)
    if finder is None or finder.host is not None:
        return
    from ._host.paths import PACKAGE_DIR  # pylint: disable=import-outside-toplevel

    # a host without the boot applier (where facts are only gathered): nothing more to compile
    if not isinstance(sysroot, str) or not os.path.isdir(os.path.join(sysroot, PACKAGE_DIR)):
        return
    from ._host.installed_bytecode import open_installed  # pylint: disable=import-outside-toplevel

    finder.host = open_installed(sysroot)


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
