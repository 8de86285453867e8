# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""Files root opens and reads under the sysroot, without following anything another user could plant.

On a hypervisor the guests run as unprivileged accounts (libvirt-qemu, qemu, per-VM users). If one
of them is taken over, it must not be able to turn a write of ours into a write of its choosing. So:

- every directory on the way is opened one component at a time with ``O_NOFOLLOW`` and kept open
  by descriptor: a symlink anywhere is refused, and swapping a directory after we looked changes
  nothing, because every later operation is relative to the descriptor we hold;
- a *private* directory (the lock, the policy, the applier, the units) must also be owned by us
  (root) and not writable by group or others, each component from the sysroot down, or nobody
  else could have planted or swapped what is in it;
- a *shared* directory (node_exporter's textfile directory, whose parent belongs to the
  ``prometheus`` user on Debian) is used without following symlinks (safewrites says how a file is
  written there);
- files are opened with ``O_NOFOLLOW | O_NONBLOCK`` (a FIFO cannot stall us), must be regular
  files, and are read up to a bound.

Replacing and removing them, through the same descriptors, is safewrites'; kept apart because most runs
only read (a module's payload compiles what it imports at every run).

The sysroot itself is the operator's choice and is trusted. Every refusal is an ``UnsafePathError``
(an ``OSError``) whose message names the path as the host sees it and the reason.
"""

from __future__ import annotations

import errno
import posix
import stat

from ..errors import UksmError

TYPE_CHECKING = False  # importing typing costs the boot applier ~8 ms; annotations are strings
if TYPE_CHECKING:
    import typing as t

_DIRECTORY = posix.O_RDONLY | posix.O_DIRECTORY | posix.O_NOFOLLOW | posix.O_CLOEXEC
# what a reader of ours opens a file with: no symlink, no blocking on a FIFO
_READ = posix.O_RDONLY | posix.O_NOFOLLOW | posix.O_NONBLOCK | posix.O_CLOEXEC
_KINDS = (
    (stat.S_ISREG, 'a regular file'),
    (stat.S_ISDIR, 'a directory'),
    (stat.S_ISLNK, 'a symlink'),
    (stat.S_ISFIFO, 'a FIFO'),
    (stat.S_ISSOCK, 'a socket'),
    (stat.S_ISCHR, 'a character device'),
    (stat.S_ISBLK, 'a block device'),
)


class UnsafePathError(UksmError, OSError):
    """A path is refused: it is not what root may safely follow, read or replace (an OSError too,
    EPERM, so that code handling file errors handles it)."""

    def __init__(self, path: str, reason: str) -> None:
        OSError.__init__(self, errno.EPERM, reason, path)
        self.details: dict[str, t.Any] = {}
        self.path = path
        self.reason = reason

    def __str__(self) -> str:
        return 'refusing %s: %s' % (self.path, self.reason)


def shown_path(relative: str) -> str:
    """A path relative to the sysroot as the host sees it, for messages."""
    return '/' + relative.strip('/')


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return 'of an unknown type'


def owner_of(status: posix.stat_result) -> int:
    """The uid that owns a file. Every ownership check asks this one function, so that the unit tests,
    run by a user who cannot chown, can still hand a file to another user (tests/helpers/owners.py)."""
    return status.st_uid


def _check_owner(path: str, status: posix.stat_result) -> None:
    """Owned by us (root) and writable by nobody else, or another user controls what is inside."""
    owner = owner_of(status)
    if owner != posix.geteuid():
        raise UnsafePathError(path, 'owned by uid %d, not uid %d' % (owner, posix.geteuid()))
    if status.st_mode & 0o022:
        raise UnsafePathError(path, 'writable by group or others (mode %04o)' % stat.S_IMODE(status.st_mode))


def open_child_dir(parent: int, name: str, shown: str, create_mode: int | None) -> int:
    """The directory ``name`` in the directory descriptor ``parent``, not followed if a symlink; created with
    ``create_mode`` when missing (None: FileNotFoundError). No ownership check: the caller's."""
    try:
        return posix.open(name, _DIRECTORY, dir_fd=parent)
    except FileNotFoundError:
        if create_mode is None:
            raise
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):
            raise UnsafePathError(
                shown, 'it is %s, not a directory' % _kind(posix.lstat(name, dir_fd=parent).st_mode)
            ) from None
        raise
    try:
        posix.mkdir(name, create_mode, dir_fd=parent)
    except FileExistsError:
        pass  # made meanwhile: the open below checks what it is
    return open_child_dir(parent, name, shown, None)


def open_dir(sysroot: str, relative: str, private: bool = True, create_mode: int | None = None) -> int:
    """A descriptor of ``<sysroot>/<relative>`` opened component by component without following symlinks.

    ``private``: each component must be owned by us and not writable by group or others.
    ``create_mode``: create missing components with this mode (else FileNotFoundError).
    The caller closes the descriptor.
    """
    names = relative.strip('/').split('/')
    if any(name in ('', '.', '..') for name in names):
        raise UnsafePathError(shown_path(relative), 'not a normalised relative path')
    handle = posix.open(sysroot, posix.O_RDONLY | posix.O_DIRECTORY | posix.O_CLOEXEC)
    shown = ''
    try:
        for name in names:
            shown += '/' + name
            child = open_child_dir(handle, name, shown, create_mode)
            posix.close(handle)
            handle = child
            if private:
                _check_owner(shown, posix.fstat(handle))
    except BaseException:
        posix.close(handle)
        raise
    return handle


def open_subdir(parent: int, name: str, shown: str) -> int:
    """A descriptor of the directory ``name`` in the directory descriptor ``parent``, as ``open_dir`` opens
    each component: no symlink, ours and writable by nobody else (``shown`` names it in errors)."""
    if name in ('', '.', '..') or '/' in name:
        raise UnsafePathError(shown, 'not one component of a path')
    handle = open_child_dir(parent, name, shown, None)
    try:
        _check_owner(shown, posix.fstat(handle))
    except BaseException:
        posix.close(handle)
        raise
    return handle


def split_path(relative: str) -> tuple[str, str]:
    """A normalised path of a file below a directory, as (directory, file name)."""
    directory, _sep, name = relative.strip('/').rpartition('/')
    if not directory or any(part in ('', '.', '..') for part in relative.strip('/').split('/')):
        raise UnsafePathError(shown_path(relative), 'not a normalised path of a file below a directory')
    return directory, name


def open_file(
    directory: int, name: str, shown: str, flags: int = _READ, mode: int = 0o600, private: bool = True
) -> tuple[int, posix.stat_result]:
    """Open ``name`` in the directory descriptor: a regular file, no symlink (and ours when private)."""
    try:
        handle = posix.open(name, flags | posix.O_NOFOLLOW | posix.O_NONBLOCK | posix.O_CLOEXEC, mode, dir_fd=directory)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise UnsafePathError(shown, 'it is a symlink') from None
        if error.errno == errno.ENXIO:  # a FIFO opened for writing without a reader
            raise UnsafePathError(shown, 'it is a FIFO') from None
        if error.errno == errno.EISDIR:  # a directory opened for writing
            raise UnsafePathError(shown, 'it is a directory, not a regular file') from None
        raise
    try:
        status = posix.fstat(handle)
        if not stat.S_ISREG(status.st_mode):
            raise UnsafePathError(shown, 'it is %s, not a regular file' % _kind(status.st_mode))
        if private:
            _check_owner(shown, status)
        posix.set_blocking(handle, True)
    except BaseException:
        posix.close(handle)
        raise
    return handle, status


def read_bounded(handle: int, limit: int, shown: str) -> bytes:
    """Everything in an open file, refusing more than ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = posix.read(handle, limit + 1 - size)
        if not chunk:
            return b''.join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise UnsafePathError(shown, 'larger than %d bytes' % limit)


def read_file(sysroot: str, relative: str, limit: int, private: bool = True) -> tuple[bytes, posix.stat_result] | None:
    """The bytes and status of a file, or None when it or its directory does not exist."""
    directory_name, name = split_path(relative)
    shown = shown_path(relative)
    try:
        directory = open_dir(sysroot, directory_name, private)
    except FileNotFoundError:
        return None
    try:
        handle, status = open_file(directory, name, shown, private=private)
    except FileNotFoundError:
        return None
    finally:
        posix.close(directory)
    try:
        return read_bounded(handle, limit, shown), status
    finally:
        posix.close(handle)
