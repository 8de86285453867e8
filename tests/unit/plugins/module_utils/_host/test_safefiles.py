# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What root reads, replaces and removes under a sysroot cannot be turned into anything else.

For every hostile thing another user could plant (a symlink as a directory or as the file, a FIFO,
a directory where a file belongs, an oversized file, a directory or file that is not root's alone,
a path with ``..``), read_file, replace_file and remove_file either refuse with an UnsafePathError
naming the path as the host sees it and the reason, or do something harmless; and in every case
nothing outside the sysroot, nor at a symlink's target, changes. replace_file creates what is
missing with the modes asked, leaves no temporary file, sweeps those of dead writers only, and a
writer SIGKILLed at any step of it leaves the old file or the new one whole, which the next run
then replaces cleanly. remove_tree and list_tree never follow a symlink.
"""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import typing as t

import pytest

from ansible_collections.litevirt.uksm.plugins.module_utils._host import safefiles
from ansible_collections.litevirt.uksm.plugins.module_utils._host.safefiles import (
    UnsafePathError,
    list_tree,
    open_dir,
    open_file,
    open_subdir,
    read_bounded,
    read_file,
    remove_file,
    remove_tree,
    replace_file,
)
from ansible_collections.litevirt.uksm.tests.helpers.owners import NOBODY, give_away
from ansible_collections.litevirt.uksm.tests.helpers.tree_snapshot import snapshot

ROOT = os.geteuid()
KNOWN = b'outside the sysroot: must stay exactly as it is\n'
OLD = b'the old content\n'
NEW = b'the new content, longer than the old one\n'
FILE = 'etc/app/file'
# .<name>.<pid>.<12 hex digits>: the temporaries replace_file writes
TEMPORARY = re.compile(r'^\.(?P<name>.+)\.(?P<pid>[0-9]+)\.(?P<suffix>[0-9a-f]{12})$')


def _write(path: str, data: bytes, mode: int = 0o644) -> None:
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
        _write(self.host(FILE), OLD)
        _write(os.path.join(self.outside, 'd', 'file'), KNOWN)
        _write(os.path.join(self.outside, 'target'), KNOWN)
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


@pytest.fixture
def world(tmp_path: t.Any) -> World:
    return World(str(tmp_path))


@pytest.fixture
def umask() -> t.Iterator[None]:
    """The umask root has on a host (022), whatever the test runner's is."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _read(world: World, relative: str, private: bool = True) -> t.Any:
    return read_file(world.root, relative, 4096, private=private)


def _replace(world: World, relative: str, private: bool = True) -> t.Any:
    return replace_file(world.root, relative, NEW, private=private)


def _remove(world: World, relative: str, private: bool = True) -> t.Any:
    return remove_file(world.root, relative, private=private)


OPERATIONS = {'read_file': _read, 'replace_file': _replace, 'remove_file': _remove}


def _refused(world: World, operation: str, relative: str, private: bool = True) -> str:
    """The message of the UnsafePathError the operation raises."""
    with pytest.raises(UnsafePathError) as caught:
        OPERATIONS[operation](world, relative, private)
    assert isinstance(caught.value, OSError)
    return str(caught.value)


def _dead_pid() -> int:
    """A pid no process has: above pid_max if possible, else the highest free one."""
    with open('/proc/sys/kernel/pid_max') as handle:
        pid_max = int(handle.read())
    for pid in [4194303] + list(range(pid_max - 1, 300, -1)):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
    raise AssertionError('no free pid')


# --- a symlink as a directory component ----------------------------------------------------------


@pytest.mark.parametrize('private', [True, False], ids=['private', 'shared'])
@pytest.mark.parametrize('operation', sorted(OPERATIONS))
@pytest.mark.parametrize('component', ['etc', 'etc/app'])
def test_symlinked_directory_component_is_refused(world: World, operation: str, component: str, private: bool) -> None:
    """``etc`` (or ``etc/app``) points to a directory outside holding a file of the same name."""
    target = world.outside if component == 'etc' else os.path.join(world.outside, 'd')
    if component == 'etc':
        os.makedirs(os.path.join(world.outside, 'app'))
        _write(os.path.join(world.outside, 'app', 'file'), KNOWN)
    os.rename(world.host(component), world.host(component) + '.real')
    os.symlink(target, world.host(component))
    world.mark()
    message = _refused(world, operation, FILE, private)
    assert message == 'refusing /%s: it is a symlink, not a directory' % component
    world.all_unchanged()


def test_regular_file_as_directory_component_is_refused_and_named_a_regular_file(world: World) -> None:
    os.rename(world.host('etc/app'), world.host('etc/app.real'))
    _write(world.host('etc/app'), OLD)
    world.mark()
    for operation in sorted(OPERATIONS):
        message = _refused(world, operation, FILE)
        assert message.startswith('refusing /etc/app: it is ') and message.endswith(', not a directory')
        # a regular file is not "not a regular file"
        assert 'not a regular file' not in message, message
    world.all_unchanged()


# --- a symlink as the file -----------------------------------------------------------------------


@pytest.mark.parametrize('private', [True, False], ids=['private', 'shared'])
def test_read_file_of_a_symlink_is_refused(world: World, private: bool) -> None:
    os.unlink(world.host(FILE))
    os.symlink(os.path.join(world.outside, 'target'), world.host(FILE))
    world.mark()
    assert _refused(world, 'read_file', FILE, private) == 'refusing /etc/app/file: it is a symlink'
    world.all_unchanged()


@pytest.mark.parametrize('private', [True, False], ids=['private', 'shared'])
@pytest.mark.parametrize('dangling', [False, True], ids=['to-a-file', 'dangling'])
def test_replace_file_replaces_the_symlink_itself_never_its_target(world: World, private: bool, dangling: bool) -> None:
    target = os.path.join(world.outside, 'missing' if dangling else 'target')
    os.unlink(world.host(FILE))
    os.symlink(target, world.host(FILE))
    world.mark()
    replace_file(world.root, FILE, NEW, mode=0o640, private=private)
    status = os.lstat(world.host(FILE))
    assert stat.S_ISREG(status.st_mode) and stat.S_IMODE(status.st_mode) == 0o640 and status.st_uid == ROOT
    assert world.content(FILE) == NEW
    assert not os.path.lexists(os.path.join(world.outside, 'missing'))
    assert world.temporaries('etc/app') == []
    world.outside_unchanged()


@pytest.mark.parametrize('private', [True, False], ids=['private', 'shared'])
def test_remove_file_unlinks_the_symlink_never_its_target(world: World, private: bool) -> None:
    os.unlink(world.host(FILE))
    os.symlink(os.path.join(world.outside, 'target'), world.host(FILE))
    world.mark()
    assert remove_file(world.root, FILE, private=private) is True
    assert not os.path.lexists(world.host(FILE))
    world.outside_unchanged()


# --- a FIFO as the file --------------------------------------------------------------------------


@pytest.mark.usefixtures('no_hang')
@pytest.mark.parametrize('private', [True, False], ids=['private', 'shared'])
def test_read_file_of_a_fifo_is_refused_without_blocking(world: World, private: bool) -> None:
    os.unlink(world.host(FILE))
    os.mkfifo(world.host(FILE), 0o600)
    world.mark()
    assert _refused(world, 'read_file', FILE, private) == 'refusing /etc/app/file: it is a FIFO, not a regular file'
    world.all_unchanged()


def test_open_subdir_opens_a_directory_of_ours_from_its_parent(world: World) -> None:
    parent = open_dir(world.root, 'etc')
    try:
        child = open_subdir(parent, 'app', '/etc/app')
        try:
            assert os.path.samestat(os.fstat(child), os.stat(world.host('etc/app')))
        finally:
            os.close(child)
    finally:
        os.close(parent)


@pytest.mark.parametrize('name', ['..', '.', '', 'app/sub'])
def test_open_subdir_of_more_or_less_than_one_component_is_refused_expect_failure(world: World, name: str) -> None:
    parent = open_dir(world.root, 'etc')
    try:
        with pytest.raises(UnsafePathError) as caught:
            open_subdir(parent, name, '/etc/' + name)
    finally:
        os.close(parent)
    assert str(caught.value) == 'refusing /etc/%s: not one component of a path' % name


@pytest.mark.parametrize('planted', ['writable', 'symlink'])
def test_open_subdir_planted_is_refused_expect_failure(world: World, planted: str) -> None:
    if planted == 'writable':
        os.chmod(world.host('etc/app'), 0o777)
    else:
        os.rename(world.host('etc/app'), world.host('etc/elsewhere'))
        os.symlink('elsewhere', world.host('etc/app'))
    parent = open_dir(world.root, 'etc')
    try:
        with pytest.raises(UnsafePathError) as caught:
            open_subdir(parent, 'app', '/etc/app')
    finally:
        os.close(parent)
    assert (
        str(caught.value)
        == {
            'writable': 'refusing /etc/app: writable by group or others (mode 0777)',
            'symlink': 'refusing /etc/app: it is a symlink, not a directory',
        }[planted]
    )


@pytest.mark.usefixtures('no_hang')
def test_open_file_for_writing_a_fifo_is_refused_without_blocking(world: World) -> None:
    os.unlink(world.host(FILE))
    os.mkfifo(world.host(FILE), 0o600)
    directory = open_dir(world.root, 'etc/app')
    try:
        with pytest.raises(UnsafePathError) as caught:
            open_file(directory, 'file', '/' + FILE, os.O_WRONLY)
    finally:
        os.close(directory)
    assert str(caught.value) == 'refusing /etc/app/file: it is a FIFO'
    assert stat.S_ISFIFO(os.lstat(world.host(FILE)).st_mode)


@pytest.mark.usefixtures('no_hang')
def test_replace_file_replaces_a_fifo_with_a_regular_file_without_blocking(world: World) -> None:
    os.unlink(world.host(FILE))
    os.mkfifo(world.host(FILE), 0o600)
    replace_file(world.root, FILE, NEW)
    assert stat.S_ISREG(os.lstat(world.host(FILE)).st_mode)
    assert world.content(FILE) == NEW
    assert world.temporaries('etc/app') == []
    world.outside_unchanged()


@pytest.mark.usefixtures('no_hang')
def test_remove_file_unlinks_a_fifo_without_blocking(world: World) -> None:
    os.unlink(world.host(FILE))
    os.mkfifo(world.host(FILE), 0o600)
    assert remove_file(world.root, FILE) is True
    assert not os.path.lexists(world.host(FILE))
    world.outside_unchanged()


# --- a directory where the file belongs ----------------------------------------------------------


@pytest.mark.parametrize('private', [True, False], ids=['private', 'shared'])
@pytest.mark.parametrize('operation', sorted(OPERATIONS))
@pytest.mark.parametrize('empty', [True, False], ids=['empty', 'not-empty'])
def test_directory_where_the_file_belongs_is_refused(world: World, operation: str, empty: bool, private: bool) -> None:
    os.unlink(world.host(FILE))
    os.mkdir(world.host(FILE), 0o755)
    if not empty:
        _write(world.host(FILE + '/inner'), OLD)
    world.mark()
    message = _refused(world, operation, FILE, private)
    assert message == 'refusing /etc/app/file: it is a directory, not a regular file'
    assert world.temporaries('etc/app') == []
    world.all_unchanged()


# --- sizes ---------------------------------------------------------------------------------------


def test_read_file_larger_than_the_limit_is_refused(world: World) -> None:
    _write(world.host(FILE), b'x' * 11)
    world.mark()
    with pytest.raises(UnsafePathError) as caught:
        read_file(world.root, FILE, 10)
    assert str(caught.value) == 'refusing /etc/app/file: larger than 10 bytes'
    world.all_unchanged()


def test_read_file_of_exactly_the_limit_is_read_whole(world: World) -> None:
    _write(world.host(FILE), b'x' * 10)
    found = read_file(world.root, FILE, 10)
    assert found is not None and found[0] == b'x' * 10 and found[1].st_size == 10


def test_read_bounded_refuses_a_pipe_that_goes_past_the_limit() -> None:
    reader, writer = os.pipe()
    try:
        os.write(writer, b'12345')
        os.write(writer, b'678')
        os.close(writer)
        writer = -1
        with pytest.raises(UnsafePathError) as caught:
            read_bounded(reader, 7, '/some/pipe')
        assert str(caught.value) == 'refusing /some/pipe: larger than 7 bytes'
    finally:
        os.close(reader)
        if writer >= 0:
            os.close(writer)


def test_read_file_of_an_empty_file_is_empty_bytes_not_none(world: World) -> None:
    _write(world.host(FILE), b'')
    found = read_file(world.root, FILE, 10)
    assert found is not None and found[0] == b'' and found[1].st_size == 0


def test_replace_file_with_empty_data_leaves_an_empty_regular_file(world: World) -> None:
    replace_file(world.root, FILE, b'')
    assert world.content(FILE) == b''
    assert sorted(os.listdir(world.host('etc/app'))) == ['file']


def test_remove_file_of_an_empty_file_removes_it(world: World) -> None:
    _write(world.host(FILE), b'')
    assert remove_file(world.root, FILE) is True
    assert not os.path.lexists(world.host(FILE))


def test_missing_file_or_directory_reads_as_none_and_removes_as_false(world: World) -> None:
    assert read_file(world.root, 'etc/app/absent', 10) is None
    assert read_file(world.root, 'etc/absent/file', 10) is None
    assert remove_file(world.root, 'etc/app/absent') is False
    assert remove_file(world.root, 'etc/absent/file') is False
    world.all_unchanged()


# --- a directory that is not root's alone --------------------------------------------------------


@pytest.mark.parametrize('operation', sorted(OPERATIONS))
@pytest.mark.parametrize('component', ['etc', 'etc/app'])
def test_private_directory_owned_by_another_user_is_refused(world: World, operation: str, component: str) -> None:
    give_away(world.host(component), NOBODY)
    world.mark()
    message = _refused(world, operation, FILE)
    assert message == 'refusing /%s: owned by uid %d, not uid %d' % (component, NOBODY, ROOT)
    world.all_unchanged()


@pytest.mark.parametrize('operation', sorted(OPERATIONS))
@pytest.mark.parametrize('mode', [0o775, 0o777, 0o1777])
def test_private_directory_writable_by_others_is_refused(world: World, operation: str, mode: int) -> None:
    os.chmod(world.host('etc/app'), mode)
    world.mark()
    message = _refused(world, operation, FILE)
    assert message == 'refusing /etc/app: writable by group or others (mode %04o)' % mode
    world.all_unchanged()


@pytest.mark.parametrize('setup', ['owned-by-nobody', 'mode-0777'])
def test_shared_directory_of_another_user_is_used_without_following(world: World, setup: str) -> None:
    if setup == 'owned-by-nobody':
        give_away(world.host('etc/app'), NOBODY)
    else:
        os.chmod(world.host('etc/app'), 0o777)
    found = read_file(world.root, FILE, 4096, private=False)
    assert found is not None and found[0] == OLD
    replace_file(world.root, FILE, NEW, mode=0o644, private=False)
    status = os.lstat(world.host(FILE))
    assert world.content(FILE) == NEW and status.st_uid == ROOT and stat.S_IMODE(status.st_mode) == 0o644
    assert world.temporaries('etc/app') == []
    assert remove_file(world.root, FILE, private=False) is True
    assert not os.path.lexists(world.host(FILE))
    world.outside_unchanged()


# --- a file that is not root's alone in a private directory --------------------------------------

FILE_REFUSALS = {
    'owned-by-nobody': 'owned by uid %d, not uid %d' % (NOBODY, ROOT),
    'mode-0666': 'writable by group or others (mode 0666)',
}


@pytest.mark.parametrize('setup', list(FILE_REFUSALS))
def test_read_file_of_a_file_not_roots_alone_is_refused(world: World, setup: str) -> None:
    reason = FILE_REFUSALS[setup]
    if setup == 'owned-by-nobody':
        give_away(world.host(FILE), NOBODY)
    else:
        os.chmod(world.host(FILE), 0o666)
    world.mark()
    assert _refused(world, 'read_file', FILE) == 'refusing /etc/app/file: ' + reason
    world.all_unchanged()
    # a shared directory takes any owner's file
    found = read_file(world.root, FILE, 4096, private=False)
    assert found is not None and found[0] == OLD


def test_replace_file_swaps_a_file_owned_by_another_user_for_roots_own(world: World) -> None:
    """replace_file never opens the old file: it renames root's new one over it, which is harmless."""
    give_away(world.host(FILE), NOBODY)
    replace_file(world.root, FILE, NEW, mode=0o600)
    status = os.lstat(world.host(FILE))
    assert world.content(FILE) == NEW and status.st_uid == ROOT and stat.S_IMODE(status.st_mode) == 0o600
    world.outside_unchanged()


def test_remove_file_unlinks_a_file_owned_by_another_user(world: World) -> None:
    give_away(world.host(FILE), NOBODY)
    assert remove_file(world.root, FILE) is True
    assert not os.path.lexists(world.host(FILE))


# --- paths that are not normalised ---------------------------------------------------------------

# relative path: (the path the message names, the reason)
NOT_NORMALISED = {
    path: ('/' + path, 'not a normalised path of a file below a directory')
    for path in (
        'etc/../../outside/d/file',
        'etc/app/../../../outside/target',
        '../outside/target',
        'etc/./app/file',
        'etc//app/file',
        'etc/app/..',
        'file',
    )
}


@pytest.mark.parametrize('operation', sorted(OPERATIONS))
@pytest.mark.parametrize('relative', list(NOT_NORMALISED))
def test_path_that_is_not_normalised_is_refused(world: World, operation: str, relative: str) -> None:
    shown, reason = NOT_NORMALISED[relative]
    message = _refused(world, operation, relative)
    assert message == 'refusing %s: %s' % (shown, reason)
    world.all_unchanged()


@pytest.mark.parametrize('operation', sorted(OPERATIONS))
def test_dotdot_path_below_a_missing_directory_is_refused_and_creates_nothing(world: World, operation: str) -> None:
    """``new`` does not exist: the ``..`` must be refused all the same, not read as "absent" nor created."""
    message = _refused(world, operation, 'new/../../outside/target')
    assert message == 'refusing /new/../../outside/target: not a normalised path of a file below a directory'
    assert not os.path.lexists(world.host('new'))
    world.all_unchanged()


# --- what replace_file creates -------------------------------------------------------------------


@pytest.mark.usefixtures('umask')
def test_replace_file_creates_missing_directories_0755_and_the_file_with_its_mode(world: World) -> None:
    replace_file(world.root, 'usr/lib/deep/file', NEW, mode=0o640)
    for directory in ('usr', 'usr/lib', 'usr/lib/deep'):
        status = os.lstat(world.host(directory))
        assert stat.S_ISDIR(status.st_mode) and stat.S_IMODE(status.st_mode) == 0o755 and status.st_uid == ROOT
    status = os.lstat(world.host('usr/lib/deep/file'))
    assert stat.S_IMODE(status.st_mode) == 0o640 and status.st_uid == ROOT
    assert world.content('usr/lib/deep/file') == NEW
    assert os.listdir(world.host('usr/lib/deep')) == ['file']
    world.outside_unchanged()


@pytest.mark.usefixtures('umask')
def test_replace_file_creates_missing_directories_0700_when_asked(world: World) -> None:
    replace_file(world.root, 'var/lib/private/file', NEW, mode=0o600, directory_mode=0o700)
    for directory in ('var', 'var/lib', 'var/lib/private'):
        assert stat.S_IMODE(os.lstat(world.host(directory)).st_mode) == 0o700
    assert stat.S_IMODE(os.lstat(world.host('var/lib/private/file')).st_mode) == 0o600
    # existing directories keep their mode
    replace_file(world.root, 'etc/app/other', NEW, directory_mode=0o700)
    assert stat.S_IMODE(os.lstat(world.host('etc/app')).st_mode) == 0o755


@pytest.mark.parametrize('mode', [0o600, 0o640, 0o644, 0o755])
def test_replace_file_sets_the_mode_of_a_file_that_existed(world: World, mode: int) -> None:
    replace_file(world.root, FILE, NEW, mode=mode)
    status = os.lstat(world.host(FILE))
    assert stat.S_IMODE(status.st_mode) == mode and status.st_uid == ROOT and world.content(FILE) == NEW
    assert sorted(os.listdir(world.host('etc/app'))) == ['file']


def test_replace_file_removes_temporaries_of_dead_writers_and_keeps_the_rest(world: World) -> None:
    dead = _dead_pid()
    live = os.getppid()
    ours = os.getpid()
    litter = '.file.%d.0123456789ab' % dead
    kept = [
        '.file.%d.abcdefabcdef' % live,  # a writer at work
        '.file.%d.abcdefabcdef' % ours,  # this process (another thread, perhaps)
        '.file.%d.0123' % dead,  # not a name replace_file makes
        '.file.x%d.0123456789ab' % dead,  # same
        '.other.%d.0123456789ab' % dead,  # another file's temporary: its own writer sweeps it
        'file.%d.0123456789ab' % dead,  # not hidden
    ]
    for name in [litter] + kept:
        _write(world.host('etc/app/' + name), b'partial')
    replace_file(world.root, FILE, NEW)
    assert sorted(os.listdir(world.host('etc/app'))) == sorted(['file'] + kept)
    assert world.content(FILE) == NEW


def test_temporary_names_are_hidden_with_pid_and_12_hex_digits(world: World, monkeypatch: t.Any) -> None:
    seen: list[str] = []
    real = os.replace

    def spy(source: str, destination: str, **kwargs: t.Any) -> None:
        seen.append(source)
        real(source, destination, **kwargs)

    monkeypatch.setattr(os, 'replace', spy)
    replace_file(world.root, FILE, NEW)
    replace_file(world.root, FILE, NEW)
    assert len(seen) == 2 and seen[0] != seen[1]
    for name in seen:
        match = TEMPORARY.match(name)
        assert match and match.group('name') == 'file' and int(match.group('pid')) == os.getpid()


# --- trees ---------------------------------------------------------------------------------------


def _tree(world: World) -> None:
    """var/lib/app: files, a nested directory, and symlinks to a directory and a file outside."""
    for directory in (
        'var',
        'var/lib',
        'var/lib/app',
        'var/lib/app/sub',
        'var/lib/app/sub/deeper',
        'var/lib/app/__pycache__',
    ):
        os.mkdir(world.host(directory), 0o755)
    _write(world.host('var/lib/app/a.py'), OLD)
    _write(world.host('var/lib/app/sub/b.py'), OLD)
    _write(world.host('var/lib/app/sub/deeper/c.py'), OLD)
    _write(world.host('var/lib/app/__pycache__/a.pyc'), OLD)
    os.symlink(os.path.join(world.outside, 'd'), world.host('var/lib/app/to-directory'))
    os.symlink(os.path.join(world.outside, 'target'), world.host('var/lib/app/sub/to-file'))
    os.symlink(os.path.join(world.outside, 'missing'), world.host('var/lib/app/dangling'))
    os.mkfifo(world.host('var/lib/app/fifo'), 0o600)


@pytest.mark.usefixtures('no_hang')
def test_remove_tree_deletes_symlinks_to_outside_without_touching_what_they_point_to(world: World) -> None:
    _tree(world)
    world.mark()
    remove_tree(world.root, 'var/lib/app')
    assert not os.path.lexists(world.host('var/lib/app'))
    assert os.listdir(world.host('var/lib')) == []
    world.outside_unchanged()
    assert sorted(os.listdir(os.path.join(world.outside, 'd'))) == ['file']


def test_remove_tree_of_a_symlinked_directory_is_refused(world: World) -> None:
    os.makedirs(world.host('var/lib'))
    os.symlink(os.path.join(world.outside, 'd'), world.host('var/lib/app'))
    world.mark()
    with pytest.raises(UnsafePathError) as caught:
        remove_tree(world.root, 'var/lib/app')
    assert str(caught.value) == 'refusing /var/lib/app: it is a symlink, not a directory'
    world.all_unchanged()


@pytest.mark.parametrize('relative', ['etc/..', 'etc/app/../..', '..', 'etc/../etc/app'])
def test_remove_tree_of_a_path_that_is_not_normalised_is_refused(world: World, relative: str) -> None:
    with pytest.raises(UnsafePathError):
        remove_tree(world.root, relative)
    world.all_unchanged()


def test_remove_tree_of_a_private_tree_in_a_directory_not_roots_alone_is_refused(world: World) -> None:
    _tree(world)
    give_away(world.host('var/lib'), NOBODY)
    world.mark()
    with pytest.raises(UnsafePathError) as caught:
        remove_tree(world.root, 'var/lib/app')
    assert str(caught.value) == 'refusing /var/lib: owned by uid %d, not uid %d' % (NOBODY, ROOT)
    world.all_unchanged()


def test_remove_tree_of_a_missing_directory_does_nothing(world: World) -> None:
    remove_tree(world.root, 'var/lib/app')
    remove_tree(world.root, 'etc/absent')
    world.all_unchanged()


def test_list_tree_lists_a_symlink_to_a_file_without_following_it(world: World) -> None:
    _tree(world)
    listed = list_tree(world.root, 'var/lib/app', skip=('__pycache__',))
    assert 'var/lib/app/sub/to-file' in listed and 'var/lib/app/dangling' in listed
    assert 'var/lib/app/fifo' in listed
    assert not any(path.startswith('var/lib/app/to-directory/') for path in listed)
    world.outside_unchanged()


def test_list_tree_lists_a_symlink_to_a_directory_without_following_it(world: World) -> None:
    _tree(world)
    assert list_tree(world.root, 'var/lib/app', skip=('__pycache__',)) == [
        'var/lib/app/a.py',
        'var/lib/app/dangling',
        'var/lib/app/fifo',
        'var/lib/app/sub/b.py',
        'var/lib/app/sub/deeper/c.py',
        'var/lib/app/sub/to-file',
        'var/lib/app/to-directory',
    ]


def test_list_tree_does_not_enter_skipped_directories(world: World) -> None:
    _tree(world)
    assert 'var/lib/app/__pycache__/a.pyc' in list_tree(world.root, 'var/lib/app')
    assert not any('__pycache__' in path for path in list_tree(world.root, 'var/lib/app', skip=('__pycache__',)))


def test_list_tree_of_a_missing_directory_is_empty(world: World) -> None:
    assert list_tree(world.root, 'var/lib/app') == []


def test_list_tree_of_a_symlinked_directory_is_refused(world: World) -> None:
    os.makedirs(world.host('var/lib'))
    os.symlink(os.path.join(world.outside, 'd'), world.host('var/lib/app'))
    with pytest.raises(UnsafePathError) as caught:
        list_tree(world.root, 'var/lib/app')
    assert str(caught.value) == 'refusing /var/lib/app: it is a symlink, not a directory'


# --- crash consistency: a writer SIGKILLed at every step of replace_file -------------------------

# the new content is big enough that half of it is visibly a partial file
CRASH_NEW = bytes(range(256)) * 256
CRASH_OLD = b'old, whole\n' * 100
CRASH_FILE = 'var/lib/policy/state'
KILLED_WRITER = r'''
import os, signal, sys
from ansible_collections.litevirt.uksm.plugins.module_utils._host.safefiles import replace_file

sysroot, relative, step = sys.argv[1:4]
data = bytes(range(256)) * 256
prefix = '.' + relative.rsplit('/', 1)[1] + '.'
real = {name: getattr(os, name) for name in ('open', 'write', 'fchmod', 'fsync', 'replace', 'listdir')}
fsyncs = []


def die():
    os.kill(os.getpid(), signal.SIGKILL)


def after_open(path, *args, **kwargs):
    handle = real['open'](path, *args, **kwargs)
    if isinstance(path, str) and path.startswith(prefix):
        die()
    return handle


def half_write(handle, view):
    written = real['write'](handle, view[:len(view) // 2])
    assert written == len(view) // 2
    die()


def fsync(handle):
    fsyncs.append(handle)
    if step == 'before_file_fsync' and len(fsyncs) == 1:
        die()
    if step == 'before_directory_fsync' and len(fsyncs) == 2:
        die()
    real['fsync'](handle)
    if step == 'after_file_fsync' and len(fsyncs) == 1:
        die()


def after_replace(*args, **kwargs):
    real['replace'](*args, **kwargs)
    die()


if step == 'after_temporary_open':
    os.open = after_open
elif step == 'during_write':
    os.write = half_write
elif step == 'before_fchmod':
    os.fchmod = lambda *args: die()
elif step in ('before_file_fsync', 'after_file_fsync', 'before_directory_fsync'):
    os.fsync = fsync
elif step == 'before_replace':
    os.replace = lambda *args, **kwargs: die()
elif step == 'after_replace':
    os.replace = after_replace
elif step == 'before_sweep':
    os.listdir = lambda *args: die()
replace_file(sysroot, relative, data)
if step == 'after_return':
    die()
sys.exit(3)  # the step was never reached
'''
# step: (the destination after the kill is the new file, the size of the killed writer's temporary or None)
CRASH_STEPS = {
    'after_temporary_open': (False, 0),
    'during_write': (False, len(CRASH_NEW) // 2),
    'before_fchmod': (False, len(CRASH_NEW)),
    'before_file_fsync': (False, len(CRASH_NEW)),
    'after_file_fsync': (False, len(CRASH_NEW)),
    'before_replace': (False, len(CRASH_NEW)),
    'after_replace': (True, None),
    'before_directory_fsync': (True, None),
    'before_sweep': (True, None),
    'after_return': (True, None),
}


def _python_path() -> str:
    """The directory holding ansible_collections, as this process imported it."""
    path = os.path.abspath(safefiles.__file__)
    for _level in range(6):  # safefiles.py, _host, module_utils, plugins, uksm, litevirt
        path = os.path.dirname(path)
    return os.path.dirname(path)


@pytest.mark.parametrize('existed', [True, False], ids=['replacing', 'creating'])
@pytest.mark.parametrize('step', list(CRASH_STEPS))
def test_replace_file_killed_at_each_step_leaves_a_whole_file_the_next_run_replaces(
    world: World, step: str, existed: bool
) -> None:
    directory = os.path.dirname(CRASH_FILE)
    os.makedirs(world.host(directory), 0o755)
    if existed:
        _write(world.host(CRASH_FILE), CRASH_OLD, 0o644)
    world.mark()
    environment = dict(os.environ)
    environment['PYTHONPATH'] = os.pathsep.join(filter(None, [_python_path(), environment.get('PYTHONPATH')]))
    child = subprocess.run(
        [sys.executable, '-c', KILLED_WRITER, world.root, CRASH_FILE, step],
        env=environment,
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode(errors='replace')
    new, temporary_size = CRASH_STEPS[step]

    # the destination: the old file whole (or still absent), or the new one whole; never a part
    if new:
        assert world.content(CRASH_FILE) == CRASH_NEW
    elif existed:
        assert world.content(CRASH_FILE) == CRASH_OLD
    else:
        assert not os.path.lexists(world.host(CRASH_FILE))
    # what the killed writer left: its temporary, exactly as far as it got
    left = world.temporaries(directory)
    if temporary_size is None:
        assert left == []
    else:
        assert len(left) == 1
        match = TEMPORARY.match(left[0])
        assert match and match.group('name') == 'state'
        with open(world.host(directory + '/' + left[0]), 'rb') as handle:
            assert handle.read() == CRASH_NEW[:temporary_size]
    world.outside_unchanged()

    # the next run: the killed writer is dead, so its temporary is swept
    replace_file(world.root, CRASH_FILE, CRASH_NEW, mode=0o644)
    assert world.content(CRASH_FILE) == CRASH_NEW
    assert stat.S_IMODE(os.lstat(world.host(CRASH_FILE)).st_mode) == 0o644
    assert os.listdir(world.host(directory)) == ['state']
    world.outside_unchanged()
