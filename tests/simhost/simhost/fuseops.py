"""FUSE filesystem mounted on SYSROOT/sys/kernel/mm: sysfs semantics over a SimHost."""

from __future__ import annotations

import ctypes
import errno
import itertools
import os
import stat
import threading
import time
from typing import Any

import mfusepy

from simhost.host import CONTROL_FILES, SimHost
from simhost.sysroot import CTL_DIR

ATTR_SIZE = 4096  # sysfs reports every attribute as one page


def _fail(code: int) -> mfusepy.FuseOSError:
    return mfusepy.FuseOSError(code)


def _caller_uid() -> int:
    return mfusepy.fuse_get_context()[0]


def _caller_tid() -> int:
    # The id of the writing thread (0 when outside our pid namespace).
    return mfusepy.fuse_get_context()[2]


_THREAD = threading.local()


def _keep_thread_state() -> None:
    """ctypes makes a new Python thread state for each call into Python from a libfuse worker thread and
    frees it on return (a 16 KiB stack mapped and unmapped every time): half of what a request cost. One
    more PyGILState_Ensure, never released, keeps the worker's state for the life of the thread (libfuse
    keeps its idle workers, at most 10)."""
    if not getattr(_THREAD, "state_kept", False):
        ctypes.pythonapi.PyGILState_Ensure()
        _THREAD.state_kept = True


class SysfsOps(mfusepy.Operations):
    """Paths are relative to the mm directory: /uksm/run, /.simctl/state, ..."""

    use_ns = True

    def __init__(self, host: SimHost) -> None:
        self.host = host
        self.mtime_ns = time.time_ns()
        self._handles = itertools.count(1)

    # -- path resolution ------------------------------------------------------------
    def _resolve(self, path: str) -> tuple[str, str | None]:
        _keep_thread_state()  # every operation on a path starts here
        parts = [part for part in path.split("/") if part]
        dirname = self.host.dirname
        if not parts:
            return "root", None
        if parts[0] == CTL_DIR:
            if len(parts) == 1:
                return "ctldir", None
            if len(parts) == 2 and parts[1] in CONTROL_FILES:
                return "ctl", parts[1]
        elif dirname and parts[0] == dirname:
            if len(parts) == 1:
                return "kdir", None
            if len(parts) == 2 and self.host.kernel.has(parts[1]):
                return "attr", parts[1]
        raise _fail(errno.ENOENT)

    def _in_sysfs(self, path: str) -> bool:
        # Everything but the control directory behaves like sysfs.
        parts = [part for part in path.split("/") if part]
        return not parts or parts[0] != CTL_DIR

    def _deny_change(self, path: str, code: int = errno.EPERM) -> mfusepy.FuseOSError:
        if self.host.variant.readonly and self._in_sysfs(path):
            return _fail(errno.EROFS)
        return _fail(code)

    # -- metadata -----------------------------------------------------------------------
    def getattr(self, path: str, fh: int | None = None) -> dict[str, Any]:
        kind, name = self._resolve(path)
        times = {"st_atime": self.mtime_ns, "st_mtime": self.mtime_ns, "st_ctime": self.mtime_ns}
        base = dict(times, st_uid=0, st_gid=0, st_blksize=4096)
        if kind == "root":
            return dict(base, st_mode=stat.S_IFDIR | 0o755, st_nlink=3 + (1 if self.host.dirname else 0))
        if kind in ("kdir", "ctldir"):
            return dict(base, st_mode=stat.S_IFDIR | 0o755, st_nlink=2)
        if kind == "attr":
            mode = self.host.kernel.mode(name)
            return dict(base, st_mode=stat.S_IFREG | mode, st_nlink=1, st_size=ATTR_SIZE)
        return dict(base, st_mode=stat.S_IFREG | 0o644, st_nlink=1, st_size=ATTR_SIZE)

    def opendir(self, path: str) -> int:
        kind, _name = self._resolve(path)
        if kind == "kdir" and self.host.variant.unreadable:
            raise _fail(errno.EACCES)
        return 0

    def readdir(self, path: str, fh: int) -> list[str]:
        kind, _name = self._resolve(path)
        entries = [".", ".."]
        if kind == "root":
            entries.extend(([self.host.dirname] if self.host.dirname else []) + [CTL_DIR])
        elif kind == "kdir":
            entries.extend(self.host.attributes())
        elif kind == "ctldir":
            entries.extend(CONTROL_FILES)
        else:
            raise _fail(errno.ENOTDIR)
        return entries

    def access(self, path: str, amode: int) -> int:
        kind, _name = self._resolve(path)
        variant = self.host.variant
        if amode & os.W_OK and self._in_sysfs(path):
            if variant.readonly:
                raise _fail(errno.EROFS)
            if _caller_uid() != 0:
                raise _fail(errno.EACCES)
        if variant.unreadable and kind in ("kdir", "attr") and amode & (os.R_OK | os.X_OK):
            raise _fail(errno.EACCES)
        return 0

    def statfs(self, path: str) -> dict[str, int]:
        return {"f_bsize": 4096, "f_frsize": 4096, "f_namemax": 255}

    # -- files ----------------------------------------------------------------------------
    def open(self, path: str, flags: int) -> int:
        kind, name = self._resolve(path)
        write = (flags & os.O_ACCMODE) != os.O_RDONLY
        if kind == "attr":
            self.host.check_open(name, write, _caller_uid())
        elif kind == "ctl":
            if write and _caller_uid() != 0:
                raise _fail(errno.EACCES)
        else:
            raise _fail(errno.EISDIR)
        return next(self._handles)

    def read(self, path: str, size: int, offset: int, fh: int) -> bytes:
        kind, name = self._resolve(path)
        if kind == "attr":
            text = self.host.read_attr(name)
        elif kind == "ctl":
            text = self.host.control_read(name)
        else:
            raise _fail(errno.EISDIR)
        # show() output is regenerated for every read; an offset returns the rest.
        return text[offset : offset + size]

    def write(self, path: str, data: bytes, offset: int, fh: int) -> int:
        kind, name = self._resolve(path)
        if kind == "attr":
            # sysfs ignores the file position: every write() is one store() call.
            return self.host.write_attr(name, data, _caller_tid())
        if kind == "ctl":
            return self.host.control_write(name, data)
        raise _fail(errno.EISDIR)

    def truncate(self, path: str, length: int, fh: int | None = None) -> int:
        kind, name = self._resolve(path)
        if kind == "attr":
            # O_TRUNC from "echo 1 > file" must succeed on writable attributes.
            self.host.check_open(name, True, _caller_uid())
            return 0
        if kind == "ctl":
            return 0
        raise _fail(errno.EISDIR)

    def utimens(self, path: str, times: tuple[int, int] | None = None) -> int:
        self._resolve(path)
        if self.host.variant.readonly and self._in_sysfs(path):
            raise _fail(errno.EROFS)
        return 0

    # -- the namespace is fixed ---------------------------------------------------------
    def create(self, path: str, mode: int, fi: Any = None) -> int:
        # kernfs directories have no create(): the VFS answers EACCES.
        raise self._deny_change(path, errno.EACCES)

    def mknod(self, path: str, mode: int, dev: int) -> int:
        raise self._deny_change(path)

    def mkdir(self, path: str, mode: int) -> int:
        raise self._deny_change(path)

    def unlink(self, path: str) -> int:
        raise self._deny_change(path)

    def rmdir(self, path: str) -> int:
        raise self._deny_change(path)

    def rename(self, old: str, new: str) -> int:
        raise self._deny_change(old)

    def symlink(self, target: str, source: str) -> int:
        raise self._deny_change(target)

    def link(self, target: str, source: str) -> int:
        raise self._deny_change(target)

    def chmod(self, path: str, mode: int) -> int:
        raise self._deny_change(path)

    def chown(self, path: str, uid: int, gid: int) -> int:
        raise self._deny_change(path)
