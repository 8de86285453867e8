"""Common machinery of the sysfs attribute models: dispatch, state, errors."""

from __future__ import annotations

import copy
import errno
from collections.abc import Callable
from typing import Any

from simhost.parse import kernel_error, store_text

PAGE_SIZE = 4096

Show = Callable[[], str]
Store = Callable[[bytes], None]


class KernelHang(OSError):
    """A store that would sleep forever in the kernel (uninterruptible).

    The pure model raises it at once with the errno the state names
    (``hang_errno``); the host layer sleeps ``hang_seconds`` first so that
    the caller really blocks.
    """

    def __init__(self, code: int, what: str) -> None:
        super().__init__(code, what)


class SysfsKernel:
    """A kobject directory of attributes with show()/store() callbacks.

    Subclasses register attributes in ``_register`` and provide defaults.
    ``state`` is a flat JSON-serialisable dict holding every stored value;
    attribute reads are computed from it on every call, like show().
    """

    dirname = ""
    thread_name = ""
    #: state keys that are not numbers (validated separately on merge)
    _free_keys: tuple[str, ...] = ()

    def __init__(self, attrs: list[str] | None = None, state: dict[str, Any] | None = None) -> None:
        self._table: dict[str, tuple[Show, Store | None]] = {}
        self._register()
        if attrs is not None:
            unknown = set(attrs) - set(self._table)
            if unknown:
                raise ValueError("unknown attributes: %s" % ", ".join(sorted(unknown)))
            self._table = {name: self._table[name] for name in attrs}
        self.state: dict[str, Any] = self.defaults()
        if state:
            self.state.update(copy.deepcopy(state))
        #: set by every write(): whether the store hit a simulated kernel hazard
        self.last_write_hazard = False
        #: the count argument of the store() in progress (some stores care about it)
        self._current_count = 0

    # -- to be provided by subclasses -------------------------------------
    def _register(self) -> None:
        raise NotImplementedError

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Kernel state right after boot."""
        raise NotImplementedError

    # -- registration helpers ------------------------------------------------
    def _rw(self, name: str, show: Show, store: Store) -> None:
        self._table[name] = (show, store)

    def _ro(self, name: str, show: Show) -> None:
        self._table[name] = (show, None)

    def _stat(self, name: str) -> None:
        # Read-only counter printed with %lu / %ld straight from the state.
        self._ro(name, lambda: "%d\n" % self.state[name])

    # -- the sysfs ABI -------------------------------------------------------
    def attributes(self) -> list[str]:
        """Attribute names in registration order, like the kernel's attribute group."""
        return list(self._table)

    def has(self, attr: str) -> bool:
        return attr in self._table

    def is_writable(self, attr: str) -> bool:
        """True for mode 0644 attributes (a store callback exists)."""
        return self._lookup(attr)[1] is not None

    def mode(self, attr: str) -> int:
        return 0o644 if self.is_writable(attr) else 0o444

    def read(self, attr: str) -> bytes:
        """The full text show() produces."""
        return self._lookup(attr)[0]().encode()

    def write(self, attr: str, data: bytes) -> int:
        """One write() call: returns the bytes accepted or raises OSError."""
        store = self._lookup(attr)[1]
        self.last_write_hazard = False
        if store is None:
            # kernfs refuses to open a file without store() for writing.
            raise kernel_error(errno.EACCES, "%s is read-only" % attr)
        # kernfs copies at most one page per write; a zero-length write never reaches store().
        data = data[:PAGE_SIZE]
        if not data:
            return 0
        self._current_count = len(data)
        store(store_text(data))
        return len(data)

    def settle(self, attr: str) -> list[dict[str, Any]] | None:
        """What the kernel's own thread does before a read of ``attr``: its events, None when it did nothing.

        ``read`` never calls it: the pure models are time-free, the host (FUSE, ``Control``) calls it.
        """
        return None

    def _lookup(self, attr: str) -> tuple[Show, Store | None]:
        try:
            return self._table[attr]
        except KeyError:
            raise kernel_error(errno.ENOENT, "no attribute %s" % attr) from None

    # -- state access for the control interface ----------------------------
    def snapshot(self) -> dict[str, Any]:
        return copy.deepcopy(self.state)

    def merge_state(self, patch: dict[str, Any]) -> None:
        """Merge a JSON object into the state after checking keys and types."""
        for key, value in patch.items():
            if key not in self.state:
                raise kernel_error(errno.EINVAL, "unknown state key %r" % key)
            self._check_value(key, value)
        for key, value in patch.items():
            self.state[key] = copy.deepcopy(value)

    def _check_value(self, key: str, value: Any) -> None:
        current = self.state[key]
        if key in self._free_keys:
            return
        if isinstance(current, bool):
            ok = isinstance(value, bool)
        elif isinstance(current, (int, float)):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        elif isinstance(current, list):
            ok = (
                isinstance(value, list)
                and len(value) == len(current)
                and all(isinstance(item, int) and not isinstance(item, bool) for item in value)
            )
        else:
            ok = isinstance(value, type(current))
        if not ok:
            raise kernel_error(errno.EINVAL, "bad value for state key %r: %r" % (key, value))
