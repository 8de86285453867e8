# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""Files root replaces and removes under the sysroot, through the descriptors safefiles opens.

Every directory on the way is opened as safefiles opens it (no symlink followed; a *private* one root's
own and writable by nobody else). Besides:

- a file is replaced by a temporary file written under a fresh name with ``O_EXCL``, fsynced and renamed
  in the same directory, which is fsynced too, so a crash or a power loss leaves the old file or the new
  one whole, and in a *shared* directory the worst another owner can do is see it (a file under /run,
  gone at reboot anyway, is renamed the same way without the fsyncs);
- a symlink or a FIFO where a file is replaced or removed is itself replaced or unlinked, never followed
  or opened; trees are listed and removed by descriptor, symlinks in them never followed.

Every refusal is safefiles' ``UnsafePathError``. The system is called through ``posix``, as in every file
the launchers run (sysfs.py says why); listing and removing trees is the installer's, which imports os.
"""

from __future__ import annotations

import posix
import stat

from .safefiles import UnsafePathError, open_child_dir, open_dir, shown_path, split_path

TYPE_CHECKING = False  # importing typing costs the boot applier ~8 ms; annotations are strings
if TYPE_CHECKING:
    import typing as t


def _temporary_name(name: str) -> str:
    # what tempfile.mkstemp does, without importing tempfile (milliseconds at every metrics run)
    return '.%s.%d.%s' % (name, posix.getpid(), posix.urandom(6).hex())


def _alive(pid: int) -> bool:
    try:
        posix.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def _sweep(directory: int, name: str) -> None:
    """Remove temporary files of ``name`` left by writers that were killed (SIGKILL, power loss)."""
    prefix = '.%s.' % name
    for entry in posix.listdir(directory):
        if not entry.startswith(prefix):
            continue
        pid, _sep, suffix = entry[len(prefix) :].partition('.')
        if pid.isdigit() and len(suffix) == 12 and int(pid) != posix.getpid() and not _alive(int(pid)):
            try:
                posix.unlink(entry, dir_fd=directory)
            except OSError:
                pass  # gone already, or not ours to remove: it is only litter


def replace_file(
    sysroot: str,
    relative: str,
    data: bytes,
    mode: int = 0o644,
    private: bool = True,
    directory_mode: int = 0o755,
    durable: bool = True,
) -> None:
    """Replace ``<sysroot>/<relative>`` so a reader, a crash or a power loss sees the old file or the new one whole.

    ``durable=False`` for a file gone at reboot by design (under /run): readers still see one whole file,
    and nothing is flushed to a disk it never reaches."""
    directory_name, name = split_path(relative)
    shown = shown_path(relative)
    directory = open_dir(sysroot, directory_name, private, directory_mode)
    try:
        temporary = _temporary_name(name)
        handle = posix.open(
            temporary,
            posix.O_WRONLY | posix.O_CREAT | posix.O_EXCL | posix.O_NOFOLLOW | posix.O_CLOEXEC,
            0o600,
            dir_fd=directory,
        )
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[posix.write(handle, view) :]
                posix.fchmod(handle, mode)
                if durable:
                    posix.fsync(handle)
            finally:
                posix.close(handle)
            posix.replace(temporary, name, src_dir_fd=directory, dst_dir_fd=directory)
        except BaseException:
            try:
                posix.unlink(temporary, dir_fd=directory)
            except OSError:
                pass
            raise
        if durable:
            # the rename itself survives a power loss only once the directory is on disk
            posix.fsync(directory)
        _sweep(directory, name)
    except IsADirectoryError:
        raise UnsafePathError(shown, 'it is a directory, not a regular file') from None
    finally:
        posix.close(directory)


def remove_file(sysroot: str, relative: str, private: bool = True, remove_empty_directory: bool = False) -> bool:
    """Unlink a file (a symlink is removed, never followed); whether anything was there."""
    directory_name, name = split_path(relative)
    try:
        directory = open_dir(sysroot, directory_name, private)
    except FileNotFoundError:
        return False
    try:
        try:
            posix.unlink(name, dir_fd=directory)
        except FileNotFoundError:
            return False
        except IsADirectoryError:
            raise UnsafePathError(shown_path(relative), 'it is a directory, not a regular file') from None
    finally:
        posix.close(directory)
    if remove_empty_directory:
        parent, _sep, last = directory_name.rpartition('/')
        try:
            handle = (
                open_dir(sysroot, parent, private)
                if parent
                else posix.open(sysroot, posix.O_RDONLY | posix.O_DIRECTORY)
            )
        except OSError:
            return True
        try:
            posix.rmdir(last, dir_fd=handle)
        except OSError:
            pass  # not empty: someone else's files
        finally:
            posix.close(handle)
    return True


def _tree(sysroot: str, relative: str, private: bool) -> int | None:
    try:
        return open_dir(sysroot, relative, private)
    except FileNotFoundError:
        return None


def list_tree(sysroot: str, relative: str, skip: t.Collection[str] = (), private: bool = True) -> list[str]:
    """Every non-directory under a directory (relative to the sysroot), symlinks listed, never followed;
    directories named in ``skip`` are not entered."""
    # the installer's and the uninstaller's, which run in a module: os is imported already there
    import os  # pylint: disable=import-outside-toplevel

    top = _tree(sysroot, relative, private)
    if top is None:
        return []
    found = []
    try:
        for directory, dirs, files, handle in os.fwalk('.', dir_fd=top):
            # fwalk counts a symlink to a directory among the directories (and does not enter it)
            links = [
                name for name in dirs if stat.S_ISLNK(posix.stat(name, dir_fd=handle, follow_symlinks=False).st_mode)
            ]
            dirs[:] = [name for name in dirs if name not in skip and name not in links]
            found += [os.path.normpath(os.path.join(relative, directory, name)) for name in files + links]
    finally:
        posix.close(top)
    return sorted(found)


def remove_tree(sysroot: str, relative: str, private: bool = True) -> None:
    """Delete a directory and everything in it, through descriptors (nothing inside is followed)."""
    import os  # pylint: disable=import-outside-toplevel

    parent_name, name = split_path(relative)
    parent = _tree(sysroot, parent_name, private)
    if parent is None:
        return
    try:
        top = open_child_dir(parent, name, shown_path(relative), None)
    except BaseException as error:
        posix.close(parent)
        if isinstance(error, FileNotFoundError):
            return
        raise
    try:
        for _directory, dirs, files, handle in os.fwalk('.', topdown=False, dir_fd=top):
            for entry in files:
                posix.unlink(entry, dir_fd=handle)
            for entry in dirs:
                try:
                    posix.rmdir(entry, dir_fd=handle)
                except NotADirectoryError:
                    posix.unlink(entry, dir_fd=handle)  # a symlink to a directory: removed, not entered
        posix.close(top)
        top = -1
        posix.rmdir(name, dir_fd=parent)
    finally:
        if top >= 0:
            posix.close(top)
        posix.close(parent)
