# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A sysroot of regular files for unit tests, and the few kernel behaviours a regular file cannot show.

``FakeHost(tmp_path, 'uksm')`` lays out ``sys/kernel/mm/<backend>/*`` as the kernel prints them at
boot (docs/kernel-interfaces.md) and ``proc/<pid>/comm`` for its kernel thread. Reading needs
nothing more: the code under test reads those files as they are.

A sysfs store is not a file write, so ``install(monkeypatch)`` replaces ``os.write`` inside
transaction.py only (the one call that hands an attribute's text to the kernel): a write to an
attribute of the host replaces its whole text with what the kernel would print afterwards (a
governor resets its preset, ``max_cpu_percentage`` clamps, ``sleep_millisecs`` rounds to a
250 Hz tick, ``MAX/N`` round-trips, KSM ``run=2`` unmerges, a KSM value that changes while pages
are shared is EBUSY, a change of ``advisor_mode`` resets ``pages_to_scan``, which is EINVAL while
the advisor runs), and it is logged in ``attempts``. Faults are injected per attribute: an
errno on write, a short write, a read-back that differs, a side effect the model does not know,
and an errno on the transaction's own reads (``read_text`` inside transaction.py). Nothing here
decides anything for the code under test: it only stands for the kernel.
"""

from __future__ import annotations

import errno
import os
import typing as t

from ansible_collections.litevirt.uksm.tests.helpers.owners import give_away
from ansible_collections.litevirt.uksm.tests.helpers.sysroot_tree import KSM_FILES

UKSM_GOVERNORS = ('full', 'medium', 'low', 'quiet')
# what a cpu_governor write resets, as the kernel prints it afterwards
UKSM_PRESETS = {
    'full': {
        'max_cpu_percentage': '95\n',
        'cpu_ratios': '20 40 MAX/4 MAX/1 \n',
        'eval_intervals': '1000 500 200 50 \n',
    },
    'medium': {
        'max_cpu_percentage': '50\n',
        'cpu_ratios': '20 30 MAX/4 MAX/1 \n',
        'eval_intervals': '1000 500 400 100 \n',
    },
    'low': {
        'max_cpu_percentage': '20\n',
        'cpu_ratios': '10 20 MAX/2 MAX/1 \n',
        'eval_intervals': '1500 1000 1000 250 \n',
    },
    'quiet': {'max_cpu_percentage': '1\n', 'cpu_ratios': '10 20 40 75 \n', 'eval_intervals': '2000 1000 1000 1000 \n'},
}
# every attribute of a freshly booted host, as the kernel prints it
UKSM_BOOT = dict(
    {
        'cpu_governor': '[full] medium low quiet \n',
        'abundant_threshold': '10\n',
        'thrash_threshold': '50\n',
        'sleep_millisecs': '100\n',
        'run': '1\n',
        'pages_shared': '0\n',
        'pages_sharing': '0\n',
        'pages_unshared': '0\n',
        'full_scans': '1\n',
        'pages_scanned': '0\n',
        'ema_per_page_time': '0\n',
        'hash_strength': '1\n',
        'sleep_times': '0\n',
    },
    **UKSM_PRESETS['full'],
)
# mainline KSM 6.8+ at its defaults, as the plain-tree hosts of the other unit tests
KSM_BOOT = dict(KSM_FILES)
BOOT = {'uksm': UKSM_BOOT, 'ksm': KSM_BOOT}
THREAD = {'uksm': 'uksmd', 'ksm': 'ksmd'}
# KSM values the kernel refuses to change while pages are shared
KSM_EBUSY = ('merge_across_nodes', 'max_page_sharing')
HZ = 250


def _tick(msecs: int) -> int:
    """``jiffies_to_msecs(msecs_to_jiffies(msecs))`` at HZ: rounded up to a whole tick."""
    jiffies = (msecs * HZ + 999) // 1000
    return (jiffies * 1000 + HZ - 1) // HZ


def _number(value: str, maximum: int = 2**64 - 1) -> int:
    """What kstrtoul accepts (an optional '+', decimal digits), up to ``maximum``; else EINVAL."""
    digits = value[1:] if value.startswith('+') else value
    if not (digits.isascii() and digits.isdigit()) or int(digits) > maximum:
        raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
    return int(digits)


def _ratio(token: str) -> str:
    """One cpu_ratios rung as the kernel prints it back: no '+', MAX/N stored as -(10000 // N)."""
    if token.startswith('MAX/'):
        return 'MAX/%d' % (10000 // (10000 // int(token[4:].lstrip('+'))))
    return str(int(token.lstrip('+')))


class Fault:
    """What goes wrong with writes of one attribute: an errno (after ``skip`` writes went through,
    for ``times`` writes or all of them), or a short write of ``short`` bytes."""

    def __init__(
        self, error: int | None = None, times: int | None = None, skip: int = 0, short: int | None = None
    ) -> None:
        self.error = error
        self.times = times
        self.skip = skip
        self.short = short

    def strikes(self) -> bool:
        """Whether this write fails (and count it)."""
        if self.error is None:
            return False
        if self.skip > 0:
            self.skip -= 1
            return False
        if self.times is None:
            return True
        self.times -= 1
        return self.times >= 0


class FakeHost:
    """A sysroot at ``root`` with one backend's sysfs directory and its kernel thread in ``proc``."""

    def __init__(
        self,
        root: t.Any,
        backend: str = 'uksm',
        values: dict[str, str] | None = None,
        missing: t.Sequence[str] = (),
        daemon: bool = True,
    ) -> None:
        self.root = str(root)
        self.backend = backend
        self.directory = os.path.join(self.root, 'sys', 'kernel', 'mm', backend)
        os.makedirs(self.directory)
        # where a descriptor of an attribute points (/proc/self/fd gives resolved paths)
        self.real_directory = os.path.realpath(self.directory)
        for directory in ('', 'sys', 'sys/kernel', 'sys/kernel/mm', 'sys/kernel/mm/' + backend):
            os.chmod(os.path.join(self.root, directory), 0o755)
        texts = dict(BOOT[backend], **(values or {}))
        for name, text in texts.items():
            if name not in missing:
                self.set(name, text)
        self.add_process(1, 'systemd')
        if daemon:
            self.add_process(2, THREAD[backend])
        # (attribute, text written, outcome) for every write() that reached the kernel; the outcome
        # is None when the kernel took it, its errno when it refused it, 'short' for a short write
        self.attempts: list[tuple[str, str, None | int | str]] = []
        self.faults: dict[str, Fault] = {}
        self.readbacks: dict[str, str] = {}
        self.side_effects: dict[str, tuple[str, str]] = {}
        # attribute -> [errno, reads still to let through] for the transaction's reads
        self.read_faults: dict[str, list[int]] = {}

    # the tree

    def add_process(self, pid: int, comm: str, uid: int | None = None) -> None:
        directory = os.path.join(self.root, 'proc', str(pid))
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, 'comm'), 'w', encoding='ascii') as handle:
            handle.write(comm + '\n')
        if uid is not None:
            give_away(directory, uid)

    def path(self, name: str) -> str:
        return os.path.join(self.directory, name)

    def set(self, name: str, text: str) -> None:
        with open(self.path(name), 'w', encoding='ascii') as handle:
            handle.write(text)

    def read(self, name: str) -> str:
        with open(self.path(name), encoding='ascii') as handle:
            return handle.read()

    def texts(self) -> dict[str, str]:
        """Every attribute's text: the kernel state, to compare before and after."""
        return {name: self.read(name) for name in sorted(os.listdir(self.directory))}

    @property
    def writes(self) -> list[tuple[str, str]]:
        """The writes the kernel accepted, in order."""
        return [(name, text) for name, text, error in self.attempts if error is None]

    # faults

    def fail(self, name: str, error: int = errno.EINVAL, times: int | None = None, skip: int = 0) -> None:
        """Writes of ``name`` fail with ``error``: all of them, or ``times`` of them after ``skip`` went through."""
        self.faults[name] = Fault(error=error, times=times, skip=skip)

    def short(self, name: str, count: int) -> None:
        self.faults[name] = Fault(short=count)

    def read_back(self, name: str, text: str) -> None:
        """After the next write of ``name``, it reads ``text`` (the kernel kept something else)."""
        self.readbacks[name] = text

    def side_effect(self, name: str, other: str, text: str) -> None:
        """The next write of ``name`` also sets ``other`` to ``text`` (nothing in the model predicts it)."""
        self.side_effects[name] = (other, text)

    def fail_read(self, name: str, error: int = errno.EIO, skip: int = 0) -> None:
        """The transaction's reads of ``name`` fail with ``error`` after ``skip`` of them succeeded."""
        self.read_faults[name] = [error, skip]

    # the kernel

    def install(self, monkeypatch: t.Any) -> FakeHost:
        """Put this host's kernel behind os.write and read_text inside transaction.py (for the
        test's duration: ``monkeypatch`` undoes it); returns the host."""
        from ansible_collections.litevirt.uksm.plugins.module_utils._plan import transaction

        monkeypatch.setattr(transaction, 'os', _KernelOs(self))
        real_read = transaction.read_text

        def read_text(path: str, *args: t.Any) -> str:
            name = os.path.basename(path)
            fault = self.read_faults.get(name) if os.path.dirname(path) == self.directory else None
            if fault is not None:
                if fault[1] <= 0:
                    raise OSError(fault[0], os.strerror(fault[0]))
                fault[1] -= 1
            return real_read(path, *args)

        monkeypatch.setattr(transaction, 'read_text', read_text)
        return self

    def store(self, name: str, data: bytes) -> int:
        """The kernel's side of one write() of ``data`` to ``name``: the count accepted, or OSError."""
        text = data.decode('ascii')
        fault = self.faults.get(name)
        outcome: None | int | str = None
        if fault is not None and fault.strikes():
            outcome = fault.error
        elif fault is not None and fault.short is not None:
            outcome = 'short'
        elif (
            self.backend == 'ksm'
            and name in KSM_EBUSY
            and self.read(name).strip() != text.strip()
            and self.read('pages_shared').strip() != '0'
        ):
            outcome = errno.EBUSY
        if outcome is None:
            value = text[:-1] if text.endswith('\n') else text
            try:
                getattr(self, '_%s_%s' % (self.backend, name), self._plain)(name, value)
            except OSError as error:
                outcome = error.errno
        self.attempts.append((name, text, outcome))
        if isinstance(outcome, int):
            raise OSError(outcome, os.strerror(outcome))
        if outcome == 'short':
            return t.cast(Fault, fault).short or 0
        if name in self.side_effects:
            self.set(*self.side_effects.pop(name))
        if name in self.readbacks:
            self.set(name, self.readbacks.pop(name))
        return len(data)

    def _plain(self, name: str, value: str) -> None:
        self.set(name, '%d\n' % _number(value))

    def _uksm_cpu_governor(self, name: str, value: str) -> None:
        chosen = [governor for governor in UKSM_GOVERNORS if value.startswith(governor)]
        if not chosen:
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
        self.set(name, ''.join(('[%s] ' if g == chosen[0] else '%s ') % g for g in UKSM_GOVERNORS) + '\n')
        for other, text in UKSM_PRESETS[chosen[0]].items():
            self.set(other, text)

    def _uksm_max_cpu_percentage(self, name: str, value: str) -> None:
        number = _number(value, 100)
        self.set(name, '%d\n' % (10 if number < 10 else 99 if number == 100 else number))

    def _uksm_sleep_millisecs(self, name: str, value: str) -> None:
        self.set(name, '%d\n' % _tick(_number(value, 1000)))

    def _uksm_cpu_ratios(self, name: str, value: str) -> None:
        self.set(name, ''.join(_ratio(token) + ' ' for token in value.split(' ')) + '\n')

    def _uksm_eval_intervals(self, name: str, value: str) -> None:
        self.set(name, ''.join(token + ' ' for token in value.split(' ')) + '\n')

    def _ksm_run(self, name: str, value: str) -> None:
        self._plain(name, value)
        if value == '2':
            self.set('pages_shared', '0\n')
            self.set('pages_sharing', '0\n')

    def _ksm_pages_to_scan(self, name: str, value: str) -> None:
        if os.path.exists(self.path('advisor_mode')) and '[none]' not in self.read('advisor_mode').split():
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))  # ksmd's while the advisor runs
        self._plain(name, value)

    def _ksm_advisor_mode(self, name: str, value: str) -> None:
        if value not in ('none', 'scan-time'):
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
        if '[%s]' % value not in self.read(name).split():
            reset = '100\n' if value == 'none' else self.read('advisor_min_pages_to_scan')
            self.set('pages_to_scan', reset)
        self.set(name, ' '.join(('[%s]' if mode == value else '%s') % mode for mode in ('none', 'scan-time')) + '\n')


class _KernelOs:
    """``os`` as transaction.py sees it: write() to an attribute of the host goes to the kernel."""

    def __init__(self, host: FakeHost) -> None:
        self._host = host

    def __getattr__(self, name: str) -> t.Any:
        return getattr(os, name)

    def write(self, handle: int, data: bytes) -> int:
        path = os.readlink('/proc/self/fd/%d' % handle)
        if os.path.dirname(path) != self._host.real_directory:
            return os.write(handle, data)
        return self._host.store(os.path.basename(path), bytes(data))
