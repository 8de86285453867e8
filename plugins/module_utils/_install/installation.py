# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""Installing the boot applier, the metrics writer and the pressure tuner on a host, and removing them.

The files (artefacts) are the package of package_closure.py, the launchers of launcher_texts.py and
the units of unit_texts.py, at the paths of paths.py; each is written only when it differs, through
safefiles.py.
"""

from __future__ import annotations

import importlib.util
import os
import py_compile
import typing as t

from .._host.installed_bytecode import pyc_header
from .._host.paths import (
    APPLIER_DIR,
    LAUNCHER,
    METRICS_LAUNCHER,
    METRICS_UNIT_FILES,
    PACKAGE_DIR,
    PRESSURE_LAUNCHER,
    PRESSURE_UNIT_FILES,
    UNIT_FILE,
    UNIT_NAME,
)
from .._host.safefiles import open_dir, read_file
from .._host.safewrites import list_tree, remove_file, remove_tree, replace_file
from .._host.sysfs import host_path
from .launcher_texts import launcher_text, metrics_launcher_text, pressure_launcher_text
from .package_closure import read_closure, start_order
from .unit_texts import (
    HYPERVISOR_UNITS,
    MANAGED,
    metrics_service_text,
    metrics_timer_text,
    pressure_service_text,
    pressure_timer_text,
    unit_text,
)

# What each launcher preloads: what its program imports, and for the boot applier the write path too, which
# its program imports where used (a converged run writes nothing): at boot the kernel has its defaults, so
# the applier writes, and records the sleep it wrote beside the lock.
START_ROOTS = {
    'applier': ('_plan.transaction', '_host.safewrites', '_programs.applier'),
    'metrics': ('_programs.metrics',),
    'tuner': ('_programs.tuner',),
}


class Artefact(t.NamedTuple):
    path: str  # relative to the sysroot
    text: str
    mode: int


def artefacts(
    python: str,
    before: t.Sequence[str] = HYPERVISOR_UNITS,
    metrics_output: str | None = None,
    pressure_interval: int | None = None,
) -> list[Artefact]:
    """Every file to install; the metrics launcher and units only with a ``metrics_output``, the
    tuner's only with a ``pressure_interval`` (seconds)."""
    closure = read_closure()
    sources = closure.sources
    # the package and each of its sub-packages (_host, _programs, ...), laid out as in module_utils
    packages = sorted({''} | {name.rpartition('.')[0] for name in sources})
    init_text = '# %s\n# A copy of the module_utils of litevirt.uksm for %s.\n' % (MANAGED, UNIT_NAME)
    files = [
        Artefact(_host_file(package + '.__init__' if package else '__init__'), init_text, 0o644) for package in packages
    ]
    files += [Artefact(_host_file(name), text, 0o644) for name, text in sorted(sources.items())]
    files.append(
        Artefact(LAUNCHER, launcher_text(python, start_order(closure.imports, *START_ROOTS['applier'])), 0o755)
    )
    files.append(Artefact(UNIT_FILE, unit_text(python, before), 0o644))
    if metrics_output is not None:
        files.append(
            Artefact(
                METRICS_LAUNCHER,
                metrics_launcher_text(python, start_order(closure.imports, *START_ROOTS['metrics'])),
                0o755,
            )
        )
        files.append(Artefact(METRICS_UNIT_FILES[0], metrics_service_text(python, metrics_output), 0o644))
        files.append(Artefact(METRICS_UNIT_FILES[1], metrics_timer_text(), 0o644))
    if pressure_interval is not None:
        files.append(
            Artefact(
                PRESSURE_LAUNCHER,
                pressure_launcher_text(python, start_order(closure.imports, *START_ROOTS['tuner'])),
                0o755,
            )
        )
        files.append(Artefact(PRESSURE_UNIT_FILES[0], pressure_service_text(python), 0o644))
        files.append(Artefact(PRESSURE_UNIT_FILES[1], pressure_timer_text(pressure_interval), 0o644))
    return files


def _host_file(dotted: str) -> str:
    """Where a module of the package, by its dotted path (``_host.safefiles``), is on the host."""
    return '/'.join([PACKAGE_DIR] + dotted.split('.')) + '.py'


# Every unit file the collection installs, the boot applier's first.
UNIT_FILES = (UNIT_FILE,) + METRICS_UNIT_FILES + PRESSURE_UNIT_FILES
# An installed unit, launcher or source is a few KB; a larger file there is not ours.
MAX_INSTALLED_BYTES = 1 << 20


def _current(sysroot: str, relative: str) -> tuple[str | None, int | None]:
    found = read_file(sysroot, relative, MAX_INSTALLED_BYTES)
    if found is None:
        return None, None
    try:
        return found[0].decode('utf-8'), found[1].st_mode & 0o7777
    except UnicodeDecodeError:
        return None, None


def _stale(sysroot: str, keep: set[str]) -> list[str]:
    """Files in the library directory that are not part of this version, and bytecode whose source is not
    (a module an upgrade moved or dropped: Python would never load it, but it would stay forever)."""
    found = list_tree(sysroot, APPLIER_DIR)
    sources = {path for path in found if '/__pycache__/' not in path}
    kept = sources & keep
    stale = sources - kept
    for path in found:
        directory, cache, name = path.rpartition('/__pycache__/')
        if cache and '%s/%s.py' % (directory, name.split('.', 1)[0]) not in kept:
            stale.add(path)
    return sorted(stale)


def install(sysroot: str, files: t.Sequence[Artefact], check_mode: bool) -> list[str]:
    """Write the files that differ, delete stale ones; the relative paths changed."""
    changed = []
    for artefact in files:
        if _current(sysroot, artefact.path) != (artefact.text, artefact.mode):
            changed.append(artefact.path)
            if not check_mode:
                replace_file(sysroot, artefact.path, artefact.text.encode('utf-8'), artefact.mode)
    for relative in _stale(sysroot, {artefact.path for artefact in files}):
        changed.append(relative)
        if not check_mode:
            remove_file(sysroot, relative)
    return changed


def _bytecode_current(source_path: str, cache_path: str) -> bool:
    """Whether ``cache_path`` is this interpreter's bytecode of ``source_path`` as it is now."""
    try:
        status = os.stat(source_path)
        with open(cache_path, 'rb') as handle:
            header = handle.read(16)
    except FileNotFoundError:
        return False
    return header == pyc_header(status)


def compile_package(sysroot: str, rewritten: t.Sequence[str], check_mode: bool) -> list[str]:
    """Compile the installed package for this Python; the bytecode files written (relative paths).

    The units run Python with -B on a read-only /usr, so without this every boot would compile the
    package again (about as long as the applier's own work). The bytecode is timestamp-based, as
    Debian's py3compile writes it (checking it costs a stat, not a read of the source); the sources
    in ``rewritten`` (what install() just wrote) are compiled again whatever their timestamps say.
    A unit running another Python version ignores this bytecode and compiles in memory.
    """
    written: list[str] = []
    checked: set[str] = set()
    for relative in list_tree(sysroot, PACKAGE_DIR, skip=('__pycache__',)):
        if not relative.endswith('.py'):
            continue
        directory = relative.rpartition('/')[0]
        if directory not in checked:
            # the walk refuses a symlink or a directory another user could write on the way
            os.close(open_dir(sysroot, directory))
            checked.add(directory)
        source = host_path(sysroot, relative)
        cache = importlib.util.cache_from_source(source)
        if relative not in rewritten and _bytecode_current(source, cache):
            continue
        written.append(os.path.relpath(cache, sysroot))
        if not check_mode:
            py_compile.compile(
                source, cfile=cache, doraise=True, invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP
            )
    return written


def installed(sysroot: str) -> list[str]:
    """What of the boot applier, the metrics writer and the tuner is on the host (relative paths)."""
    found = [path for path in UNIT_FILES if os.path.lexists(host_path(sysroot, path))]
    return found + list_tree(sysroot, APPLIER_DIR, skip=('__pycache__',))


def remove_units(sysroot: str, unit_files: t.Sequence[str], check_mode: bool) -> list[str]:
    """Delete a service and its timer (the launcher goes as a stale file); the paths removed."""
    removed = [path for path in unit_files if os.path.lexists(host_path(sysroot, path))]
    if not check_mode:
        for path in removed:
            remove_file(sysroot, path)
    return removed


def remove_output(sysroot: str, output: str, check_mode: bool) -> list[str]:
    """Delete a metrics file, so node_exporter stops exporting its last values; the path removed."""
    relative = output.lstrip('/')
    if not os.path.lexists(host_path(sysroot, relative)):
        return []
    if not check_mode:
        # another user may own the directory (the textfile directory): unlinked through a descriptor
        remove_file(sysroot, relative, private=False)
    return [relative]


def uninstall(sysroot: str, check_mode: bool) -> list[str]:
    """Delete the units and the library directory; the relative paths removed."""
    removed = installed(sysroot)
    if not check_mode:
        for path in UNIT_FILES:
            remove_file(sysroot, path)
        remove_tree(sysroot, APPLIER_DIR)
    return removed
