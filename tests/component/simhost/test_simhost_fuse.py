"""End to end through a real FUSE mount: os.open/os.write/os.read like a module would."""

from __future__ import annotations

import errno
import io
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time

import pytest
from simhost import cli, server
from simhost.kernel import make_kernel
from simhost.show import show
from simhost.sysroot import Paths, load_doc
from simhost.variants import VARIANTS


def write_file(path, text, flags=os.O_WRONLY):
    fd = os.open(path, flags)
    try:
        return os.write(fd, text.encode() if isinstance(text, str) else text)
    finally:
        os.close(fd)


def read_file(path):
    with open(path, "rb") as handle:
        return handle.read().decode()


def os_errno(func, *args):
    with pytest.raises(OSError) as info:
        func(*args)
    return info.value.errno


# One writable attribute per variant, a value to write and what reads back.
SAMPLE_WRITE = {
    "uksm": ("cpu_governor", "low\n", "full medium [low] quiet \n"),
    "uksm-legacy": ("run", "0\n", "0\n"),
    "ksm": ("merge_across_nodes", "0\n", "0\n"),
    "ksm-nonuma": ("advisor_mode", "scan-time\n", "none [scan-time]\n"),
    "ksm-old": ("pages_to_scan", "250\n", "250\n"),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_variant_end_to_end(make_host, variant):
    control = make_host(variant)
    spec = VARIANTS[variant]
    mm = control.paths.mm
    if spec.kind == "none":
        assert os.path.isdir(mm) and os.listdir(mm) == []
        assert not server.is_up(control.paths.root)
        return
    kdir = os.path.join(mm, spec.kind)
    assert sorted(os.listdir(mm)) == sorted([spec.kind, ".simctl"])
    assert not os.path.exists(os.path.join(mm, "ksm" if spec.kind == "uksm" else "uksm"))
    run = os.path.join(kdir, "run")
    if spec.unreadable:
        assert os.path.isdir(kdir)
        assert os_errno(os.listdir, kdir) == errno.EACCES
        assert os_errno(read_file, run) == errno.EACCES
        assert os_errno(write_file, run, "1\n") == errno.EACCES
        out = io.StringIO()
        show(control.paths.root, out)
        assert "sys/kernel/mm/uksm/\n    [cannot list: Permission denied]\n" in out.getvalue()
        return
    assert sorted(os.listdir(kdir)) == sorted(spec.attrs)
    if spec.readonly:
        assert read_file(run) in ("0\n", "1\n")
        assert os_errno(write_file, run, "1\n") == errno.EROFS
        assert not os.access(run, os.W_OK)
        assert control.log()[-1]["result"] == "EROFS"
        return
    model = make_kernel(variant)
    for name in spec.attrs:
        assert read_file(os.path.join(kdir, name)) == model.read(name).decode(), name
    attr, text, expected = SAMPLE_WRITE[variant]
    assert write_file(os.path.join(kdir, attr), text) == len(text)
    assert read_file(os.path.join(kdir, attr)) == expected
    assert control.writes()[-1]["result"] == "ok"


def test_file_level_details(make_host):
    control = make_host("uksm")
    kdir = os.path.join(control.paths.mm, "uksm")
    run, shared = os.path.join(kdir, "run"), os.path.join(kdir, "pages_shared")
    for path, mode in ((run, 0o644), (shared, 0o444)):
        info = os.stat(path)
        assert stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) == mode
        assert (info.st_size, info.st_uid, info.st_gid) == (4096, 0, 0)
    # 0444 attributes refuse an open for writing even for root.
    assert os_errno(os.open, shared, os.O_WRONLY) == errno.EACCES
    assert os_errno(os.open, shared, os.O_RDWR) == errno.EACCES
    # Shell redirection opens with O_TRUNC: fine on writable attributes.
    subprocess.run(["sh", "-c", "echo 0 > '%s'" % run], check=True)
    assert read_file(run) == "0\n"
    failed = subprocess.run(["sh", "-c", "echo 5 > '%s'" % shared], check=False, capture_output=True)
    assert failed.returncode != 0
    os.truncate(run, 0)
    assert read_file(run) == "0\n"
    # Reads at an offset return the rest of the text.
    fd = os.open(os.path.join(kdir, "cpu_governor"), os.O_RDONLY)
    try:
        assert os.pread(fd, 4096, 0) == b"[full] medium low quiet \n"
        assert os.pread(fd, 4096, 7) == b"medium low quiet \n"
        assert os.pread(fd, 4096, 25) == b""
    finally:
        os.close(fd)
    # Every write() is one store() call, whatever the file position.
    fd = os.open(os.path.join(kdir, "sleep_millisecs"), os.O_WRONLY)
    try:
        assert os.write(fd, b"200\n") == 4
        assert os_errno(os.write, fd, b"1001\n") == errno.EINVAL
        assert os.write(fd, b"300\n") == 4
    finally:
        os.close(fd)
    assert [e["data"] for e in control.writes("sleep_millisecs")] == ["200\n", "1001\n", "300\n"]
    assert read_file(os.path.join(kdir, "sleep_millisecs")) == "300\n"


def test_namespace_is_fixed(make_host):
    control = make_host("ksm")
    kdir = os.path.join(control.paths.mm, "ksm")
    run = os.path.join(kdir, "run")
    assert os_errno(os.open, os.path.join(kdir, "new"), os.O_WRONLY | os.O_CREAT, 0o644) == errno.EACCES
    assert os_errno(os.unlink, run) == errno.EPERM
    assert os_errno(os.rename, run, os.path.join(kdir, "run2")) == errno.EPERM
    assert os_errno(os.mkdir, os.path.join(kdir, "d")) == errno.EPERM
    assert os_errno(os.rmdir, kdir) == errno.EPERM
    assert os_errno(os.symlink, "run", os.path.join(kdir, "l")) == errno.EPERM
    assert os_errno(os.chmod, run, 0o600) == errno.EPERM
    assert os_errno(os.stat, os.path.join(kdir, "pages_volatil")) == errno.ENOENT
    assert os.access(run, os.W_OK) and os.access(os.path.join(kdir, "pages_shared"), os.R_OK)


def test_readonly_variant_namespace(make_host):
    control = make_host("ksm-readonly")
    kdir = os.path.join(control.paths.mm, "ksm")
    assert os_errno(os.truncate, os.path.join(kdir, "run"), 0) == errno.EROFS
    assert os_errno(os.unlink, os.path.join(kdir, "run")) == errno.EROFS
    assert os_errno(os.open, os.path.join(kdir, "pages_shared"), os.O_WRONLY) == errno.EROFS
    control.set_state(pages_shared=4)  # the control directory stays writable
    assert read_file(os.path.join(kdir, "pages_shared")) == "4\n"


def test_control_files(make_host):
    control = make_host("uksm")
    ctl = control.paths.ctl
    kdir = os.path.join(control.paths.mm, "uksm")
    assert sorted(os.listdir(ctl)) == ["faults", "log", "reboot", "release", "state"]
    # state: read the full kernel state, write a JSON object to merge.
    state = json.loads(read_file(os.path.join(ctl, "state")))
    assert state["variant"] == "uksm" and state["cpu_governor"] == "full"
    write_file(os.path.join(ctl, "state"), '{"pages_shared": 10, "hang_seconds": 1}')
    assert read_file(os.path.join(kdir, "pages_shared")) == "10\n"
    assert os_errno(write_file, os.path.join(ctl, "state"), "{not json") == errno.EINVAL
    assert os_errno(write_file, os.path.join(ctl, "state"), '{"no_such_key": 1}') == errno.EINVAL
    # faults: each errno, a short write, a read-back mismatch.
    for name in ("EINVAL", "EACCES", "EBUSY", "ENOMEM", "EIO", "EPERM"):
        write_file(
            os.path.join(ctl, "faults"), json.dumps({"attr": "cpu_ratios", "errno": name, "times": 1, "skip": 0})
        )
        assert os_errno(write_file, os.path.join(kdir, "cpu_ratios"), "10 20 40 75\n") == getattr(errno, name)
    write_file(os.path.join(ctl, "faults"), '{"attr": "run", "short": 1}')
    assert json.loads(read_file(os.path.join(ctl, "faults")))[0]["short"] == 1
    assert write_file(os.path.join(kdir, "run"), "0\n") == 1
    assert read_file(os.path.join(kdir, "run")) == "1\n"
    control.inject("sleep_millisecs", readback="777\n")
    write_file(os.path.join(kdir, "sleep_millisecs"), "200\n")
    assert read_file(os.path.join(kdir, "sleep_millisecs")) == "777\n"
    write_file(os.path.join(kdir, "sleep_millisecs"), "200\n")
    assert read_file(os.path.join(kdir, "sleep_millisecs")) == "200\n"
    control.inject("run", errno="EIO", times=3)
    write_file(os.path.join(ctl, "faults"), "[]")
    assert control.faults() == []
    # log: JSON lines, cleared by any write.
    lines = read_file(os.path.join(ctl, "log")).splitlines()
    results = [json.loads(line)["result"] for line in lines]
    assert results == ["EINVAL", "EACCES", "EBUSY", "ENOMEM", "EIO", "EPERM", "short", "ok", "ok"]
    assert set(json.loads(lines[0])) >= {"seq", "attr", "data", "nbytes", "result", "hazard"}
    write_file(os.path.join(ctl, "log"), "x")
    assert read_file(os.path.join(ctl, "log")) == ""
    # reboot: back to the created state.
    write_file(os.path.join(ctl, "reboot"), "1")
    assert read_file(os.path.join(kdir, "pages_shared")) == "1200\n"


def test_hung_run_blocks_only_the_writer(make_host):
    # long enough that the read below ends while the write still hangs, even on a busy machine
    control = make_host("uksm", hang_seconds=4.0)
    kdir = os.path.join(control.paths.mm, "uksm")
    uksmd = os.path.join(control.paths.proc, "42")
    assert read_file(os.path.join(uksmd, "comm")) == "uksmd\n"
    assert write_file(os.path.join(kdir, "cpu_ratios"), "20 40 10000 MAX/1\n") == 18
    assert not os.path.exists(uksmd)
    assert control.writes()[-1]["hazard"] is True
    outcome = {}

    def writer():
        start = time.monotonic()
        outcome["errno"] = os_errno(write_file, os.path.join(kdir, "run"), "1\n")
        outcome["took"] = time.monotonic() - start

    thread = threading.Thread(target=writer)
    thread.start()
    time.sleep(0.2)
    assert read_file(os.path.join(kdir, "pages_sharing")) == "48000\n"
    assert control.writes()[-1]["result"] == "HUNG"
    assert thread.is_alive()  # the read did not wait for the hung write
    thread.join(30)
    assert outcome["errno"] == errno.ETIMEDOUT and outcome["took"] >= 3.9
    control.reboot()
    assert os.path.exists(uksmd)


def test_several_sysroots_at_once(make_host):
    first, second = make_host("uksm"), make_host("ksm", active=True)
    assert read_file(os.path.join(first.paths.mm, "uksm", "pages_shared")) == "1200\n"
    assert read_file(os.path.join(second.paths.mm, "ksm", "pages_shared")) == "350\n"
    second.write("run", "2\n")
    assert second.read("pages_shared") == "0\n" and first.read("pages_shared") == "1200\n"


def test_state_survives_umount(make_host):
    control = make_host("ksm")
    control.write("sleep_millisecs", "55\n")
    server.umount(control.paths.root)
    server.umount(control.paths.root)  # idempotent
    assert not control.mounted
    assert load_doc(Paths(control.paths.root))["kernel"]["sleep_millisecs"] == 55
    assert control.writes()[-1]["data"] == "55\n"
    server.mount(control.paths.root)
    assert control.read("sleep_millisecs") == "55\n"


def test_state_survives_a_server_stopped_by_sigterm(make_host):
    # While mounted the server keeps the state in memory: it must save it however it is stopped.
    control = make_host("uksm")
    control.write("abundant_threshold", "33\n")
    with open(control.paths.pidfile, encoding="utf-8") as handle:
        pid = int(handle.read())
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while control.mounted and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not control.mounted
    server.umount(control.paths.root)  # reaps the server
    assert load_doc(Paths(control.paths.root))["kernel"]["abundant_threshold"] == 33
    server.mount(control.paths.root)
    assert control.read("abundant_threshold") == "33\n"


def test_cli(tmp_path):
    root = str(tmp_path / "cli")
    env = dict(os.environ, PYTHONPATH=server.PACKAGE_PARENT)

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "simhost"] + list(args), env=env, capture_output=True, text=True, check=False
        )

    if server.fuse_problem():
        pytest.skip(server.fuse_problem())
    try:
        assert run("up", root, "--variant", "uksm", "--hz", "100").returncode == 0
        shown = run("show", root)
        assert "sys/kernel/mm/uksm/cpu_governor (0644) = '[full] medium low quiet \\n'" in shown.stdout
        assert "proc/42/comm (0644) = 'uksmd\\n'" in shown.stdout
        status = json.loads(run("status", root).stdout)
        assert status["mounted"] is True and status["state"]["hz"] == 100
        assert run("mount", root).returncode == 0  # already up: fine
    finally:
        assert run("down", root).returncode == 0
    assert run("down", root).returncode == 0
    failed = run("mount", str(tmp_path / "missing"))
    assert failed.returncode == 2 and "create" in failed.stderr


def test_mount_without_fuse_fails_clearly(tmp_path, monkeypatch, capsys):
    root = str(tmp_path / "nofuse")
    assert cli.main(["create", root, "--variant", "ksm"]) == 0
    monkeypatch.setattr(server, "fuse_problem", lambda: "/dev/fuse is missing")
    assert cli.main(["mount", root]) == 2
    assert "FUSE unavailable: /dev/fuse is missing" in capsys.readouterr().err
    assert not server.is_up(root)
    assert cli.main(["up", root, "--variant", "none"]) == 0  # variant none needs no FUSE
    assert cli.main(["down", root]) == 0
