"""Model of /sys/kernel/mm/uksm (UKSM 0.1.2.x), section 2 of docs/kernel-interfaces.md.

Besides the stores and shows, uksmd's part of section 2.5 (steps 2 to 4 of
``uksm_calc_scan_pages()``, run after every batch) is played by ``uksmd_batch``.
The model itself never runs it on its own: ``settle`` runs the batch that is
due before a read (the host calls it), ``uksmd_rounds`` lets rounds pass.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from typing import Any

from simhost.kernel_base import KernelHang, SysfsKernel
from simhost.parse import UINT_MAX, kernel_error, kstrtoul

TIME_RATIO_SCALE = 10000
MAX_SCAN_SLEEP_MSECS = 1000
SCAN_LADDER_SIZE = 4
SUPPORTED_HZ = (100, 250, 300, 1000)
USEC_PER_SEC = 1000000
NSEC_PER_USEC = 1000
#: UKSM_PAGE_TIME_DEFAULT: what ema_per_page_time is reset to (section 2.5, step 2)
EMA_RESET = 500
#: step 2: an ema above this is reset
EMA_LIMIT = 100000
#: step 2 resets ema throughout every round that is a multiple of this; step 3 restores the sleep every 8
EMA_RESET_ROUNDS = 256
RESTORE_ROUNDS = 8
#: at most this many rounds pass per control request (uksmd_rounds)
MAX_ROUNDS = 1000000
#: state keys steps 2 to 4 read: a change of one through the control interface makes a batch due
BATCH_INPUTS = (
    "sleep_jiffies",
    "saved_sleep_jiffies",
    "ema_per_page_time",
    "eval_round",
    "cpu_ratios",
    "max_cpu_percentage",
    "hz",
)
#: attributes a batch can change: reading one lets the due batch run first
BATCH_SHOWN = ("sleep_millisecs", "ema_per_page_time")
#: state keys that hold unsigned kernel counters (no floats, no negative values)
UNSIGNED_KEYS = ("saved_sleep_jiffies", "eval_round", "ema_per_page_time")
#: kmalloc bucket sizes: a cpu_ratios write of exactly this many bytes is not NUL-terminated
KMALLOC_SIZES = (8, 16, 32, 64, 96, 128, 192, 256)
#: after this many bad kfree() calls even valid eval_intervals writes fail
CORRUPTION_LIMIT = 3

GOVERNORS = ("full", "medium", "low", "quiet")
# cpu_ratios are stored like the kernel: N > 0, or -(10000 // n) for MAX/n.
PRESETS: dict[str, dict[str, Any]] = {
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


def jiffies_to_usecs(jiffies: int, hz: int) -> int:
    """The kernel's jiffies_to_usecs(): exact when HZ divides 10^6, truncated otherwise (HZ 300)."""
    return jiffies * USEC_PER_SEC // hz


def usecs_to_jiffies(usecs: int, hz: int) -> int:
    """The kernel's usecs_to_jiffies(): rounded up to the next tick."""
    return -(-usecs * hz // USEC_PER_SEC)


def rung_real_ratio(stored: int, max_cpu_percentage: int) -> int:
    """rung_real_ratio(): N for a positive rung; for MAX/N (stored -(10000 // N)) its share of max_cpu, at least 1."""
    if stored > 0:
        return stored
    return (-stored) * max_cpu_percentage // 100 or 1


def sleep_budget_ns(sleep_jiffies: int, ratio: int, hz: int) -> int:
    """cpu_ratio_to_nsec(): the ns a rung of real ratio ``ratio`` may spend per sleep (left to right)."""
    return NSEC_PER_USEC * jiffies_to_usecs(sleep_jiffies, hz) // (TIME_RATIO_SCALE - ratio) * ratio


def raised_sleep_jiffies(ema: int, ratio: int, hz: int) -> int:
    """Step 4's new sleep: long enough for rung 0 to scan one page at ``ema`` ns a page."""
    return usecs_to_jiffies(ema * (TIME_RATIO_SCALE - ratio) // ratio // NSEC_PER_USEC, hz) + 1


def parse_ladder(text: bytes, parse_token: Callable[[bytes], int], progress: list[int] | None = None) -> list[int]:
    """Parse a 4-rung value the way the stores do, token by token.

    Three single spaces separate the tokens, everything after the third is
    the last one.  A newline anywhere but at the very end is EINVAL (the
    contract: only the last token may carry it).  ``progress`` receives the
    count of tokens parsed so far, so callers know how far the parser got
    before failing.
    """
    values: list[int] = []
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
    """UKSM's 16 attributes (or a subset, for the pre-0.1.2 layout), and uksmd's raise of a short sleep."""

    dirname = "uksm"
    thread_name = "uksmd"
    _free_keys = ("cpu_governor", "hang_errno")

    def __init__(self, attrs: list[str] | None = None, state: dict[str, Any] | None = None) -> None:
        if state and "sleep_jiffies" in state and "saved_sleep_jiffies" not in state:
            # a state saved before the two sleeps were modelled: the sleep shown is the one written
            state = dict(state, saved_sleep_jiffies=state["sleep_jiffies"])
        super().__init__(attrs, state)

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        hz = 250
        state: dict[str, Any] = {
            "hz": hz,
            "run": 1,
            "sleep_jiffies": msecs_to_jiffies(100, hz),
            # section 2.5: the sleep last written (uksm_sleep_saved), the evaluation round
            # (uksm_eval_round, starts at 1) and whether uksmd has a batch to run before the
            # next read of what a batch changes (one is due at boot: uksmd runs from boot)
            "saved_sleep_jiffies": msecs_to_jiffies(100, hz),
            "eval_round": 1,
            "uksmd_batch_due": True,
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
        if key in UNSIGNED_KEYS and not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
            raise kernel_error(errno.EINVAL, "%s must be a non-negative integer" % key)

    def merge_state(self, patch: dict[str, Any]) -> None:
        """As for every model; besides, ``sleep_jiffies`` alone sets the saved sleep too (like a
        write), and a change of what steps 2 to 4 read makes a batch of uksmd due."""
        patch = dict(patch)
        if "sleep_jiffies" in patch and "saved_sleep_jiffies" not in patch:
            patch["saved_sleep_jiffies"] = patch["sleep_jiffies"]
        super().merge_state(patch)
        if "uksmd_batch_due" not in patch and any(key in patch for key in BATCH_INPUTS):
            self.state["uksmd_batch_due"] = True

    def _register(self) -> None:
        self._rw("run", lambda: "%d\n" % self.state["run"], self._store_run)
        self._rw("sleep_millisecs", self._show_sleep, self._wakes_uksmd(self._store_sleep))
        self._rw(
            "max_cpu_percentage",
            lambda: "%d\n" % self.state["max_cpu_percentage"],
            self._wakes_uksmd(self._store_max_cpu),
        )
        self._rw("cpu_governor", self._show_governor, self._wakes_uksmd(self._store_governor))
        self._rw("cpu_ratios", self._show_ratios, self._wakes_uksmd(self._store_ratios))
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
        # uksm_sleep_jiffies and uksm_sleep_saved: the one shown and the one every 8th round restores
        jiffies = msecs_to_jiffies(value, self.state["hz"])
        self.state["sleep_jiffies"] = jiffies
        self.state["saved_sleep_jiffies"] = jiffies

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

    def parse_ratio(self, token: bytes) -> int:
        """One cpu_ratios rung as the kernel stores it: N, or -(10000 // N) for MAX/N (EINVAL out of 1..10000)."""
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
        ratios = parse_ladder(text, self.parse_ratio)
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
        progress: list[int] = []
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

    # -- uksmd (section 2.5) ----------------------------------------------------------
    def _wakes_uksmd(self, store: Callable[[bytes], None]) -> Callable[[bytes], None]:
        """A store after which uksmd runs a batch before the next read of what a batch changes."""

        def wrapped(text: bytes) -> None:
            self.state["uksmd_batch_due"] = True
            store(text)

        return wrapped

    def uksmd_runs(self) -> bool:
        """uksmd runs batches: run is 1 and the thread is alive."""
        return self.state["run"] == 1 and bool(self.state["uksmd_alive"])

    def settle(self, attr: str) -> list[dict[str, Any]] | None:
        """Before a read of sleep_millisecs or ema_per_page_time: the batch that is due, if uksmd runs.

        Returns the batch's events, or None when no batch ran.
        """
        if attr in BATCH_SHOWN and self.state["uksmd_batch_due"] and self.uksmd_runs():
            return self.uksmd_batch()
        return None

    def check_rounds(self, count: Any, patch: dict[str, Any] | None = None) -> None:
        """Refuse (EINVAL, ESRCH) a request to let ``count`` rounds pass, with ``patch`` merged first."""
        if not (isinstance(count, int) and not isinstance(count, bool) and 0 <= count <= MAX_ROUNDS):
            raise kernel_error(errno.EINVAL, "uksmd_rounds must be an integer 0..%d" % MAX_ROUNDS)
        after = dict(self.state, **(patch or {}))
        if not after["uksmd_alive"]:
            raise kernel_error(errno.ESRCH, "uksmd is gone: it runs no batch")
        if after["run"] != 1:
            raise kernel_error(errno.EINVAL, "run is 0: uksmd is paused and runs no batch")

    def uksmd_rounds(self, count: int) -> list[dict[str, Any]]:
        """Let ``count`` evaluation rounds pass, one batch each.

        The batch that is due (if any) runs first, in the current round; then, ``count``
        times, the round counter grows by one and a batch runs in the new round.  So from
        round 7, ``uksmd_rounds(1)`` ends with a batch of round 8 (a restore).
        """
        self.check_rounds(count)
        events: list[dict[str, Any]] = []
        if self.state["uksmd_batch_due"]:
            events += self.uksmd_batch()
        for _round in range(count):
            if not self.state["uksmd_alive"]:
                break
            self.state["eval_round"] += 1
            events += self.uksmd_batch()
        return events

    def uksmd_batch(self) -> list[dict[str, Any]]:
        """One batch of uksmd: steps 2 to 4 of section 2.5, in the current evaluation round.

        ``ema_per_page_time`` does not take a cost here (step 1 is not played): it moves
        only by step 2.  Returns one event per attribute whose reading changed.
        """
        state = self.state
        state["uksmd_batch_due"] = False
        hz, current_round = state["hz"], state["eval_round"]
        ratios = [rung_real_ratio(stored, state["max_cpu_percentage"]) for stored in state["cpu_ratios"]]
        if max(ratios) >= TIME_RATIO_SCALE:
            # cpu_ratio_to_nsec() divides by 10000 - ratio: the divide error kills uksmd (section 2.3).
            state["uksmd_alive"] = False
            return [{"attr": "cpu_ratios", "result": "uksmd died", "round": current_round, "hazard": True}]
        was_ema, was_sleep = state["ema_per_page_time"], state["sleep_jiffies"]
        # step 2
        ema = was_ema
        if ema > EMA_LIMIT or current_round % EMA_RESET_ROUNDS == 0:
            ema = EMA_RESET
        # step 3
        steps = []
        sleep = was_sleep
        if current_round % RESTORE_ROUNDS == 0:
            sleep = state["saved_sleep_jiffies"]
            steps.append("restored")
        # step 4
        ratio = ratios[0]
        if sleep_budget_ns(sleep, ratio, hz) < ema:
            sleep = raised_sleep_jiffies(ema, ratio, hz)
            steps.append("raised")
        state["ema_per_page_time"], state["sleep_jiffies"] = ema, sleep
        events: list[dict[str, Any]] = []
        if ema != was_ema:
            events.append({"attr": "ema_per_page_time", "result": "reset", "was": was_ema, "value": ema})
        if sleep != was_sleep:
            events.append(
                {
                    "attr": "sleep_millisecs",
                    "result": ", ".join(steps),
                    "was": jiffies_to_msecs(was_sleep, hz),
                    "value": jiffies_to_msecs(sleep, hz),
                    "ema": ema,
                    "ratio": ratio,
                }
            )
        for event in events:
            event["round"] = current_round
        return events
