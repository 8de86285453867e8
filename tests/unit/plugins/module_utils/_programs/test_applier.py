# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The boot-time applier on a tree of regular files: under the host lock it reads the persisted
policy and applies the section of the detected backend, with one journal line per change and a
summary; nothing to apply is success; a policy that is unsafe, unreadable, unparseable or invalid,
a failed write, a held or unsafe lock each give one FAILED line and status 1, with the host as it
was. A policy replaced while the applier waits for the lock is the one applied.

The kernel's side of a write is fake_sysfs.FakeHost (os.write inside transaction.py).
"""

from __future__ import annotations

import errno
import os
import threading
import time
import typing as t

from ansible_collections.litevirt.uksm.plugins.module_utils._host import lock, persist
from ansible_collections.litevirt.uksm.plugins.module_utils._host.lock import HostLock
from ansible_collections.litevirt.uksm.plugins.module_utils._programs.applier import PREFIX, apply_policy, main
from ansible_collections.litevirt.uksm.tests.helpers.fake_sysfs import FakeHost

POLICY = {'uksm': {'cpu_governor': 'medium', 'cpu_ratios': '10 30 MAX/4 MAX/1', 'sleep_millisecs': '200'}}
REPAIRED = [
    'uksm cpu_governor: full -> medium',
    'uksm max_cpu_percentage: 95 -> 50 (reset by cpu_governor)',
    'uksm cpu_ratios: 20 40 MAX/4 MAX/1 -> 10 30 MAX/4 MAX/1',
    'uksm eval_intervals: 1000 500 200 50 -> 1000 500 400 100 (reset by cpu_governor)',
    'uksm sleep_millisecs: 100 -> 200',
    'uksm policy applied: 3 requested, 5 changed: cpu_governor reset max_cpu_percentage and eval_intervals',
]


def host_for(tmp_path: t.Any, monkeypatch: t.Any, backend: str = 'uksm', **options: t.Any) -> FakeHost:
    return FakeHost(tmp_path, backend, **options).install(monkeypatch)


def persisted(root: str, policies: dict[str, dict[str, str]]) -> None:
    persist.save(root, persist.render(policies))


def apply(root: str, **options: t.Any) -> tuple[int, list[str]]:
    lines: list[str] = []
    return apply_policy(root, lines.append, **options), lines


def test_drift_is_repaired_with_a_line_per_change_and_then_left_alone(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    persisted(host.root, POLICY)
    assert apply(host.root) == (0, REPAIRED)
    assert host.writes == [
        ('cpu_governor', 'medium\n'),
        ('cpu_ratios', '10 30 MAX/4 MAX/1\n'),
        ('sleep_millisecs', '200\n'),
    ]
    assert apply(host.root) == (0, ['uksm policy applied: 3 requested, 0 changed: all already set'])
    assert len(host.attempts) == 3


def test_missing_policy_file_is_nothing_to_apply(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    assert apply(host.root) == (0, ['no uksm policy in %s; nothing to apply' % persist.path_of(host.root)])
    assert host.attempts == []


def test_policy_of_the_other_backend_only_is_nothing_to_apply(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch, 'ksm')
    persisted(host.root, POLICY)
    assert apply(host.root) == (0, ['no ksm policy in %s; nothing to apply' % persist.path_of(host.root)])
    assert host.attempts == []


def test_ksm_section_is_applied_on_a_ksm_host(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch, 'ksm')
    persisted(host.root, dict(POLICY, ksm={'pages_to_scan': '1000', 'run': '1'}))
    status, lines = apply(host.root)
    assert status == 0
    assert lines == [
        'ksm pages_to_scan: 100 -> 1000',
        'ksm run: 0 -> 1',
        'ksm policy applied: 2 requested, 2 changed',
    ]
    assert host.writes == [('pages_to_scan', '1000\n'), ('run', '1\n')]


def test_host_without_an_interface_is_nothing_to_apply(tmp_path):
    persisted(str(tmp_path), POLICY)
    status, lines = apply(str(tmp_path))
    assert status == 0
    assert lines == [
        'nothing to apply: /sys/kernel/mm/uksm does not exist; /sys/kernel/mm/ksm does not exist; '
        'the kernel is built without KSM/UKSM or /sys is masked'
    ]


def test_policy_file_that_is_a_symlink_is_refused(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    elsewhere = tmp_path / 'elsewhere.conf'
    elsewhere.write_text(persist.render(POLICY))
    os.makedirs(os.path.dirname(persist.path_of(host.root)), mode=0o755)
    os.symlink(str(elsewhere), persist.path_of(host.root))
    assert apply(host.root) == (1, ['FAILED: refusing /etc/litevirt-uksm/policy.conf: it is a symlink'])
    assert host.attempts == []


def test_policy_that_cannot_be_parsed_fails_naming_the_file_and_line(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    persist.save(host.root, '[uksm]\nsleep_millisecs = 200\n[zksm]\n')
    assert apply(host.root) == (
        1,
        [
            'FAILED: cannot read %s: line 3: unknown section [zksm]; accepted: [uksm], [ksm], '
            '[<backend> pressure], [<backend> tier N] with N from 0 to 7' % persist.path_of(host.root)
        ],
    )
    assert host.attempts == []


def test_policy_that_cannot_be_read_fails_with_the_error(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    persisted(host.root, POLICY)

    def read_file(*_args: t.Any, **_options: t.Any) -> t.NoReturn:
        raise OSError(errno.EIO, 'Input/output error')

    monkeypatch.setattr(persist, 'read_file', read_file)
    assert apply(host.root) == (
        1,
        ['FAILED: cannot read %s: [Errno 5] Input/output error' % persist.path_of(host.root)],
    )
    assert host.attempts == []


def test_invalid_persisted_setting_fails_and_writes_nothing(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    persisted(host.root, {'uksm': {'cpu_ratios': '20 40 MAX/4 10000', 'sleep_millisecs': '200'}})
    status, lines = apply(host.root)
    assert status == 1 and len(lines) == 1
    assert lines[0].startswith('FAILED: 1 invalid setting(s), nothing was written: cpu_ratios: ')
    assert '10000 and above kill uksmd' in lines[0]
    assert host.attempts == []


def test_failed_write_rolls_back_and_fails_with_the_errno(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    persisted(host.root, POLICY)
    before = host.texts()
    host.fail('sleep_millisecs', errno.EIO)
    assert apply(host.root) == (
        1,
        ["FAILED: writing sleep_millisecs='200' failed: EIO (Input/output error); restored: cpu_governor=full"],
    )
    assert host.texts() == before


def test_lock_held_by_another_writer_fails_after_the_timeout(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    persisted(host.root, POLICY)
    with HostLock(host.root):
        status, lines = apply(host.root, lock_timeout=0.1)
    assert (status, lines) == (
        1,
        ['FAILED: /run/litevirt-uksm/lock is held by another writer (pid %d) for more than 0.1s' % os.getpid()],
    )
    assert host.attempts == []


def test_lock_directory_others_could_write_is_refused(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    persisted(host.root, POLICY)
    os.makedirs(os.path.join(host.root, 'run', 'litevirt-uksm'))
    os.chmod(os.path.join(host.root, 'run', 'litevirt-uksm'), 0o777)
    assert apply(host.root) == (1, ['FAILED: refusing /run/litevirt-uksm: writable by group or others (mode 0777)'])
    assert host.attempts == []


class _Waiting:
    """``time`` as lock.py sees it: its first sleep (the lock is held, it waits) is announced."""

    def __init__(self) -> None:
        self.waiting = threading.Event()

    def __getattr__(self, name: str) -> t.Any:
        return getattr(time, name)

    def sleep(self, seconds: float) -> None:
        self.waiting.set()
        time.sleep(seconds)


def test_policy_replaced_while_waiting_for_the_lock_is_the_one_applied(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    persisted(host.root, POLICY)
    clock = _Waiting()
    monkeypatch.setattr(lock, 'time', clock)
    outcome: list[tuple[int, list[str]]] = []
    with HostLock(host.root):
        applier = threading.Thread(target=lambda: outcome.append(apply(host.root, lock_timeout=10)))
        applier.start()
        assert clock.waiting.wait(10)
        # a playbook replaces the policy while the applier waits for the lock
        persisted(host.root, {'uksm': {'thrash_threshold': '30'}})
    applier.join(10)
    assert outcome == [(0, ['uksm thrash_threshold: 50 -> 30', 'uksm policy applied: 1 requested, 1 changed'])]
    assert host.writes == [('thrash_threshold', '30\n')]


# the launcher's entry point


def test_main_applies_and_prints_each_line_with_the_prefix(tmp_path, monkeypatch, capsys):
    host = host_for(tmp_path, monkeypatch)
    persisted(host.root, POLICY)
    assert main(['--sysroot', host.root]) == 0
    assert capsys.readouterr().out == ''.join(PREFIX + line + '\n' for line in REPAIRED)


def test_main_passes_the_lock_timeout_on(tmp_path, monkeypatch, capsys):
    host = host_for(tmp_path, monkeypatch)
    persisted(host.root, POLICY)
    with HostLock(host.root):
        assert main(['--sysroot', host.root, '--lock-timeout=0.1']) == 1
    assert capsys.readouterr().out.endswith('for more than 0.1s\n')
    assert host.attempts == []


def test_main_with_a_lock_timeout_that_is_not_a_number_is_refused(tmp_path, capsys):
    assert main(['--sysroot', str(tmp_path), '--lock-timeout', 'soon']) == 2
    assert "error: --lock-timeout: invalid value 'soon'" in capsys.readouterr().err


def test_a_sleep_uksmd_raised_is_left_and_said_once_a_policy_was_written(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    persisted(host.root, {'uksm': {'sleep_millisecs': '12'}})
    host.read_back('sleep_millisecs', '52\n')  # uksmd raises the 12 at once: a page costs more than full's rung 0 gets
    assert apply(host.root) == (
        0,
        [
            'uksm sleep_millisecs: 100 -> 52',
            'uksm policy applied: 1 requested, 1 changed: sleep_millisecs reads 52 for 12 (raised by the kernel)',
        ],
    )
    assert apply(host.root) == (
        0,
        ['uksm policy applied: 1 requested, 0 changed: sleep_millisecs reads 52 for 12 (raised by the kernel)'],
    )
    assert host.writes == [('sleep_millisecs', '12\n')]
