"""Model of /sys/kernel/mm/uksm (UKSM 0.1.2.x), section 2 of the ABI contract."""

from __future__ import annotations

import errno
from typing import Any, Callable, Dict, List, Optional

from simhost.kernel_base import KernelHang, SysfsKernel
from simhost.parse import UINT_MAX, kernel_error, kstrtoul

TIME_RATIO_SCALE = 10000
MAX_SCAN_SLEEP_MSECS = 1000
SCAN_LADDER_SIZE = 4
SUPPORTED_HZ = (100, 250, 300, 1000)
#: kmalloc bucket sizes: a cpu_ratios write of exactly this many bytes is not NUL-terminated
KMALLOC_SIZES = (8, 16, 32, 64, 96, 128, 192, 256)
#: after this many bad kfree() calls even valid eval_intervals writes fail
CORRUPTION_LIMIT = 3

GOVERNORS = ("full", "medium", "low", "quiet")
# cpu_ratios are stored like the kernel: N > 0, or -(10000 // n) for MAX/n.
PRESETS: Dict[str, Dict[str, Any]] = {
    "full": {"cpu_ratios": [20, 40, -2500, -10000], "eval_intervals": [1000, 500, 200, 50], "max_cpu_percentage": 95},
    "medium": {
        "cpu_ratios": [20, 30, -2500, -10000],
        "eval_intervals": [1000, 500, 400, 100],
        "max_cpu_percentage": 50,
    },
    "low": {"cpu_ratios": [10, 20, -5000, -10000], "eval_intervals": [1500, 1000, 1000, 250], "max_cpu_percentage": 20},
    "quiet": {"cpu_ratios": [10, 20, 40, 75], "eval_intervals": [2000, 1000, 1000, 1000], "max_cpu_percentage": 1},
}

UKSM_ATTRS = (
    "run",
    "sleep_millisecs",
    "max_cpu_percentage",
    "cpu_governor",
    "cpu_ratios",
    "eval_intervals",
    "abundant_threshold",
    "thrash_threshold",
    "pages_shared",
    "pages_sharing",
    "pages_unshared",
    "full_scans",
    "pages_scanned",
    "ema_per_page_time",
    "hash_strength",
    "sleep_times",
)


def msecs_to_jiffies(msecs: int, hz: int) -> int:
    """Round up to the next tick, as the kernel's msecs_to_jiffies() does."""
    return -(-msecs * hz // 1000)


def jiffies_to_msecs(jiffies: int, hz: int) -> int:
    """Round up to whole milliseconds (exact when HZ divides 1000)."""
    return -(-jiffies * 1000 // hz)


def parse_ladder(text: bytes, parse_token: Callable[[bytes], int], progress: Optional[List[int]] = None) -> List[int]:
    """Parse a 4-rung value the way the stores do, token by token.

    Three single spaces separate the tokens, everything after the third is
    the last one.  A newline anywhere but at the very end is EINVAL (the
    contract: only the last token may carry it).  ``progress`` receives the
    count of tokens parsed so far, so callers know how far the parser got
    before failing.
    """
    values: List[int] = []
    rest = text
    for index in range(SCAN_LADDER_SIZE):
        if index < SCAN_LADDER_SIZE - 1:
            cut = rest.find(b" ")
            if cut < 0:
                raise kernel_error(errno.EINVAL, "expected %d space-separated values" % SCAN_LADDER_SIZE)
            token, rest = rest[:cut], rest[cut + 1 :]
            if b"\n" in token:
                raise kernel_error(errno.EINVAL, "newline inside the value")
        else:
            token = rest
        values.append(parse_token(token))
        if progress is not None:
            progress.append(index)
    return values


class UksmKernel(SysfsKernel):
    """UKSM's 16 attributes (or a subset, for the pre-0.1.2 layout)."""

    dirname = "uksm"
    thread_name = "uksmd"
    _free_keys = ("cpu_governor", "hang_errno")

    @classmethod
    def defaults(cls) -> Dict[str, Any]:
        hz = 250
        state: Dict[str, Any] = {
            "hz": hz,
            "run": 1,
            "sleep_jiffies": msecs_to_jiffies(100, hz),
            "cpu_governor": "full",
            "abundant_threshold": 10,
            "thrash_threshold": 50,
            # realistic statistics of a host some time after boot
            "pages_shared": 1200,
            "pages_sharing": 48000,
            "pages_unshared": 3500,
            "full_scans": 5,
            "pages_scanned": 2621440,
            "pages_scanned_pow2": 0,
            "ema_per_page_time": 624,
            "hash_strength": 44,
            "sleep_times": 1875,
            "zero_pages_kb": 524288,
            # /proc: uksmd's CPU time (stime, USER_HZ clock ticks) and the host's uptime in seconds
            "daemon_cpu_ticks": 37500,
            "uptime_seconds": 7500.0,
            # /proc/meminfo: MemAvailable in kB (of MemTotal 16303540: 78.8 %)
            "mem_available_kb": 12845116,
            # simulator knobs and hazard bookkeeping
            "uksmd_alive": True,
            "hang_seconds": 5,
            # Not EINTR: Python (PEP 475) and libc wrappers retry EINTR, which would hang forever.
            "hang_errno": "ETIMEDOUT",
            "corruption": 0,
            "kmalloc32_leaks": 0,
        }
        state.update({key: list(value) if isinstance(value, list) else value for key, value in PRESETS["full"].items()})
        return state

    def _check_value(self, key: str, value: Any) -> None:
        super()._check_value(key, value)
        if key == "cpu_governor" and value not in GOVERNORS:
            raise kernel_error(errno.EINVAL, "cpu_governor must be one of %s" % ", ".join(GOVERNORS))
        if key == "hang_errno" and not (isinstance(value, str) and isinstance(getattr(errno, value, None), int)):
            raise kernel_error(errno.EINVAL, "hang_errno must be an errno name")
        if key == "hz" and value not in SUPPORTED_HZ:
            raise kernel_error(errno.EINVAL, "hz must be one of %s" % (SUPPORTED_HZ,))

    def _register(self) -> None:
        self._rw("run", lambda: "%d\n" % self.state["run"], self._store_run)
        self._rw("sleep_millisecs", self._show_sleep, self._store_sleep)
        self._rw("max_cpu_percentage", lambda: "%d\n" % self.state["max_cpu_percentage"], self._store_max_cpu)
        self._rw("cpu_governor", self._show_governor, self._store_governor)
        self._rw("cpu_ratios", self._show_ratios, self._store_ratios)
        self._rw("eval_intervals", self._show_intervals, self._store_intervals)
        self._rw(
            "abundant_threshold",
            lambda: "%d\n" % self.state["abundant_threshold"],
            lambda text: self._store_threshold("abundant_threshold", text),
        )
        self._rw(
            "thrash_threshold",
            lambda: "%d\n" % self.state["thrash_threshold"],
            lambda text: self._store_threshold("thrash_threshold", text),
        )
        for name in (
            "pages_shared",
            "pages_sharing",
            "pages_unshared",
            "full_scans",
            "ema_per_page_time",
            "hash_strength",
            "sleep_times",
        ):
            self._stat(name)
        self._ro("pages_scanned", self._show_pages_scanned)

    # -- helpers --------------------------------------------------------------
    @staticmethod
    def _ulong(text: bytes) -> int:
        # Every UKSM store maps a kstrtoul() failure (EINVAL or ERANGE) to EINVAL.
        try:
            return kstrtoul(text)
        except OSError:
            raise kernel_error(errno.EINVAL, "invalid number") from None

    def apply_governor(self, name: str) -> None:
        """init_performance_values(): reset ratios, intervals and max_cpu to the preset."""
        self.state["cpu_governor"] = name
        preset = PRESETS[name]
        self.state["cpu_ratios"] = list(preset["cpu_ratios"])
        self.state["eval_intervals"] = list(preset["eval_intervals"])
        self.state["max_cpu_percentage"] = preset["max_cpu_percentage"]

    # -- run ----------------------------------------------------------------
    def _store_run(self, text: bytes) -> None:
        value = self._ulong(text)
        if value > UINT_MAX or value > 1:
            raise kernel_error(errno.EINVAL, "run accepts 0 or 1")
        if not self.state["uksmd_alive"]:
            # The dead uksmd still holds uksm_thread_mutex: mutex_lock() never returns.
            self.last_write_hazard = True
            raise KernelHang(getattr(errno, self.state["hang_errno"]), "run blocks: uksmd is gone")
        self.state["run"] = value

    # -- sleep_millisecs ----------------------------------------------------
    def _show_sleep(self) -> str:
        return "%d\n" % jiffies_to_msecs(self.state["sleep_jiffies"], self.state["hz"])

    def _store_sleep(self, text: bytes) -> None:
        value = self._ulong(text)
        if value > MAX_SCAN_SLEEP_MSECS:
            raise kernel_error(errno.EINVAL, "sleep_millisecs above %d" % MAX_SCAN_SLEEP_MSECS)
        self.state["sleep_jiffies"] = msecs_to_jiffies(value, self.state["hz"])

    # -- max_cpu_percentage -------------------------------------------------
    def _store_max_cpu(self, text: bytes) -> None:
        value = self._ulong(text)
        if value > 100:
            raise kernel_error(errno.EINVAL, "max_cpu_percentage above 100")
        if value == 100:
            value = 99
        elif value < 10:
            value = 10
        self.state["max_cpu_percentage"] = value

    # -- cpu_governor -------------------------------------------------------
    def _show_governor(self) -> str:
        words = []
        for name in GOVERNORS:
            words.append("[%s] " % name if name == self.state["cpu_governor"] else name + " ")
        return "".join(words) + "\n"

    def _store_governor(self, text: bytes) -> None:
        # strncmp(buf, name, strlen(name)): a prefix match, case-sensitive.
        for name in reversed(GOVERNORS):
            if text.startswith(name.encode()):
                self.apply_governor(name)
                return
        raise kernel_error(errno.EINVAL, "unknown governor")

    # -- cpu_ratios ---------------------------------------------------------
    def _show_ratios(self) -> str:
        words = []
        for ratio in self.state["cpu_ratios"]:
            words.append("%d " % ratio if ratio > 0 else "MAX/%d " % (TIME_RATIO_SCALE // -ratio))
        return "".join(words) + "\n"

    def _parse_ratio(self, token: bytes) -> int:
        is_max = token.startswith(b"MAX/")
        value = self._ulong(token[4:] if is_max else token)
        if value == 0 or value > TIME_RATIO_SCALE:
            raise kernel_error(errno.EINVAL, "ratio out of 1..%d" % TIME_RATIO_SCALE)
        return -(TIME_RATIO_SCALE // value) if is_max else value

    def _store_ratios(self, text: bytes) -> None:
        # kzalloc(count) is never freed: one leaked object per write, whatever the outcome.
        self.state["kmalloc32_leaks"] += 1
        if self._current_count in KMALLOC_SIZES:
            # No room for a NUL: the parser reads past the buffer.  The real
            # kernel fails at random here; the simulator always does.
            self.last_write_hazard = True
            raise kernel_error(errno.EINVAL, "read past a %d-byte buffer" % self._current_count)
        ratios = parse_ladder(text, self._parse_ratio)
        self.state["cpu_ratios"] = ratios
        if TIME_RATIO_SCALE in ratios:
            # Divide error in the scanner about 0.1 s later: uksmd dies.
            self.last_write_hazard = True
            self.state["uksmd_alive"] = False

    # -- eval_intervals -----------------------------------------------------
    def _show_intervals(self) -> str:
        return "".join("%d " % value for value in self.state["eval_intervals"]) + "\n"

    def _store_intervals(self, text: bytes) -> None:
        # Every write is dangerous: kfree() of a pointer into the buffer.
        self.last_write_hazard = True
        progress: List[int] = []
        corrupted_before = self.state["corruption"]
        try:
            values = parse_ladder(text, lambda token: self._ulong(token) & UINT_MAX, progress)
        finally:
            # The bad kfree() happens once the parser moved past the first token.
            if progress:
                self.state["corruption"] = corrupted_before + 1
        if corrupted_before >= CORRUPTION_LIMIT:
            raise kernel_error(errno.EINVAL, "slab corrupted by earlier eval_intervals writes")
        self.state["eval_intervals"] = values

    # -- thresholds and statistics -------------------------------------------
    def _store_threshold(self, name: str, text: bytes) -> None:
        value = self._ulong(text)
        if value > 99:
            raise kernel_error(errno.EINVAL, "%s above 99" % name)
        self.state[name] = value

    def _show_pages_scanned(self) -> str:
        base = self.state["pages_scanned_pow2"]
        if base:
            return "%d * 2^%d\n" % (self.state["pages_scanned"], base)
        return "%d\n" % self.state["pages_scanned"]
