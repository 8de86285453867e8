# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""Where a host's files are, and which backend its kernel offers.

Every path the collection touches is a fixed relative path joined to ``sysroot``; attribute names
come from the knob model, never straight from user input.

The code the launchers run (the boot applier, the metrics writer, the tuner) calls the system through
``posix``, the module ``os`` re-exports, and takes its few path operations from here: importing ``os``
builds os.environ's mapping classes, about a tenth of a Python start on a slow host, and they start at
every boot and timer tick (README, Performance). Code only modules run imports os freely: Ansible has
imported it before they run.
"""

from __future__ import annotations

import posix

from .._knobs.attributes import BACKENDS, DETECTION_ORDER, Backend
from .._knobs.value_kinds import Choice, KernelFormatError
from ..errors import UksmError

TYPE_CHECKING = False  # importing typing costs the boot applier ~8 ms; annotations are strings
if TYPE_CHECKING:
    import typing as t

# A sysfs attribute is at most one page; the kernel never prints more.
READ_LIMIT = 4096


class SysrootError(UksmError):
    """The sysroot option is not a usable absolute path."""


def check_sysroot(sysroot: str) -> str:
    """Return the normalised sysroot, or raise ``SysrootError``."""
    if not isinstance(sysroot, str) or not sysroot:
        raise SysrootError('sysroot must be a non-empty path')
    if '\x00' in sysroot:
        raise SysrootError('sysroot must not contain NUL bytes')
    if not sysroot.startswith('/'):
        raise SysrootError('sysroot must be an absolute path, got %r' % sysroot)
    return normalise_absolute(sysroot)


def normalise_absolute(path: str) -> str:
    """``os.path.normpath`` of an absolute path: no empty, ``.`` or ``..`` components (a ``..`` at the
    top is dropped), and a leading ``//``, which POSIX lets a system give a meaning, kept as it is."""
    top = '//' if path.startswith('//') and not path.startswith('///') else '/'
    parts: list[str] = []
    for part in path.split('/'):
        if part == '..':
            if parts:
                parts.pop()
        elif part and part != '.':
            parts.append(part)
    return top + '/'.join(parts)


def join(directory: str, name: str) -> str:
    """``os.path.join`` of two paths."""
    if name.startswith('/'):
        return name
    return directory + name if not directory or directory.endswith('/') else directory + '/' + name


def host_path(sysroot: str, relative: str) -> str:
    """``relative`` (a fixed path such as ``proc/meminfo``) taken under ``sysroot``."""
    return join(sysroot, relative)


def exists(path: str, follow_symlinks: bool = True) -> bool:
    """``os.path.exists`` (``os.path.lexists`` when not ``follow_symlinks``)."""
    try:
        posix.stat(path, follow_symlinks=follow_symlinks)
    except (OSError, ValueError):
        return False
    return True


def read_text(path: str, limit: int = READ_LIMIT) -> str:
    """Read a kernel file with one ``read()``, as sysfs expects: at most ``limit`` bytes, as ASCII
    (other bytes become U+FFFD for the parser to refuse). ``O_NONBLOCK``: a FIFO planted in a test
    tree or a chroot answers at once instead of stalling us."""
    handle = posix.open(path, posix.O_RDONLY | posix.O_NONBLOCK | posix.O_CLOEXEC)
    try:
        return posix.read(handle, limit).decode('ascii', 'replace')
    finally:
        posix.close(handle)


class Detection:
    """The outcome of backend detection on one host."""

    def __init__(
        self,
        backend: Backend | None = None,
        path: str | None = None,
        kernel_attrs: t.Sequence[str] = (),
        unknown: t.Sequence[str] = (),
        reason: str | None = None,
    ) -> None:
        self.backend = backend
        self.path = path
        # attributes of the model found on this kernel, in table order
        self.kernel_attrs = list(kernel_attrs)
        # files the model does not know (newer kernels add attributes)
        self.unknown = list(unknown)
        self.reason = reason

    @property
    def available(self) -> bool:
        return self.backend is not None

    def attr_path(self, name: str) -> str:
        """Path of a model attribute; refuses names the model or this kernel lacks."""
        if self.backend is None or self.path is None or name not in self.kernel_attrs:
            raise KeyError(name)
        return join(self.path, name)


def detect(sysroot: str, backend_choice: str = 'auto') -> Detection:
    """Find the backend: ``auto`` picks UKSM when its ``cpu_governor`` exists, else KSM."""
    candidates = DETECTION_ORDER if backend_choice == 'auto' else (BACKENDS[backend_choice],)
    reasons = []
    for backend in candidates:
        directory = host_path(sysroot, backend.directory)
        shown = '/' + backend.directory
        try:
            names = set(posix.listdir(directory))
        except FileNotFoundError:
            reasons.append('%s does not exist' % shown)
            continue
        except OSError as error:
            reasons.append('%s cannot be listed: %s (errno %s)' % (shown, error.strerror, error.errno))
            continue
        if backend.marker not in names:
            reasons.append(
                '%s has an attribute set this collection does not know (no %s; pre-0.1.2 UKSM '
                'trees are not supported)' % (shown, backend.marker)
            )
            continue
        kernel_attrs = [name for name in backend.attrs if name in names]
        unknown = sorted(names - set(backend.attrs))
        return Detection(backend, directory, kernel_attrs, unknown)
    if backend_choice == 'auto' and all(reason.endswith('does not exist') for reason in reasons):
        reasons.append('the kernel is built without KSM/UKSM or /sys is masked')
    return Detection(reason='; '.join(reasons))


def read_attributes(
    detection: Detection, names: t.Iterable[str] | None = None
) -> tuple[dict[str, t.Any], dict[str, list[str]], dict[str, t.Any], list[str]]:
    """Read and parse ``names`` (default: every attribute this kernel has): (tunables, choices, stats, errors)."""
    tunables: dict[str, t.Any] = {}
    choices: dict[str, list[str]] = {}
    stats: dict[str, t.Any] = {}
    errors: list[str] = []
    backend = detection.backend
    if backend is None:
        return tunables, choices, stats, errors
    selected = None if names is None else set(names)
    for name in detection.kernel_attrs:
        if selected is not None and name not in selected:
            continue
        attr = backend.attrs[name]
        try:
            text = read_text(detection.attr_path(name))
            if isinstance(attr.kind, Choice):
                value, choices[name] = attr.kind.parse_all(text)
            else:
                value = attr.kind.parse(text)
        except OSError as error:
            errors.append('%s: cannot read: %s (errno %s)' % (name, error.strerror, error.errno))
            continue
        except KernelFormatError as error:
            errors.append('%s: %s' % (name, error))
            continue
        (tunables if attr.writable else stats)[name] = value
    return tunables, choices, stats, errors
