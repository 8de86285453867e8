# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""The host-wide lock: held alone by every writer (uksm_tunable, uksm_policy, the boot applier, the
tuner) around read-compare-write, shared by readers (facts, metrics) while they read.

The lock lives in a directory only root can write (``/run/litevirt-uksm``, 0700), never in a
world-writable one such as the FHS lock directory: there an unprivileged user could plant a
symlink that root would truncate, or take the lock first and hold it so that no policy is ever applied.
"""

from __future__ import annotations

import fcntl
import posix
import time

from ..errors import UksmError
from .paths import LOCK_DIR, LOCK_FILE, LOCK_NAME
from .safefiles import open_dir, open_file

TYPE_CHECKING = False  # importing typing costs the boot applier ~8 ms; annotations are strings
if TYPE_CHECKING:
    import typing as t


class LockTimeout(UksmError):
    """Another writer held the lock for longer than we were willing to wait."""


class _Held:
    """What HostLock and ReadLock share: the locked descriptor, released on leaving the block."""

    handle: int | None = None

    def __exit__(self, *exc_info: t.Any) -> None:
        if self.handle is not None:
            posix.close(self.handle)  # closing releases the flock
            self.handle = None


class HostLock(_Held):
    """Hold an exclusive flock on ``<sysroot>/run/litevirt-uksm/lock`` in a ``with HostLock(...)`` block.

    A class rather than contextlib.contextmanager: importing contextlib costs the boot applier
    milliseconds. ``take=False`` (a caller that holds it already) holds nothing and leaves no file behind.
    Raises ``UnsafePathError`` when the directory or the file is not root's alone.
    """

    def __init__(self, sysroot: str, timeout: float = 30.0, take: bool = True) -> None:
        self.sysroot = sysroot
        self.path = '/' + LOCK_FILE
        self.timeout = timeout
        self.take = take

    def __enter__(self) -> str:
        if self.take:
            self.handle = self._acquire()
        return self.path

    def _acquire(self) -> int:
        deadline = time.monotonic() + self.timeout
        while True:
            # walked again on every try: a purge may have removed the directory while we waited
            directory = open_dir(self.sysroot, LOCK_DIR, private=True, create_mode=0o700)
            try:
                handle = self._locked(directory, deadline)
            finally:
                posix.close(directory)
            if handle is not None:
                return handle

    def _locked(self, directory: int, deadline: float) -> int | None:
        """The locked descriptor, or None when the file was replaced while we waited (try again)."""
        try:
            handle, status = open_file(directory, LOCK_NAME, self.path, posix.O_RDWR | posix.O_CREAT)
        except FileNotFoundError:
            return None  # the directory itself was removed: walk it again
        try:
            if not _flock_by(handle, fcntl.LOCK_EX, deadline):
                holder = _first_line(posix.pread(handle, 32, 0)) or 'unknown'
                raise LockTimeout(
                    '%s is held by another writer (pid %s) for more than %gs' % (self.path, holder, self.timeout)
                )
            # the file we locked must still be the one at the path: a purge (uksm_policy_unit) may
            # have removed it while we waited, and a newcomer would lock a new file beside us
            try:
                current = posix.stat(LOCK_NAME, dir_fd=directory, follow_symlinks=False)
            except FileNotFoundError:
                current = None
            if current is None or (current.st_dev, current.st_ino) != (status.st_dev, status.st_ino):
                posix.close(handle)
                return None
            # the holder's pid, for the message another writer shows while waiting; written over the
            # last holder's and then cut to length: truncating to 0 first frees the file's block, which
            # costs a journal update on a disk filesystem (half a millisecond) for the same result
            line = ('%d\n' % posix.getpid()).encode('ascii')
            posix.pwrite(handle, line, 0)
            posix.ftruncate(handle, len(line))
        except BaseException:
            posix.close(handle)
            raise
        return handle


class ReadLock(_Held):
    """Hold a shared flock on the host lock while a reader (facts, metrics) reads the host, in a
    ``with ReadLock(...) as holder:`` block: no writer is between two of its writes then.

    A writer writes the kernel's values first and the tier in force after them: read without the
    lock, halfway through, the values of one tier were compared with another and read as drift.
    Waits up to ``timeout`` for a writer to finish, then reads anyway: ``holder`` is that writer's
    pid (0 when unknown), None when the lock was taken or there is none to take (no lock file yet,
    or not root's alone, or not readable by this user). Reads only and creates nothing. A read holds
    it for tens of milliseconds and a writer tries every 50 ms: only readers that followed each
    other without a pause could keep a writer out.
    """

    def __init__(self, sysroot: str, timeout: float) -> None:
        self.sysroot = sysroot
        self.timeout = timeout

    def __enter__(self) -> int | None:
        try:
            directory = open_dir(self.sysroot, LOCK_DIR, private=True)
        except OSError:
            return None
        try:
            handle, _status = open_file(directory, LOCK_NAME, '/' + LOCK_FILE)
        except OSError:
            return None
        finally:
            posix.close(directory)
        try:
            taken = _flock_by(handle, fcntl.LOCK_SH, time.monotonic() + self.timeout)
        except OSError:
            posix.close(handle)
            return None  # no flock here (e.g. ENOLCK): read without it
        if taken:
            # held to the end of the read; only a purge (state absent) removing the file meanwhile
            # would let the next writer lock a new one beside it
            self.handle = handle
            return None
        try:
            text = _first_line(posix.pread(handle, 32, 0))
        finally:
            posix.close(handle)
        return int(text) if text.isdigit() else 0


def _flock_by(handle: int, operation: int, deadline: float) -> bool:
    """Take the flock ``operation`` (LOCK_EX or LOCK_SH), trying again every 50 ms until
    ``deadline``; False when another holder kept it that long. Any other error is raised."""
    while True:
        try:
            fcntl.flock(handle, operation | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)


def _first_line(data: bytes) -> str:
    """The pid line of the lock file (a holder that is writing its pid may leave the last one's tail)."""
    return data.decode('ascii', 'replace').split('\n', 1)[0].strip()
