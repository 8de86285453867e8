# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""Files root reads and writes under the sysroot, without following anything another user could plant.

On a hypervisor the guests run as unprivileged accounts (libvirt-qemu, qemu, per-VM users). If one
of them is taken over, it must not be able to turn a write of ours into a write of its choosing. So:

- every directory on the way is opened one component at a time with ``O_NOFOLLOW`` and kept open
  by descriptor: a symlink anywhere is refused, and swapping a directory after we looked changes
  nothing, because every later operation is relative to the descriptor we hold;
- a *private* directory (the lock, the policy, the applier, the units) must also be owned by us
  (root) and not writable by group or others, each component from the sysroot down, or nobody
  else could have planted or swapped what is in it;
- a *shared* directory (node_exporter's textfile directory, whose parent belongs to the
  ``prometheus`` user on Debian) is used without following symlinks: the file is created under a
  fresh name with ``O_EXCL`` and renamed into place, so the worst another owner can do is see it;
- files are opened with ``O_NOFOLLOW | O_NONBLOCK`` (a FIFO cannot stall us), must be regular
  files, and are read up to a bound;
- a file is replaced by a temporary file written, fsynced and renamed in the same directory, which
  is fsynced too, so a crash or a power loss leaves the old file or the new one whole.

The sysroot itself is the operator's choice and is trusted. Every refusal is an ``UnsafePathError``
(an ``OSError``) whose message names the path as the host sees it and the reason.
"""

from __future__ import annotations

import errno
import os
import stat

from ..errors import UksmError

TYPE_CHECKING = False  # importing typing costs the boot applier ~8 ms; annotations are strings
if TYPE_CHECKING:
    import typing as t

_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# what a reader of ours opens a file with: no symlink, no blocking on a FIFO
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
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


def _shown(relative: str) -> str:
    return '/' + relative.strip('/')


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return 'of an unknown type'


def owner_of(status: os.stat_result) -> int:
    """The uid that owns a file. Every ownership check asks this one function, so that the unit tests,
    run by a user who cannot chown, can still hand a file to another user (tests/helpers/owners.py)."""
    return status.st_uid


def _check_owner(path: str, status: os.stat_result) -> None:
    """Owned by us (root) and writable by nobody else, or another user controls what is inside."""
    owner = owner_of(status)
    if owner != os.geteuid():
        raise UnsafePathError(path, 'owned by uid %d, not uid %d' % (owner, os.geteuid()))
    if status.st_mode & 0o022:
        raise UnsafePathError(path, 'writable by group or others (mode %04o)' % stat.S_IMODE(status.st_mode))


def _open_child_dir(parent: int, name: str, shown: str, create_mode: int | None) -> int:
    try:
        return os.open(name, _DIRECTORY, dir_fd=parent)
    except FileNotFoundError:
        if create_mode is None:
            raise
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):
            raise UnsafePathError(
                shown, 'it is %s, not a directory' % _kind(os.lstat(name, dir_fd=parent).st_mode)
            ) from None
        raise
    try:
        os.mkdir(name, create_mode, dir_fd=parent)
    except FileExistsError:
        pass  # made meanwhile: the open below checks what it is
    return _open_child_dir(parent, name, shown, None)


def open_dir(sysroot: str, relative: str, private: bool = True, create_mode: int | None = None) -> int:
    """A descriptor of ``<sysroot>/<relative>`` opened component by component without following symlinks.

    ``private``: each component must be owned by us and not writable by group or others.
    ``create_mode``: create missing components with this mode (else FileNotFoundError).
    The caller closes the descriptor.
    """
    names = relative.strip('/').split('/')
    if any(name in ('', '.', '..') for name in names):
        raise UnsafePathError(_shown(relative), 'not a normalised relative path')
    handle = os.open(sysroot, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    shown = ''
    try:
        for name in names:
            shown += '/' + name
            child = _open_child_dir(handle, name, shown, create_mode)
            os.close(handle)
            handle = child
            if private:
                _check_owner(shown, os.fstat(handle))
    except BaseException:
        os.close(handle)
        raise
    return handle


def open_subdir(parent: int, name: str, shown: str) -> int:
    """A descriptor of the directory ``name`` in the directory descriptor ``parent``, as ``open_dir`` opens
    each component: no symlink, ours and writable by nobody else (``shown`` names it in errors)."""
    if name in ('', '.', '..') or '/' in name:
        raise UnsafePathError(shown, 'not one component of a path')
    handle = _open_child_dir(parent, name, shown, None)
    try:
        _check_owner(shown, os.fstat(handle))
    except BaseException:
        os.close(handle)
        raise
    return handle


def _split(relative: str) -> tuple[str, str]:
    directory, _sep, name = relative.strip('/').rpartition('/')
    if not directory or any(part in ('', '.', '..') for part in relative.strip('/').split('/')):
        raise UnsafePathError(_shown(relative), 'not a normalised path of a file below a directory')
    return directory, name


def open_file(
    directory: int, name: str, shown: str, flags: int = _READ, mode: int = 0o600, private: bool = True
) -> tuple[int, os.stat_result]:
    """Open ``name`` in the directory descriptor: a regular file, no symlink (and ours when private)."""
    try:
        handle = os.open(name, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, mode, dir_fd=directory)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise UnsafePathError(shown, 'it is a symlink') from None
        if error.errno == errno.ENXIO:  # a FIFO opened for writing without a reader
            raise UnsafePathError(shown, 'it is a FIFO') from None
        if error.errno == errno.EISDIR:  # a directory opened for writing
            raise UnsafePathError(shown, 'it is a directory, not a regular file') from None
        raise
    try:
        status = os.fstat(handle)
        if not stat.S_ISREG(status.st_mode):
            raise UnsafePathError(shown, 'it is %s, not a regular file' % _kind(status.st_mode))
        if private:
            _check_owner(shown, status)
        os.set_blocking(handle, True)
    except BaseException:
        os.close(handle)
        raise
    return handle, status


def read_bounded(handle: int, limit: int, shown: str) -> bytes:
    """Everything in an open file, refusing more than ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = os.read(handle, limit + 1 - size)
        if not chunk:
            return b''.join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise UnsafePathError(shown, 'larger than %d bytes' % limit)


def read_file(sysroot: str, relative: str, limit: int, private: bool = True) -> tuple[bytes, os.stat_result] | None:
    """The bytes and status of a file, or None when it or its directory does not exist."""
    directory_name, name = _split(relative)
    shown = _shown(relative)
    try:
        directory = open_dir(sysroot, directory_name, private)
    except FileNotFoundError:
        return None
    try:
        handle, status = open_file(directory, name, shown, private=private)
    except FileNotFoundError:
        return None
    finally:
        os.close(directory)
    try:
        return read_bounded(handle, limit, shown), status
    finally:
        os.close(handle)


def _temporary_name(name: str) -> str:
    # what tempfile.mkstemp does, without importing tempfile (milliseconds at every metrics run)
    return '.%s.%d.%s' % (name, os.getpid(), os.urandom(6).hex())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def _sweep(directory: int, name: str) -> None:
    """Remove temporary files of ``name`` left by writers that were killed (SIGKILL, power loss)."""
    prefix = '.%s.' % name
    for entry in os.listdir(directory):
        if not entry.startswith(prefix):
            continue
        pid, _sep, suffix = entry[len(prefix) :].partition('.')
        if pid.isdigit() and len(suffix) == 12 and int(pid) != os.getpid() and not _alive(int(pid)):
            try:
                os.unlink(entry, dir_fd=directory)
            except OSError:
                pass  # gone already, or not ours to remove: it is only litter


def replace_file(
    sysroot: str, relative: str, data: bytes, mode: int = 0o644, private: bool = True, directory_mode: int = 0o755
) -> None:
    """Replace ``<sysroot>/<relative>`` so a reader, a crash or a power loss sees the old file or the new one whole."""
    directory_name, name = _split(relative)
    shown = _shown(relative)
    directory = open_dir(sysroot, directory_name, private, directory_mode)
    try:
        temporary = _temporary_name(name)
        handle = os.open(
            temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=directory
        )
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(handle, view) :]
                os.fchmod(handle, mode)
                os.fsync(handle)
            finally:
                os.close(handle)
            os.replace(temporary, name, src_dir_fd=directory, dst_dir_fd=directory)
        except BaseException:
            try:
                os.unlink(temporary, dir_fd=directory)
            except OSError:
                pass
            raise
        # the rename itself survives a power loss only once the directory is on disk
        os.fsync(directory)
        _sweep(directory, name)
    except IsADirectoryError:
        raise UnsafePathError(shown, 'it is a directory, not a regular file') from None
    finally:
        os.close(directory)


def remove_file(sysroot: str, relative: str, private: bool = True, remove_empty_directory: bool = False) -> bool:
    """Unlink a file (a symlink is removed, never followed); whether anything was there."""
    directory_name, name = _split(relative)
    try:
        directory = open_dir(sysroot, directory_name, private)
    except FileNotFoundError:
        return False
    try:
        try:
            os.unlink(name, dir_fd=directory)
        except FileNotFoundError:
            return False
        except IsADirectoryError:
            raise UnsafePathError(_shown(relative), 'it is a directory, not a regular file') from None
    finally:
        os.close(directory)
    if remove_empty_directory:
        parent, _sep, last = directory_name.rpartition('/')
        try:
            handle = open_dir(sysroot, parent, private) if parent else os.open(sysroot, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            return True
        try:
            os.rmdir(last, dir_fd=handle)
        except OSError:
            pass  # not empty: someone else's files
        finally:
            os.close(handle)
    return True


def _tree(sysroot: str, relative: str, private: bool) -> int | None:
    try:
        return open_dir(sysroot, relative, private)
    except FileNotFoundError:
        return None


def list_tree(sysroot: str, relative: str, skip: t.Collection[str] = (), private: bool = True) -> list[str]:
    """Every non-directory under a directory (relative to the sysroot), symlinks listed, never followed;
    directories named in ``skip`` are not entered."""
    top = _tree(sysroot, relative, private)
    if top is None:
        return []
    found = []
    try:
        for directory, dirs, files, handle in os.fwalk('.', dir_fd=top):
            # fwalk counts a symlink to a directory among the directories (and does not enter it)
            links = [name for name in dirs if stat.S_ISLNK(os.stat(name, dir_fd=handle, follow_symlinks=False).st_mode)]
            dirs[:] = [name for name in dirs if name not in skip and name not in links]
            found += [os.path.normpath(os.path.join(relative, directory, name)) for name in files + links]
    finally:
        os.close(top)
    return sorted(found)


def remove_tree(sysroot: str, relative: str, private: bool = True) -> None:
    """Delete a directory and everything in it, through descriptors (nothing inside is followed)."""
    parent_name, name = _split(relative)
    parent = _tree(sysroot, parent_name, private)
    if parent is None:
        return
    try:
        top = _open_child_dir(parent, name, _shown(relative), None)
    except BaseException as error:
        os.close(parent)
        if isinstance(error, FileNotFoundError):
            return
        raise
    try:
        for _directory, dirs, files, handle in os.fwalk('.', topdown=False, dir_fd=top):
            for entry in files:
                os.unlink(entry, dir_fd=handle)
            for entry in dirs:
                try:
                    os.rmdir(entry, dir_fd=handle)
                except NotADirectoryError:
                    os.unlink(entry, dir_fd=handle)  # a symlink to a directory: removed, not entered
        os.close(top)
        top = -1
        os.rmdir(name, dir_fd=parent)
    finally:
        if top >= 0:
            os.close(top)
        os.close(parent)
