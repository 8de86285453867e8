# -*- coding: utf-8 -*-
# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""The boot-time applier as files on a host: the unit, a launcher, and these module_utils as a package.

The package is the applier, the metrics writer and every module_utils file they import, copied byte
for byte from the collection that runs the module, so boot applies the policy with the very code the
modules use. The metrics writer has its own launcher, oneshot service and timer (opt-in).
Paths are fixed relative paths under the sysroot; the units refer to them as the host will see them.
"""

from __future__ import annotations

import importlib.util
import os
import py_compile
import re
import sys
import typing as t

from .backends import BACKENDS
from .paths import (APPLIER_DIR, LAUNCHER, LOCK_DIR, METRICS_LAUNCHER, METRICS_OUTPUT, METRICS_TIMER,
                    METRICS_TIMER_WANTED_BY, METRICS_UNIT_FILES, PACKAGE, PACKAGE_DIR, POLICY_FILE, UNIT_FILE, UNIT_NAME,
                    UNIT_WANTED_BY)
from .safefiles import list_tree, open_dir, read_file, remove_file, remove_tree, replace_file
from .sysfs import host_path

if t.TYPE_CHECKING:
    # Never true when running: AnsiballZ finds these imports and ships the package's sources with the
    # module, which reads them as text (package_sources) without paying for compiling and running them.
    from . import applier, metrics  # noqa: F401 pylint: disable=unused-import

# the modules the launchers run; the package is their import closure
ROOTS = ('applier', 'metrics')
# Services that start guests: the unit is ordered before each, so guests start under the policy.
HYPERVISOR_UNITS = ('libvirtd.service', 'libvirt-guests.service', 'virtqemud.service', 'pve-guests.service',
                    'nova-compute.service', 'incus.service')
# Also the lock timeout of the applier, with room for the writes.
START_TIMEOUT = 90
# How the units run Python: isolated from the environment and user site (-I), without site-packages
# and .pth hooks (-S: nothing third-party runs as root at boot, and start-up is ~3 ms faster), never
# writing bytecode into the read-only /usr (-B); the bytecode is compiled at install instead.
PYTHON_FLAGS = '-I -S -B'
# A #! line passes one argument: the same flags joined (-ISB).
SHEBANG_FLAGS = '-' + PYTHON_FLAGS.replace('-', '').replace(' ', '')
MANAGED = 'Managed by the litevirt.uksm Ansible collection (policy role); local edits are overwritten.'
# Shared by both services: no network, devices, kernel or namespace changes, native system calls only.
SANDBOX = '''ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
PrivateNetwork=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictAddressFamilies=AF_UNIX
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
NoNewPrivileges=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
'''
_OUTPUT_OPTION = re.compile(r'^ExecStart=.* --output (\S+)$', re.MULTILINE)
# "from .name import ..." and "from . import a, b" at any indentation (lazy imports included)
_RELATIVE_IMPORT = re.compile(r'^[ \t]*from \.(\w*) import \(?([\w, \t]*)', re.MULTILINE)


class Artefact(t.NamedTuple):
    path: str  # relative to the sysroot
    text: str
    mode: int


def _source(name: str) -> str:
    """The text of the module_utils file ``name``, from the AnsiballZ payload or a plain file."""
    package = __name__.rpartition('.')[0]
    fullname = '%s.%s' % (package, name)
    module = sys.modules[package]
    loader = getattr(module, '__loader__', None)
    if hasattr(loader, 'archive'):
        # zipimport (AnsiballZ): read the file's bytes; find_spec would compile the module (CPython gh-141276)
        path = os.path.join(os.path.dirname(module.__file__), name + '.py')
        source = loader.get_data(path).decode('utf-8')  # type: ignore[union-attr]
    else:
        spec = importlib.util.find_spec(fullname)
        source = spec.loader.get_source(fullname) if spec and spec.loader else None  # type: ignore[attr-defined]
    if source is None:
        raise OSError('cannot read the source of %s' % fullname)
    return source


def package_sources() -> t.Dict[str, str]:
    """``applier``, ``metrics`` and the module_utils they import (relative imports only), by module name."""
    found = {}  # type: t.Dict[str, str]
    todo = list(ROOTS)
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found[name] = _source(name)
        for module, names in _RELATIVE_IMPORT.findall(found[name]):
            todo.extend([module] if module else [item.strip() for item in names.split(',') if item.strip()])
    return found


def _launcher(python: str, purpose: str, module: str) -> str:
    return '''#!%s %s
# %s
"""%s"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from %s.%s import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
''' % (python, SHEBANG_FLAGS, MANAGED, purpose, PACKAGE, module)


def launcher_text(python: str) -> str:
    return _launcher(python, 'Apply the persisted UKSM/KSM policy (/%s); run at boot by %s.' % (POLICY_FILE, UNIT_NAME),
                     'applier')


def metrics_launcher_text(python: str) -> str:
    return _launcher(python, 'Write UKSM/KSM metrics for node_exporter; run every minute by %s.' % METRICS_TIMER,
                     'metrics')


def unit_text(python: str, before: t.Sequence[str] = HYPERVISOR_UNITS) -> str:
    """The unit: early like systemd-sysctl, before the hypervisor, sandboxed but able to write sysfs."""
    conditions = ''.join('ConditionPathExists=|/%s\n' % backend.directory for backend in BACKENDS.values())
    return '''# %(managed)s
[Unit]
Description=Apply the UKSM/KSM memory sharing policy (litevirt.uksm)
Documentation=file:/%(policy)s
DefaultDependencies=no
Conflicts=shutdown.target
After=local-fs.target systemd-tmpfiles-setup.service systemd-modules-load.service
Before=sysinit.target shutdown.target %(before)s
# either interface; without one there is nothing to apply
%(conditions)sConditionPathExists=/%(policy)s

[Service]
# Not RemainAfterExit: "systemctl start uksm-policy" must apply the policy again (drift repair).
Type=oneshot
ExecStart=%(python)s %(flags)s /%(launcher)s
SyslogIdentifier=uksm-policy
# a kernel that does not answer must not hold up the boot
TimeoutStartSec=%(timeout)d
# Sandbox. The interface is in /sys, which ProtectSystem=strict leaves writable as long as
# ProtectKernelTunables= stays off. The lock shared with the Ansible modules is in /%(lockdir)s,
# root's alone (0700), kept when the service ends: a module may hold it at that moment.
ProtectSystem=strict
RuntimeDirectory=%(lockname)s
RuntimeDirectoryMode=0700
RuntimeDirectoryPreserve=yes
%(sandbox)s# root owns the sysfs files and the lock, so no capability is needed
CapabilityBoundingSet=
UMask=0022

[Install]
WantedBy=%(wanted_by)s
''' % {'managed': MANAGED, 'policy': POLICY_FILE, 'before': ' '.join(before), 'conditions': conditions,
       'python': python, 'flags': PYTHON_FLAGS, 'launcher': LAUNCHER, 'timeout': START_TIMEOUT, 'lockdir': LOCK_DIR,
       'lockname': os.path.basename(LOCK_DIR),
       'wanted_by': UNIT_WANTED_BY, 'sandbox': SANDBOX}


def metrics_service_text(python: str, output: str = METRICS_OUTPUT) -> str:
    """Started by the timer: reads /sys and /proc, may write only the output's directory."""
    return '''# %(managed)s
[Unit]
Description=Write UKSM/KSM metrics for the node_exporter textfile collector (litevirt.uksm)
Documentation=file:/%(lib)s/%(package)s/metrics.py
# the directory node_exporter reads; without it nobody would read the file
ConditionPathIsDirectory=%(directory)s
# at boot, report the policy as applied rather than the kernel defaults
After=%(policy_unit)s

[Service]
Type=oneshot
ExecStart=%(python)s %(flags)s /%(launcher)s --output %(output)s
SyslogIdentifier=uksm-metrics
TimeoutStartSec=30
# Sandbox. Read-only /sys (ProtectKernelTunables=yes); the file is replaced by a rename in its own
# directory, so that directory is the only writable path.
ProtectSystem=strict
ProtectKernelTunables=yes
ReadWritePaths=-%(directory)s
%(sandbox)s# root owns Debian's textfile directory, so no capability is needed
CapabilityBoundingSet=
UMask=0022
''' % {'managed': MANAGED, 'lib': APPLIER_DIR, 'package': PACKAGE, 'directory': os.path.dirname(output),
       'policy_unit': UNIT_NAME, 'python': python, 'flags': PYTHON_FLAGS, 'launcher': METRICS_LAUNCHER, 'output': output, 'sandbox': SANDBOX}


def metrics_timer_text() -> str:
    return '''# %s
[Unit]
Description=Write UKSM/KSM metrics every minute (litevirt.uksm)

[Timer]
# calendar-based: it keeps firing even when the service was skipped by its condition
OnCalendar=minutely
AccuracySec=5s
# a missed run is not caught up: only current values matter
Persistent=false

[Install]
WantedBy=%s
''' % (MANAGED, METRICS_TIMER_WANTED_BY)


def metrics_output_of(service_text: str) -> t.Optional[str]:
    """The output file an installed metrics service writes (to remove it with the service)."""
    match = _OUTPUT_OPTION.search(service_text)
    return match.group(1) if match else None


def artefacts(python: str, before: t.Sequence[str] = HYPERVISOR_UNITS,
              metrics_output: t.Optional[str] = None) -> t.List[Artefact]:
    """Every file to install; the metrics launcher and units only with a ``metrics_output``."""
    files = [Artefact(PACKAGE_DIR + '/__init__.py',
                      '# %s\n# A copy of the module_utils of litevirt.uksm for %s.\n' % (MANAGED, UNIT_NAME), 0o644)]
    files += [Artefact('%s/%s.py' % (PACKAGE_DIR, name), text, 0o644)
              for name, text in sorted(package_sources().items())]
    files.append(Artefact(LAUNCHER, launcher_text(python), 0o755))
    files.append(Artefact(UNIT_FILE, unit_text(python, before), 0o644))
    if metrics_output is not None:
        files.append(Artefact(METRICS_LAUNCHER, metrics_launcher_text(python), 0o755))
        files.append(Artefact(METRICS_UNIT_FILES[0], metrics_service_text(python, metrics_output), 0o644))
        files.append(Artefact(METRICS_UNIT_FILES[1], metrics_timer_text(), 0o644))
    return files


# An installed unit, launcher or source is a few KB; a larger file there is not ours.
MAX_INSTALLED_BYTES = 1 << 20


def _current(sysroot: str, relative: str) -> t.Tuple[t.Optional[str], t.Optional[int]]:
    found = read_file(sysroot, relative, MAX_INSTALLED_BYTES)
    if found is None:
        return None, None
    try:
        return found[0].decode('utf-8'), found[1].st_mode & 0o7777
    except UnicodeDecodeError:
        return None, None


def _stale(sysroot: str, wanted: t.Set[str]) -> t.List[str]:
    """Files in the library directory that are not part of this version (bytecode aside)."""
    return [path for path in list_tree(sysroot, APPLIER_DIR, skip=('__pycache__',)) if path not in wanted]


def install(sysroot: str, files: t.Sequence[Artefact], check_mode: bool) -> t.List[str]:
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
    """Whether ``cache_path`` is this interpreter's bytecode of ``source_path`` as it is now (PEP 552
    header: magic, flags 0 for timestamp-based, the source's mtime and size)."""
    try:
        status = os.stat(source_path)
        with open(cache_path, 'rb') as handle:
            header = handle.read(16)
    except FileNotFoundError:
        return False
    stamp = (int(status.st_mtime) & 0xFFFFFFFF).to_bytes(4, 'little') + (status.st_size & 0xFFFFFFFF).to_bytes(4, 'little')
    return header == importlib.util.MAGIC_NUMBER + bytes(4) + stamp


def compile_package(sysroot: str, rewritten: t.Sequence[str], check_mode: bool) -> t.List[str]:
    """Compile the installed package for this Python; the bytecode files written (relative paths).

    The units run Python with -B on a read-only /usr, so without this every boot would compile the
    package again (about as long as the applier's own work). The bytecode is timestamp-based, as
    Debian's py3compile writes it (checking it costs a stat, not a read of the source); the sources
    in ``rewritten`` (what install() just wrote) are compiled again whatever their timestamps say.
    A unit running another Python version ignores this bytecode and compiles in memory.
    """
    package = PACKAGE_DIR
    directory = host_path(sysroot, package)
    try:
        # the walk refuses a symlink or a directory another user could write on the way
        os.close(open_dir(sysroot, package))
    except FileNotFoundError:
        return []
    written = []
    for name in sorted(os.listdir(directory)):
        if not name.endswith('.py'):
            continue
        source = os.path.join(directory, name)
        cache = importlib.util.cache_from_source(source)
        if '%s/%s' % (package, name) not in rewritten and _bytecode_current(source, cache):
            continue
        written.append(os.path.relpath(cache, sysroot))
        if not check_mode:
            py_compile.compile(source, cfile=cache, doraise=True,
                               invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)
    return written


def installed(sysroot: str) -> t.List[str]:
    """What of the boot applier and the metrics writer is on the host (relative paths)."""
    found = [path for path in (UNIT_FILE,) + METRICS_UNIT_FILES if os.path.lexists(host_path(sysroot, path))]
    return found + _stale(sysroot, set())


def remove_metrics_units(sysroot: str, check_mode: bool) -> t.List[str]:
    """Delete the metrics service and timer (the launcher goes as a stale file); the paths removed."""
    removed = [path for path in METRICS_UNIT_FILES if os.path.lexists(host_path(sysroot, path))]
    if not check_mode:
        for path in removed:
            remove_file(sysroot, path)
    return removed


def remove_output(sysroot: str, output: str, check_mode: bool) -> t.List[str]:
    """Delete a metrics file, so node_exporter stops exporting its last values; the path removed."""
    relative = output.lstrip('/')
    if not os.path.lexists(host_path(sysroot, relative)):
        return []
    if not check_mode:
        # another user may own the directory (the textfile directory): unlinked through a descriptor
        remove_file(sysroot, relative, private=False)
    return [relative]


def uninstall(sysroot: str, check_mode: bool) -> t.List[str]:
    """Delete the units and the library directory; the relative paths removed."""
    removed = installed(sysroot)
    if not check_mode:
        for path in (UNIT_FILE,) + METRICS_UNIT_FILES:
            remove_file(sysroot, path)
        remove_tree(sysroot, APPLIER_DIR)
    return removed
