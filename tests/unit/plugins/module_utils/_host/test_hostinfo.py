# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The /proc readers: any bytes in meminfo or comm give an answer (None, a count, a set), never a
traceback; reads are bounded, a FIFO does not stall them, and a renamed unprivileged process is not uksmd."""

from __future__ import annotations

import os
import re
import signal
import tempfile
import time
import typing as t

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.litevirt.uksm.plugins.module_utils._host import hostinfo
from ansible_collections.litevirt.uksm.plugins.module_utils._host.hostinfo import (
    CONFLICTING_SERVICES,
    PROC_READ_LIMIT,
    ThreadLookup,
    ksm_zero_kib,
    root_processes,
    thread_cpu,
)
from ansible_collections.litevirt.uksm.plugins.module_utils._host.sysfs import READ_LIMIT
from ansible_collections.litevirt.uksm.tests.helpers import sysroot_tree
from ansible_collections.litevirt.uksm.tests.helpers.owners import NOBODY, give_away
from ansible_collections.litevirt.uksm.tests.helpers.patience import PROMPT_SECONDS

FILES = settings(max_examples=100, deadline=None)
WANTED = ('uksmd', 'ksmd') + tuple(
    sorted(conflict.process for conflict in CONFLICTING_SERVICES.values() if conflict.process)
)
WELL_FORMED = re.compile(r'\s*KsmZeroPages:\s+([0-9]+)\s+kB\s*')

MEMINFO_FRAGMENTS = [
    b'KsmZeroPages:',
    b'KsmZeroPages:     524288 kB\n',
    b'KsmZeroPages: 0 kB',
    b'ksmzeropages: 1 kB\n',
    b'kB',
    b'KB',
    b' kB\n',
    b'MemTotal:       16384000 kB\n',
    b' ',
    b'\t',
    b'\n',
    b'\r',
    b'\r\n',
    b'\x0b',
    b'\x1c',
    b'\x00',
    b'\xff',
    b'\xc2\xa0',
    b'-',
    b'+',
    b'-1',
    b'+5',
    b'0x10',
    b'1e3',
    b'\xd9\xa1',  # U+0661, an Arabic-Indic digit
]
MEMINFO = st.one_of(
    st.binary(max_size=512),
    st.lists(
        st.one_of(
            st.sampled_from(MEMINFO_FRAGMENTS),
            st.integers(0, 2**70).map(lambda n: str(n).encode()),
            st.binary(max_size=3),
        ),
        max_size=24,
    ).map(b''.join),
)


class Hung(Exception):
    """A read that should have returned at once did not."""


def _alarm(_signum: int, _frame: t.Any) -> None:
    raise Hung()


def _within(seconds: int, call: t.Callable[[], t.Any]) -> t.Any:
    """Run ``call``, failing instead of hanging when it takes more than ``seconds``."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        return call()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _write(path: str, data: bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as handle:
        handle.write(data)


def _expected_zero_kib(data: bytes) -> str | None:
    """The digits of the first well-formed KsmZeroPages line within the read bound."""
    for line in data[:PROC_READ_LIMIT].decode('ascii', 'replace').splitlines():
        match = WELL_FORMED.fullmatch(line)
        if match:
            return match.group(1)
    return None


@FILES
@given(MEMINFO)
def test_ksm_zero_kib_of_any_meminfo_is_none_or_the_well_formed_count(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as sysroot:
        _write(os.path.join(sysroot, 'proc', 'meminfo'), data)
        found = ksm_zero_kib(sysroot)
    expected = _expected_zero_kib(data)
    if expected is None:
        assert found is None
    else:
        assert isinstance(found, int) and not isinstance(found, bool) and found >= 0
        assert found == int(expected)


def test_ksm_zero_kib_of_one_megabyte_of_junk_is_none(tmp_path) -> None:
    junk = bytes(range(256)) * 4096
    # a well-formed line past the read bound is not reached: the read stops at PROC_READ_LIMIT
    _write(str(tmp_path / 'proc' / 'meminfo'), junk + b'\nKsmZeroPages: 42 kB\n')
    started = time.monotonic()
    assert ksm_zero_kib(str(tmp_path)) is None
    assert time.monotonic() - started < PROMPT_SECONDS


def test_ksm_zero_kib_of_a_well_formed_line_is_its_count(tmp_path) -> None:
    _write(str(tmp_path / 'proc' / 'meminfo'), b'MemTotal: 16 kB\nKsmZeroPages:     524288 kB\n')
    assert ksm_zero_kib(str(tmp_path)) == 524288


def test_ksm_zero_kib_of_a_count_beyond_pythons_digit_limit_is_refused_as_none(tmp_path) -> None:
    # 4301 digits: int() refuses more than sys.get_int_max_str_digits() (4300) with a ValueError
    _write(str(tmp_path / 'proc' / 'meminfo'), b'KsmZeroPages: ' + b'7' * 4301 + b' kB\n')
    assert ksm_zero_kib(str(tmp_path)) is None


def test_ksm_zero_kib_without_meminfo_is_none(tmp_path) -> None:
    assert ksm_zero_kib(str(tmp_path)) is None


def test_ksm_zero_kib_of_a_fifo_returns_none_without_hanging(tmp_path) -> None:
    os.makedirs(str(tmp_path / 'proc'))
    os.mkfifo(str(tmp_path / 'proc' / 'meminfo'))
    assert _within(5, lambda: ksm_zero_kib(str(tmp_path))) is None


COMM = st.one_of(
    st.binary(max_size=64),
    st.sampled_from(WANTED + ('uksmd\n', ' ksmd \n', 'UKSMD', 'uksmd\x00', 'uksm', 'kthreadd', 'ksmtuned\nx')).map(
        str.encode
    ),
    st.tuples(st.binary(max_size=4), st.sampled_from(WANTED), st.binary(max_size=4)).map(
        lambda parts: parts[0] + parts[1].encode() + parts[2]
    ),
    st.just(b' ' * READ_LIMIT + b'uksmd'),  # the name past the read bound
    st.just(None),  # a /proc/<pid> without comm
    st.just(b'/'),  # comm is a directory
)
PID = st.one_of(st.integers(1, 4194304).map(str), st.sampled_from(['self', 'x1', '1x', '-1', '\u0661', 'sys']))


def _comm_tree(sysroot: str, processes: dict[str, bytes | None]) -> None:
    for pid, comm in processes.items():
        directory = os.path.join(sysroot, 'proc', pid)
        os.makedirs(directory)
        if comm == b'/':
            os.mkdir(os.path.join(directory, 'comm'))
        elif comm is not None:
            _write(os.path.join(directory, 'comm'), comm)


def _expected_names(processes: dict[str, bytes | None], wanted: set[str]) -> set[str]:
    names = set()
    for pid, comm in processes.items():
        if pid.isdigit() and comm not in (None, b'/'):
            names.add(comm[:READ_LIMIT].decode('ascii', 'replace').strip())
    return names & wanted


@FILES
@given(st.dictionaries(PID, COMM, max_size=8), st.sets(st.sampled_from(WANTED), min_size=1))
def test_root_processes_of_any_comm_files_is_the_root_processes_wanted(
    processes: dict[str, bytes | None], wanted: set[str]
) -> None:
    with tempfile.TemporaryDirectory() as sysroot:
        _comm_tree(sysroot, processes)
        found = set(root_processes(sysroot, wanted))
    assert found <= wanted
    assert found == _expected_names(processes, wanted)


def test_root_processes_without_proc_is_empty(tmp_path) -> None:
    assert set(root_processes(str(tmp_path), WANTED)) == set()


def test_process_named_uksmd_run_by_root_is_reported(tmp_path) -> None:
    _comm_tree(str(tmp_path), {'42': b'uksmd\n'})
    assert set(root_processes(str(tmp_path), ['uksmd'])) == {'uksmd'}


def test_process_named_uksmd_run_by_an_unprivileged_user_is_refused(tmp_path) -> None:
    _comm_tree(str(tmp_path), {'42': b'uksmd\n', '43': b'ksmtuned\n'})
    for pid in ('42', '43'):
        give_away(str(tmp_path / 'proc' / pid), NOBODY)
    assert set(root_processes(str(tmp_path), ['uksmd', 'ksmtuned'])) == set()
    # the same name from a root process still counts
    _comm_tree(str(tmp_path), {'2': b'uksmd\n'})
    assert set(root_processes(str(tmp_path), ['uksmd', 'ksmtuned'])) == {'uksmd'}


def test_processes_of_another_owner_than_the_one_that_counts_are_refused(tmp_path, monkeypatch) -> None:
    # the same refusal as above for any user running the tests: the tree is the test user's, and the
    # owner that counts (root on a host) is made another one
    _comm_tree(str(tmp_path), {'42': b'uksmd\n', '43': b'ksmtuned\n'})
    monkeypatch.setattr(hostinfo, 'PROCESS_OWNER_UID', os.geteuid() + 1)
    assert set(root_processes(str(tmp_path), ['uksmd', 'ksmtuned'])) == set()
    monkeypatch.setattr(hostinfo, 'PROCESS_OWNER_UID', os.geteuid())
    assert set(root_processes(str(tmp_path), ['uksmd', 'ksmtuned'])) == {'uksmd', 'ksmtuned'}


def test_root_processes_with_a_fifo_as_comm_returns_without_hanging(tmp_path) -> None:
    _comm_tree(str(tmp_path), {'42': None, '43': b'ksmd\n'})
    os.mkfifo(str(tmp_path / 'proc' / '42' / 'comm'))
    assert _within(5, lambda: set(root_processes(str(tmp_path), ['uksmd', 'ksmd']))) == {'ksmd'}


@pytest.mark.parametrize('comm', [b'', b'\n', b'\xff\xfe', b'uksmd\xff', b'\x00' * 16])
def test_garbled_comm_is_refused_as_no_process(tmp_path, comm: bytes) -> None:
    _comm_tree(str(tmp_path), {'42': comm})
    assert set(root_processes(str(tmp_path), ['uksmd'])) == set()


# -- the sharing thread's CPU time (/proc/<pid>/stat, /proc/uptime) --------------------------------
TICKS = os.sysconf('SC_CLK_TCK')


def test_thread_cpu_is_utime_plus_stime_over_the_thread_lifetime(tmp_path):
    root = str(tmp_path)
    # 3 s user + 1 s system, started 5 s after boot, 105 s of uptime: 4 s over 100 s
    sysroot_tree.thread_cpu(root, 48, 'ksmd', 3 * TICKS, 1 * TICKS, 5 * TICKS, '105.00 200.00')
    assert thread_cpu(root, 48) == {'pid': 48, 'seconds': 4.0, 'percent_since_start': 4.0}


def test_thread_cpu_counts_fields_after_the_last_parenthesis_of_the_name(tmp_path):
    root = str(tmp_path)
    sysroot_tree.thread_cpu(root, 7, 'a) (b c', 150, 50, 0, '400.0 1.0')
    assert thread_cpu(root, 7)['seconds'] == round(200 / TICKS, 2)


@pytest.mark.parametrize(
    'uptime',
    ['', 'soon', '5.00 1.00'],  # empty, not a number, a thread that started after this uptime
    ids=['empty', 'not-a-number', 'before-start'],
)
def test_thread_cpu_without_a_usable_uptime_has_seconds_but_no_percent(tmp_path, uptime):
    root = str(tmp_path)
    sysroot_tree.thread_cpu(root, 48, 'ksmd', 2 * TICKS, 0, 10 * TICKS, uptime)
    assert thread_cpu(root, 48) == {'pid': 48, 'seconds': 2.0, 'percent_since_start': None}


@pytest.mark.parametrize(
    'stat',
    [
        '',
        '48 (ksmd) S 2 0',
        '48 (ksmd) S ' + ' '.join(['x'] * 30),
        '48 (ksmd) S 2 0 0 0 -1 0 0 0 0 0 -1 1 0 0 0 0 0 0 0 5',
    ],
    ids=['empty', 'short', 'not-decimal', 'negative-utime'],
)
def test_thread_cpu_of_a_malformed_stat_is_none(tmp_path, stat):
    root = str(tmp_path)
    sysroot_tree.put(root, 'proc/48/stat', stat)
    sysroot_tree.put(root, 'proc/uptime', '100.0 1.0\n')
    assert thread_cpu(root, 48) is None


def test_thread_cpu_of_a_thread_that_is_gone_is_none(tmp_path):
    assert thread_cpu(str(tmp_path), 48) is None


@FILES
@given(st.binary(max_size=600))
def test_thread_cpu_never_raises_on_arbitrary_bytes(data):
    with tempfile.TemporaryDirectory() as root:
        sysroot_tree.put(root, 'proc/48/stat', data)
        sysroot_tree.put(root, 'proc/uptime', data)
        result = thread_cpu(root, 48)
        assert result is None or (result['seconds'] >= 0 and result['pid'] == 48)


def test_root_processes_names_the_pid_of_each(tmp_path):
    root = str(tmp_path)
    sysroot_tree.process(root, 48, 'ksmd')
    sysroot_tree.process(root, 900, 'ksmtuned')
    sysroot_tree.process(root, 901, 'bash')
    assert root_processes(root, ['ksmd', 'ksmtuned', 'uksmd']) == {'ksmd': 48, 'ksmtuned': 900}


def _counting_scans(monkeypatch):
    scans: list[list[str]] = []
    scan = hostinfo.root_processes

    def counted(sysroot, names):
        scans.append(list(names))
        return scan(sysroot, names)

    monkeypatch.setattr(hostinfo, 'root_processes', counted)
    return scans


def test_thread_lookup_scans_once_then_looks_at_the_pid_it_found(tmp_path, monkeypatch):
    root = str(tmp_path)
    sysroot_tree.process(root, 12, 'kworker/0:1')
    sysroot_tree.process(root, 48, 'ksmd')
    scans = _counting_scans(monkeypatch)
    lookup = ThreadLookup(root, 'ksmd')
    assert lookup() is True and lookup.pid == 48
    assert lookup() is True and lookup() is True
    assert scans == [['ksmd']]


@pytest.mark.parametrize('change', ['gone', 'pid reused by another name', 'pid reused by another user'])
def test_thread_lookup_scans_again_when_its_pid_is_no_longer_the_thread(tmp_path, monkeypatch, change):
    root = str(tmp_path)
    sysroot_tree.process(root, 48, 'ksmd')
    lookup = ThreadLookup(root, 'ksmd')
    assert lookup() is True
    scans = _counting_scans(monkeypatch)
    if change == 'gone':
        os.unlink(os.path.join(root, 'proc', '48', 'comm'))
        os.rmdir(os.path.join(root, 'proc', '48'))
    elif change == 'pid reused by another name':
        sysroot_tree.process(root, 48, 'bash')
    else:
        monkeypatch.setattr(hostinfo, 'PROCESS_OWNER_UID', os.geteuid() + 1)
    assert lookup() is False and lookup.pid is None
    assert scans == [['ksmd']]


def test_thread_lookup_finds_the_thread_at_its_new_pid_after_a_scan(tmp_path):
    root = str(tmp_path)
    sysroot_tree.process(root, 48, 'ksmd')
    lookup = ThreadLookup(root, 'ksmd')
    assert lookup() is True
    sysroot_tree.process(root, 48, 'bash')
    sysroot_tree.process(root, 50, 'ksmd')
    assert lookup() is True and lookup.pid == 50
