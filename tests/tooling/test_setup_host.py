# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/setup-host.sh waits for another apt run's lock, says who holds it, and gives up after its bound; it
names the Pythons of .python-version it cannot find."""

from __future__ import annotations

import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, 'scripts', 'setup-host.sh')
# holds an fcntl lock on the file, as apt does, for the given seconds; prints once it holds it
HOLDER = (
    'import fcntl, os, sys, time\n'
    'fd = os.open(sys.argv[1], os.O_RDWR)\n'
    'fcntl.lockf(fd, fcntl.LOCK_EX)\n'
    'print("held", flush=True)\n'
    'time.sleep(float(sys.argv[2]))\n'
)


def hold(path, seconds):
    holder = subprocess.Popen([sys.executable, '-c', HOLDER, path, str(seconds)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline() == 'held\n'
    return holder


def wait_only(locks, timeout):
    env = dict(os.environ, SETUP_APT_LOCKS=' '.join(locks), SETUP_APT_LOCK_TIMEOUT=str(timeout))
    return subprocess.run(
        ['bash', SCRIPT, '--wait-only'], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_free_locks_and_missing_lock_files_do_not_wait(tmp_path):
    lock = tmp_path / 'lock'
    lock.write_text('')
    started = time.monotonic()
    done = wait_only([str(lock), str(tmp_path / 'absent')], 60)
    assert done.returncode == 0 and done.stderr == ''
    assert time.monotonic() - started < 10


def test_a_held_lock_is_waited_for_with_a_message_naming_the_holder(tmp_path):
    free, held = tmp_path / 'lock-frontend', tmp_path / 'lists-lock'
    free.write_text('')
    held.write_text('')
    holder = hold(str(held), 3)
    try:
        done = wait_only([str(free), str(held)], 60)
    finally:
        holder.wait(10)
    assert done.returncode == 0
    assert 'waiting up to 60 s for process %d (python' % holder.pid in done.stderr
    assert 'on %s' % held in done.stderr and "apt's lock is free" in done.stderr


def test_a_lock_held_past_the_bound_is_expected_to_fail_naming_the_holder(tmp_path):
    held = tmp_path / 'lock'
    held.write_text('')
    holder = hold(str(held), 30)
    try:
        done = wait_only([str(held)], 1)
    finally:
        holder.kill()
        holder.wait(10)
    assert done.returncode == 1
    assert 'process %d (python' % holder.pid in done.stderr and 'still holds apt\'s lock after 1 s' in done.stderr


def _setup_with_pythons(tmp_path, text):
    versions = tmp_path / 'python-version'
    versions.write_text(text)
    path = os.path.dirname(sys.executable) + ':/usr/bin:/bin'
    env = dict(os.environ, SETUP_PYTHON_VERSIONS=str(versions), PATH=path)
    return subprocess.run(
        ['bash', SCRIPT, '--pythons'], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_a_python_of_python_version_that_is_not_found_is_expected_to_fail_naming_how_to_get_it(tmp_path):
    done = _setup_with_pythons(tmp_path, '# a comment\n%d.%d\n3.99\n' % sys.version_info[:2])
    assert done.returncode == 1
    assert 'setup-host: Python 3.99 not found (.python-version); make test needs every one' in done.stderr
    assert 'pyenv install 3.99' in done.stderr and 'python3.99' in done.stderr


def test_the_pythons_of_python_version_found_say_nothing(tmp_path):
    done = _setup_with_pythons(tmp_path, '# a comment\n%d.%d\n' % sys.version_info[:2])
    assert (done.returncode, done.stderr) == (0, '')
