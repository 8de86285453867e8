# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What root opens and reads under a sysroot cannot be turned into anything else, nor can the path to what
it replaces and removes.

For every hostile thing another user could plant (a symlink as a directory or as the file, a FIFO,
a directory where a file belongs, an oversized file, a directory or file that is not root's alone,
a path with ``..``), read_file refuses with an UnsafePathError naming the path as the host sees it and
the reason; the path checks are the same for safewrites' replace_file and remove_file (tested here
with them, test_safewrites.py has the rest of what they do); and in every case nothing outside the
sysroot, nor at a symlink's target, changes.
"""

from __future__ import annotations

import os
import stat
import typing as t

import pytest

from ansible_collections.litevirt.uksm.plugins.module_utils._host.safefiles import (
    UnsafePathError,
    open_dir,
    open_file,
    open_subdir,
    read_bounded,
    read_file,
)
from ansible_collections.litevirt.uksm.plugins.module_utils._host.safewrites import remove_file, replace_file
from ansible_collections.litevirt.uksm.tests.helpers.hostile_sysroot import (
    FILE,
    KNOWN,
    NEW,
    OLD,
    ROOT,
    World,
    write_file,
)
from ansible_collections.litevirt.uksm.tests.helpers.owners import NOBODY, give_away


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


# --- a symlink as a directory component ----------------------------------------------------------


@pytest.mark.parametrize('private', [True, False], ids=['private', 'shared'])
@pytest.mark.parametrize('operation', sorted(OPERATIONS))
@pytest.mark.parametrize('component', ['etc', 'etc/app'])
def test_symlinked_directory_component_is_refused(world: World, operation: str, component: str, private: bool) -> None:
    """``etc`` (or ``etc/app``) points to a directory outside holding a file of the same name."""
    target = world.outside if component == 'etc' else os.path.join(world.outside, 'd')
    if component == 'etc':
        os.makedirs(os.path.join(world.outside, 'app'))
        write_file(os.path.join(world.outside, 'app', 'file'), KNOWN)
    os.rename(world.host(component), world.host(component) + '.real')
    os.symlink(target, world.host(component))
    world.mark()
    message = _refused(world, operation, FILE, private)
    assert message == 'refusing /%s: it is a symlink, not a directory' % component
    world.all_unchanged()


def test_regular_file_as_directory_component_is_refused_and_named_a_regular_file(world: World) -> None:
    os.rename(world.host('etc/app'), world.host('etc/app.real'))
    write_file(world.host('etc/app'), OLD)
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


# --- a directory where the file belongs ----------------------------------------------------------


@pytest.mark.parametrize('private', [True, False], ids=['private', 'shared'])
@pytest.mark.parametrize('operation', sorted(OPERATIONS))
@pytest.mark.parametrize('empty', [True, False], ids=['empty', 'not-empty'])
def test_directory_where_the_file_belongs_is_refused(world: World, operation: str, empty: bool, private: bool) -> None:
    os.unlink(world.host(FILE))
    os.mkdir(world.host(FILE), 0o755)
    if not empty:
        write_file(world.host(FILE + '/inner'), OLD)
    world.mark()
    message = _refused(world, operation, FILE, private)
    assert message == 'refusing /etc/app/file: it is a directory, not a regular file'
    assert world.temporaries('etc/app') == []
    world.all_unchanged()


# --- sizes ---------------------------------------------------------------------------------------


def test_read_file_larger_than_the_limit_is_refused(world: World) -> None:
    write_file(world.host(FILE), b'x' * 11)
    world.mark()
    with pytest.raises(UnsafePathError) as caught:
        read_file(world.root, FILE, 10)
    assert str(caught.value) == 'refusing /etc/app/file: larger than 10 bytes'
    world.all_unchanged()


def test_read_file_of_exactly_the_limit_is_read_whole(world: World) -> None:
    write_file(world.host(FILE), b'x' * 10)
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
    write_file(world.host(FILE), b'')
    found = read_file(world.root, FILE, 10)
    assert found is not None and found[0] == b'' and found[1].st_size == 0


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
