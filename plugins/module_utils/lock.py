# -*- coding: utf-8 -*-
# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host-wide lock around read-compare-write, shared by uksm_tunable and the boot-time applier."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
import typing as t

from .sysfs import host_path

LOCK_FILE = 'run/lock/litevirt-uksm.lock'


class LockTimeout(RuntimeError):
    """Another writer held the lock for longer than we were willing to wait."""


@contextlib.contextmanager
def host_lock(sysroot: str, timeout: float = 30.0) -> t.Iterator[str]:
    """Hold an exclusive flock on ``<sysroot>/run/lock/litevirt-uksm.lock``; yields its path."""
    path = host_path(sysroot, LOCK_FILE)
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    handle = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(handle, 32, 0).decode('ascii', 'replace').strip() or 'unknown'
                    raise LockTimeout('%s is held by another writer (pid %s) for more than %gs'
                                      % (path, holder, timeout)) from None
                time.sleep(0.05)
        # the holder's pid, for the message another writer shows while waiting
        os.ftruncate(handle, 0)
        os.pwrite(handle, ('%d\n' % os.getpid()).encode('ascii'), 0)
        yield path
    finally:
        os.close(handle)  # closing releases the flock
