"""Layout of a sysroot on disk and its persisted state document."""

from __future__ import annotations

import copy
import json
import os
import re
import time
from typing import Any

from simhost.kernel import make_kernel, msecs_to_jiffies
from simhost.procfiles import sync_proc, write_file
from simhost.variants import get_variant

STATE_FORMAT = 1
CTL_DIR = ".simctl"


class Paths:
    """Where everything of one sysroot lives."""

    def __init__(self, sysroot: str) -> None:
        self.root = os.path.abspath(sysroot)
        self.mm = os.path.join(self.root, "sys", "kernel", "mm")
        self.ctl = os.path.join(self.mm, CTL_DIR)
        self.proc = os.path.join(self.root, "proc")
        self.meta = os.path.join(self.root, ".simhost")
        self.state = os.path.join(self.meta, "state.json")
        self.log = os.path.join(self.meta, "log.jsonl")
        self.pidfile = os.path.join(self.meta, "server.pid")
        self.server_log = os.path.join(self.meta, "server.log")


def is_mounted(path: str) -> bool:
    """Whether ``path`` is a mount point (also when its FUSE server died)."""
    # Resolve the parent only: stat() on a dead FUSE mount fails with ENOTCONN.
    path = os.path.join(os.path.realpath(os.path.dirname(os.path.abspath(path))), os.path.basename(path))
    with open("/proc/self/mountinfo", encoding="utf-8") as handle:
        for line in handle:
            # mountinfo escapes space, tab, newline and backslash as \ooo
            mount_point = re.sub(r"\\([0-7]{3})", lambda match: chr(int(match.group(1), 8)), line.split(" ")[4])
            if mount_point == path:
                return True
    return False


def load_doc(paths: Paths) -> dict[str, Any]:
    """The persisted state document; raises FileNotFoundError before ``create``."""
    with open(paths.state, encoding="utf-8") as handle:
        doc = json.load(handle)
    if doc.get("format") != STATE_FORMAT:
        raise ValueError("%s: unsupported state format %r" % (paths.state, doc.get("format")))
    return doc


def save_doc(paths: Paths, doc: dict[str, Any]) -> None:
    # compact: json's C encoder serves only documents without indentation (a host without a server saves at
    # every change)
    write_file(paths.state, json.dumps(doc, sort_keys=True) + "\n")


def boot_state(
    variant_name: str,
    hz: int = 250,
    hang_seconds: float = 5,
    pages_scanned_pow2: int = 0,
    negative_profit: bool = False,
    active: bool = False,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Kernel state right after boot for a variant and the ``create`` options."""
    variant = get_variant(variant_name)
    kernel = make_kernel(variant)
    if kernel is None:
        if overrides:
            raise ValueError("variant none has no kernel state to set")
        return {}
    patch: dict[str, Any] = {}
    if variant.kind == "uksm":
        patch.update(hz=hz, sleep_jiffies=msecs_to_jiffies(100, hz), hang_seconds=hang_seconds)
        if pages_scanned_pow2:
            # A 32-bit counter that wrapped once: printed as N * 2^B.
            patch.update(pages_scanned=3355443200, pages_scanned_pow2=pages_scanned_pow2)
    elif negative_profit:
        # Many rmap_items, few merged pages: the metadata costs more than it saves.
        patch.update(
            run=1,
            pages_shared=5,
            pages_sharing=10,
            pages_unshared=40000,
            full_scans=3,
            pages_scanned=120000,
            general_profit=10 * 4096 - 40015 * 64,
            daemon_cpu_ticks=6000,  # a minute of CPU for 40 KiB saved: sharing that does not pay
        )
    elif active:
        patch.update(
            run=1,
            pages_shared=350,
            pages_sharing=4200,
            pages_unshared=9000,
            pages_volatile=150,
            full_scans=12,
            stable_node_chains=2,
            stable_node_dups=40,
            pages_scanned=4800000,
            pages_skipped=1000,
            general_profit=4200 * 4096 - 13700 * 64,
            daemon_cpu_ticks=1500,  # ksmd's 15 s of CPU since run=1
        )
    patch.update(overrides or {})
    kernel.merge_state(patch)
    return kernel.snapshot()


def create(sysroot: str, variant_name: str, **options: Any) -> Paths:
    """Lay out a fresh sysroot (resets any previous kernel state and log)."""
    paths = Paths(sysroot)
    if is_mounted(paths.mm):
        raise RuntimeError("%s is mounted: run 'down' first" % paths.mm)
    variant = get_variant(variant_name)
    state = boot_state(variant_name, **options)
    for directory in (
        paths.meta,
        paths.mm,
        paths.proc,
        os.path.join(paths.root, "etc"),
        os.path.join(paths.root, "run"),
    ):
        os.makedirs(directory, exist_ok=True)
    doc = {
        "format": STATE_FORMAT,
        "variant": variant.name,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "boot": state,
        "kernel": copy.deepcopy(state),
        "faults": [],
        "overrides": {},
    }
    save_doc(paths, doc)
    if os.path.exists(paths.log):
        os.unlink(paths.log)
    sync_proc(paths.proc, variant, state)
    return paths
