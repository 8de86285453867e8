# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""Cheap facts about the host around the sysfs knobs: /proc and installed services."""

from __future__ import annotations

import posix

from .._knobs.value_kinds import is_decimal as _is_decimal
from .paths import SYSTEM_UNITS
from .safefiles import owner_of
from .sysfs import exists, host_path, join, read_text

TYPE_CHECKING = False  # importing typing costs the boot applier ~8 ms; annotations are strings
if TYPE_CHECKING:
    import typing as t


class Conflict:
    """A service that writes the same sysfs files as a policy, so it would undo it (ksmtuned every 60 s)."""

    def __init__(self, process: str | None, backends: tuple[str, ...], certain: bool) -> None:
        self.process = process  # the process name it runs as, if it keeps running
        self.backends = backends  # whose files it writes
        self.certain = certain  # always rewrites them (true), or only with some configurations (tuned profiles)


CONFLICTING_SERVICES = {
    # rewrites run, pages_to_scan and sleep_millisecs every 60 s
    'ksmtuned.service': Conflict('ksmtuned', ('ksm',), True),
    # toggles run once at boot
    'ksm.service': Conflict(None, ('ksm',), True),
    # only profiles with a [sysfs] section or ksm options touch these files
    'tuned.service': Conflict('tuned', ('uksm', 'ksm'), False),
}
# /proc/meminfo is about 1.5 KB; a bound keeps a file of odd shape (a test tree, a FUSE /proc) finite.
PROC_READ_LIMIT = 65536
_UNIT_DIRS = (SYSTEM_UNITS, 'usr/lib/systemd/system', 'lib/systemd/system')


# The owner of the processes that count: root, which runs kernel threads and the conflicting services.
# Unit tests that run as another user set it to theirs, so that the /proc trees they write count.
PROCESS_OWNER_UID = 0


def _root_process_named(path: str, names: t.Container[str]) -> str | None:
    """The comm of the process ``path`` (``/proc/<pid>``) when it is one of ``names`` and root's, else None;
    OSError when the process ended while we looked. Any process may rename itself (prctl PR_SET_NAME):
    one of a guest's account calling itself ``uksmd`` must not make a write to ``run`` look safe, so only
    processes owned by root count (kernel threads and the conflicting services all are)."""
    name = read_text(join(path, 'comm')).strip()
    return name if name in names and owner_of(posix.lstat(path)) == PROCESS_OWNER_UID else None


def root_processes(sysroot: str, names: t.Iterable[str]) -> dict[str, int]:
    """Which of ``names`` run as a root process (kernel threads included), by ``/proc/<pid>/comm``: name -> pid."""
    wanted = set(names)
    found: dict[str, int] = {}
    proc = host_path(sysroot, 'proc')
    try:
        entries = posix.scandir(proc)
    except OSError:
        return found
    with entries:
        for entry in entries:
            if not entry.name.isdigit():
                continue
            try:
                name = _root_process_named(entry.path, wanted)
            except OSError:
                continue  # the process ended while we looked
            if name is not None:
                found[name] = int(entry.name)
                wanted.discard(name)
                if not wanted:
                    break
    return found


class ThreadLookup:
    """Whether the root process (a kernel thread) ``name`` runs, asked again at each call: the first call
    scans /proc as ``root_processes`` does, later ones look at the pid it found, and scan again only
    when that pid is no longer that process (a kernel thread keeps its pid until the host reboots)."""

    def __init__(self, sysroot: str, name: str) -> None:
        self.sysroot = sysroot
        self.name = name
        self.pid: int | None = None

    def __call__(self) -> bool:
        if self.pid is not None:
            path = host_path(self.sysroot, 'proc/%d' % self.pid)
            try:
                if _root_process_named(path, (self.name,)) is not None:
                    return True
            except OSError:
                pass  # the process ended
        self.pid = root_processes(self.sysroot, [self.name]).get(self.name)
        return self.pid is not None


# /proc/<pid>/stat fields after the command name's closing parenthesis (proc(5) numbers them from 1
# with the pid: utime is field 14, stime 15, starttime 22), all in clock ticks.
_UTIME, _STIME, _STARTTIME = 11, 12, 19


def thread_cpu(sysroot: str, pid: int) -> dict[str, t.Any] | None:
    """CPU time of a kernel thread: ``seconds`` (utime + stime) and ``percent_since_start`` (those
    seconds over the thread's lifetime, from its start time and ``/proc/uptime``); None when unreadable.

    The command name may hold spaces and parentheses, so the fields are counted from the last ')'.
    """
    try:
        stat_text = read_text(host_path(sysroot, 'proc/%d/stat' % pid), PROC_READ_LIMIT)
        uptime_text = read_text(host_path(sysroot, 'proc/uptime'), PROC_READ_LIMIT)
    except OSError:
        return None
    fields = stat_text.rpartition(')')[2].split()
    if len(fields) <= _STARTTIME or not all(_is_decimal(fields[i]) for i in (_UTIME, _STIME, _STARTTIME)):
        return None
    ticks = posix.sysconf('SC_CLK_TCK')
    seconds = (int(fields[_UTIME]) + int(fields[_STIME])) / ticks
    try:
        uptime = float(uptime_text.split()[0])
    except (IndexError, ValueError):
        uptime = None
    lifetime = None if uptime is None else uptime - int(fields[_STARTTIME]) / ticks
    return {
        'pid': pid,
        'seconds': round(seconds, 2),
        'percent_since_start': round(100.0 * seconds / lifetime, 3) if lifetime and lifetime > 0 else None,
    }


def ksm_zero_kib(sysroot: str) -> int | None:
    """UKSM's zero pages in KiB from ``/proc/meminfo`` (``KsmZeroPages``), or None when absent."""
    try:
        text = read_text(host_path(sysroot, 'proc/meminfo'), PROC_READ_LIMIT)
    except OSError:
        return None
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[0] == 'KsmZeroPages:' and fields[2] == 'kB' and _is_decimal(fields[1]):
            return int(fields[1])
    return None


def page_size() -> int:
    return posix.sysconf('SC_PAGE_SIZE')


def rewrites(conflict: Conflict, backend: str | None) -> str:
    """Whether a service rewrites ``backend``'s files: ``always``, ``maybe`` or ``never``."""
    if backend is None or backend not in conflict.backends:
        return 'never'
    return 'always' if conflict.certain else 'maybe'


def services(sysroot: str, running: set[str], backend: str | None = None) -> dict[str, dict[str, t.Any]]:
    """Installed/enabled/running state of each conflicting service, from files only (no systemctl),
    and whether it rewrites the files of ``backend``."""
    wants_dirs = []
    system = host_path(sysroot, SYSTEM_UNITS)
    try:
        wants_dirs = [entry.path for entry in posix.scandir(system) if entry.name.endswith('.wants')]
    except OSError:
        pass
    result = {}
    for unit, conflict in CONFLICTING_SERVICES.items():
        installed = any(exists(host_path(sysroot, join(directory, unit))) for directory in _UNIT_DIRS)
        enabled = any(exists(join(directory, unit), follow_symlinks=False) for directory in wants_dirs)
        active = exists(host_path(sysroot, 'run/systemd/units/invocation:' + unit), follow_symlinks=False)
        result[unit.rsplit('.', 1)[0]] = {
            'installed': installed,
            'enabled': enabled,
            'running': active or (conflict.process is not None and conflict.process in running),
            'rewrites': rewrites(conflict, backend),
        }
    return result
