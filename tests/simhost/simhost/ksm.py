"""Model of mainline /sys/kernel/mm/ksm (mm/ksm.c), section 3 of the ABI contract (docs/kernel-interfaces.md)."""

from __future__ import annotations

import errno
from typing import Any

from simhost.kernel_base import SysfsKernel
from simhost.parse import UINT_MAX, kernel_error, kstrtobool, kstrtoint, kstrtouint, kstrtoul, sysfs_streq

KSM_RUN_MERGE = 1
KSM_RUN_UNMERGE = 2
KSM_RUN_OFFLINE = 4
DEFAULT_PAGES_TO_SCAN = 100

#: every attribute of a 6.8+ kernel, in the order of mm/ksm.c's ksm_attrs[]
KSM_ATTRS = (
    "sleep_millisecs",
    "pages_to_scan",
    "run",
    "pages_scanned",
    "pages_shared",
    "pages_sharing",
    "pages_unshared",
    "pages_volatile",
    "pages_skipped",
    "ksm_zero_pages",
    "general_profit",
    "stable_node_dups",
    "stable_node_chains",
    "full_scans",
    "merge_across_nodes",
    "use_zero_pages",
    "max_page_sharing",
    "stable_node_chains_prune_millisecs",
    "smart_scan",
    "advisor_mode",
    "advisor_max_cpu",
    "advisor_min_pages_to_scan",
    "advisor_max_pages_to_scan",
    "advisor_target_scan_time",
)

#: a 4.19 kernel (before general_profit, pages_scanned, smart_scan and the advisor)
KSM_ATTRS_4_19 = (
    "sleep_millisecs",
    "pages_to_scan",
    "run",
    "pages_shared",
    "pages_sharing",
    "pages_unshared",
    "pages_volatile",
    "full_scans",
    "merge_across_nodes",
    "max_page_sharing",
    "stable_node_chains",
    "stable_node_dups",
    "stable_node_chains_prune_millisecs",
    "use_zero_pages",
)

#: statistics an unmerge (run=2) brings back to zero
UNMERGED_STATS = (
    "pages_shared",
    "pages_sharing",
    "pages_unshared",
    "pages_volatile",
    "stable_node_chains",
    "stable_node_dups",
    "general_profit",
    "ksm_zero_pages",
)

STATS = (
    "pages_shared",
    "pages_sharing",
    "pages_unshared",
    "full_scans",
    "stable_node_chains",
    "stable_node_dups",
    "general_profit",
    "pages_scanned",
    "ksm_zero_pages",
    "pages_skipped",
)


class KsmKernel(SysfsKernel):
    """Mainline KSM; ``attrs`` selects the kernel version's attribute set."""

    dirname = "ksm"
    thread_name = "ksmd"
    _free_keys = ("advisor_mode", "unmerge_error")

    def __init__(
        self,
        attrs: list[str] | None = None,
        state: dict[str, Any] | None = None,
        version: tuple[int, int] = (6, 8),
    ) -> None:
        #: kstrtobool() accepts true/false since 5.19
        self.bool_true_false = version >= (5, 19)
        super().__init__(attrs, state)

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        state: dict[str, Any] = {
            "run": 0,
            "pages_to_scan": DEFAULT_PAGES_TO_SCAN,
            "sleep_millisecs": 20,
            "merge_across_nodes": 1,
            "use_zero_pages": 0,
            "max_page_sharing": 256,
            "stable_node_chains_prune_millisecs": 2000,
            "smart_scan": 1,
            "advisor_mode": "none",
            "advisor_max_cpu": 70,
            "advisor_min_pages_to_scan": 500,
            "advisor_max_pages_to_scan": 30000,
            "advisor_target_scan_time": 200,
            "pages_volatile": 0,
            # simulator knobs
            # /proc: ksmd's CPU time (stime, USER_HZ clock ticks; none before run=1) and the uptime in seconds
            "daemon_cpu_ticks": 0,
            "uptime_seconds": 7500.0,
            # /proc/meminfo: MemAvailable in kB (of MemTotal 16303540: 78.8 %)
            "mem_available_kb": 12845116,
            "ksmd_alive": True,
            "offlining": False,
            "unmerge_error": None,
        }
        state.update({name: 0 for name in STATS})
        return state

    def _check_value(self, key: str, value: Any) -> None:
        if key == "unmerge_error":
            if value is not None and not (isinstance(value, str) and hasattr(errno, value)):
                raise kernel_error(errno.EINVAL, "unmerge_error must be null or an errno name")
            return
        super()._check_value(key, value)
        if key == "advisor_mode" and value not in ("none", "scan-time"):
            raise kernel_error(errno.EINVAL, "advisor_mode must be none or scan-time")

    def _register(self) -> None:
        self._rw(
            "sleep_millisecs", self._show("sleep_millisecs"), lambda text: self._store_uint("sleep_millisecs", text)
        )
        self._rw("pages_to_scan", self._show("pages_to_scan"), self._store_pages_to_scan)
        self._rw("run", self._show_run, self._store_run)
        for name in STATS:
            self._stat(name)
        self._ro("pages_volatile", lambda: "%d\n" % max(0, self.state["pages_volatile"]))
        self._rw("merge_across_nodes", self._show("merge_across_nodes"), self._store_merge_across_nodes)
        self._rw("use_zero_pages", self._show("use_zero_pages"), lambda text: self._store_bool("use_zero_pages", text))
        self._rw("max_page_sharing", self._show("max_page_sharing"), self._store_max_page_sharing)
        self._rw(
            "stable_node_chains_prune_millisecs",
            self._show("stable_node_chains_prune_millisecs"),
            lambda text: self._store_uint("stable_node_chains_prune_millisecs", text),
        )
        self._rw("smart_scan", self._show("smart_scan"), lambda text: self._store_bool("smart_scan", text))
        self._rw("advisor_mode", self._show_advisor_mode, self._store_advisor_mode)
        self._rw("advisor_max_cpu", self._show("advisor_max_cpu"), self._store_advisor_max_cpu)
        for name in ("advisor_min_pages_to_scan", "advisor_max_pages_to_scan"):
            self._rw(name, self._show(name), self._ulong_store(name))
        self._rw("advisor_target_scan_time", self._show("advisor_target_scan_time"), self._store_target_scan_time)

    def _show(self, name: str):
        return lambda: "%d\n" % self.state[name]

    # -- generic stores -------------------------------------------------------
    def _store_uint(self, name: str, text: bytes) -> None:
        try:
            self.state[name] = kstrtouint(text)
        except OSError:
            raise kernel_error(errno.EINVAL, "invalid unsigned int") from None

    def _store_bool(self, name: str, text: bytes) -> None:
        self.state[name] = int(kstrtobool(text, self.bool_true_false))

    def _ulong_store(self, name: str):
        def store(text: bytes) -> None:
            self.state[name] = self._ulong(text)

        return store

    @staticmethod
    def _ulong(text: bytes) -> int:
        try:
            return kstrtoul(text)
        except OSError:
            raise kernel_error(errno.EINVAL, "invalid unsigned long") from None

    # -- run ----------------------------------------------------------------
    def _show_run(self) -> str:
        value = self.state["run"]
        if self.state["offlining"]:
            value |= KSM_RUN_OFFLINE
        return "%d\n" % value

    def _store_run(self, text: bytes) -> None:
        try:
            value = kstrtouint(text)
        except OSError:
            raise kernel_error(errno.EINVAL, "invalid run value") from None
        if value > KSM_RUN_UNMERGE:
            raise kernel_error(errno.EINVAL, "run accepts 0, 1 or 2")
        if self.state["run"] == value:
            return
        self.state["run"] = value
        if value & KSM_RUN_UNMERGE:
            failure = self.state["unmerge_error"]
            if failure:
                # unmerge_and_remove_all_rmap_items() failed: ksm_run = KSM_RUN_STOP.
                self.state["run"] = 0
                raise kernel_error(getattr(errno, failure), "unmerge failed")
            for name in UNMERGED_STATS:
                self.state[name] = 0

    # -- pages_to_scan and the advisor --------------------------------------
    def _advisor_on(self) -> bool:
        return self.has("advisor_mode") and self.state["advisor_mode"] != "none"

    def _store_pages_to_scan(self, text: bytes) -> None:
        if self._advisor_on():
            raise kernel_error(errno.EINVAL, "pages_to_scan is managed by the advisor")
        self._store_uint("pages_to_scan", text)

    def _show_advisor_mode(self) -> str:
        if self.state["advisor_mode"] == "none":
            return "[none] scan-time\n"
        return "none [scan-time]\n"

    def _store_advisor_mode(self, text: bytes) -> None:
        if sysfs_streq(text, "scan-time"):
            mode = "scan-time"
        elif sysfs_streq(text, "none"):
            mode = "none"
        else:
            raise kernel_error(errno.EINVAL, "advisor_mode accepts none or scan-time")
        if mode != self.state["advisor_mode"]:
            self.state["advisor_mode"] = mode
            # set_advisor_defaults()
            if mode == "none":
                self.state["pages_to_scan"] = DEFAULT_PAGES_TO_SCAN
            else:
                self.state["pages_to_scan"] = self.state["advisor_min_pages_to_scan"]

    def _store_advisor_max_cpu(self, text: bytes) -> None:
        # Parsed as unsigned long, stored in an unsigned int.
        self.state["advisor_max_cpu"] = self._ulong(text) & UINT_MAX

    def _store_target_scan_time(self, text: bytes) -> None:
        value = self._ulong(text)
        if value < 1:
            raise kernel_error(errno.EINVAL, "advisor_target_scan_time must be >= 1")
        self.state["advisor_target_scan_time"] = value

    # -- knobs that need an empty stable tree -------------------------------
    def _store_merge_across_nodes(self, text: bytes) -> None:
        value = kstrtoul(text)  # errors pass through as-is (ERANGE on overflow)
        if value > 1:
            raise kernel_error(errno.EINVAL, "merge_across_nodes accepts 0 or 1")
        if value != self.state["merge_across_nodes"]:
            if self.state["pages_shared"]:
                raise kernel_error(errno.EBUSY, "pages are shared")
            self.state["merge_across_nodes"] = value

    def _store_max_page_sharing(self, text: bytes) -> None:
        value = kstrtoint(text)  # errors pass through as-is (ERANGE on overflow)
        if value < 2:
            raise kernel_error(errno.EINVAL, "max_page_sharing must be >= 2")
        if value != self.state["max_page_sharing"]:
            if self.state["pages_shared"]:
                raise kernel_error(errno.EBUSY, "pages are shared")
            self.state["max_page_sharing"] = value
