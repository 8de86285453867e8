# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What root replaces and removes under a sysroot lands where asked, whole, and nowhere else.

replace_file replaces a symlink or a FIFO where the file is by a regular file (never writing through
it), creates what is missing with the modes asked, leaves no temporary file, sweeps those of dead
writers only, and a writer SIGKILLed at any step of it leaves the old file or the new one whole, which
the next run then replaces cleanly. remove_file unlinks what is there without following it;
remove_tree and list_tree never follow a symlink. (The refusals of a planted path, shared with
read_file, are in test_safefiles.py.)
"""

from __future__ import annotations

import os
import posix
import signal
import stat
import subprocess
import sys
import typing as t

import pytest

from ansible_collections.litevirt.uksm.plugins.module_utils._host import safewrites
from ansible_collections.litevirt.uksm.plugins.module_utils._host.safefiles import UnsafePathError
from ansible_collections.litevirt.uksm.plugins.module_utils._host.safewrites import (
    list_tree,
    remove_file,
    remove_tree,
    replace_file,
)
from ansible_collections.litevirt.uksm.tests.helpers.hostile_sysroot import (
    FILE,
    NEW,
    OLD,
    ROOT,
    TEMPORARY,
    World,
    write_file,
)
from ansible_collections.litevirt.uksm.tests.helpers.owners import NOBODY, give_away
from ansible_collections.litevirt.uksm.tests.helpers.payload_zip import make_payload, probe


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


# --- a symlink, a FIFO, an empty file, another user's file where the file is ---------------------


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


def test_replace_file_with_empty_data_leaves_an_empty_regular_file(world: World) -> None:
    replace_file(world.root, FILE, b'')
    assert world.content(FILE) == b''
    assert sorted(os.listdir(world.host('etc/app'))) == ['file']


def test_remove_file_of_an_empty_file_removes_it(world: World) -> None:
    write_file(world.host(FILE), b'')
    assert remove_file(world.root, FILE) is True
    assert not os.path.lexists(world.host(FILE))


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
        write_file(world.host('etc/app/' + name), b'partial')
    replace_file(world.root, FILE, NEW)
    assert sorted(os.listdir(world.host('etc/app'))) == sorted(['file'] + kept)
    assert world.content(FILE) == NEW


def test_temporary_names_are_hidden_with_pid_and_12_hex_digits(world: World, monkeypatch: t.Any) -> None:
    seen: list[str] = []
    real = posix.replace

    def spy(source: str, destination: str, **kwargs: t.Any) -> None:
        seen.append(source)
        real(source, destination, **kwargs)

    monkeypatch.setattr(posix, 'replace', spy)
    replace_file(world.root, FILE, NEW)
    replace_file(world.root, FILE, NEW)
    assert len(seen) == 2 and seen[0] != seen[1]
    for name in seen:
        match = TEMPORARY.match(name)
        assert match and match.group('name') == 'file' and int(match.group('pid')) == os.getpid()


@pytest.mark.parametrize('durable, flushed', [(True, 2), (False, 0)])
def test_file_gone_at_reboot_is_replaced_whole_without_fsyncs(
    world: World, monkeypatch: t.Any, durable: bool, flushed: int
) -> None:
    calls: list[int] = []
    real = posix.fsync
    monkeypatch.setattr(posix, 'fsync', lambda handle: calls.append(handle) or real(handle))
    replace_file(world.root, FILE, NEW, durable=durable)
    # the file, then its directory after the rename; neither for a file under /run
    assert len(calls) == flushed
    assert world.content(FILE) == NEW and sorted(os.listdir(world.host('etc/app'))) == ['file']


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
    write_file(world.host('var/lib/app/a.py'), OLD)
    write_file(world.host('var/lib/app/sub/b.py'), OLD)
    write_file(world.host('var/lib/app/sub/deeper/c.py'), OLD)
    write_file(world.host('var/lib/app/__pycache__/a.pyc'), OLD)
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
import os, posix, signal, sys
from ansible_collections.litevirt.uksm.plugins.module_utils._host.safewrites import replace_file

sysroot, relative, step = sys.argv[1:4]
data = bytes(range(256)) * 256
prefix = '.' + relative.rsplit('/', 1)[1] + '.'
# safewrites calls the system through posix (as every file the launchers run)
real = {name: getattr(posix, name) for name in ('open', 'write', 'fchmod', 'fsync', 'replace', 'listdir')}
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
    posix.open = after_open
elif step == 'during_write':
    posix.write = half_write
elif step == 'before_fchmod':
    posix.fchmod = lambda *args: die()
elif step in ('before_file_fsync', 'after_file_fsync', 'before_directory_fsync'):
    posix.fsync = fsync
elif step == 'before_replace':
    posix.replace = lambda *args, **kwargs: die()
elif step == 'after_replace':
    posix.replace = after_replace
elif step == 'before_sweep':
    posix.listdir = lambda *args: die()
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
    path = os.path.abspath(safewrites.__file__)
    for _level in range(6):  # safewrites.py, _host, module_utils, plugins, uksm, litevirt
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
        write_file(world.host(CRASH_FILE), CRASH_OLD, 0o644)
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


# --- who loads this file -------------------------------------------------------------------------


def test_code_that_only_reads_the_host_does_not_load_safewrites(tmp_path):
    # a module run compiles what it imports: facts (with tiers too) and a converged tunable run only read,
    # so the writers import safewrites where they write
    readers = ('_plan.facts', '_plan.tiers', '_plan.tunable', '_host.persist', '_host.written_values', '_host.lock')
    seen = probe(make_payload(tmp_path), 'compile_once', *readers)
    assert 'safefiles.py' in seen['compiled'] and 'safewrites.py' not in seen['compiled']
