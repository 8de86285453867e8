# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A sysroot beside an outside tree, to prove that what root reads, replaces and removes under the
sysroot never reaches what a planted symlink points to (tests of _host/safefiles and _host/safewrites)."""

from __future__ import annotations

import os
import re

from ansible_collections.litevirt.uksm.tests.helpers.tree_snapshot import snapshot

ROOT = os.geteuid()
KNOWN = b'outside the sysroot: must stay exactly as it is\n'
OLD = b'the old content\n'
NEW = b'the new content, longer than the old one\n'
FILE = 'etc/app/file'
# .<name>.<pid>.<12 hex digits>: the temporaries replace_file writes
TEMPORARY = re.compile(r'^\.(?P<name>.+)\.(?P<pid>[0-9]+)\.(?P<suffix>[0-9a-f]{12})$')


def write_file(path: str, data: bytes, mode: int = 0o644) -> None:
    """A file with ``data`` and exactly ``mode`` (whatever the umask)."""
    with open(path, 'wb') as handle:
        handle.write(data)
    os.chmod(path, mode)


class World:
    """A sysroot with ``etc/app/file`` (OLD), and beside it an outside tree a symlink may point into.

    ``outside/d/file`` has the name the sysroot's file has, so a write that followed a symlinked
    directory would land on it; ``outside/target`` is what a symlinked file points to.
    """

    def __init__(self, top: str) -> None:
        self.root = os.path.join(top, 'sysroot')
        self.outside = os.path.join(top, 'outside')
        for directory in (
            self.root,
            self.host('etc'),
            self.host('etc/app'),
            self.outside,
            os.path.join(self.outside, 'd'),
        ):
            os.mkdir(directory)
            os.chmod(directory, 0o755)
        write_file(self.host(FILE), OLD)
        write_file(os.path.join(self.outside, 'd', 'file'), KNOWN)
        write_file(os.path.join(self.outside, 'target'), KNOWN)
        self.before_outside = snapshot(self.outside)
        self.before_root = snapshot(self.root, directory_times=False)

    def host(self, relative: str) -> str:
        return os.path.join(self.root, relative)

    def mark(self) -> None:
        """Take the snapshots again, after a test planted its hostile things."""
        self.before_outside = snapshot(self.outside)
        self.before_root = snapshot(self.root, directory_times=False)

    def outside_unchanged(self) -> None:
        assert snapshot(self.outside) == self.before_outside
        with open(os.path.join(self.outside, 'target'), 'rb') as handle:
            assert handle.read() == KNOWN

    def all_unchanged(self) -> None:
        self.outside_unchanged()
        assert snapshot(self.root, directory_times=False) == self.before_root

    def content(self, relative: str) -> bytes:
        with open(self.host(relative), 'rb') as handle:
            return handle.read()

    def temporaries(self, directory: str) -> list[str]:
        return sorted(name for name in os.listdir(self.host(directory)) if TEMPORARY.match(name))
