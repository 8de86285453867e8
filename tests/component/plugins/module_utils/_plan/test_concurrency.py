# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Two writers at once are serialised by the host lock: one request whole, then the other, never a mix.

Writers are separate processes (flock is per open file, so threads would prove less). Every
request uses values no other request uses, so each write in the simulated kernel's log names
the writer it came from.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import typing as t

import pytest

from ansible_collections.litevirt.uksm.plugins.module_utils._host import persist
from ansible_collections.litevirt.uksm.plugins.module_utils._host.lock import LockTimeout
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.tunable import run
from ansible_collections.litevirt.uksm.tests.helpers.kernel_text import kernel_holds, tokens

# Four UKSM requests with no value in common (sleep_millisecs are whole ticks at HZ=250).
REQUESTS = [
    {
        'cpu_governor': 'full',
        'cpu_ratios': ['21', '41', 'MAX/4', 'MAX/1'],
        'max_cpu_percentage': 91,
        'sleep_millisecs': 120,
        'run': 1,
    },
    {
        'cpu_governor': 'medium',
        'cpu_ratios': ['12', '32', 'MAX/3', 'MAX/1'],
        'max_cpu_percentage': 52,
        'sleep_millisecs': 240,
        'run': 1,
    },
    {
        'cpu_governor': 'low',
        'cpu_ratios': ['13', '23', 'MAX/2', 'MAX/1'],
        'max_cpu_percentage': 23,
        'sleep_millisecs': 360,
        'run': 1,
    },
    {
        'cpu_governor': 'quiet',
        'cpu_ratios': ['14', '24', '44', '74'],
        'max_cpu_percentage': 14,
        'sleep_millisecs': 480,
        'run': 1,
    },
]
WRITER = '''
import sys
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.tunable import run
run(sys.argv[1], "auto", %r, persist_policy=True, lock_timeout=float(sys.argv[2]))
'''
APPLIER = '''
import sys
from ansible_collections.litevirt.uksm.plugins.module_utils._programs.applier import main
sys.exit(main(["--sysroot", sys.argv[1], "--lock-timeout", sys.argv[2]]))
'''


def _start(code: str, root: str, timeout: float = 30) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, '-c', code, root, str(timeout)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )


def _owner(entry: dict[str, t.Any]) -> int:
    """Which request a logged write belongs to (the governor's preset values are not ours: -1)."""
    text = entry['data'].split()
    for index, request in enumerate(REQUESTS):
        if text == tokens(request.get(entry['attr'])) and entry['attr'] != 'run':
            return index
    return -1


def _owners(host) -> list[int]:
    """The writers of the log in order, consecutive duplicates merged: [0, 1] is two runs one after the other."""
    runs: list[int] = []
    for entry in host.writes():
        owner = _owner(entry)
        if owner >= 0 and entry['result'] == 'ok' and (not runs or runs[-1] != owner):
            runs.append(owner)
    return runs


def test_waiting_writer_fails_after_its_timeout_naming_the_holders_pid(make_host):
    host = make_host('uksm')
    root = host.paths.root
    host.inject('cpu_ratios', block=30)
    holder = _start(WRITER % (REQUESTS[1],), root)
    try:
        host.wait_blocked(timeout=30)
        started = time.monotonic()
        with pytest.raises(LockTimeout, match=r'held by another writer \(pid %d\) for more than 0.5s' % holder.pid):
            run(root, 'auto', REQUESTS[2], lock_timeout=0.5)
        assert 0.5 <= time.monotonic() - started < 5
    finally:
        host.release()
        _out, err = holder.communicate(timeout=30)
    assert holder.returncode == 0, err
    assert kernel_holds(host, REQUESTS[1])  # the loser wrote nothing
    assert _owners(host) == [1]


def test_playbook_and_boot_applier_at_once_apply_one_whole_request_then_the_other(make_host):
    host = make_host('uksm')
    root = host.paths.root
    run(root, 'auto', REQUESTS[3], persist_policy=True)  # what the boot applier will apply
    host.clear_log()
    host.inject('max_cpu_percentage', block=30)
    playbook = _start(WRITER % (REQUESTS[0],), root)
    try:
        host.wait_blocked(timeout=30)
        applier = _start(APPLIER, root)
        time.sleep(0.5)
        assert applier.poll() is None  # waiting for the lock, not writing
    finally:
        host.release()
    _out, err = playbook.communicate(timeout=30)
    assert playbook.returncode == 0, err
    out, err = applier.communicate(timeout=30)
    assert applier.returncode == 0, out + err
    # the playbook's request whole, then the applier's (its policy file was replaced by the playbook's
    # persist in between: the applier reads the file once it holds the lock)
    assert _owners(host) == [0]
    assert kernel_holds(host, REQUESTS[0])
    assert 'uksm policy applied: 5 requested, 0 changed: all already set' in out


@pytest.mark.parametrize('round_', range(3))
def test_four_writers_at_once_end_in_one_request_whole(make_host, round_):
    host = make_host('uksm')
    root = host.paths.root
    writers = [_start(WRITER % (request,), root) for request in REQUESTS]
    for writer in writers:
        _out, err = writer.communicate(timeout=60)
        assert writer.returncode == 0, err
    order = _owners(host)
    # each writer's writes are one block (a writer whose values the kernel already held writes nothing)
    assert len(order) == len(set(order)) and set(order) <= {0, 1, 2, 3}, (round_, order)
    last = order[-1]
    assert kernel_holds(host, REQUESTS[last])
    assert persist.load(root)[0]['uksm'] == {name: persist.as_text(value) for name, value in REQUESTS[last].items()}
