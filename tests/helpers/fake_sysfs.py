# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A sysroot of regular files for unit tests, and the few kernel behaviours a regular file cannot show.

``FakeHost(tmp_path, 'uksm')`` lays out ``sys/kernel/mm/<backend>/*`` as the kernel prints them at
boot (docs/kernel-interfaces.md) and ``proc/<pid>/comm`` for its kernel thread. Reading needs
nothing more: the code under test reads those files as they are.

A sysfs store is not a file write, so ``install(monkeypatch)`` replaces ``write`` of the ``posix``
module (what ``os`` re-exports) inside transaction.py only, the one call that hands an attribute's
text to the kernel: the simulator's kernel model (tests/simhost: a governor resets its preset,
``max_cpu_percentage`` clamps, ``sleep_millisecs`` rounds to a 250 Hz tick, ``MAX/N`` round-trips,
KSM ``run=2`` unmerges, a KSM value that changes while pages are shared is EBUSY, ...) takes the
write, from the host's current values, and every attribute it changed is written back as the kernel
prints it; each write is logged in ``attempts``. The unit tests and the simulated hosts so share one
kernel model, independent of the collection's knob model. Faults are injected per attribute: an
errno on write, a short write, a read-back that differs, a side effect the model does not know,
and an errno on the transaction's own reads (``read_text`` inside transaction.py). Nothing here
decides anything for the code under test: it only stands for the kernel.
"""

from __future__ import annotations

import errno
import os
import typing as t

from simhost.kernel import KsmKernel, SysfsKernel, UksmKernel, msecs_to_jiffies
from simhost.uksm import GOVERNORS, PRESETS

from ansible_collections.litevirt.uksm.tests.helpers.owners import give_away
from ansible_collections.litevirt.uksm.tests.helpers.sysroot_tree import KSM_FILES


def _preset(governor: str) -> dict[str, str]:
    """What a cpu_governor write resets, as the kernel prints it afterwards."""
    kernel = UksmKernel()
    kernel.write('cpu_governor', governor.encode())
    return {name: kernel.read(name).decode() for name in PRESETS[governor]}


UKSM_PRESETS = {governor: _preset(governor) for governor in GOVERNORS}
_BOOTED = UksmKernel()
# every attribute of a freshly booted host, as the kernel prints it: the model's settings, nothing merged yet
UKSM_BOOT = {name: _BOOTED.read(name).decode() for name in _BOOTED.attributes() if _BOOTED.is_writable(name)}
UKSM_BOOT.update(
    {
        'pages_shared': '0\n',
        'pages_sharing': '0\n',
        'pages_unshared': '0\n',
        'full_scans': '1\n',
        'pages_scanned': '0\n',
        'ema_per_page_time': '0\n',
        'hash_strength': '1\n',
        'sleep_times': '0\n',
    }
)
# mainline KSM 6.8+ at its defaults, as the plain-tree hosts of the other unit tests
KSM_BOOT = dict(KSM_FILES)
BOOT = {'uksm': UKSM_BOOT, 'ksm': KSM_BOOT}
THREAD = {'uksm': 'uksmd', 'ksm': 'ksmd'}


def _state_of(kernel: SysfsKernel, name: str, text: str) -> dict[str, t.Any]:
    """The model's state behind an attribute's text as the host shows it; {} (or the model's OSError) for a
    text it cannot hold."""
    words = text.split()
    try:
        if name in ('cpu_governor', 'advisor_mode'):
            return {name: [word for word in words if word.startswith('[')][0].strip('[]')}
        if name == 'cpu_ratios':
            return {name: [t.cast(UksmKernel, kernel).parse_ratio(word.encode()) for word in words]}
        if name == 'eval_intervals':
            return {name: [int(word) for word in words]}
        if name == 'sleep_millisecs' and 'sleep_jiffies' in kernel.state:
            return {'sleep_jiffies': msecs_to_jiffies(int(text), kernel.state['hz'])}
        if isinstance(kernel.state.get(name), int):
            return {name: int(text)}
    except (IndexError, ValueError):
        pass
    return {}


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
        """Put this host's kernel behind posix.write and read_text inside transaction.py (for the
        test's duration: ``monkeypatch`` undoes it); returns the host."""
        from ansible_collections.litevirt.uksm.plugins.module_utils._plan import transaction

        monkeypatch.setattr(transaction, 'posix', _KernelPosix(self))
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
        if outcome is None:
            try:
                self._kernel_store(name, data)
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

    def _kernel_store(self, name: str, data: bytes) -> None:
        """The simulator's model takes the write, booted with the host's current values; every attribute of
        the host that the write changed is written back as the model prints it. OSError when it refuses."""
        kernel = UksmKernel() if self.backend == 'uksm' else KsmKernel()
        shown = [attr for attr in kernel.attributes() if os.path.exists(self.path(attr))]
        for attr in shown:
            try:
                kernel.merge_state(_state_of(kernel, attr, self.read(attr)))
            except OSError:
                pass  # a text the test planted that the kernel could not show: its default stays
        before = {attr: kernel.read(attr) for attr in shown}
        kernel.write(name, data)
        for attr in shown:
            if attr == name or kernel.read(attr) != before[attr]:
                self.set(attr, kernel.read(attr).decode())


class _KernelPosix:
    """``posix`` as transaction.py sees it: write() to an attribute of the host goes to the kernel."""

    def __init__(self, host: FakeHost) -> None:
        self._host = host

    def __getattr__(self, name: str) -> t.Any:
        return getattr(os, name)

    def write(self, handle: int, data: bytes) -> int:
        path = os.readlink('/proc/self/fd/%d' % handle)
        if os.path.dirname(path) != self._host.real_directory:
            return os.write(handle, data)
        return self._host.store(os.path.basename(path), bytes(data))
