# -*- coding: utf-8 -*-
# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cheap facts about the host around the sysfs knobs: /proc and installed services."""

from __future__ import annotations

import os
import re
import typing as t

from .sysfs import host_path, read_text

_ZERO_PAGES = re.compile(r'^KsmZeroPages:\s+(\d+) kB$', re.MULTILINE)

# Services that write the same sysfs files as a policy (spec, "Things on a host that fight a policy"),
# with the process name each runs as.
CONFLICTING_SERVICES = {
    'ksmtuned.service': 'ksmtuned',
    'ksm.service': None,
    'tuned.service': 'tuned',
}
_UNIT_DIRS = ('etc/systemd/system', 'usr/lib/systemd/system', 'lib/systemd/system')


def process_names(sysroot: str, wanted: t.Iterable[str]) -> t.Set[str]:
    """Which of ``wanted`` run as a process (kernel threads included), by ``/proc/<pid>/comm``."""
    wanted = set(wanted)
    found = set()  # type: t.Set[str]
    proc = host_path(sysroot, 'proc')
    try:
        entries = os.scandir(proc)
    except OSError:
        return found
    with entries:
        for entry in entries:
            if not entry.name.isdigit():
                continue
            try:
                name = read_text(os.path.join(entry.path, 'comm')).strip()
            except OSError:
                continue  # the process ended while we looked
            if name in wanted:
                found.add(name)
                if found == wanted:
                    break
    return found


def ksm_zero_kib(sysroot: str) -> t.Optional[int]:
    """UKSM's zero pages in KiB from ``/proc/meminfo`` (``KsmZeroPages``), or None when absent."""
    try:
        with open(host_path(sysroot, 'proc/meminfo'), 'r') as handle:
            match = _ZERO_PAGES.search(handle.read())
    except OSError:
        return None
    return int(match.group(1)) if match else None


def page_size() -> int:
    return os.sysconf('SC_PAGE_SIZE')


def services(sysroot: str, running: t.Set[str]) -> t.Dict[str, t.Dict[str, bool]]:
    """Installed/enabled/running state of each conflicting service, from files only (no systemctl)."""
    wants_dirs = []
    system = host_path(sysroot, 'etc/systemd/system')
    try:
        wants_dirs = [entry.path for entry in os.scandir(system) if entry.name.endswith('.wants')]
    except OSError:
        pass
    result = {}
    for unit, process in CONFLICTING_SERVICES.items():
        installed = any(os.path.exists(host_path(sysroot, os.path.join(directory, unit))) for directory in _UNIT_DIRS)
        enabled = any(os.path.lexists(os.path.join(directory, unit)) for directory in wants_dirs)
        active = os.path.lexists(host_path(sysroot, 'run/systemd/units/invocation:' + unit))
        result[unit.rsplit('.', 1)[0]] = {
            'installed': installed,
            'enabled': enabled,
            'running': active or (process is not None and process in running),
        }
    return result
