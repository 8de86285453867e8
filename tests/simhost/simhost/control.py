"""Python helper for tests: drive a sysroot's control interface.

While the sysroot is mounted everything goes through
``SYSROOT/sys/kernel/mm/.simctl/``; when it is not (or for variant ``none``)
the same operations act on ``SYSROOT/.simhost/`` directly, so a test can
prepare state before ``mount`` and inspect the log after ``umount``.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from simhost.host import SimHost
from simhost.sysroot import Paths, load_doc
from simhost.variants import get_variant


class Control:
    """Control handle for one sysroot."""

    def __init__(self, sysroot: str) -> None:
        self.paths = Paths(sysroot)

    # -- transport --------------------------------------------------------------------
    @property
    def mounted(self) -> bool:
        return os.path.isdir(self.paths.ctl)

    def _ctl_path(self, name: str) -> str:
        return os.path.join(self.paths.ctl, name)

    def _ctl_read(self, name: str) -> str:
        with open(self._ctl_path(name), "rb") as handle:
            return handle.read().decode("utf-8")

    def _ctl_write(self, name: str, payload: str) -> None:
        # One write() per document: the server parses each write on its own.
        fd = os.open(self._ctl_path(name), os.O_WRONLY)
        try:
            os.write(fd, payload.encode("utf-8"))
        finally:
            os.close(fd)

    def _offline(self) -> SimHost:
        return SimHost.load(self.paths.root)

    # -- kernel state -------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """The full kernel state (plus the variant)."""
        if self.mounted:
            return json.loads(self._ctl_read("state"))
        return self._offline().state()

    def set_state(self, **values: Any) -> None:
        """Merge values into the kernel state, e.g. ``set_state(pages_shared=10)``."""
        if self.mounted:
            self._ctl_write("state", json.dumps(values))
        else:
            self._offline().merge_state(values)

    def uksmd_rounds(self, count: int = 1) -> None:
        """UKSM: uksmd lets ``count`` evaluation rounds pass, one batch each (section 2.5).

        The batch that is due runs first in the current round; then ``eval_round`` grows by
        one per round and a batch runs in each new round (``count=0``: only the due batch).
        Fails ESRCH when uksmd is gone and EINVAL while ``run`` is 0 or on a KSM host.
        """
        self.set_state(uksmd_rounds=count)

    def reboot(self) -> None:
        """Back to the state ``create`` made (uksmd alive again, faults cleared)."""
        if self.mounted:
            self._ctl_write("reboot", "1\n")
        else:
            self._offline().reboot()

    # -- faults -------------------------------------------------------------------------
    def inject(
        self,
        attr: str,
        errno: str | None = None,
        short: int | None = None,
        readback: str | None = None,
        block: int | float | None = None,
        times: int = 1,
        skip: int = 0,
        op: str = "write",
    ) -> None:
        """Queue one fault; give exactly one of errno, short, readback or block (seconds)."""
        spec: dict[str, Any] = {"attr": attr, "times": times, "skip": skip, "op": op}
        for key, value in (("errno", errno), ("short", short), ("readback", readback), ("block", block)):
            if value is not None:
                spec[key] = value
        self._set_faults(spec)

    def release(self) -> None:
        """Let every write held by a block fault go on to the kernel (writes ``.simctl/release``)."""
        if not self.mounted:
            # Without a server there is no write() in progress to hold.
            raise RuntimeError("%s is not mounted: no write can be blocked, nothing to release" % self.paths.mm)
        self._ctl_write("release", "1\n")

    def wait_blocked(self, count: int = 1, timeout: float = 10.0) -> dict[str, Any]:
        """Wait until the log holds ``count`` writes held by block faults; the last of them."""
        deadline = time.monotonic() + timeout
        while True:
            blocked = [entry for entry in self.writes() if entry["result"] == "blocked"]
            if len(blocked) >= count:
                return blocked[-1]
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    "%d of %d blocked writes in the log of %s after %ss: is a block fault queued, "
                    "and do its attr and skip match a write?" % (len(blocked), count, self.paths.root, timeout)
                )
            time.sleep(0.01)

    def faults(self) -> list[dict[str, Any]]:
        if self.mounted:
            return json.loads(self._ctl_read("faults"))
        return self._offline().pending_faults()

    def clear_faults(self) -> None:
        """Empty the fault queue; a write held by a block fault is abandoned (EINTR)."""
        self._set_faults([])

    def _set_faults(self, spec: Any) -> None:
        if self.mounted:
            self._ctl_write("faults", json.dumps(spec))
        else:
            self._offline().add_faults(spec)

    # -- write log ------------------------------------------------------------------------
    def log(self) -> list[dict[str, Any]]:
        """Every write attempt (and refused open for writing), oldest first."""
        if self.mounted:
            return [json.loads(line) for line in self._ctl_read("log").splitlines() if line.strip()]
        return self._offline().writes()

    def writes(self, attr: str | None = None) -> list[dict[str, Any]]:
        """The log's write() calls, optionally for one attribute only."""
        return [entry for entry in self.log() if entry["op"] == "write" and attr in (None, entry["attr"])]

    def clear_log(self) -> None:
        if self.mounted:
            self._ctl_write("log", "\n")
        else:
            self._offline().clear_log()

    # -- attributes -------------------------------------------------------------------------
    def attr_path(self, attr: str) -> str:
        """SYSROOT/sys/kernel/mm/<uksm|ksm>/<attr>."""
        kind = get_variant(load_doc(self.paths)["variant"]).kind
        if kind == "none":
            raise FileNotFoundError("this host has no KSM directory")
        return os.path.join(self.paths.mm, kind, attr)

    def read(self, attr: str) -> str:
        with open(self.attr_path(attr), "rb") as handle:
            return handle.read().decode("utf-8")

    def write(self, attr: str, text: str) -> int:
        """Write an attribute with a single write() call, like the modules should."""
        fd = os.open(self.attr_path(attr), os.O_WRONLY)
        try:
            return os.write(fd, text.encode("utf-8"))
        finally:
            os.close(fd)
