# -*- coding: utf-8 -*-
# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host-wide lock around read-compare-write, shared by uksm_tunable and the boot-time applier."""

from __future__ import annotations

import fcntl
import os
import time

from .sysfs import host_path

TYPE_CHECKING = False  # importing typing costs the boot applier ~8 ms; annotations are strings
if TYPE_CHECKING:
    import typing as t

LOCK_FILE = 'run/lock/litevirt-uksm.lock'


class LockTimeout(RuntimeError):
    """Another writer held the lock for longer than we were willing to wait."""


class HostLock:
    """Hold an exclusive flock on ``<sysroot>/run/lock/litevirt-uksm.lock`` in a ``with HostLock(...)`` block.

    A class rather than contextlib.contextmanager: importing contextlib costs the boot applier
    milliseconds. ``take=False`` (check mode) holds nothing and leaves no file behind.
    """

    def __init__(self, sysroot: str, timeout: float = 30.0, take: bool = True) -> None:
        self.path = host_path(sysroot, LOCK_FILE)
        self.timeout = timeout
        self.take = take
        self.handle = None  # type: t.Optional[int]

    def __enter__(self) -> str:
        if self.take:
            self.handle = self._acquire()
        return self.path

    def __exit__(self, *exc_info: t.Any) -> None:
        if self.handle is not None:
            os.close(self.handle)  # closing releases the flock
            self.handle = None

    def _acquire(self) -> int:
        os.makedirs(os.path.dirname(self.path), mode=0o755, exist_ok=True)
        handle = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            deadline = time.monotonic() + self.timeout
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        holder = os.pread(handle, 32, 0).decode('ascii', 'replace').strip() or 'unknown'
                        raise LockTimeout('%s is held by another writer (pid %s) for more than %gs'
                                          % (self.path, holder, self.timeout)) from None
                    time.sleep(0.05)
            # the holder's pid, for the message another writer shows while waiting
            os.ftruncate(handle, 0)
            os.pwrite(handle, ('%d\n' % os.getpid()).encode('ascii'), 0)
        except BaseException:
            os.close(handle)
            raise
        return handle
