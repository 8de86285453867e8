# -*- coding: utf-8 -*-
# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The boot-time applier as files on a host: the unit, a launcher, and these module_utils as a package.

The package is the applier and every module_utils file it imports, copied byte for byte from the
collection that runs the module, so boot applies the policy with the very code the modules use.
Paths are fixed relative paths under the sysroot; the unit refers to them as the host will see them.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import shutil
import typing as t

# imported so that AnsiballZ ships the applier and everything it imports with the module
from . import applier  # noqa: F401 pylint: disable=unused-import
from .backends import BACKENDS
from .lock import LOCK_FILE
from .persist import APPLIER_DIR as LIB_DIR, POLICY_FILE, UNIT_FILE, UNIT_NAME, UNIT_WANTED_BY as WANTED_BY, write_atomic
from .sysfs import host_path

PACKAGE = 'uksm_policy'
LAUNCHER = LIB_DIR + '/uksm-policy-apply'
# Services that start guests: the unit is ordered before each, so guests start under the policy.
HYPERVISOR_UNITS = ('libvirtd.service', 'libvirt-guests.service', 'virtqemud.service', 'pve-guests.service',
                    'nova-compute.service', 'incus.service')
# Also the lock timeout of the applier, with room for the writes.
START_TIMEOUT = 90
MANAGED = 'Managed by the litevirt.uksm Ansible collection (policy role); local edits are overwritten.'


class Artefact(t.NamedTuple):
    path: str  # relative to the sysroot
    text: str
    mode: int


def package_sources() -> t.Dict[str, str]:
    """``applier`` and the module_utils it imports (relative imports only), by module name."""
    found = {}  # type: t.Dict[str, str]
    todo = ['applier']
    while todo:
        name = todo.pop()
        if name in found:
            continue
        # get_source reads a plain file or the module's AnsiballZ payload alike
        fullname = '%s.%s' % (__name__.rpartition('.')[0], name)
        spec = importlib.util.find_spec(fullname)
        source = spec.loader.get_source(fullname) if spec and spec.loader else None  # type: ignore[attr-defined]
        if source is None:
            raise OSError('cannot read the source of %s' % fullname)
        found[name] = source
        for node in ast.walk(ast.parse(found[name])):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    todo.append(node.module.split('.')[0])
                else:
                    todo.extend(alias.name for alias in node.names)
    return found


def launcher_text(python: str) -> str:
    return '''#!%s -IB
# %s
"""Apply the persisted UKSM/KSM policy (/%s); run at boot by %s."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from %s.applier import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
''' % (python, MANAGED, POLICY_FILE, UNIT_NAME, PACKAGE)


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
ExecStart=%(python)s -I -B /%(launcher)s
SyslogIdentifier=uksm-policy
# a kernel that does not answer must not hold up the boot
TimeoutStartSec=%(timeout)d
# Sandbox. The interface is in /sys, which ProtectSystem=strict leaves writable as long as
# ProtectKernelTunables= stays off; the lock shared with the Ansible modules is in /run/lock.
ProtectSystem=strict
ReadWritePaths=-/%(lockdir)s
ProtectHome=yes
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
# root owns the sysfs files and the lock, so no capability is needed
CapabilityBoundingSet=
UMask=0022

[Install]
WantedBy=%(wanted_by)s
''' % {'managed': MANAGED, 'policy': POLICY_FILE, 'before': ' '.join(before), 'conditions': conditions,
       'python': python, 'launcher': LAUNCHER, 'timeout': START_TIMEOUT, 'lockdir': os.path.dirname(LOCK_FILE),
       'wanted_by': WANTED_BY}


def artefacts(python: str, before: t.Sequence[str] = HYPERVISOR_UNITS) -> t.List[Artefact]:
    files = [Artefact('%s/%s/__init__.py' % (LIB_DIR, PACKAGE),
                      '# %s\n# A copy of the module_utils of litevirt.uksm for %s.\n' % (MANAGED, UNIT_NAME), 0o644)]
    files += [Artefact('%s/%s/%s.py' % (LIB_DIR, PACKAGE, name), text, 0o644)
              for name, text in sorted(package_sources().items())]
    files.append(Artefact(LAUNCHER, launcher_text(python), 0o755))
    files.append(Artefact(UNIT_FILE, unit_text(python, before), 0o644))
    return files


def _current(path: str) -> t.Tuple[t.Optional[str], t.Optional[int]]:
    try:
        with open(path, 'r', encoding='utf-8') as handle:
            return handle.read(), os.stat(path).st_mode & 0o7777
    except (FileNotFoundError, UnicodeDecodeError):
        return None, None


def _stale(sysroot: str, wanted: t.Set[str]) -> t.List[str]:
    """Files in the library directory that are not part of this version (bytecode aside)."""
    stale = []
    for directory, dirs, files in os.walk(host_path(sysroot, LIB_DIR)):
        dirs[:] = [name for name in dirs if name != '__pycache__']
        for name in files:
            relative = os.path.relpath(os.path.join(directory, name), sysroot)
            if relative not in wanted:
                stale.append(relative)
    return sorted(stale)


def install(sysroot: str, files: t.Sequence[Artefact], check_mode: bool) -> t.List[str]:
    """Write the files that differ, delete stale ones; the relative paths changed."""
    changed = []
    for artefact in files:
        path = host_path(sysroot, artefact.path)
        if _current(path) != (artefact.text, artefact.mode):
            changed.append(artefact.path)
            if not check_mode:
                write_atomic(path, artefact.text, artefact.mode)
    for relative in _stale(sysroot, {artefact.path for artefact in files}):
        changed.append(relative)
        if not check_mode:
            os.unlink(host_path(sysroot, relative))
    return changed


def installed(sysroot: str) -> t.List[str]:
    """What of the boot applier is on the host (relative paths)."""
    found = [UNIT_FILE] if os.path.lexists(host_path(sysroot, UNIT_FILE)) else []
    return found + _stale(sysroot, set())


def uninstall(sysroot: str, check_mode: bool) -> t.List[str]:
    """Delete the unit and the library directory; the relative paths removed."""
    removed = installed(sysroot)
    if not check_mode:
        if os.path.lexists(host_path(sysroot, UNIT_FILE)):
            os.unlink(host_path(sysroot, UNIT_FILE))
        shutil.rmtree(host_path(sysroot, LIB_DIR), ignore_errors=True)
    return removed
