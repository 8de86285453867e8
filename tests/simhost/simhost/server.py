"""Start and stop the FUSE server of a sysroot (one server process per sysroot)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

from simhost.sysroot import Paths, is_mounted, load_doc
from simhost.variants import get_variant

PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


#: servers started by this process, kept so they can be reaped (sysroot -> process)
_CHILDREN: dict[str, subprocess.Popen[bytes]] = {}


class ServerError(RuntimeError):
    """mount/umount could not do its job; the message says why."""


def fuse_problem() -> str | None:
    """Why FUSE cannot be used here, or None when it can."""
    if not os.path.exists("/dev/fuse"):
        return "/dev/fuse is missing (load the fuse module or run the container with --device /dev/fuse)"
    if not shutil.which("fusermount3"):
        return "fusermount3 not found (install the fuse3 package)"
    try:
        import mfusepy  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
    except (ImportError, OSError) as exc:
        return "the mfusepy binding is unusable: %s (pip install mfusepy; apt install libfuse3-3)" % exc
    return None


def serve(sysroot: str) -> int:
    """Run the FUSE server in the foreground until the mount goes away."""
    import mfusepy  # pylint: disable=import-outside-toplevel

    from simhost.fuseops import SysfsOps  # pylint: disable=import-outside-toplevel
    from simhost.host import SimHost  # pylint: disable=import-outside-toplevel

    host = SimHost.load(sysroot)
    if host.kernel is None:
        print("simhost: variant %s has nothing to serve" % host.variant.name, file=sys.stderr)
        return 0
    options = {"foreground": True, "direct_io": True, "fsname": "simhost", "subtype": "simhost"}
    if os.geteuid() == 0:
        options["allow_other"] = True  # non-root users see the mount, like real sysfs
    # A write held by a block fault gives up once umount has detached the mount.
    host.mount_point = host.paths.mm
    # Everything goes through this process while mounted: state.json is written when it stops.
    host.save_every_change = False
    try:
        mfusepy.FUSE(SysfsOps(host), host.paths.mm, **options)
    finally:
        host.close()
        host.flush()
    return 0


def _server_pid(paths: Paths) -> int | None:
    """The pid in the pidfile if that process still is this sysroot's server."""
    try:
        with open(paths.pidfile, encoding="utf-8") as handle:
            pid = int(handle.read().strip())
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            argv = handle.read().split(b"\0")
    except (OSError, ValueError):
        return None
    # Never trust a recycled pid: it must be "... simhost serve <this sysroot>".
    if b"serve" in argv and os.fsencode(paths.root) in argv and _alive(pid):
        return pid
    return None


def _alive(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)  # reap it if it is our child
    except ChildProcessError:
        pass
    try:
        with open("/proc/%d/stat" % pid, encoding="utf-8") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.02)
    return not _alive(pid)


def _tail(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()[-2000:]
    except OSError:
        return ""


def _fusermount(mount_point: str, lazy: bool) -> bool:
    command = ["fusermount3", "-u"] + (["-z"] if lazy else []) + [mount_point]
    if not shutil.which("fusermount3"):
        command = ["umount"] + (["-l"] if lazy else []) + [mount_point]
    return subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False).returncode == 0


def mount(sysroot: str, timeout: float = 15.0) -> None:
    """Start the server detached in its own session and wait until the mount is live."""
    paths = Paths(sysroot)
    try:
        variant = get_variant(load_doc(paths)["variant"])
    except FileNotFoundError:
        raise ServerError("%s is not a sysroot: run 'create' first" % paths.root) from None
    os.makedirs(paths.mm, exist_ok=True)
    if variant.kind == "none":
        return  # plain directories, nothing to serve
    if is_mounted(paths.mm):
        if _server_pid(paths):
            return
        _fusermount(paths.mm, lazy=True)  # a dead server left its mount behind
    problem = fuse_problem()
    if problem:
        raise ServerError("FUSE unavailable: " + problem)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [PACKAGE_PARENT] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    )
    with open(paths.server_log, "ab") as log:
        process = subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, "-m", "simhost", "serve", paths.root],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
            close_fds=True,
            cwd="/",
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError("the FUSE server exited with %s:\n%s" % (process.returncode, _tail(paths.server_log)))
        if is_mounted(paths.mm) and os.path.isdir(paths.ctl):
            with open(paths.pidfile, "w", encoding="utf-8") as handle:
                handle.write("%d\n" % process.pid)
            _CHILDREN[paths.root] = process
            return
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGTERM)
    process.wait(5)
    raise ServerError("the FUSE server did not come up within %ss:\n%s" % (timeout, _tail(paths.server_log)))


def umount(sysroot: str, timeout: float = 15.0) -> None:
    """Unmount and wait for the server to exit; fine to call when not mounted."""
    paths = Paths(sysroot)
    pid = _server_pid(paths)
    # unmounted, or when busy (an open file, a hung writer) detached: the server ends when it is released
    if is_mounted(paths.mm) and not _fusermount(paths.mm, lazy=False) and not _fusermount(paths.mm, lazy=True):
        raise ServerError("could not unmount %s" % paths.mm)
    if pid and not _wait_gone(pid, timeout):
        os.kill(pid, signal.SIGTERM)
        if not _wait_gone(pid, 5):
            os.kill(pid, signal.SIGKILL)
            _wait_gone(pid, 5)
    child = _CHILDREN.pop(paths.root, None)
    if child is not None and child.poll() is None:
        child.wait(5)
    if os.path.exists(paths.pidfile):
        os.unlink(paths.pidfile)


def is_up(sysroot: str) -> bool:
    """Whether the sysroot's server is running and mounted."""
    paths = Paths(sysroot)
    return is_mounted(paths.mm) and _server_pid(paths) is not None
