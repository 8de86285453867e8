# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A host as a plain file tree (a sysroot of regular files), for pure unit tests: no FUSE, no mount.

The files hold what the kernel prints (docs/knob-reference.md): ``[full] medium low quiet`` for a
bracketed choice, ``N * 2^B`` for an overflowed UKSM ``pages_scanned``, one decimal per counter.
Regular files do not behave like sysfs on a write (no side effects, no truncation): a test that
writes through the collection changes a value for one of at least the same length, or only reads.
"""

from __future__ import annotations

import os
import typing as t

# A UKSM kernel as the simulated host boots it: governor full, its preset ladder, some sharing.
UKSM_FILES: dict[str, str] = {
    'cpu_governor': '[full] medium low quiet \n',
    'max_cpu_percentage': '95\n',
    'cpu_ratios': '20 40 MAX/4 MAX/1 \n',
    'eval_intervals': '1000 500 200 50 \n',
    'abundant_threshold': '10\n',
    'thrash_threshold': '50\n',
    'sleep_millisecs': '100\n',
    'run': '1\n',
    'pages_shared': '1200\n',
    'pages_sharing': '48000\n',
    'pages_unshared': '3500\n',
    'full_scans': '5\n',
    'pages_scanned': '2621440\n',
    'ema_per_page_time': '624\n',
    'hash_strength': '44\n',
    'sleep_times': '1875\n',
}

# What uksm_facts reads in UKSM_FILES (and on the simulated UKSM host): the tunables, typed.
UKSM_TUNABLES: dict[str, t.Any] = {
    'run': 1,
    'sleep_millisecs': 100,
    'cpu_governor': 'full',
    'max_cpu_percentage': 95,
    'cpu_ratios': ['20', '40', 'MAX/4', 'MAX/1'],
    'eval_intervals': [1000, 500, 200, 50],
    'abundant_threshold': 10,
    'thrash_threshold': 50,
}

# A mainline KSM 6.8+ kernel at its defaults: ksmd stopped, nothing shared.
KSM_FILES: dict[str, str] = {
    'advisor_mode': '[none] scan-time\n',
    'pages_to_scan': '100\n',
    'advisor_max_cpu': '70\n',
    'advisor_min_pages_to_scan': '500\n',
    'advisor_max_pages_to_scan': '30000\n',
    'advisor_target_scan_time': '200\n',
    'sleep_millisecs': '20\n',
    'merge_across_nodes': '1\n',
    'use_zero_pages': '0\n',
    'max_page_sharing': '256\n',
    'stable_node_chains_prune_millisecs': '2000\n',
    'smart_scan': '1\n',
    'run': '0\n',
    'pages_shared': '0\n',
    'pages_sharing': '0\n',
    'pages_unshared': '0\n',
    'pages_volatile': '0\n',
    'full_scans': '0\n',
    'stable_node_chains': '0\n',
    'stable_node_dups': '0\n',
    'general_profit': '0\n',
    'pages_scanned': '0\n',
    'ksm_zero_pages': '0\n',
    'pages_skipped': '0\n',
}

# What a 4.13 kernel has: no advisor (6.8), smart_scan (6.7) or the newer statistics.
KSM_OLD_MISSING = (
    'advisor_mode',
    'advisor_max_cpu',
    'advisor_min_pages_to_scan',
    'advisor_max_pages_to_scan',
    'advisor_target_scan_time',
    'smart_scan',
    'general_profit',
    'pages_scanned',
    'ksm_zero_pages',
    'pages_skipped',
)

DEFAULT_FILES = {'uksm': UKSM_FILES, 'ksm': KSM_FILES}

Content = str | bytes | int


def put(root: str, relative: str, content: Content) -> str:
    """Write ``content`` (text, bytes, or an int as one decimal line) at ``root/relative``; its path."""
    path = os.path.join(root, relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if isinstance(content, int):
        content = '%d\n' % content
    data = content.encode('utf-8') if isinstance(content, str) else content
    with open(path, 'wb') as handle:
        handle.write(data)
    return path


def read(root: str, relative: str) -> str:
    with open(os.path.join(root, relative), encoding='utf-8') as handle:
        return handle.read()


def interface(root: str, backend: str, omit: t.Iterable[str] = (), **files: Content | None) -> str:
    """``<root>/sys/kernel/mm/<backend>/`` with the default files, ``files`` replacing them (None
    leaves a file out, a new name adds one) and the names in ``omit`` left out; the directory."""
    directory = os.path.join(root, 'sys', 'kernel', 'mm', backend)
    os.makedirs(directory, exist_ok=True)
    contents: dict[str, Content | None] = dict(DEFAULT_FILES[backend])
    contents.update(files)
    for name in omit:
        contents[name] = None
    for name, content in contents.items():
        if content is not None:
            put(directory, name, content)
    return directory


def uksm(root: str, omit: t.Iterable[str] = (), **files: Content | None) -> str:
    return interface(root, 'uksm', omit, **files)


def ksm(root: str, omit: t.Iterable[str] = (), **files: Content | None) -> str:
    return interface(root, 'ksm', omit, **files)


def ksm_old(root: str, **files: Content | None) -> str:
    """A 4.13-era KSM interface (see KSM_OLD_MISSING)."""
    return interface(root, 'ksm', KSM_OLD_MISSING, **files)


def process(root: str, pid: int, comm: str) -> str:
    """``/proc/<pid>/comm`` of a process named ``comm`` (owned by whoever runs the test: root in CI)."""
    return put(root, 'proc/%d/comm' % pid, comm + '\n')


def thread_cpu(root: str, pid: int, comm: str, utime: int, stime: int, starttime: int, uptime: str) -> None:
    """``/proc/<pid>/stat`` of a sleeping kernel thread with these CPU times and start time (clock ticks),
    and ``/proc/uptime`` (seconds, as the kernel prints them: ``'12345.67 890.12'``)."""
    fields = [str(pid), '(%s)' % comm, 'S', '2', '0', '0', '0', '-1', '2129984', '0', '0', '0', '0']
    fields += [str(utime), str(stime), '0', '0', '25', '5', '1', '0', str(starttime)]
    fields += ['0'] * (52 - len(fields))
    put(root, 'proc/%d/stat' % pid, ' '.join(fields) + '\n')
    put(root, 'proc/uptime', uptime + '\n')


def meminfo(root: str, zero_kib: int | None = None, available_percent: float | None = None) -> str:
    """``/proc/meminfo`` of a 16,384,000 kB host, with a ``KsmZeroPages`` line when ``zero_kib`` is given
    (UKSM kernels) and a ``MemAvailable`` line when ``available_percent`` is."""
    text = 'MemTotal:       16384000 kB\nMemFree:         8192000 kB\n'
    if available_percent is not None:
        text += 'MemAvailable:   %8d kB\n' % int(16384000 * available_percent / 100)
    if zero_kib is not None:
        text += 'KsmZeroPages:   %8d kB\n' % zero_kib
    return put(root, 'proc/meminfo', text)


def memory_pressure(root: str, some_avg10: float, full_avg10: float) -> str:
    """``/proc/pressure/memory`` (PSI, kernels from 4.20)."""
    return put(
        root,
        'proc/pressure/memory',
        'some avg10=%.2f avg60=0.00 avg300=0.00 total=12345\nfull avg10=%.2f avg60=0.00 avg300=0.00 total=678\n'
        % (some_avg10, full_avg10),
    )


def unit_file(root: str, relative: str, text: str = '[Service]\n') -> str:
    return put(root, relative, text)


def enable(root: str, unit_path: str, target: str, unit: str | None = None) -> str:
    """The ``<target>.wants`` link ``systemctl enable`` makes to ``/<unit_path>``; the link's path."""
    name = unit or os.path.basename(unit_path)
    link = os.path.join(root, 'etc/systemd/system', target + '.wants', name)
    os.makedirs(os.path.dirname(link), exist_ok=True)
    os.symlink('/' + unit_path, link)
    return link
