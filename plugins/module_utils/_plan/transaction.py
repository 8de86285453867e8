# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""Write a plan to sysfs: one write() per attribute, read back, and roll back on any failure."""

from __future__ import annotations

import errno
import posix

from .._host.hostinfo import ThreadLookup
from .._host.sysfs import Detection, read_text
from .._knobs.attributes import (
    HAZARD_ADVISOR_MANAGED,
    HAZARD_CORRUPTS_MEMORY,
    HAZARD_EBUSY_WHILE_SHARED,
    HAZARD_NEEDS_DAEMON,
    Backend,
)
from .._knobs.value_kinds import KernelFormatError
from ..errors import UksmError
from .plan import Plan, Step, advisor_manages, raised_by_kernel, resets

TYPE_CHECKING = False  # importing typing costs the boot applier ~8 ms; annotations are strings
if TYPE_CHECKING:
    import typing as t

    from .._host.written_values import WrittenValues


class ApplyError(UksmError):
    """A write failed or read back wrong; every attribute this run changed was restored if possible."""

    def __init__(
        self, message: str, failed: str, error: int | None, restored: list[str], not_restored: list[str]
    ) -> None:
        super().__init__(message, failed_attribute=failed, errno=error, restored=restored, not_restored=not_restored)
        self.failed = failed
        self.errno = error
        self.restored = restored
        self.not_restored = not_restored


def write_text(path: str, text: str) -> None:
    """One write() call, as the kernel's store expects; a short write is an error."""
    data = text.encode('ascii')
    handle = posix.open(path, posix.O_WRONLY | posix.O_CLOEXEC)
    try:
        count = posix.write(handle, data)
    finally:
        posix.close(handle)
    if count != len(data):
        raise OSError(errno.EIO, 'short write: %d of %d bytes accepted' % (count, len(data)))


def read_value(backend: Backend, detection: Detection, name: str) -> t.Any:
    """The attribute's value; text the model cannot parse is a failed read (EIO), rolled back like one."""
    text = read_text(detection.attr_path(name))
    try:
        return backend.attrs[name].kind.parse(text)
    except KernelFormatError as error:
        raise OSError(errno.EIO, str(error)) from None


def _describe(error: OSError) -> str:
    name = errno.errorcode.get(error.errno or 0, 'errno %s' % error.errno)
    return '%s (%s)' % (name, error.strerror or error)


def _outcome(restored: list[str], not_restored: list[str]) -> str:
    """The end of a failure's message: what the rollback restored, and what it could not."""
    text = '; restored: %s' % (', '.join(restored) or ('nothing' if not_restored else 'nothing was changed'))
    if not_restored:
        text += '; NOT restored: %s' % '; '.join(not_restored)
    return text


class Transaction:
    """Applies one plan under the caller's lock, remembering what it touched so it can roll back."""

    def __init__(
        self,
        backend: Backend,
        detection: Detection,
        sysroot: str,
        before: dict[str, t.Any],
        allow_unmerge: bool = False,
        allow_eval_intervals: bool = False,
        written: WrittenValues | None = None,
        daemon_check: t.Callable[[], bool] | None = None,
    ) -> None:
        self.backend = backend
        self.detection = detection
        self.sysroot = sysroot
        self.before = before
        self.allow_unmerge = allow_unmerge
        self.allow_eval_intervals = allow_eval_intervals
        # attribute -> value before this run, for everything a write may have changed
        self.touched: dict[str, t.Any] = {}
        # the tunables as the plan leaves them: what a value the kernel raises is judged against
        self.expected: dict[str, t.Any] = dict(before)
        # the record of what the collection wrote to attributes the kernel raises, and this run's writes
        self.written = written
        self.saved: dict[str, t.Any] = {}
        # (attribute, value) read back after the run's latest write, which the verification need not read
        self.last_read_back: tuple[str, t.Any] | None = None
        # whether the kernel thread runs, asked before each write that needs it (the planner's, which
        # looks at the pid it found)
        self.daemon_check = daemon_check or ThreadLookup(sysroot, backend.thread)

    def _holds(self, name: str, desired: t.Any, actual: t.Any, known: dict[str, t.Any]) -> bool:
        """Whether ``actual`` is what the kernel makes of ``desired``: the value, or one it raised itself."""
        kind = self.backend.attrs[name].kind
        if kind.equivalent(desired, actual):
            return True
        found = raised_by_kernel(
            self.backend, name, kind.normalise(desired), actual, known, None, self.written, self.saved.get(name)
        )
        return found is not None

    def _wrote(self, name: str, value: t.Any) -> None:
        """Remember a write to an attribute the kernel raises by itself: the kernel keeps it aside."""
        if self.backend.attrs[name].raised_by_kernel is not None:
            self.saved[name] = value

    def _record(self) -> None:
        """Keep what this run wrote to such attributes for later runs, once, when the run ends."""
        if self.written is not None:
            for name, value in self.saved.items():
                self.written.record(name, value)

    def _write(self, name: str, text: str) -> None:
        attr = self.backend.attrs[name]
        if HAZARD_NEEDS_DAEMON in attr.hazards and not self.daemon_check():
            raise OSError(
                errno.ESRCH,
                '%s is gone: a write to %s would block forever; reboot the host' % (self.backend.thread, name),
            )
        self.last_read_back = None  # a write may change what any earlier read saw
        write_text(self.detection.attr_path(name), text)

    def _touch(self, name: str) -> None:
        if name in self.before and name not in self.touched:
            self.touched[name] = self.before[name]

    def _apply_step(self, step: Step) -> None:
        self._touch(step.name)
        # a governor's preset, an advisor mode's pages_to_scan: restored with it on a rollback
        for other in resets(self.backend, step.name, step.value):
            self._touch(other)
        try:
            self._write(step.name, step.text)
        except OSError as error:
            hazards = self.backend.attrs[step.name].hazards
            if error.errno != errno.EBUSY or HAZARD_EBUSY_WHILE_SHARED not in hazards or not self.allow_unmerge:
                raise
            # the documented procedure: unmerge everything, write, and let run be restored afterwards
            self._touch('run')
            self._write('run', '2\n')
            self._write(step.name, step.text)
        self._wrote(step.name, self.backend.attrs[step.name].kind.normalise(step.value))
        actual = read_value(self.backend, self.detection, step.name)
        self.last_read_back = (step.name, actual)
        if not self._holds(step.name, step.value, actual, self.expected):
            raise OSError(errno.EIO, 'read back %r after writing %r' % (actual, step.text.strip()))

    def apply(self, plan: Plan) -> dict[str, t.Any]:
        """Write every step; return the tunables as read back at the end (see ``_verify``)."""
        self.expected = dict(plan.final)
        for step in plan.steps:
            try:
                self._apply_step(step)
            except OSError as error:
                self._fail(step.name, step.text, error)
        # an unmerge for an EBUSY attribute stopped ksmd: put run back unless the plan set it, before
        # the verification (a policy that asks for the current run is not a step, yet is checked)
        if 'run' in self.touched and not any(step.name == 'run' for step in plan.steps):
            try:
                self._restore('run', self.touched['run'])
            except OSError as error:
                self._fail('run', self.backend.attrs['run'].kind.format(self.touched['run']), error)
        after = self._verify(plan)
        self._record()
        return after

    def _fail(self, name: str, text: str, error: OSError) -> t.NoReturn:
        """Roll back after the write of ``text`` to ``name`` failed, and raise the ApplyError that says so."""
        restored, not_restored = self.rollback()
        message = 'writing %s=%r failed: %s' % (name, text.strip(), _describe(error))
        raise ApplyError(message + _outcome(restored, not_restored), name, error.errno, restored, not_restored)

    def _verify(self, plan: Plan) -> dict[str, t.Any]:
        """Every requested attribute holds its value at the end, side effects included.

        Reads each requested attribute and each one the plan predicts to change once (not the one read
        back after the last write: nothing was written since), and returns the tunables as before with
        those reads on top: the caller needs no second full read.
        """
        after = dict(self.before)
        changing = [name for name, value in plan.final.items() if self.before.get(name) != value]
        # reads do not clear it: the same pair holds for the whole verification
        last_name, last_value = self.last_read_back or (None, None)
        for name in self.backend.write_order(set(plan.desired) | set(changing)):
            try:
                after[name] = actual = (
                    last_value if name == last_name else read_value(self.backend, self.detection, name)
                )
            except OSError as error:
                restored, not_restored = self.rollback()
                raise ApplyError(
                    '%s cannot be read back after the run: %s%s'
                    % (name, _describe(error), _outcome(restored, not_restored)),
                    name,
                    error.errno,
                    restored,
                    not_restored,
                ) from None
            if name in plan.desired and not self._holds(name, plan.desired[name], actual, after):
                restored, not_restored = self.rollback()
                message = '%s reads %r after the run instead of %r (a side effect the model did not predict)%s' % (
                    name,
                    actual,
                    plan.desired[name],
                    _outcome(restored, not_restored),
                )
                raise ApplyError(message, name, None, restored, not_restored)
        return after

    def _restore(self, name: str, value: t.Any) -> bool:
        """Write ``value`` (as read before the run) back if the kernel holds something else, and read
        it back; True when a write happened. Compared as read, not as a request: a value only a
        preset gives (quiet's max_cpu_percentage of 1) is in place, and a write of it would clamp."""
        if read_value(self.backend, self.detection, name) == value:
            return False
        text = self.backend.attrs[name].kind.format(value)
        self._write(name, text)
        self._wrote(name, value)
        actual = read_value(self.backend, self.detection, name)
        raised = raised_by_kernel(self.backend, name, value, actual, self.before, None, self.written, value)
        if actual != value and raised is None:
            raise OSError(errno.EIO, 'read back %r after writing %r' % (actual, text.strip()))
        return True

    def rollback(self) -> tuple[list[str], list[str]]:
        """Restore every touched attribute in write order (a governor first: it resets the overrides)."""
        restored = []
        not_restored = []
        for name in self.backend.write_order(self.touched):
            value = self.touched[name]
            if HAZARD_ADVISOR_MANAGED in self.backend.attrs[name].hazards and advisor_manages(self.before):
                continue  # ksmd's again once the advisor mode is back: refused by the kernel, and not drift
            if HAZARD_CORRUPTS_MEMORY in self.backend.attrs[name].hazards and not self.allow_eval_intervals:
                try:
                    if not self.backend.attrs[name].kind.equivalent(
                        value, read_value(self.backend, self.detection, name)
                    ):
                        not_restored.append('%s (left at the preset; writing it corrupts kernel memory)' % name)
                except OSError:
                    pass
                continue
            try:
                if self._restore(name, value):
                    restored.append('%s=%s' % (name, value))
            except OSError as error:
                not_restored.append('%s=%s: %s' % (name, value, _describe(error)))
        self._record()
        return restored, not_restored
