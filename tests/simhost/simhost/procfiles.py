"""Plain files under SYSROOT/proc: meminfo, kernel threads, osrelease."""

from __future__ import annotations

import os
import shutil
from typing import Any

from simhost.variants import Variant, thread_name

#: (pid, comm, ppid, nice) of the processes every simulated host has
BASE_PROCESSES: tuple[tuple[int, str, int, int], ...] = (
    (1, "systemd", 0, 0),
    (2, "kthreadd", 0, 0),
    (43, "khugepaged", 2, 19),
    (80, "kswapd0", 2, 0),
)
#: pid of uksmd / ksmd (started right before khugepaged, like in mm/ksm.c's init order)
KSM_THREAD_PID = 42

# A 16 GiB host a while after boot; values in kB.
MEMINFO: tuple[tuple[str, int], ...] = (
    ("MemTotal", 16303540),
    ("MemFree", 9132700),
    ("MemAvailable", 12845116),
    ("Buffers", 262144),
    ("Cached", 3571712),
    ("SwapCached", 0),
    ("Active", 3861504),
    ("Inactive", 2318336),
    ("Active(anon)", 2406400),
    ("Inactive(anon)", 12288),
    ("Active(file)", 1455104),
    ("Inactive(file)", 2306048),
    ("Unevictable", 0),
    ("Mlocked", 0),
    ("SwapTotal", 8388604),
    ("SwapFree", 8388604),
    ("Zswap", 0),
    ("Zswapped", 0),
    ("Dirty", 132),
    ("Writeback", 0),
    ("AnonPages", 2342912),
    ("Mapped", 512000),
    ("Shmem", 75776),
    ("KReclaimable", 215040),
    ("Slab", 389120),
    ("SReclaimable", 215040),
    ("SUnreclaim", 174080),
    ("KernelStack", 12288),
    ("PageTables", 24576),
    ("SecPageTables", 0),
    ("NFS_Unstable", 0),
    ("Bounce", 0),
    ("WritebackTmp", 0),
    ("CommitLimit", 16540372),
    ("Committed_AS", 6291456),
    ("VmallocTotal", 34359738367),
    ("VmallocUsed", 65536),
    ("VmallocChunk", 0),
    ("Percpu", 4096),
    ("HardwareCorrupted", 0),
    ("AnonHugePages", 614400),
    ("ShmemHugePages", 0),
    ("ShmemPmdMapped", 0),
    ("FileHugePages", 0),
    ("FilePmdMapped", 0),
)
HUGEPAGE_COUNTS = ("HugePages_Total", "HugePages_Free", "HugePages_Rsvd", "HugePages_Surp")
MEMINFO_TAIL: tuple[tuple[str, int], ...] = (
    ("Hugepagesize", 2048),
    ("Hugetlb", 0),
    ("DirectMap4k", 342016),
    ("DirectMap2M", 8046592),
    ("DirectMap1G", 9437184),
)


def _line(label: str, value: int, unit: bool = True) -> str:
    # fs/proc/meminfo.c pads label and number to 24 columns, with at least one space.
    prefix = label + ":"
    digits = str(value)
    pad = max(24 - len(prefix) - len(digits), 1)
    return prefix + " " * pad + digits + (" kB" if unit else "") + "\n"


def render_meminfo(variant: Variant, state: dict[str, Any]) -> str:
    """/proc/meminfo; UKSM kernels add the KsmZeroPages line (in kB). The state's ``mem_available_kb``
    replaces MemAvailable (memory pressure for the tuner's tests)."""
    lines = []
    for label, value in MEMINFO:
        if label == "AnonHugePages" and variant.meminfo_zero_pages:
            lines.append(_line("KsmZeroPages", int(state.get("zero_pages_kb", 0))))
        if label == "MemAvailable":
            value = int(state.get("mem_available_kb", value))
        lines.append(_line(label, value))
    lines.extend(_line(label, 0, unit=False) for label in HUGEPAGE_COUNTS)
    lines.extend(_line(label, value) for label, value in MEMINFO_TAIL)
    return "".join(lines)


#: the clock tick of /proc/<pid>/stat times (USER_HZ, 100 on every architecture Linux exports it for)
USER_HZ = 100


def render_stat(pid: int, comm: str, ppid: int, nice: int, cpu_ticks: int = 12) -> str:
    """A /proc/<pid>/stat line with the 52 fields of a sleeping kernel thread; ``cpu_ticks`` of
    system time (field 15, stime), started ``pid + 20`` ticks after boot (field 22)."""
    init = pid == 1
    flags = 4194560 if init else 2129984  # kernel threads carry PF_KTHREAD
    group = "1" if init else "0"
    fields = [
        str(pid),
        "(%s)" % comm,
        "S",
        str(ppid),
        group,
        group,
        "0",
        "-1",
        str(flags),
        "0",
        "0",
        "0",
        "0",
        "0",
        str(cpu_ticks),
        "0",
        "0",
        str(20 + nice),
        str(nice),
        "1",
        "0",
        str(pid + 20),
        "0",
        "0",
        "18446744073709551615",
    ]
    fields.extend(["0"] * (52 - len(fields)))
    return " ".join(fields) + "\n"


def processes(variant: Variant, state: dict[str, Any]) -> list[tuple[int, str, int, int]]:
    """The processes the host shows, with uksmd/ksmd only while it is alive."""
    result = list(BASE_PROCESSES)
    name = thread_name(variant)
    if name and state.get(name + "_alive", True):
        result.append((KSM_THREAD_PID, name, 2, 5))
    return sorted(result)


def write_file(path: str, text: str, mode: int = 0o644) -> None:
    """Replace a file atomically so readers never see half of it."""
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def sync_proc(proc_dir: str, variant: Variant, state: dict[str, Any] | None) -> None:
    """Make SYSROOT/proc match the kernel state (meminfo, live threads)."""
    state = state or {}
    os.makedirs(os.path.join(proc_dir, "sys", "kernel"), exist_ok=True)
    write_file(os.path.join(proc_dir, "sys", "kernel", "osrelease"), variant.osrelease + "\n")
    write_file(os.path.join(proc_dir, "meminfo"), render_meminfo(variant, state), 0o444)
    uptime = float(state.get("uptime_seconds", 7500.0))
    write_file(os.path.join(proc_dir, "uptime"), "%.2f %.2f\n" % (uptime, uptime * 1.9), 0o444)
    wanted = {pid: (comm, ppid, nice) for pid, comm, ppid, nice in processes(variant, state)}
    for entry in os.listdir(proc_dir):
        if entry.isdigit() and int(entry) not in wanted:
            shutil.rmtree(os.path.join(proc_dir, entry))
    for pid, (comm, ppid, nice) in wanted.items():
        pid_dir = os.path.join(proc_dir, str(pid))
        # the sharing thread's CPU time moves; every other process is written once
        cpu_ticks = int(state.get("daemon_cpu_ticks", 12)) if pid == KSM_THREAD_PID else 12
        if os.path.isdir(pid_dir):
            if pid == KSM_THREAD_PID:
                write_file(os.path.join(pid_dir, "stat"), render_stat(pid, comm, ppid, nice, cpu_ticks), 0o444)
            continue
        os.makedirs(pid_dir)
        write_file(os.path.join(pid_dir, "comm"), comm + "\n")
        write_file(os.path.join(pid_dir, "stat"), render_stat(pid, comm, ppid, nice, cpu_ticks), 0o444)
        write_file(os.path.join(pid_dir, "cmdline"), "/sbin/init\0" if pid == 1 else "", 0o444)
