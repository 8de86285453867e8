"""The kinds of host the simulator can play (``--variant``)."""

from __future__ import annotations

from typing import NamedTuple

from simhost.ksm import KSM_ATTRS, KSM_ATTRS_4_19
from simhost.uksm import UKSM_ATTRS

LEGACY_UKSM_ATTRS = ("run", "sleep_millisecs", "max_cpu_percentage", "pages_shared", "pages_sharing", "pages_scanned")


class Variant(NamedTuple):
    """What one simulated kernel looks like from user space."""

    name: str
    #: "uksm", "ksm" or "none": which kernel model and sysfs directory
    kind: str
    attrs: tuple[str, ...]
    osrelease: str
    description: str
    #: /sys mounted read-only (container): every open for writing is EROFS
    readonly: bool = False
    #: directory visible but listing and reads denied (EACCES), e.g. an LSM policy
    unreadable: bool = False
    #: /proc/meminfo carries UKSM's KsmZeroPages line
    meminfo_zero_pages: bool = False


VARIANTS: dict[str, Variant] = {
    variant.name: variant
    for variant in (
        Variant(
            "uksm",
            "uksm",
            UKSM_ATTRS,
            "6.1.112-litevirt-uksm",
            "UKSM 0.1.2.x kernel: 16 attributes in /sys/kernel/mm/uksm",
            meminfo_zero_pages=True,
        ),
        Variant(
            "uksm-readonly",
            "uksm",
            UKSM_ATTRS,
            "6.1.112-litevirt-uksm",
            "UKSM kernel seen from a container with /sys mounted read-only",
            readonly=True,
            meminfo_zero_pages=True,
        ),
        Variant(
            "uksm-legacy", "uksm", LEGACY_UKSM_ATTRS, "3.0.101-uksm-android", "pre-0.1.2 UKSM tree without cpu_governor"
        ),
        Variant(
            "uksm-unreadable",
            "uksm",
            UKSM_ATTRS,
            "6.1.112-litevirt-uksm",
            "UKSM directory present but listing and reads fail with EACCES",
            unreadable=True,
            meminfo_zero_pages=True,
        ),
        Variant(
            "ksm",
            "ksm",
            KSM_ATTRS,
            "6.8.0-49-generic",
            "mainline 6.8+ NUMA kernel: every attribute of /sys/kernel/mm/ksm",
        ),
        Variant(
            "ksm-nonuma",
            "ksm",
            tuple(a for a in KSM_ATTRS if a != "merge_across_nodes"),
            "6.8.0-49-generic",
            "mainline 6.8+ kernel without NUMA (no merge_across_nodes)",
        ),
        Variant(
            "ksm-old",
            "ksm",
            KSM_ATTRS_4_19,
            "4.19.0-27-amd64",
            "mainline 4.19 kernel: no advisor, smart_scan, general_profit or pages_scanned",
        ),
        Variant(
            "ksm-readonly",
            "ksm",
            KSM_ATTRS,
            "6.8.0-49-generic",
            "mainline 6.8+ kernel seen from a container with /sys mounted read-only",
            readonly=True,
        ),
        Variant("none", "none", (), "6.1.0-27-amd64", "CONFIG_KSM off: /sys/kernel/mm has neither uksm nor ksm"),
    )
}


def kernel_version(variant: Variant) -> tuple[int, int]:
    """(major, minor) from the variant's osrelease."""
    major, minor = variant.osrelease.split(".")[:2]
    return int(major), int(minor)


def get_variant(name: str) -> Variant:
    try:
        return VARIANTS[name]
    except KeyError:
        raise ValueError("unknown variant %r (choose from %s)" % (name, ", ".join(VARIANTS))) from None


def thread_name(variant: Variant) -> str | None:
    """The kernel thread the variant's kernel runs, if any."""
    return {"uksm": "uksmd", "ksm": "ksmd"}.get(variant.kind)
