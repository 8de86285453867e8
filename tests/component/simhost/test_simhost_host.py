"""SimHost without FUSE: faults, write log, hazards, persistence, sysroot files."""

from __future__ import annotations

import errno
import json
import os
import threading
import time

import pytest
from simhost.control import Control
from simhost.host import SimHost
from simhost.sysroot import Paths, create, load_doc


@pytest.fixture
def uksm_host(tmp_path):
    create(str(tmp_path / "h"), "uksm", hang_seconds=0.3)
    return SimHost.load(str(tmp_path / "h"))


def write_errno(host, attr, data):
    with pytest.raises(OSError) as info:
        host.write_attr(attr, data)
    return info.value.errno


def test_layout(tmp_path):
    paths = create(str(tmp_path / "h"), "uksm")
    for sub in ("etc", "run", "sys/kernel/mm", "proc/meminfo", "proc/2/comm", "proc/80/comm", ".simhost/state.json"):
        assert os.path.exists(os.path.join(paths.root, sub)), sub
    with open(os.path.join(paths.proc, "42", "comm"), encoding="utf-8") as handle:
        assert handle.read() == "uksmd\n"
    with open(os.path.join(paths.proc, "42", "stat"), encoding="utf-8") as handle:
        fields = handle.read().split()
    assert fields[:4] == ["42", "(uksmd)", "S", "2"] and len(fields) == 52
    with open(paths.proc + "/meminfo", encoding="utf-8") as handle:
        meminfo = handle.read()
    assert "KsmZeroPages:     524288 kB\n" in meminfo
    assert meminfo.startswith("MemTotal:       16303540 kB\n")
    assert os.listdir(os.path.join(paths.root, "etc")) == []
    doc = load_doc(paths)
    assert doc["variant"] == "uksm" and doc["kernel"]["cpu_governor"] == "full"


@pytest.mark.parametrize(
    "variant, thread, zero_line",
    [
        ("ksm", "ksmd", False),
        ("ksm-old", "ksmd", False),
        ("uksm-legacy", "uksmd", False),
        ("none", None, False),
    ],
)
def test_layout_per_variant(tmp_path, variant, thread, zero_line):
    paths = create(str(tmp_path / "h"), variant)
    comms = set()
    for entry in os.listdir(paths.proc):
        if entry.isdigit():
            with open(os.path.join(paths.proc, entry, "comm"), encoding="utf-8") as handle:
                comms.add(handle.read().strip())
    assert {"kthreadd", "kswapd0"} <= comms
    assert ("ksmd" in comms) == (thread == "ksmd") and ("uksmd" in comms) == (thread == "uksmd")
    with open(paths.proc + "/meminfo", encoding="utf-8") as handle:
        assert ("KsmZeroPages" in handle.read()) == zero_line
    assert os.listdir(paths.mm) == []


def test_create_options(tmp_path):
    root = str(tmp_path / "h")
    create(root, "uksm", hz=1000, pages_scanned_pow2=2, overrides={"pages_shared": 7})
    host = SimHost.load(root)
    assert host.read_attr("pages_scanned") == b"3355443200 * 2^2\n"
    assert host.read_attr("pages_shared") == b"7\n"
    host.write_attr("sleep_millisecs", b"3\n")
    assert host.read_attr("sleep_millisecs") == b"3\n"
    with pytest.raises(OSError):
        create(root, "uksm", overrides={"bogus": 1})


def test_write_log_entries(uksm_host):
    uksm_host.write_attr("run", b"0\n")
    write_errno(uksm_host, "run", b"7\n")
    write_errno(uksm_host, "eval_intervals", b"1 2 3 4 \n")
    log = uksm_host.writes()
    assert [(e["seq"], e["attr"], e["data"], e["nbytes"], e["result"], e["hazard"]) for e in log] == [
        (1, "run", "0\n", 2, "ok", False),
        (2, "run", "7\n", 2, "EINVAL", False),
        (3, "eval_intervals", "1 2 3 4 \n", 9, "EINVAL", True),
    ]
    assert log[0]["returned"] == 2 and log[0]["op"] == "write" and log[0]["dir"] == "uksm"
    uksm_host.clear_log()
    assert uksm_host.writes() == []


def test_log_and_state_persist(uksm_host):
    uksm_host.write_attr("cpu_governor", b"quiet\n")
    again = SimHost.load(uksm_host.paths.root)
    assert again.read_attr("cpu_governor") == b"full medium low [quiet] \n"
    assert [e["attr"] for e in again.writes()] == ["cpu_governor"]


@pytest.mark.parametrize("name", ["EINVAL", "EACCES", "EBUSY", "ENOMEM", "EIO", "EPERM"])
def test_injected_errno(uksm_host, name):
    uksm_host.add_faults({"attr": "cpu_ratios", "errno": name})
    assert write_errno(uksm_host, "cpu_ratios", b"10 20 40 75\n") == getattr(errno, name)
    entry = uksm_host.writes()[-1]
    assert entry["result"] == name and entry["injected"] is True
    assert uksm_host.read_attr("cpu_ratios") == b"20 40 MAX/4 MAX/1 \n"  # nothing applied
    assert uksm_host.pending_faults() == []
    uksm_host.write_attr("cpu_ratios", b"10 20 40 75\n")
    assert uksm_host.read_attr("cpu_ratios") == b"10 20 40 75 \n"


def test_fault_skip_and_times(uksm_host):
    uksm_host.add_faults({"attr": "run", "errno": "EIO", "times": 2, "skip": 1})
    assert uksm_host.write_attr("run", b"1\n") == 2
    assert write_errno(uksm_host, "run", b"1\n") == errno.EIO
    assert uksm_host.pending_faults()[0]["times"] == 1
    assert write_errno(uksm_host, "run", b"1\n") == errno.EIO
    assert uksm_host.write_attr("run", b"1\n") == 2


def test_fault_on_reads(uksm_host):
    uksm_host.add_faults({"attr": "pages_shared", "errno": "EIO", "op": "read"})
    with pytest.raises(OSError) as info:
        uksm_host.read_attr("pages_shared")
    assert info.value.errno == errno.EIO
    assert uksm_host.read_attr("pages_shared") == b"1200\n"


def test_short_write(uksm_host):
    uksm_host.add_faults({"attr": "run", "short": 1})
    assert uksm_host.write_attr("run", b"0\n") == 1
    assert uksm_host.read_attr("run") == b"1\n"
    assert uksm_host.writes()[-1]["result"] == "short"
    assert uksm_host.write_attr("run", b"0\n") == 2
    assert uksm_host.read_attr("run") == b"0\n"


def test_readback_mismatch(uksm_host):
    uksm_host.add_faults({"attr": "sleep_millisecs", "readback": "777\n"})
    write_errno(uksm_host, "sleep_millisecs", b"5000\n")  # a failed write does not arm it
    assert uksm_host.read_attr("sleep_millisecs") == b"100\n"
    uksm_host.write_attr("sleep_millisecs", b"200\n")
    assert uksm_host.read_attr("sleep_millisecs") == b"777\n"
    assert uksm_host.read_attr("sleep_millisecs") == b"777\n"
    assert uksm_host.state()["sleep_jiffies"] == 50  # the kernel did store it
    uksm_host.write_attr("sleep_millisecs", b"300\n")
    assert uksm_host.read_attr("sleep_millisecs") == b"300\n"


@pytest.mark.parametrize(
    "spec",
    [
        {"attr": "run"},
        {"errno": "EIO"},
        {"attr": "run", "errno": "ENOTHING"},
        {"attr": "run", "short": 0},
        {"attr": "run", "errno": "EIO", "short": 1},
        {"attr": "run", "readback": 5},
        {"attr": "run", "errno": "EIO", "times": 0},
        {"attr": "run", "short": 1, "op": "read"},
        {"attr": "run", "errno": "EIO", "when": 1},
        ["nope"],
    ],
)
def test_bad_fault_specs(uksm_host, spec):
    with pytest.raises(OSError) as info:
        uksm_host.add_faults(spec)
    assert info.value.errno == errno.EINVAL


def test_fault_list_replaces_and_clears(uksm_host):
    uksm_host.add_faults({"attr": "run", "errno": 5})
    assert uksm_host.pending_faults()[0]["errno"] == "EIO"
    uksm_host.add_faults([{"attr": "run", "short": 1}, {"attr": "cpu_governor", "errno": "EBUSY"}])
    assert len(uksm_host.pending_faults()) == 2
    uksm_host.add_faults([])
    assert uksm_host.pending_faults() == []


def test_killing_uksmd_removes_the_thread_and_hangs_run(uksm_host):
    proc = uksm_host.paths.proc
    assert os.path.exists(os.path.join(proc, "42", "comm"))
    uksm_host.write_attr("cpu_ratios", b"20 40 MAX/4 10000\n")
    assert not os.path.exists(os.path.join(proc, "42"))
    assert uksm_host.writes()[-1]["hazard"] is True

    results = {}

    def blocked_writer():
        start = time.monotonic()
        try:
            uksm_host.write_attr("run", b"0\n")
        except OSError as exc:
            results["errno"] = exc.errno
        results["took"] = time.monotonic() - start

    worker = threading.Thread(target=blocked_writer)
    worker.start()
    time.sleep(0.05)
    # Other attributes stay readable while the writer is stuck.
    assert uksm_host.read_attr("run") == b"1\n"
    worker.join(5)
    assert results["errno"] == errno.ETIMEDOUT and results["took"] >= 0.25
    assert uksm_host.writes()[-1]["result"] == "HUNG"
    uksm_host.reboot()
    assert os.path.exists(os.path.join(proc, "42", "comm"))
    assert uksm_host.read_attr("cpu_ratios") == b"20 40 MAX/4 MAX/1 \n"


def test_uksmd_state_toggle_and_zero_pages(uksm_host):
    uksm_host.merge_state({"uksmd_alive": False, "zero_pages_kb": 4096})
    assert not os.path.exists(os.path.join(uksm_host.paths.proc, "42"))
    with open(uksm_host.paths.proc + "/meminfo", encoding="utf-8") as handle:
        assert "KsmZeroPages:       4096 kB\n" in handle.read()
    uksm_host.merge_state({"uksmd_alive": True})
    assert os.path.exists(os.path.join(uksm_host.paths.proc, "42"))
    with pytest.raises(OSError):
        uksm_host.merge_state({"variant": "ksm"})


def test_open_checks(tmp_path):
    create(str(tmp_path / "a"), "uksm")
    host = SimHost.load(str(tmp_path / "a"))
    host.check_open("run", True)
    host.check_open("pages_shared", False)
    for attr, write, uid, code in (
        ("pages_shared", True, 0, errno.EACCES),
        ("run", True, 1000, errno.EACCES),
        ("nope", False, 0, errno.ENOENT),
    ):
        with pytest.raises(OSError) as info:
            host.check_open(attr, write, uid)
        assert info.value.errno == code
    assert [(e["op"], e["attr"], e["result"]) for e in host.writes()] == [
        ("open", "pages_shared", "EACCES"),
        ("open", "run", "EACCES"),
    ]


@pytest.mark.parametrize(
    "variant, write, code",
    [
        ("uksm-readonly", True, errno.EROFS),
        ("ksm-readonly", True, errno.EROFS),
        ("uksm-unreadable", False, errno.EACCES),
        ("uksm-unreadable", True, errno.EACCES),
    ],
)
def test_restricted_variants(tmp_path, variant, write, code):
    create(str(tmp_path / "a"), variant)
    host = SimHost.load(str(tmp_path / "a"))
    with pytest.raises(OSError) as info:
        host.check_open("run", write)
    assert info.value.errno == code
    if variant.endswith("readonly"):
        host.check_open("run", False)
        assert host.read_attr("run") in (b"1\n", b"0\n")
        with pytest.raises(OSError) as info:
            host.write_attr("run", b"1\n")
        assert info.value.errno == errno.EROFS


def test_control_offline(tmp_path):
    root = str(tmp_path / "h")
    create(root, "ksm")
    control = Control(root)
    assert not control.mounted
    control.set_state(pages_shared=9)
    control.inject("run", errno="EBUSY")
    assert control.state()["pages_shared"] == 9
    assert control.faults()[0]["errno"] == "EBUSY"
    with open(Paths(root).state, encoding="utf-8") as handle:
        assert json.load(handle)["kernel"]["pages_shared"] == 9
    control.clear_faults()
    control.reboot()
    assert control.state()["pages_shared"] == 0
    assert control.writes() == []


def test_none_variant_has_no_kernel(tmp_path):
    root = str(tmp_path / "h")
    create(root, "none")
    host = SimHost.load(root)
    assert host.dirname is None and host.attributes() == []
    assert host.state() == {"variant": "none"}
    with pytest.raises(OSError) as info:
        host.read_attr("run")
    assert info.value.errno == errno.ENOENT
