"""One simulated host: kernel model + fault injection + write log + persistence.

This is everything the FUSE layer calls, kept free of FUSE so it can be
tested directly.  All methods are thread-safe; a hung store and a write held
by a ``block`` fault wait without holding the lock so other files stay
readable and writable.
"""

from __future__ import annotations

import copy
import errno
import itertools
import json
import os
import signal
import threading
import time
from typing import Any

from simhost.faults import FaultQueue
from simhost.kernel import KernelHang, SysfsKernel, UksmKernel, make_kernel
from simhost.parse import kernel_error
from simhost.procfiles import sync_proc
from simhost.sysroot import Paths, is_mounted, load_doc, save_doc
from simhost.variants import get_variant, thread_name

CONTROL_FILES = ("state", "faults", "log", "reboot", "release")

#: the key of a state patch that asks uksmd to let evaluation rounds pass (not a state key)
ROUNDS_REQUEST = "uksmd_rounds"

#: how often a held write looks at what no notification tells it: its timeout,
#: a SIGKILL of its writer, the unmount of the host
HOLD_POLL_SECONDS = 0.05

#: the end of a held write, decided once (see SimHost._end_holds)
RELEASED, ABANDONED = "released", "abandoned"


def errno_name(code: int) -> str:
    return errno.errorcode.get(code, str(code))


def _being_killed(tid: int | None) -> bool:
    """Whether thread ``tid`` has a SIGKILL pending.

    FUSE sends a write to the server and then waits for the answer
    uninterruptibly: a SIGKILLed writer stays in D state until the server
    answers, so a held write must notice the kill itself and give up.
    """
    if not tid:
        return False
    bit = 1 << (signal.SIGKILL - 1)
    try:
        with open("/proc/%d/status" % tid, encoding="utf-8") as handle:
            masks = [line.split()[1] for line in handle if line.startswith(("SigPnd:", "ShdPnd:"))]
    except OSError:
        return False  # not in our pid namespace: rely on the other ends of the block
    return any(int(mask, 16) & bit for mask in masks)


class SimHost:
    """The kernel side of one sysroot."""

    def __init__(self, doc: dict[str, Any], paths: Paths | None = None) -> None:
        self.paths = paths
        self.doc = doc
        self.variant = get_variant(doc["variant"])
        self.kernel = make_kernel(self.variant, doc.get("kernel"))
        self.faults = FaultQueue(doc.get("faults"))
        #: attribute -> text that reads return instead of show() (read-back faults)
        self.overrides: dict[str, str] = dict(doc.get("overrides") or {})
        self.log: list[dict[str, Any]] = self._load_log()
        self.lock = threading.Lock()
        self._proc_key: Any = None
        #: set by the server: a held write gives up once this is no longer a mount point
        self.mount_point: str | None = None
        #: held writes (ticket -> "" while waiting, then RELEASED or ABANDONED); lock order: lock, then _gate
        self._gate = threading.Condition()
        self._holds: dict[int, str] = {}
        self._tickets = itertools.count(1)
        self._closed = False
        #: whether state.json follows every change; the server turns it off, keeps the state in memory and
        #: saves it when it stops (``flush``): one file write per change cost more than the change itself
        self.save_every_change = True

    @classmethod
    def load(cls, sysroot: str) -> SimHost:
        paths = Paths(sysroot)
        return cls(load_doc(paths), paths)

    @property
    def dirname(self) -> str | None:
        """``uksm`` or ``ksm``; None for a host without either."""
        return self.kernel.dirname if self.kernel else None

    def attributes(self) -> list[str]:
        return self.kernel.attributes() if self.kernel else []

    # -- sysfs side ---------------------------------------------------------------
    def check_open(self, attr: str, write: bool, uid: int = 0) -> None:
        """Refuse an open() the way the kernel would; failed opens for writing are logged."""
        kernel = self._kernel()
        if not kernel.has(attr):
            raise kernel_error(errno.ENOENT, attr)
        code = 0
        if self.variant.unreadable:
            code = errno.EACCES
        elif write and self.variant.readonly:
            code = errno.EROFS
        elif write and (not kernel.is_writable(attr) or uid != 0):
            # kernfs has no store() for 0444 attributes: EACCES even for root.
            code = errno.EACCES
        if not code:
            return
        if write:
            with self.lock:
                self._log("open", attr, b"", errno_name(code), None, False, False)
        raise kernel_error(code, attr)

    def read_attr(self, attr: str) -> bytes:
        with self.lock:
            kernel = self._kernel()
            if self.variant.unreadable:
                raise kernel_error(errno.EACCES, attr)
            # uksmd's batch that is due runs before the read (section 2.5): logged as kernel events.
            events = kernel.settle(attr)
            if events is not None:
                self._log_events(events)
                self._save()
            fault = self.faults.take(attr, "read")
            if fault:
                self._save()
                raise kernel_error(getattr(errno, fault["errno"]), "injected fault")
            if attr in self.overrides:
                return self.overrides[attr].encode()
            return kernel.read(attr)

    def write_attr(self, attr: str, data: bytes, caller: int | None = None) -> int:
        """One write() call on an attribute: returns the bytes accepted or raises OSError.

        ``caller`` is the writing thread's id (FUSE passes it); a write held by a
        ``block`` fault gives up when that thread is being killed.
        """
        ticket, hold_seconds = 0, 0.0
        try:
            with self.lock:
                kernel = self._kernel()
                if self._closed:
                    # Only an fd opened before the unmount gets here, like a dead FUSE mount.
                    raise kernel_error(errno.ENOTCONN, "%s: the simulated host is shutting down" % attr)
                if self.variant.readonly or self.variant.unreadable:
                    code = errno.EROFS if self.variant.readonly else errno.EACCES
                    self._log("write", attr, data, errno_name(code), None, False, False)
                    raise kernel_error(code, attr)
                # A write (of any outcome) ends a pending read-back mismatch.
                self.overrides.pop(attr, None)
                fault = self.faults.take(attr, "write")
                try:
                    if fault and "errno" in fault:
                        self._log("write", attr, data, fault["errno"], None, False, True)
                        raise kernel_error(getattr(errno, fault["errno"]), "injected fault")
                    if fault and "short" in fault:
                        accepted = min(fault["short"], len(data))
                        self._log("write", attr, data, "short", accepted, False, True)
                        return accepted
                    if fault and "block" in fault:
                        # Logged and saved before waiting: a test polling the log knows the writer is inside.
                        self._log("write", attr, data, "blocked", None, False, True)
                        ticket, hold_seconds = self._new_hold(), float(fault["block"])
                    else:
                        return self._store(kernel, attr, data)
                finally:
                    self._save()
            if self._hold(ticket, hold_seconds, caller) == ABANDONED:
                with self.lock:
                    self._log("write", attr, data, "abandoned", None, False, True)
                raise kernel_error(errno.EINTR, "%s: blocked write abandoned" % attr)
            with self.lock:
                try:
                    return self._store(self._kernel(), attr, data)
                finally:
                    self._save()
        except KernelHang as hang:
            # Blocked in the kernel: sleep without the lock, then give up.
            with self.lock:
                seconds = float(self.kernel.state.get("hang_seconds", 5)) if self.kernel else 0.0
            time.sleep(max(seconds, 0.0))
            raise kernel_error(hang.errno, "%s: write blocked (uksmd is gone)" % attr) from None

    def _store(self, kernel: SysfsKernel, attr: str, data: bytes) -> int:
        """Hand one write to the kernel model and log it (caller holds the lock)."""
        try:
            accepted = kernel.write(attr, data)
        except KernelHang:
            self._log("write", attr, data, "HUNG", None, True, False)
            raise
        except OSError as exc:
            self._log("write", attr, data, errno_name(exc.errno), None, kernel.last_write_hazard, False)
            raise
        self._log("write", attr, data, "ok", accepted, kernel.last_write_hazard, False)
        readback = self.faults.take(attr, "readback")
        if readback:
            self.overrides[attr] = readback["readback"]
        return accepted

    # -- held writes (block faults) -------------------------------------------------------
    def _new_hold(self) -> int:
        """Register a held write (caller holds the lock, so no release can slip in before it)."""
        with self._gate:
            ticket = next(self._tickets)
            self._holds[ticket] = ""
            return ticket

    def _hold(self, ticket: int, seconds: float, caller: int | None) -> str:
        """Wait, without the host lock, until the held write is released or abandoned."""
        deadline = time.monotonic() + seconds
        try:
            while True:
                with self._gate:
                    # Releases and clears notify at once; the timeout only paces the checks below.
                    pause = min(max(deadline - time.monotonic(), 0.0), HOLD_POLL_SECONDS)
                    if self._gate.wait_for(lambda: self._holds[ticket], pause):
                        return self._holds[ticket]
                if self.mount_point and not is_mounted(self.mount_point):
                    self.close()  # umount detached us: every held write gives up
                elif time.monotonic() >= deadline or _being_killed(caller):
                    with self._gate:
                        self._holds[ticket] = self._holds[ticket] or ABANDONED
        finally:
            with self._gate:
                self._holds.pop(ticket, None)

    def _end_holds(self, outcome: str) -> None:
        """Decide every held write that is still waiting, and wake them all."""
        with self._gate:
            for ticket, decided in self._holds.items():
                if not decided:
                    self._holds[ticket] = outcome
            self._gate.notify_all()

    def release(self) -> None:
        """Let every write held right now go on to the kernel model."""
        self._end_holds(RELEASED)

    def close(self) -> None:
        """The server is going away: abandon every held write and refuse new writes (ENOTCONN)."""
        with self._gate:
            self._closed = True
        self._end_holds(ABANDONED)

    # -- control side ---------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        with self.lock:
            result = {"variant": self.variant.name}
            if self.kernel:
                result.update(self.kernel.snapshot())
            return result

    def merge_state(self, patch: Any) -> None:
        """Merge a JSON object into the kernel state.

        ``uksmd_rounds`` is no state key but a request (UKSM only): after the other keys
        are merged, uksmd lets that many evaluation rounds pass (``UksmKernel.uksmd_rounds``).
        """
        if not isinstance(patch, dict):
            raise kernel_error(errno.EINVAL, "state patch must be a JSON object")
        patch = dict(patch)
        if patch.pop("variant", self.variant.name) != self.variant.name:
            raise kernel_error(errno.EINVAL, "the variant is fixed at create time")
        rounds = patch.pop(ROUNDS_REQUEST, None)
        with self.lock:
            uksm: UksmKernel | None = None
            if rounds is not None:
                uksm = self.kernel if isinstance(self.kernel, UksmKernel) else None
                if uksm is None:
                    raise kernel_error(errno.EINVAL, "%s: this host has no uksmd" % ROUNDS_REQUEST)
                uksm.check_rounds(rounds, patch)
            if patch:
                self._kernel().merge_state(patch)
            if uksm is not None:
                self._log_events(uksm.uksmd_rounds(rounds))
            self._save()

    def add_faults(self, spec: Any) -> None:
        with self.lock:
            if isinstance(spec, list):
                self.faults.replace(spec)
                # The faults that held writes are gone with the queue.
                self._end_holds(ABANDONED)
            else:
                self.faults.add(spec)
            self._save()

    def pending_faults(self) -> list[dict[str, Any]]:
        with self.lock:
            return self.faults.pending()

    def writes(self) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self.log)

    def clear_log(self) -> None:
        with self.lock:
            self.log = []
            if self.paths:
                with open(self.paths.log, "w", encoding="utf-8"):
                    pass

    def reboot(self) -> None:
        """Back to the state of ``create``: kernel defaults, uksmd alive, no faults."""
        with self.lock:
            self.kernel = make_kernel(self.variant, self.doc.get("boot"))
            self.faults = FaultQueue()
            self.overrides = {}
            self._end_holds(ABANDONED)
            self._save()

    def control_read(self, name: str) -> bytes:
        if name == "state":
            return (json.dumps(self.state(), indent=1, sort_keys=True) + "\n").encode()
        if name == "faults":
            return (json.dumps(self.pending_faults()) + "\n").encode()
        if name == "log":
            return "".join(json.dumps(entry, sort_keys=True) + "\n" for entry in self.writes()).encode()
        if name == "reboot":
            return b"write anything here to reboot the simulated host\n"
        if name == "release":
            return b"write anything here to let every blocked write go on\n"
        raise kernel_error(errno.ENOENT, name)

    def control_write(self, name: str, data: bytes) -> int:
        """Each write() must carry one complete JSON document (log, reboot and release take anything)."""
        if name == "log":
            self.clear_log()
        elif name == "reboot":
            self.reboot()
        elif name == "release":
            self.release()
        elif name in ("state", "faults"):
            try:
                value = json.loads(data.decode("utf-8"))
            except ValueError:
                raise kernel_error(errno.EINVAL, "not a JSON document") from None
            if name == "state":
                self.merge_state(value)
            else:
                self.add_faults(value)
        else:
            raise kernel_error(errno.ENOENT, name)
        return len(data)

    # -- internals --------------------------------------------------------------------
    def _kernel(self) -> SysfsKernel:
        if self.kernel is None:
            raise kernel_error(errno.ENOENT, "this host has no KSM")
        return self.kernel

    def _log_events(self, events: list[dict[str, Any]]) -> None:
        """Log what the kernel's own thread changed: op ``uksmd``, ``data`` the new reading (not a write)."""
        for event in events:
            extra = {key: value for key, value in event.items() if key not in ("attr", "result", "hazard", "value")}
            extra["nbytes"] = 0  # nothing was written
            data = ("%d\n" % event["value"]).encode() if "value" in event else b""
            self._log(
                self.kernel.thread_name if self.kernel else "kernel",
                event["attr"],
                data,
                event["result"],
                None,
                bool(event.get("hazard")),
                False,
                **extra,
            )

    def _log(
        self,
        op: str,
        attr: str,
        data: bytes,
        result: str,
        returned: int | None,
        hazard: bool,
        injected: bool,
        **extra: Any,
    ) -> None:
        entry = {
            "seq": (self.log[-1]["seq"] + 1) if self.log else 1,
            "time": round(time.time(), 6),
            "op": op,
            "dir": self.dirname,
            "attr": attr,
            "data": data.decode("utf-8", "backslashreplace"),
            "nbytes": len(data),
            "result": result,
            "returned": returned,
            "hazard": hazard,
            "injected": injected,
        }
        entry.update(extra)
        self.log.append(entry)
        if self.paths:
            with open(self.paths.log, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(entry, sort_keys=True) + "\n")

    def _load_log(self) -> list[dict[str, Any]]:
        if not self.paths or not os.path.exists(self.paths.log):
            return []
        with open(self.paths.log, encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]

    def flush(self) -> None:
        """Write state.json now (the server does when it stops)."""
        with self.lock:
            self._write_state()

    def _write_state(self) -> None:
        if self.paths:
            # serialised straight from the live state, no copy: the caller's lock keeps it still
            state = self.kernel.state if self.kernel else {}
            save_doc(self.paths, dict(self.doc, kernel=state, faults=self.faults.items, overrides=self.overrides))

    def _save(self) -> None:
        """After a change: bring SYSROOT/proc in line, and state.json unless the server keeps it (caller
        holds the lock)."""
        if not self.paths:
            return
        if self.save_every_change:
            self._write_state()
        state = self.kernel.state if self.kernel else {}
        name = thread_name(self.variant)
        key = (
            state.get("%s_alive" % name, True),
            state.get("zero_pages_kb"),
            state.get("daemon_cpu_ticks"),
            state.get("uptime_seconds"),
            state.get("mem_available_kb"),
        )
        if key != self._proc_key:
            sync_proc(self.paths.proc, self.variant, state)
            self._proc_key = key
