# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""The launchers' start: the modules a program imports when it starts, run from the installed bytecode.

Each import costs the import system's own Python code (finders, specs, locks, about 1 ms a module on
a slow host, more than reading the bytecode), and the boot applier imports 23 modules before it
writes anything. The installer writes into each launcher the order in which Python finishes those
imports (_install/package_closure.start_order) and compiles the package (_install/installation). The
launcher loads this file with a SourceFileLoader (not imported: the import system's search for a first
package costs more than the file) and hands the order here before it imports the program, whose
imports then find every module done.

The bytecode counts only as CPython counts a timestamp-based .pyc: this Python's magic number, the
source's mtime and size. Anything else (another Python, a source edited by hand, a missing file, a
module body that raises) leaves nothing behind, and the imports to Python.
"""

from __future__ import annotations

import posix
import sys
from marshal import loads

TYPE_CHECKING = False  # importing typing costs the boot applier ~8 ms; annotations are strings
if TYPE_CHECKING:
    import typing as t

# Present in every CPython from its start (importlib imports it itself): no import to pay for.
_BOOTSTRAP = sys.modules['_frozen_importlib_external']
_ModuleSpec = type(sys.__spec__)
_Module: t.Any = type(sys)
# the start of a timestamp-based .pyc of this Python: magic number, flags 0 (PEP 552)
_PYC_START = _BOOTSTRAP.MAGIC_NUMBER + bytes(4)
# the package's .pyc files are a few KB; a larger one is read short and refused by marshal
_MAX_PYC = 1 << 22


def is_package(name: str) -> bool:
    """Whether the module ``name`` (dotted, in the package; '' its top) is a package: sub-packages are
    ``_``-prefixed and modules never are (package_closure reads imports the same way)."""
    return not name or ('.' not in name and name.startswith('_'))


def _bytecode(directory: str, name: str) -> tuple[str, str, t.Any] | None:
    """(source, bytecode file, code) of the module ``name`` of the package in ``directory``, or None
    unless that bytecode is valid for that source. Paths are joined by hand and the file read with one
    read(): this runs for every module at every start, where each Python call counts."""
    path = '%s/%s' % (directory, name.replace('.', '/')) if name else directory
    if is_package(name):
        folder, stem = path, '__init__'
    else:
        folder, _slash, stem = path.rpartition('/')
    source = '%s/%s.py' % (folder, stem)
    cached = '%s/__pycache__/%s.%s.pyc' % (folder, stem, sys.implementation.cache_tag)
    try:
        status = posix.stat(source)
        handle = posix.open(cached, posix.O_RDONLY | posix.O_CLOEXEC)
        try:
            # sized by the file: a read() of a larger buffer costs its allocation, more than the read
            data = posix.read(handle, min(posix.fstat(handle).st_size, _MAX_PYC))
        finally:
            posix.close(handle)
        stamp = (int(status.st_mtime) & 0xFFFFFFFF).to_bytes(4, 'little') + (status.st_size & 0xFFFFFFFF).to_bytes(
            4, 'little'
        )
        if data[:16] != _PYC_START + stamp:
            return None
        # a short read or a torn file: marshal raises, and Python imports the module itself
        return source, cached, loads(data[16:])
    except (OSError, ValueError, EOFError, TypeError):
        return None


def preload(path_entry: str, package: str, names: t.Sequence[str]) -> bool:
    """Run the modules ``names`` of ``package`` (the directory of that name in ``path_entry``, the launcher's
    ``sys.path[0]``) from their bytecode, in this order, as the import system would have; True when all
    ran, False (and none kept) otherwise."""
    if not sys.implementation.cache_tag:
        return False
    directory = '%s/%s' % (path_entry, package)
    found = []
    for name in names:
        fullname = '%s.%s' % (package, name) if name else package
        if fullname in sys.modules:
            continue  # imported already (a test, a caller): left as it is
        loaded = _bytecode(directory, name)
        if loaded is None:
            return False
        found.append((name, fullname) + loaded)
    added = []
    try:
        for name, fullname, source, cached, code in found:
            if fullname in sys.modules:
                continue  # imported by a module above, had the order been wrong: never a second copy
            spec = _ModuleSpec(
                fullname, _BOOTSTRAP.SourceFileLoader(fullname, source), origin=source, is_package=is_package(name)
            )
            spec.has_location = True
            spec.cached = cached
            module = _Module(fullname)
            module.__spec__ = spec
            module.__loader__ = spec.loader
            module.__file__ = source
            module.__cached__ = cached
            if is_package(name):
                module.__path__ = spec.submodule_search_locations = [source.rpartition('/')[0]]
                module.__package__ = fullname
            else:
                module.__package__ = fullname.rpartition('.')[0]
            sys.modules[fullname] = module
            added.append(fullname)
            exec(code, module.__dict__)  # pylint: disable=exec-used
            parent, _dot, child = fullname.rpartition('.')
            if parent:
                setattr(sys.modules[parent], child, module)
    except Exception:  # pylint: disable=broad-except
        # the import system runs it again, and reports what is wrong the way it always does
        for fullname in added:
            dropped = sys.modules.pop(fullname, None)
            parent, _dot, child = fullname.rpartition('.')
            if dropped is not None and getattr(sys.modules.get(parent), child, None) is dropped:
                delattr(sys.modules[parent], child)
        return False
    return True
