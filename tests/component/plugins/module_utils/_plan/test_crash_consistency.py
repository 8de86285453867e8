# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A writer killed with SIGKILL at any write of a transaction leaves a host the next run repairs.

For every write position of a real transaction (its own writes, and the rollback's after a
failed write), the simulated kernel holds that write() until the test has killed the writer.
Then: the lock is free at once, the persisted policy is the old file whole, the boot applier
brings the host back to the persisted policy, and the module brings it to the new request. The
same holds for a writer killed while it replaces the policy file (each step of a replacement is
killed in test_safewrites.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import typing as t

import pytest

from ansible_collections.litevirt.uksm.plugins.module_utils._host import lock, persist
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.tunable import run
from ansible_collections.litevirt.uksm.plugins.module_utils._programs.applier import apply_policy
from ansible_collections.litevirt.uksm.tests.helpers.kernel_text import kernel_holds

# The policy persisted (and live) before the run, and the request of the run that is killed.
BEFORE = {
    'uksm': {'cpu_governor': 'low', 'sleep_millisecs': 300, 'run': 0},
    'ksm': {'pages_to_scan': 200, 'sleep_millisecs': 50, 'run': 0},
}
REQUEST = {
    'uksm': {
        'cpu_governor': 'medium',
        'cpu_ratios': ['10', '30', 'MAX/4', 'MAX/1'],
        'max_cpu_percentage': 60,
        'sleep_millisecs': 200,
        'run': 1,
    },
    'ksm': {'pages_to_scan': 1000, 'sleep_millisecs': 10, 'max_page_sharing': 512, 'run': 1},
}
# The attribute whose write fails (injected EIO) in the rollback cases: the last one written, so the
# rollback has every other write of the run to undo.
FAILING = {'uksm': 'run', 'ksm': 'run'}
WRITER = '''
import sys
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.tunable import run
run(sys.argv[1], "auto", %r, persist_policy=True, lock_timeout=30)
'''
# The same run, killed inside the policy file's replacement: after the new file is written and
# fsynced under its temporary name, just before the rename.
KILLED_BEFORE_RENAME = (
    '''
import os, posix, signal

# safewrites calls the system through posix, as every file the launchers run
_replace = posix.replace

def _killed(source, target, *args, **kwargs):
    if target == 'policy.conf':
        os.kill(os.getpid(), signal.SIGKILL)
    return _replace(source, target, *args, **kwargs)

posix.replace = _killed
'''
    + WRITER
)


def _prepare(host, backend: str) -> str:
    """Back to boot state, the old policy applied and persisted; the log emptied. The policy's text."""
    host.clear_faults()
    host.reboot()
    root = host.paths.root
    run(root, 'auto', BEFORE[backend], persist_policy=True)
    host.clear_log()
    return persist.load(root)[1]


def _writer(root: str, backend: str, code: str = WRITER) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, '-c', code % (REQUEST[backend],), root],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ),
    )


def _writes(host) -> list[dict[str, t.Any]]:
    return [entry for entry in host.writes() if entry['result'] not in ('blocked', 'abandoned')]


def _sequence(host, backend: str, failing: bool) -> list[dict[str, t.Any]]:
    """The writes of one undisturbed run (with an injected EIO on FAILING when ``failing``)."""
    _prepare(host, backend)
    if failing:
        host.inject(FAILING[backend], errno='EIO')
    writer = _writer(host.paths.root, backend)
    _out, err = writer.communicate(timeout=60)
    assert (writer.returncode != 0) == failing, err
    return _writes(host)


def _kill_at(host, backend: str, writes: list[dict[str, t.Any]], position: int, failing: bool) -> None:
    root = host.paths.root
    old_text = _prepare(host, backend)
    attr = writes[position]['attr']
    if failing:
        host.inject(FAILING[backend], errno='EIO')
    # hold the write at ``position``; earlier writes of the attribute that no other fault took pass
    host.inject(
        attr, block=30, skip=sum(1 for entry in writes[:position] if entry['attr'] == attr and not entry['injected'])
    )
    writer = _writer(root, backend)
    try:
        held = host.wait_blocked(timeout=30)
        assert (held['attr'], held['data']) == (attr, writes[position]['data'])
        os.kill(writer.pid, signal.SIGKILL)
    finally:
        writer.wait(timeout=30)
    host.clear_faults()  # the held write is abandoned: it never reaches the kernel
    assert writer.returncode == -signal.SIGKILL

    _repaired_after_the_kill(host, backend, old_text)


def _repaired_after_the_kill(host, backend: str, old_text: str) -> None:
    root = host.paths.root
    # the lock died with its holder: a reader takes it at once
    with lock.ReadLock(root, 0) as holder:
        assert holder is None
    with lock.HostLock(root, timeout=0.5):
        pass
    # the persisted policy is the old file, whole
    assert persist.load(root)[1] == old_text
    # the boot applier brings the host back to the persisted policy ...
    lines: list[str] = []
    assert apply_policy(root, lines.append, lock_timeout=5) == 0, lines
    assert kernel_holds(host, BEFORE[backend]), lines
    # ... and the next module run to the request, persisted whole, a killed run's temporary swept
    run(root, 'auto', REQUEST[backend], persist_policy=True, lock_timeout=5)
    assert kernel_holds(host, REQUEST[backend])
    assert persist.load(root)[0][backend] == {name: persist.as_text(value) for name, value in REQUEST[backend].items()}
    assert [name for name in os.listdir(os.path.dirname(persist.path_of(root))) if name.startswith('.')] == []


@pytest.mark.parametrize('failing', [False, True], ids=['transaction', 'rollback'])
@pytest.mark.parametrize('backend', ['uksm', 'ksm'])
def test_writer_killed_at_every_write_leaves_a_host_the_next_run_repairs(make_host, backend, failing):
    host = make_host(backend)
    writes = _sequence(host, backend, failing)
    # the positions to kill at: every write of the run; with a failure, those after it (the rollback)
    first = next(index for index, entry in enumerate(writes) if entry['injected']) if failing else -1
    positions = [index for index in range(len(writes)) if index > first]
    assert len(positions) >= (2 if failing else 3), writes
    for position in positions:
        _kill_at(host, backend, writes, position, failing)
    print(
        '%s %s: killed at %d write positions: %s'
        % (
            backend,
            'rollback' if failing else 'transaction',
            len(positions),
            ', '.join('%s=%r' % (writes[p]['attr'], writes[p]['data']) for p in positions),
        )
    )


@pytest.mark.parametrize('backend', ['uksm', 'ksm'])
def test_writer_killed_while_replacing_the_policy_file_leaves_the_old_file_whole(make_host, backend):
    host = make_host(backend)
    root = host.paths.root
    old_text = _prepare(host, backend)
    writer = _writer(root, backend, KILLED_BEFORE_RENAME)
    writer.communicate(timeout=60)
    assert writer.returncode == -signal.SIGKILL
    # every write of the run happened; the file is the old one, its successor left as a temporary
    assert kernel_holds(host, REQUEST[backend])
    directory = os.path.dirname(persist.path_of(root))
    assert [name for name in os.listdir(directory) if name.startswith('.policy.conf.%d.' % writer.pid)]
    # at boot the persisted (old) policy is what counts; the next run persists the new one whole
    _repaired_after_the_kill(host, backend, old_text)
