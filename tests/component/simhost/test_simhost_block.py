"""The ``block`` fault: a write() held inside the simulated kernel until released or abandoned."""

from __future__ import annotations

import ctypes
import errno
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from simhost import server
from simhost.control import Control
from simhost.host import SimHost
from simhost.sysroot import create, load_doc

from ansible_collections.litevirt.uksm.tests.helpers.patience import PROMPT_SECONDS

_LIBC = ctypes.CDLL(None, use_errno=True)
_LIBC.write.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t]
_LIBC.write.restype = ctypes.c_ssize_t

# A writer in another process: one os.open and one os.write on the attribute, from the main
# thread or from a second thread (FUSE names the writing thread, not the process).
KILLED_WRITER = """
import os, sys, threading
def write():
    fd = os.open(sys.argv[1], os.O_WRONLY)
    os.write(fd, b"200\\n")
if sys.argv[2] == "thread":
    worker = threading.Thread(target=write)
    worker.start()
    worker.join()
else:
    write()
"""
OTHER_PROCESS_WRITER = "import os, sys\nfd = os.open(sys.argv[1], os.O_WRONLY)\nos.write(fd, sys.argv[2].encode())\n"


def raw_write(path, text):
    """One write(2) straight through libc: unlike os.write it does not retry EINTR (PEP 475).

    Returns the byte count, or minus the errno.
    """
    data = text.encode()
    fd = os.open(path, os.O_WRONLY)
    try:
        result = _LIBC.write(fd, data, len(data))
        return result if result >= 0 else -ctypes.get_errno()
    finally:
        os.close(fd)


class Writer(threading.Thread):
    """One write in the background; ``outcome`` is ("returned", value) or ("errno", code)."""

    def __init__(self, func, *args):
        super().__init__(daemon=True)
        self.func, self.args, self.outcome = func, args, None

    def run(self):
        try:
            self.outcome = ("returned", self.func(*self.args))
        except OSError as exc:
            self.outcome = ("errno", exc.errno)

    def finish(self, timeout=PROMPT_SECONDS):
        self.join(timeout)
        assert not self.is_alive(), "the held write did not end within %ss" % timeout
        return self.outcome


def start(func, *args):
    writer = Writer(func, *args)
    writer.start()
    return writer


def results(control, attr):
    return [entry["result"] for entry in control.writes(attr)]


# -- through the FUSE mount ---------------------------------------------------------------------


def test_blocked_write_is_logged_while_others_keep_working(make_host):
    control = make_host("uksm")
    control.inject("sleep_millisecs", block=30)
    writer = start(control.write, "sleep_millisecs", "200\n")
    entry = control.wait_blocked()
    assert {
        key: entry[key] for key in ("op", "attr", "data", "nbytes", "result", "returned", "hazard", "injected")
    } == {
        "op": "write",
        "attr": "sleep_millisecs",
        "data": "200\n",
        "nbytes": 4,
        "result": "blocked",
        "returned": None,
        "hazard": False,
        "injected": True,
    }
    # Logged and saved before blocking: the fault is used up on disk too.
    assert load_doc(control.paths)["faults"] == [] and control.faults() == []
    with open(control.paths.log, encoding="utf-8") as handle:
        assert json.loads(handle.read().splitlines()[-1])["result"] == "blocked"
    began = time.monotonic()
    # This process: other attributes and the control files.
    assert control.read("run") == "1\n"
    assert control.write("cpu_governor", "low\n") == 4
    assert control.state()["cpu_governor"] == "low"
    # Another process.
    subprocess.run(
        [sys.executable, "-c", OTHER_PROCESS_WRITER, control.attr_path("max_cpu_percentage"), "50\n"],
        check=True,
        timeout=5,
    )
    assert control.read("max_cpu_percentage") == "50\n"
    assert time.monotonic() - began < PROMPT_SECONDS
    assert writer.is_alive() and control.read("sleep_millisecs") == "100\n"
    control.release()
    assert writer.finish() == ("returned", 4)
    assert control.read("sleep_millisecs") == "200\n"
    assert results(control, "sleep_millisecs") == ["blocked", "ok"]
    released = control.writes("sleep_millisecs")[-1]
    assert (released["returned"], released["injected"], released["data"]) == (4, False, "200\n")


def test_release_lets_every_blocked_write_go_on_with_the_kernel_result(make_host):
    control = make_host("uksm")
    control.inject("sleep_millisecs", block=30)
    control.inject("run", block=30)
    refused = start(control.write, "sleep_millisecs", "5000\n")  # out of range: the kernel says EINVAL
    accepted = start(control.write, "run", "0\n")
    assert control.wait_blocked(count=2)["result"] == "blocked"
    began = time.monotonic()
    control.release()
    assert refused.finish() == ("errno", errno.EINVAL)
    assert accepted.finish() == ("returned", 2)
    assert time.monotonic() - began < PROMPT_SECONDS
    assert control.read("sleep_millisecs") == "100\n" and control.read("run") == "0\n"
    assert results(control, "sleep_millisecs") == ["blocked", "EINVAL"]
    assert results(control, "run") == ["blocked", "ok"]
    # A release only frees the writes blocked at that moment.
    control.release()
    control.inject("run", block=30)
    later = start(control.write, "run", "1\n")
    control.wait_blocked(count=3)
    time.sleep(0.1)
    assert later.is_alive()
    control.release()
    assert later.finish() == ("returned", 2)
    assert control.read("run") == "1\n"


@pytest.mark.parametrize("end", ["clear_faults", "replace_queue", "reboot", "timeout"])
def test_abandoned_write_applies_nothing_and_fails_eintr(make_host, end):
    control = make_host("uksm")
    assert control.write("sleep_millisecs", "300\n") == 4
    control.inject("sleep_millisecs", block=0.3 if end == "timeout" else 30)
    # libc's write(): os.write would retry the EINTR (see the test below).
    writer = start(raw_write, control.attr_path("sleep_millisecs"), "200\n")
    control.wait_blocked()
    began = time.monotonic()
    if end == "clear_faults":
        control.clear_faults()
    elif end == "replace_queue":
        with open(os.path.join(control.paths.ctl, "faults"), "w", encoding="utf-8") as handle:
            handle.write('[{"attr": "run", "errno": "EIO"}]')
    elif end == "reboot":
        control.reboot()
    assert writer.finish() == ("returned", -errno.EINTR)
    took = time.monotonic() - began
    assert took < PROMPT_SECONDS if end != "timeout" else 0.15 < took < PROMPT_SECONDS
    assert control.read("sleep_millisecs") == ("100\n" if end == "reboot" else "300\n")
    assert results(control, "sleep_millisecs") == ["ok", "blocked", "abandoned"]
    abandoned = control.writes("sleep_millisecs")[-1]
    assert (abandoned["returned"], abandoned["injected"], abandoned["data"]) == (None, True, "200\n")
    # Writable again.
    assert control.write("sleep_millisecs", "200\n") == 4
    assert control.read("sleep_millisecs") == "200\n"


def test_python_os_write_retries_an_abandoned_write_as_an_ordinary_one(make_host):
    control = make_host("uksm")
    control.inject("run", block=30)
    writer = start(control.write, "run", "0\n")
    control.wait_blocked()
    control.clear_faults()
    # PEP 475: os.write sends the write again after EINTR, and nothing holds it this time.
    assert writer.finish() == ("returned", 2)
    assert control.read("run") == "0\n"
    assert results(control, "run") == ["blocked", "abandoned", "ok"]


@pytest.mark.parametrize("where", ["main", "thread"])
def test_sigkilled_writer_dies_while_blocked(make_host, where):
    control = make_host("ksm")
    control.inject("sleep_millisecs", block=30)
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, control.attr_path("sleep_millisecs"), where])
    try:
        control.wait_blocked(timeout=5)
        began = time.monotonic()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=PROMPT_SECONDS)
        took = time.monotonic() - began
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # FUSE keeps a killed writer until the server answers: the server noticed the kill.
    assert proc.returncode == -signal.SIGKILL and took < PROMPT_SECONDS
    assert results(control, "sleep_millisecs") == ["blocked", "abandoned"]
    control.clear_faults()
    assert control.read("sleep_millisecs") == "20\n"
    assert control.write("sleep_millisecs", "55\n") == 3
    assert control.read("sleep_millisecs") == "55\n"


def test_block_skip_selects_the_nth_write(make_host):
    control = make_host("uksm")
    control.inject("run", block=30, skip=2)
    assert control.write("run", "0\n") == 2
    assert control.write("run", "1\n") == 2
    assert control.faults()[0]["skip"] == 0
    writer = start(control.write, "run", "0\n")
    entry = control.wait_blocked()
    assert (entry["seq"], entry["data"]) == (3, "0\n")
    control.release()
    assert writer.finish() == ("returned", 2)
    assert control.write("run", "1\n") == 2  # used up: the next write passes
    assert [(entry["data"], entry["result"]) for entry in control.writes("run")] == [
        ("0\n", "ok"),
        ("1\n", "ok"),
        ("0\n", "blocked"),
        ("0\n", "ok"),
        ("1\n", "ok"),
    ]


def test_umount_abandons_a_blocked_write_at_once(make_host):
    control = make_host("uksm")
    control.inject("run", block=30)
    writer = start(control.write, "run", "0\n")
    control.wait_blocked()
    began = time.monotonic()
    server.umount(control.paths.root)
    assert time.monotonic() - began < PROMPT_SECONDS
    # EINTR, retried by os.write, then refused: the host is going away.
    assert writer.finish() == ("errno", errno.ENOTCONN)
    assert not control.mounted
    assert results(control, "run") == ["blocked", "abandoned"]
    assert control.state()["run"] == 1


def test_block_fault_queued_before_mount_holds_the_write(make_host):
    control = make_host("uksm", mount=False)
    control.inject("run", block=30)
    assert control.faults()[0]["block"] == 30
    server.mount(control.paths.root)
    writer = start(control.write, "run", "0\n")
    control.wait_blocked()
    control.release()
    assert writer.finish() == ("returned", 2)


def test_block_fault_rejects_invalid_seconds_through_simctl(make_host):
    control = make_host("uksm")
    for spec in (
        '{"attr": "run", "block": -1}',
        '{"attr": "run", "block": 0}',
        '{"attr": "run", "block": 601}',
        '{"attr": "run", "block": "30"}',
        '{"attr": "run", "block": NaN}',
    ):
        with (
            pytest.raises(OSError) as info,
            open(os.path.join(control.paths.ctl, "faults"), "w", encoding="utf-8") as handle,
        ):
            handle.write(spec)
        assert info.value.errno == errno.EINVAL, spec
    with pytest.raises(OSError) as info:
        control.inject("run", block=-5)
    assert info.value.errno == errno.EINVAL
    assert control.faults() == []


# -- control helper -----------------------------------------------------------------------------


def test_release_fails_when_not_mounted(tmp_path):
    root = str(tmp_path / "h")
    create(root, "uksm")
    with pytest.raises(RuntimeError, match="not mounted"):
        Control(root).release()


def test_wait_blocked_fails_with_timeout_error_when_nothing_blocks(make_host):
    control = make_host("uksm")
    control.inject("run", block=30, skip=1)
    assert control.write("run", "1\n") == 2  # skipped: not held
    began = time.monotonic()
    with pytest.raises(TimeoutError, match="0 of 1 blocked writes"):
        control.wait_blocked(timeout=0.2)
    assert time.monotonic() - began < PROMPT_SECONDS
    control.clear_faults()


# -- fault validation (no FUSE) ---------------------------------------------------------------------


@pytest.fixture
def host(tmp_path):
    create(str(tmp_path / "h"), "uksm")
    return SimHost.load(str(tmp_path / "h"))


def refused(host, spec):
    with pytest.raises(OSError) as info:
        host.add_faults(spec)
    assert host.pending_faults() == []
    return info.value.errno


@pytest.mark.parametrize("seconds", [-1, -0.5, -600])
def test_block_fault_rejects_negative_seconds(host, seconds):
    assert refused(host, {"attr": "run", "block": seconds}) == errno.EINVAL


@pytest.mark.parametrize("seconds", [0, 0.0])
def test_block_fault_rejects_zero_seconds(host, seconds):
    assert refused(host, {"attr": "run", "block": seconds}) == errno.EINVAL


@pytest.mark.parametrize("seconds", [600.001, 601, math.inf])
def test_block_fault_rejects_more_than_600_seconds(host, seconds):
    assert refused(host, {"attr": "run", "block": seconds}) == errno.EINVAL


@pytest.mark.parametrize("seconds", [True, "30", None, [30], math.nan], ids=["bool", "str", "null", "list", "nan"])
def test_block_fault_rejects_non_numbers(host, seconds):
    assert refused(host, {"attr": "run", "block": seconds}) == errno.EINVAL


def test_block_fault_rejects_reads_and_a_second_effect(host):
    assert refused(host, {"attr": "run", "block": 1, "op": "read"}) == errno.EINVAL
    assert refused(host, {"attr": "run", "block": 1, "errno": "EIO"}) == errno.EINVAL


@pytest.mark.parametrize("seconds", [0.001, 1, 2.5, 600])
def test_block_fault_accepts_int_and_float_seconds(host, seconds):
    host.add_faults({"attr": "run", "block": seconds})
    assert host.pending_faults() == [{"attr": "run", "op": "write", "times": 1, "skip": 0, "block": seconds}]


# -- SimHost without FUSE -------------------------------------------------------------------------


def wait_for_blocked(host, count=1):
    deadline = time.monotonic() + PROMPT_SECONDS
    while sum(entry["result"] == "blocked" for entry in host.writes()) < count:
        assert time.monotonic() < deadline, "no blocked write"
        time.sleep(0.005)


def test_held_write_does_not_hold_the_host_lock(host):
    host.add_faults({"attr": "sleep_millisecs", "block": 30})
    writer = start(host.write_attr, "sleep_millisecs", b"200\n")
    wait_for_blocked(host)
    assert host.lock.acquire(timeout=PROMPT_SECONDS)
    host.lock.release()
    assert host.write_attr("run", b"0\n") == 2 and host.read_attr("run") == b"0\n"
    host.release()
    assert writer.finish() == ("returned", 4)
    assert host.read_attr("sleep_millisecs") == b"200\n"


def test_release_right_after_the_log_entry_is_never_lost(host):
    # The held write registers before the "blocked" entry can be read: a release seen after it counts.
    for index in range(30):
        host.add_faults({"attr": "run", "block": 30})
        writer = start(host.write_attr, "run", b"%d\n" % (index % 2))
        wait_for_blocked(host, index + 1)
        host.release()
        assert writer.finish(1.0) == ("returned", 2)


def test_close_abandons_held_writes_and_refuses_new_ones(host):
    host.add_faults({"attr": "run", "block": 30, "times": 2})
    first, second = start(host.write_attr, "run", b"0\n"), start(host.write_attr, "run", b"0\n")
    wait_for_blocked(host, 2)
    host.close()
    assert first.finish() == ("errno", errno.EINTR) and second.finish() == ("errno", errno.EINTR)
    with pytest.raises(OSError) as info:
        host.write_attr("run", b"0\n")
    assert info.value.errno == errno.ENOTCONN
    assert host.read_attr("run") == b"1\n"
    assert [entry["result"] for entry in host.writes()] == ["blocked", "blocked", "abandoned", "abandoned"]
