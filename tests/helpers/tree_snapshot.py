# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A file tree as data, to prove that a refused operation changed nothing (symlink targets included)."""

from __future__ import annotations

import os
import stat

# what a path looks like: type, permissions, owner, group, content or link target, and (optionally) mtime
Entry = tuple[int, int, int, int, bytes | str | None, int | None]
Snapshot = dict[str, Entry]


def snapshot(top: str, directory_times: bool = True) -> Snapshot:
    """Every path under ``top`` (itself included), symlinks not followed, FIFOs not opened.

    ``directory_times=False`` leaves out the mtime of directories: an operation that creates and
    removes a temporary file moves it and nothing else.
    """
    found: Snapshot = {}
    paths = [top]
    for directory, dirs, files in os.walk(top):
        paths += [os.path.join(directory, name) for name in dirs + files]
    for path in paths:
        status = os.lstat(path)
        content: bytes | str | None = None
        if stat.S_ISREG(status.st_mode):
            with open(path, 'rb') as handle:
                content = handle.read()
        elif stat.S_ISLNK(status.st_mode):
            content = os.readlink(path)
        mtime = None if stat.S_ISDIR(status.st_mode) and not directory_times else status.st_mtime_ns
        found[os.path.relpath(path, top)] = (
            stat.S_IFMT(status.st_mode),
            stat.S_IMODE(status.st_mode),
            status.st_uid,
            status.st_gid,
            content,
            mtime,
        )
    return found
