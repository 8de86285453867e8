# -*- coding: utf-8 -*-
# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""Each module_utils file of an AnsiballZ payload compiled once, not twice.

A module runs from a zip file, and CPython's zipimport compiles a module's source once to name its
file and again to run it (python/cpython#141276): that second compile is most of what a converged
run costs above ``ansible.builtin.ping``. Imported first by every module: while the collection's
module_utils come from a zip, their imports go through a finder that reads the source from the same
zip and compiles it once. Anywhere else (files on disk, the controller, tests) it does nothing.
"""

from __future__ import annotations

import importlib.util
import sys
import typing as t

_PACKAGE = __name__.rpartition('.')[0]


class _ZipSourceLoader:
    """Finds and loads the package's modules from the zip the package came from, one compile each."""

    def __init__(self, archive_loader: t.Any, directory: str) -> None:
        self._zip = archive_loader
        self._directory = directory

    def find_spec(self, fullname: str, _path: t.Any = None, _target: t.Any = None) -> t.Any:
        prefix, _dot, name = fullname.rpartition('.')
        if prefix != _PACKAGE:
            return None
        origin = '%s/%s.py' % (self._directory, name)
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
        code = compile(spec.loader_state, spec.origin, 'exec', dont_inherit=True)
        exec(code, module.__dict__)  # pylint: disable=exec-used

    def get_source(self, fullname: str) -> str:
        """For tracebacks (linecache)."""
        name = fullname.rpartition('.')[2]
        return self._zip.get_data('%s/%s.py' % (self._directory, name)).decode('utf-8')


def _install() -> None:
    # this file's own loader: a zipimporter (it has an archive) only inside a payload
    archive_loader = globals().get('__loader__')
    directories = list(getattr(sys.modules.get(_PACKAGE), '__path__', None) or [])
    if not hasattr(archive_loader, 'archive') or len(directories) != 1:
        return
    if not any(isinstance(finder, _ZipSourceLoader) for finder in sys.meta_path):
        sys.meta_path.insert(0, _ZipSourceLoader(archive_loader, directories[0]))


_install()
