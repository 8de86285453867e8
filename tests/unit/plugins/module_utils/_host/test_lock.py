# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host lock is root's alone, held by one process at a time, and freed when its holder dies.

HostLock creates ``run/litevirt-uksm`` (0700) and ``lock`` (0600) owned by root, and refuses,
without creating or truncating anything anywhere, a directory or file another user could have
planted or swapped. Holders are separate processes, so flock semantics are the real ones: a
second writer times out naming the holder's pid, a SIGKILLed holder frees the lock at once, and
a waiter whose lock file was removed from under it locks the file that is at the path, so there
are never two holders. ReadLock, the readers' shared hold, waits for a writer up to its timeout,
keeps writers out while it is held, then reports the writer it gave up on, and creates nothing.
"""

from __future__ import annotations

import errno
import multiprocessing
import os
import select
import signal
import stat
import subprocess
import sys
import threading
import time
import types
import typing as t

import pytest

from ansible_collections.litevirt.uksm.plugins.module_utils._host import lock
from ansible_collections.litevirt.uksm.plugins.module_utils._host.lock import HostLock, LockTimeout, ReadLock
from ansible_collections.litevirt.uksm.plugins.module_utils._host.safefiles import UnsafePathError
from ansible_collections.litevirt.uksm.tests.helpers.owners import NOBODY, give_away
from ansible_collections.litevirt.uksm.tests.helpers.patience import PROMPT_SECONDS
from ansible_collections.litevirt.uksm.tests.helpers.tree_snapshot import snapshot

ROOT = os.geteuid()
KNOWN = b'a file root must not truncate\n'
LOCK_DIR = 'run/litevirt-uksm'
LOCK_FILE = 'run/litevirt-uksm/lock'
SHOWN = '/run/litevirt-uksm/lock'
HOLDER = r'''
import os, sys, time
from ansible_collections.litevirt.uksm.plugins.module_utils._host.lock import HostLock
with HostLock(sys.argv[1], timeout=float(sys.argv[2])):
    print('acquired %d' % os.getpid(), flush=True)
    time.sleep(60)
'''


def holder(root: str) -> int | None:
    """The writer holding the lock now, as a reader that does not wait sees it."""
    with ReadLock(root, 0) as pid:
        return pid


def _python_path() -> str:
    """The directory holding ansible_collections, as this process imported it."""
    path = os.path.abspath(lock.__file__)
    for _level in range(6):  # lock.py, _host, module_utils, plugins, uksm, litevirt
        path = os.path.dirname(path)
    return os.path.dirname(path)


@pytest.fixture
def sysroot(tmp_path: t.Any) -> str:
    root = str(tmp_path / 'sysroot')
    os.mkdir(root, 0o755)
    return root


@pytest.fixture
def outside(tmp_path: t.Any) -> str:
    """A directory beside the sysroot, with a file a planted symlink may point to."""
    path = str(tmp_path / 'outside')
    os.mkdir(path, 0o755)
    with open(os.path.join(path, 'target'), 'wb') as handle:
        handle.write(KNOWN)
    return path


Spawn = t.Callable[[str, float], subprocess.Popen]


@pytest.fixture
def spawn() -> t.Iterator[Spawn]:
    """Start holder processes (HostLock, then sleep); every one still running is killed afterwards."""
    started: list[subprocess.Popen] = []
    environment = dict(os.environ)
    environment['PYTHONPATH'] = os.pathsep.join(filter(None, [_python_path(), environment.get('PYTHONPATH')]))

    def start(root: str, timeout: float) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, '-c', HOLDER, root, str(timeout)],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def _acquired(process: subprocess.Popen, timeout: float = 10.0) -> None:
    """Wait until the holder process says it holds the lock."""
    assert process.stdout is not None
    ready, _w, _x = select.select([process.stdout], [], [], timeout)
    if not ready:
        raise AssertionError('pid %d did not take the lock within %gs' % (process.pid, timeout))
    line = process.stdout.readline().decode()
    if line != 'acquired %d\n' % process.pid:
        process.wait(10)
        stderr = process.stderr.read().decode() if process.stderr else ''
        raise AssertionError('pid %d: %r, stderr %s' % (process.pid, line, stderr))


def _not_acquired(process: subprocess.Popen, within: float) -> None:
    assert process.stdout is not None
    ready, _w, _x = select.select([process.stdout], [], [], within)
    assert not ready, 'pid %d took the lock: %r' % (process.pid, process.stdout.readline())
    assert process.poll() is None


def _open_lock_files(pid: int, path: str) -> list[str]:
    """The /proc/<pid>/fd entries of a process that are the lock file (or a deleted one)."""
    found = []
    directory = '/proc/%d/fd' % pid
    for entry in os.listdir(directory):
        try:
            target = os.readlink(os.path.join(directory, entry))
        except OSError:
            continue
        if target in (path, path + ' (deleted)'):
            found.append(os.path.join(directory, entry))
    return found


def _wait_until_opened(pid: int, path: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not _open_lock_files(pid, path):
        assert time.monotonic() < deadline, 'pid %d never opened %s' % (pid, path)
        time.sleep(0.01)


def _kill(process: subprocess.Popen) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)


def _lock_text(root: str) -> str:
    with open(os.path.join(root, LOCK_FILE)) as handle:
        return handle.read()


def _times_out(root: str, timeout: float, pid: int) -> None:
    started = time.monotonic()
    with pytest.raises(LockTimeout) as caught, HostLock(root, timeout=timeout):
        pass
    elapsed = time.monotonic() - started
    assert '(pid %d)' % pid in str(caught.value)
    assert str(caught.value) == '%s is held by another writer (pid %d) for more than %gs' % (SHOWN, pid, timeout)
    assert timeout <= elapsed < timeout + PROMPT_SECONDS


# --- what the lock creates -----------------------------------------------------------------------


def test_lock_creates_a_private_directory_and_file_owned_by_root(sysroot: str) -> None:
    with HostLock(sysroot) as path:
        assert path == SHOWN
        directory = os.lstat(os.path.join(sysroot, LOCK_DIR))
        assert stat.S_ISDIR(directory.st_mode) and stat.S_IMODE(directory.st_mode) == 0o700
        assert directory.st_uid == ROOT
        status = os.lstat(os.path.join(sysroot, LOCK_FILE))
        assert stat.S_ISREG(status.st_mode) and stat.S_IMODE(status.st_mode) == 0o600 and status.st_uid == ROOT
        assert _lock_text(sysroot) == '%d\n' % os.getpid()
        assert holder(sysroot) == os.getpid()
    assert holder(sysroot) is None
    assert os.listdir(os.path.join(sysroot, LOCK_DIR)) == ['lock']


def test_lock_replaces_a_longer_pid_left_by_the_last_holder(sysroot: str) -> None:
    with HostLock(sysroot):
        pass
    with open(os.path.join(sysroot, LOCK_FILE), 'w') as handle:
        handle.write('4194304999\n')  # longer than any pid this test can have
    with HostLock(sysroot):
        assert _lock_text(sysroot) == '%d\n' % os.getpid()


def test_holder_reads_the_first_line_when_a_pid_is_being_written_over_a_longer_one(sysroot: str) -> None:
    with HostLock(sysroot):
        with open(os.path.join(sysroot, LOCK_FILE), 'w') as handle:
            handle.write('%d\n4\n' % os.getpid())  # between the holder's pwrite and its ftruncate
        assert holder(sysroot) == os.getpid()


def test_lock_not_taken_by_a_caller_that_holds_it_takes_nothing_and_creates_nothing(sysroot: str) -> None:
    with HostLock(sysroot, take=False) as path:
        assert path == SHOWN
        assert os.listdir(sysroot) == []
    assert os.listdir(sysroot) == []


def test_second_lock_in_the_same_process_times_out(sysroot: str) -> None:
    """flock belongs to the open file description: a second open conflicts even in one process."""
    with HostLock(sysroot):
        _times_out(sysroot, 0.2, os.getpid())


# --- refusals: the directory ---------------------------------------------------------------------


def _plant_directory(sysroot: str, outside: str, setup: str) -> None:
    os.mkdir(os.path.join(sysroot, 'run'), 0o755)
    directory = os.path.join(sysroot, LOCK_DIR)
    if setup == 'symlink':
        os.mkdir(os.path.join(outside, 'elsewhere'), 0o700)
        os.symlink(os.path.join(outside, 'elsewhere'), directory)
    elif setup == 'run-symlink':
        os.rmdir(os.path.join(sysroot, 'run'))
        os.mkdir(os.path.join(outside, 'run'), 0o755)
        os.mkdir(os.path.join(outside, 'run', 'litevirt-uksm'), 0o700)
        os.symlink(os.path.join(outside, 'run'), os.path.join(sysroot, 'run'))
    elif setup == 'owned-by-nobody':
        os.mkdir(directory, 0o700)
        give_away(directory, NOBODY)
    elif setup == 'mode-0777':
        os.mkdir(directory)
        os.chmod(directory, 0o777)
    elif setup == 'run-mode-0777':
        os.chmod(os.path.join(sysroot, 'run'), 0o777)
    else:
        raise AssertionError(setup)


DIRECTORY_REFUSALS = {
    'symlink': 'refusing /run/litevirt-uksm: it is a symlink, not a directory',
    'run-symlink': 'refusing /run: it is a symlink, not a directory',
    'owned-by-nobody': 'refusing /run/litevirt-uksm: owned by uid %d, not uid %d' % (NOBODY, ROOT),
    'mode-0777': 'refusing /run/litevirt-uksm: writable by group or others (mode 0777)',
    'run-mode-0777': 'refusing /run: writable by group or others (mode 0777)',
}


@pytest.mark.parametrize('setup', list(DIRECTORY_REFUSALS))
def test_lock_directory_not_roots_alone_is_refused(sysroot: str, outside: str, setup: str) -> None:
    message = DIRECTORY_REFUSALS[setup]
    _plant_directory(sysroot, outside, setup)
    before = (snapshot(sysroot), snapshot(outside))
    with pytest.raises(UnsafePathError) as caught, HostLock(sysroot, timeout=0.2):
        raise AssertionError('the lock was taken')
    assert str(caught.value) == message
    assert (snapshot(sysroot), snapshot(outside)) == before
    # no lock file at any symlink's target
    assert not os.path.lexists(os.path.join(outside, 'elsewhere', 'lock'))
    assert not os.path.lexists(os.path.join(outside, 'run', 'litevirt-uksm', 'lock'))
    # holder() reads through the same checks: nothing to report, nothing created
    assert holder(sysroot) is None
    assert (snapshot(sysroot), snapshot(outside)) == before


# --- refusals: the file --------------------------------------------------------------------------


def _plant_file(sysroot: str, outside: str, setup: str) -> None:
    os.makedirs(os.path.join(sysroot, LOCK_DIR), 0o700)
    os.chmod(os.path.join(sysroot, 'run'), 0o755)
    path = os.path.join(sysroot, LOCK_FILE)
    if setup == 'symlink':
        os.symlink(os.path.join(outside, 'target'), path)
    elif setup == 'dangling-symlink':
        os.symlink(os.path.join(outside, 'created-by-root'), path)
    elif setup == 'fifo':
        os.mkfifo(path, 0o600)
    elif setup == 'directory':
        os.mkdir(path, 0o700)
    elif setup == 'owned-by-nobody':
        with open(path, 'w') as handle:
            handle.write('1\n')
        os.chmod(path, 0o600)
        give_away(path, NOBODY)
    elif setup == 'mode-0666':
        with open(path, 'w') as handle:
            handle.write('1\n')
        os.chmod(path, 0o666)
    else:
        raise AssertionError(setup)


FILE_REFUSALS = {
    'symlink': 'it is a symlink',
    'dangling-symlink': 'it is a symlink',
    'fifo': 'it is a FIFO, not a regular file',
    'directory': 'it is a directory, not a regular file',
    'owned-by-nobody': 'owned by uid %d, not uid %d' % (NOBODY, ROOT),
    'mode-0666': 'writable by group or others (mode 0666)',
}


@pytest.mark.usefixtures('no_hang')
@pytest.mark.parametrize('setup', list(FILE_REFUSALS))
def test_lock_file_not_roots_alone_is_refused(sysroot: str, outside: str, setup: str) -> None:
    reason = FILE_REFUSALS[setup]
    _plant_file(sysroot, outside, setup)
    before = (snapshot(sysroot), snapshot(outside))
    with pytest.raises(UnsafePathError) as caught, HostLock(sysroot, timeout=0.2):
        raise AssertionError('the lock was taken')
    assert str(caught.value) == 'refusing %s: %s' % (SHOWN, reason)
    assert (snapshot(sysroot), snapshot(outside)) == before
    # the symlink's target keeps its content (not truncated, no pid written), nothing created at a dangling one
    with open(os.path.join(outside, 'target'), 'rb') as handle:
        assert handle.read() == KNOWN
    assert not os.path.lexists(os.path.join(outside, 'created-by-root'))
    assert holder(sysroot) is None
    assert (snapshot(sysroot), snapshot(outside)) == before


# --- holders in other processes ------------------------------------------------------------------


def test_second_writer_times_out_naming_the_holders_pid(sysroot: str, spawn: Spawn) -> None:
    first = spawn(sysroot, 5)
    _acquired(first)
    assert holder(sysroot) == first.pid
    _times_out(sysroot, 0.3, first.pid)
    # the waiter that gave up changed nothing: the holder's pid is still in the file
    assert _lock_text(sysroot) == '%d\n' % first.pid


def test_lock_of_a_killed_holder_is_free_at_once(sysroot: str, spawn: Spawn) -> None:
    first = spawn(sysroot, 5)
    _acquired(first)
    _kill(first)
    assert holder(sysroot) is None
    started = time.monotonic()
    with HostLock(sysroot, timeout=3 * PROMPT_SECONDS):
        assert time.monotonic() - started < PROMPT_SECONDS
        assert holder(sysroot) == os.getpid()
        assert _lock_text(sysroot) == '%d\n' % os.getpid()


def _waiter_takes_the_file_at_the_path(sysroot: str, spawn: Spawn, remove_directory: bool) -> None:
    """A holds; B opened the same file and waits; the file (and maybe its directory) is removed; A dies."""
    path = os.path.join(sysroot, LOCK_FILE)
    first = spawn(sysroot, 5)
    _acquired(first)
    waiter = spawn(sysroot, 5)
    _wait_until_opened(waiter.pid, path)
    _not_acquired(waiter, 0.2)
    # what uksm_policy_unit's purge does under the lock
    os.unlink(path)
    if remove_directory:
        os.rmdir(os.path.join(sysroot, LOCK_DIR))
    _kill(first)
    _acquired(waiter)
    # B holds the file that is at the path, not the removed one
    status = os.lstat(path)
    assert stat.S_ISREG(status.st_mode) and stat.S_IMODE(status.st_mode) == 0o600 and status.st_uid == ROOT
    directory = os.lstat(os.path.join(sysroot, LOCK_DIR))
    assert stat.S_IMODE(directory.st_mode) == 0o700 and directory.st_uid == ROOT
    held = _open_lock_files(waiter.pid, path)
    assert [os.readlink(entry) for entry in held] == [path]
    assert os.stat(held[0]).st_ino == status.st_ino
    assert _lock_text(sysroot) == '%d\n' % waiter.pid
    assert holder(sysroot) == waiter.pid
    # and nobody else gets it meanwhile: never two holders
    _times_out(sysroot, 0.2, waiter.pid)
    _kill(waiter)
    with HostLock(sysroot, timeout=1):
        assert holder(sysroot) == os.getpid()


def test_waiter_whose_lock_file_was_removed_holds_the_file_at_the_path(sysroot: str, spawn: Spawn) -> None:
    _waiter_takes_the_file_at_the_path(sysroot, spawn, remove_directory=False)


def test_waiter_whose_lock_file_and_directory_were_purged_holds_the_file_at_the_path(
    sysroot: str, spawn: Spawn
) -> None:
    """uksm_policy_unit's purge removes the lock file and its emptied directory while a writer waits."""
    _waiter_takes_the_file_at_the_path(sysroot, spawn, remove_directory=True)


# --- ReadLock: what a reader (holder() above) sees ------------------------------------------------


def test_holder_of_a_missing_directory_is_none_and_creates_nothing(sysroot: str) -> None:
    assert holder(sysroot) is None
    assert os.listdir(sysroot) == []
    os.makedirs(os.path.join(sysroot, LOCK_DIR), 0o700)
    assert holder(sysroot) is None
    assert os.listdir(os.path.join(sysroot, LOCK_DIR)) == []


def test_holder_is_none_when_free_and_the_pid_when_held(sysroot: str, spawn: Spawn) -> None:
    with HostLock(sysroot):
        pass
    assert holder(sysroot) is None
    first = spawn(sysroot, 5)
    _acquired(first)
    assert holder(sysroot) == first.pid
    # a reader that gave up holds nothing: the holder keeps the lock
    assert holder(sysroot) == first.pid
    _kill(first)
    assert holder(sysroot) is None


def test_reader_waits_for_the_writer_and_then_holds_the_writers_out(sysroot: str, spawn: Spawn) -> None:
    first = spawn(sysroot, 5)
    _acquired(first)
    started = time.monotonic()
    with ReadLock(sysroot, 0.3) as writer:
        # the writer held on past the wait: the reader reads anyway, naming it, and holds nothing
        assert writer == first.pid and time.monotonic() - started >= 0.3
        _times_out(sysroot, 0.1, first.pid)
    _kill(first)
    with ReadLock(sysroot, 3 * PROMPT_SECONDS) as writer:
        assert writer is None
        # a writer now waits for the reader, and a second reader reads beside it
        second = spawn(sysroot, 5)
        _not_acquired(second, 0.3)
        assert holder(sysroot) is None
    _acquired(second)


def test_a_reader_waiting_for_a_writer_reads_as_soon_as_it_is_done(sysroot: str) -> None:
    ready = multiprocessing.Event()
    release = multiprocessing.Event()
    writer = multiprocessing.Process(target=_hold, args=(sysroot, ready, release))
    writer.start()
    try:
        assert ready.wait(10)
        release_timer = threading.Timer(0.3, release.set)
        release_timer.start()
        started = time.monotonic()
        with ReadLock(sysroot, 3 * PROMPT_SECONDS) as pid:
            waited = time.monotonic() - started
            assert pid is None and 0.2 <= waited < PROMPT_SECONDS
        release_timer.join(10)
    finally:
        release.set()
        writer.join(10)


def _hold(root, ready, release):
    with HostLock(root):
        ready.set()
        release.wait(10)


def test_lock_contention_times_out_with_the_holder(tmp_path):
    ready = multiprocessing.Event()
    release = multiprocessing.Event()
    holder_process = multiprocessing.Process(target=_hold, args=(str(tmp_path), ready, release))
    holder_process.start()
    try:
        assert ready.wait(10)
        with pytest.raises(LockTimeout) as caught, HostLock(str(tmp_path), timeout=0.3):
            pass
        assert 'pid %d' % holder_process.pid in str(caught.value)
    finally:
        release.set()
        holder_process.join(10)
    with HostLock(str(tmp_path), timeout=1):
        pass


# --- the races of a waiter, in this process (the subprocess tests above are not measured) ----------


def _hold_in_this_process(sysroot: str) -> HostLock:
    first = HostLock(sysroot, timeout=1)
    first.__enter__()
    return first


def _holds_the_file_at_the_path(sysroot: str, taken: HostLock) -> bool:
    assert taken.handle is not None
    held = os.fstat(taken.handle)
    current = os.lstat(os.path.join(sysroot, LOCK_FILE))
    return (held.st_dev, held.st_ino) == (current.st_dev, current.st_ino)


def _count_opens(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    opened: list[str] = []
    real_open_file = lock.open_file

    def open_file(*args: t.Any, **kwargs: t.Any) -> t.Any:
        opened.append(args[1])
        return real_open_file(*args, **kwargs)

    monkeypatch.setattr(lock, 'open_file', open_file)
    return opened


@pytest.mark.parametrize('how', ['removed', 'replaced'])
def test_waiter_whose_file_goes_while_it_waits_locks_the_file_at_the_path_in_process(
    sysroot: str, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """A purge removes the lock file (or a new writer's file takes its place) while we wait on the old one."""
    first = _hold_in_this_process(sysroot)
    path = os.path.join(sysroot, LOCK_FILE)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 1:
            if how == 'removed':
                os.unlink(path)
            else:
                replacement = os.path.join(sysroot, LOCK_DIR, 'new')
                os.close(os.open(replacement, os.O_CREAT | os.O_WRONLY, 0o600))
                os.rename(replacement, path)
            first.__exit__(None, None, None)  # the old holder finishes: our flock on the old file succeeds

    monkeypatch.setattr(lock.time, 'sleep', sleep)
    opened = _count_opens(monkeypatch)
    second = HostLock(sysroot, timeout=5)
    with second:
        assert waits == [0.05] and opened == ['lock', 'lock']  # one wait, then the file at the path
        assert _holds_the_file_at_the_path(sysroot, second)
        assert _lock_text(sysroot) == '%d\n' % os.getpid()
        assert holder(sysroot) == os.getpid()
    assert second.handle is None and holder(sysroot) is None


def test_waiter_whose_directory_went_before_it_opened_the_file_walks_it_again(
    sysroot: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[int] = []
    real_open_file = lock.open_file

    def open_file(*args: t.Any, **kwargs: t.Any) -> t.Any:
        attempts.append(1)
        if len(attempts) == 1:
            raise FileNotFoundError(2, 'No such file or directory')  # the purge took the directory away
        return real_open_file(*args, **kwargs)

    monkeypatch.setattr(lock, 'open_file', open_file)
    taken = HostLock(sysroot, timeout=1)
    with taken:
        assert _holds_the_file_at_the_path(sysroot, taken)
    assert len(attempts) == 2


def test_holder_shows_0_when_the_pid_in_the_lock_file_is_unreadable(sysroot: str) -> None:
    with HostLock(sysroot):
        with open(os.path.join(sysroot, LOCK_FILE), 'w') as handle:
            handle.write('not a pid\n')
        assert holder(sysroot) == 0


def test_holder_is_none_when_the_lock_cannot_be_tested(sysroot: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with HostLock(sysroot):
        pass

    def flock(_fd: int, _operation: int) -> None:
        raise OSError(errno.ENOLCK, 'No locks available')  # e.g. a file system without flock

    monkeypatch.setattr(lock, 'fcntl', types.SimpleNamespace(flock=flock, LOCK_SH=1, LOCK_NB=4))
    assert holder(sysroot) is None


def test_holder_of_a_lock_file_that_is_not_roots_alone_is_none(sysroot: str) -> None:
    os.makedirs(os.path.join(sysroot, LOCK_DIR), 0o700)
    with open(os.path.join(sysroot, LOCK_FILE), 'w') as handle:
        handle.write('123\n')
    os.chmod(os.path.join(sysroot, LOCK_FILE), 0o666)  # writable by others: refused, so not read
    assert holder(sysroot) is None
