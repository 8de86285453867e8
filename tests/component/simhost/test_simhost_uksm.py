"""The UKSM model against section 2 of the ABI contract (docs/kernel-interfaces.md).

The pure model first (no FUSE); then uksmd's raise of a short sleep_millisecs (section 2.5),
through the files of a mounted host, as the collection sees it.
"""

from __future__ import annotations

import errno
import math
import os
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from simhost import cli, server
from simhost.host import SimHost
from simhost.kernel import KernelHang, UksmKernel, jiffies_to_msecs, make_kernel, msecs_to_jiffies
from simhost.sysroot import boot_state

DEFAULT_TEXT = {
    "run": "1\n",
    "sleep_millisecs": "100\n",
    "max_cpu_percentage": "95\n",
    "cpu_governor": "[full] medium low quiet \n",
    "cpu_ratios": "20 40 MAX/4 MAX/1 \n",
    "eval_intervals": "1000 500 200 50 \n",
    "abundant_threshold": "10\n",
    "thrash_threshold": "50\n",
    "pages_shared": "1200\n",
    "pages_sharing": "48000\n",
    "pages_unshared": "3500\n",
    "full_scans": "5\n",
    "pages_scanned": "2621440\n",
    "ema_per_page_time": "624\n",
    "hash_strength": "44\n",
    "sleep_times": "1875\n",
}
WRITABLE = {
    "run",
    "sleep_millisecs",
    "max_cpu_percentage",
    "cpu_governor",
    "cpu_ratios",
    "eval_intervals",
    "abundant_threshold",
    "thrash_threshold",
}


def read(kernel, attr):
    return kernel.read(attr).decode()


def write(kernel, attr, text):
    return kernel.write(attr, text.encode() if isinstance(text, str) else text)


def write_errno(kernel, attr, text):
    with pytest.raises(OSError) as info:
        write(kernel, attr, text)
    return info.value.errno


@pytest.fixture
def uksm():
    return UksmKernel()


def test_sixteen_attributes_with_modes(uksm):
    assert sorted(uksm.attributes()) == sorted(DEFAULT_TEXT)
    assert len(uksm.attributes()) == 16
    assert {attr for attr in uksm.attributes() if uksm.is_writable(attr)} == WRITABLE
    assert uksm.mode("run") == 0o644 and uksm.mode("pages_shared") == 0o444


@pytest.mark.parametrize("attr", sorted(DEFAULT_TEXT))
def test_defaults_read_exactly(uksm, attr):
    assert read(uksm, attr) == DEFAULT_TEXT[attr]


@pytest.mark.parametrize("attr", sorted(set(DEFAULT_TEXT) - WRITABLE))
def test_read_only_statistics_refuse_writes(uksm, attr):
    assert write_errno(uksm, attr, "1\n") == errno.EACCES


def test_write_returns_count_and_zero_length_is_noop(uksm):
    assert write(uksm, "run", "0\n") == 2
    assert write(uksm, "run", "") == 0
    assert read(uksm, "run") == "0\n"


def test_nul_ends_the_string_but_count_is_everything(uksm):
    assert write(uksm, "abundant_threshold", b"20\0junk") == 7
    assert read(uksm, "abundant_threshold") == "20\n"


# -- run ---------------------------------------------------------------------------


@pytest.mark.parametrize("text, value", [("0", "0"), ("1", "1"), ("0\n", "0"), ("+1\n", "1"), ("00\n", "0")])
def test_run_accepts(uksm, text, value):
    write(uksm, "run", "0" if value == "1" else "1")
    write(uksm, "run", text)
    assert read(uksm, "run") == value + "\n"


@pytest.mark.parametrize("text", ["2", "2\n", "-1", " 1", "1 ", "1\n\n", "", "\n", "on", "4294967297"])
def test_run_rejects(uksm, text):
    if text == "":
        assert write(uksm, "run", text) == 0
        return
    assert write_errno(uksm, "run", text) == errno.EINVAL
    assert read(uksm, "run") == "1\n"


# -- sleep_millisecs -------------------------------------------------------------


@pytest.mark.parametrize(
    "hz, written, expected",
    [
        (1000, 0, 0),
        (1000, 1, 1),
        (1000, 101, 101),
        (1000, 999, 999),
        (1000, 1000, 1000),
        (250, 0, 0),
        (250, 1, 4),
        (250, 4, 4),
        (250, 5, 8),
        (250, 100, 100),
        (250, 101, 104),
        (250, 1000, 1000),
        (100, 1, 10),
        (100, 10, 10),
        (100, 11, 20),
        (100, 101, 110),
        (100, 995, 1000),
        (300, 1, 4),
        (300, 3, 4),
        (300, 4, 7),
        (300, 6, 7),
        (300, 7, 10),
        (300, 100, 100),
        (300, 101, 104),
        (300, 999, 1000),
    ],
)
def test_sleep_millisecs_rounds_up_to_the_tick(hz, written, expected):
    kernel = UksmKernel(state={"hz": hz, "sleep_jiffies": msecs_to_jiffies(100, hz)})
    assert read(kernel, "sleep_millisecs") == "100\n"
    write(kernel, "sleep_millisecs", "%d\n" % written)
    assert read(kernel, "sleep_millisecs") == "%d\n" % expected
    assert kernel.state["sleep_jiffies"] == msecs_to_jiffies(written, hz)


def test_jiffy_helpers():
    assert msecs_to_jiffies(101, 250) == 26 and jiffies_to_msecs(26, 250) == 104
    assert msecs_to_jiffies(1, 300) == 1 and jiffies_to_msecs(1, 300) == 4


@pytest.mark.parametrize("text", ["1001", "1001\n", "-1", "100 ", "1e3", "18446744073709551616"])
def test_sleep_millisecs_rejects(uksm, text):
    assert write_errno(uksm, "sleep_millisecs", text) == errno.EINVAL
    assert read(uksm, "sleep_millisecs") == "100\n"


# -- max_cpu_percentage --------------------------------------------------------


@pytest.mark.parametrize("written, stored", [(0, 10), (1, 10), (9, 10), (10, 10), (50, 50), (99, 99), (100, 99)])
def test_max_cpu_percentage_clamps(uksm, written, stored):
    write(uksm, "max_cpu_percentage", "%d\n" % written)
    assert read(uksm, "max_cpu_percentage") == "%d\n" % stored


@pytest.mark.parametrize("text", ["101", "1000\n", "-5", "50%"])
def test_max_cpu_percentage_rejects(uksm, text):
    assert write_errno(uksm, "max_cpu_percentage", text) == errno.EINVAL
    assert read(uksm, "max_cpu_percentage") == "95\n"


# -- cpu_governor ----------------------------------------------------------------

PRESET_TEXT = {
    "full": ("[full] medium low quiet \n", "20 40 MAX/4 MAX/1 \n", "1000 500 200 50 \n", "95\n"),
    "medium": ("full [medium] low quiet \n", "20 30 MAX/4 MAX/1 \n", "1000 500 400 100 \n", "50\n"),
    "low": ("full medium [low] quiet \n", "10 20 MAX/2 MAX/1 \n", "1500 1000 1000 250 \n", "20\n"),
    "quiet": ("full medium low [quiet] \n", "10 20 40 75 \n", "2000 1000 1000 1000 \n", "1\n"),
}


@pytest.mark.parametrize("governor", sorted(PRESET_TEXT))
def test_governor_presets(uksm, governor):
    write(uksm, "cpu_governor", governor + "\n")
    expected = PRESET_TEXT[governor]
    assert (
        read(uksm, "cpu_governor"),
        read(uksm, "cpu_ratios"),
        read(uksm, "eval_intervals"),
        read(uksm, "max_cpu_percentage"),
    ) == expected


def test_governor_write_of_current_value_resets_the_preset(uksm):
    write(uksm, "max_cpu_percentage", "50\n")
    write(uksm, "cpu_ratios", "+20 40 MAX/4 MAX/2\n")
    write(uksm, "cpu_governor", "full\n")
    assert read(uksm, "max_cpu_percentage") == "95\n"
    assert read(uksm, "cpu_ratios") == "20 40 MAX/4 MAX/1 \n"


def test_quiet_max_cpu_cannot_be_written_directly(uksm):
    write(uksm, "cpu_governor", "quiet")
    assert read(uksm, "max_cpu_percentage") == "1\n"
    write(uksm, "max_cpu_percentage", "1\n")
    assert read(uksm, "max_cpu_percentage") == "10\n"


@pytest.mark.parametrize(
    "text, governor",
    [
        ("fullxyz", "full"),
        ("low", "low"),
        ("quiet\n", "quiet"),
        ("mediumly", "medium"),
        ("full [medium] low quiet ", "full"),
        ("full medium [low] quiet \n", "full"),
    ],
)
def test_governor_prefix_match(uksm, text, governor):
    write(uksm, "cpu_governor", "medium")
    write(uksm, "cpu_governor", text)
    assert "[%s]" % governor in read(uksm, "cpu_governor")


@pytest.mark.parametrize("text", [" full", "Full", "FULL", "ful", "", "\n", "[full]", "fast"])
def test_governor_rejects(uksm, text):
    if text == "":
        assert write(uksm, "cpu_governor", text) == 0
        return
    assert write_errno(uksm, "cpu_governor", text) == errno.EINVAL
    assert read(uksm, "cpu_governor") == "[full] medium low quiet \n"


# -- cpu_ratios ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, shown",
    [
        ("20 40 MAX/4 MAX/1\n", "20 40 MAX/4 MAX/1 \n"),
        ("10 20 40 75\n", "10 20 40 75 \n"),
        ("1 9999 MAX/100 MAX/10000\n", "1 9999 MAX/100 MAX/10000 \n"),
        ("20 40 MAX/150 MAX/1\n", "20 40 MAX/151 MAX/1 \n"),
        ("20 40 MAX/3 MAX/1\n", "20 40 MAX/3 MAX/1 \n"),
        ("20 40 MAX/7000 MAX/1\n", "20 40 MAX/10000 MAX/1 \n"),
        ("+20 40 MAX/+4 MAX/1\n", "20 40 MAX/4 MAX/1 \n"),
        ("20 40 MAX/4 MAX/1", "20 40 MAX/4 MAX/1 \n"),
    ],
)
def test_cpu_ratios_accepts(uksm, text, shown):
    assert write(uksm, "cpu_ratios", text) == len(text)
    assert read(uksm, "cpu_ratios") == shown


def test_cpu_ratios_storage(uksm):
    write(uksm, "cpu_ratios", "20 40 MAX/150 MAX/1\n")
    assert uksm.state["cpu_ratios"] == [20, 40, -66, -10000]


@pytest.mark.parametrize(
    "text",
    [
        "20 40 MAX/4\n",  # missing token
        "20 40 MAX/4 MAX/1 5\n",  # five tokens
        "20  40 MAX/4 MAX/1\n",  # doubled separator
        "20,40,MAX/4,MAX/1\n",  # wrong separator
        " 20 40 MAX/4 MAX/1\n",  # empty first token
        "0 40 MAX/4 MAX/1\n",  # zero
        "20 40 MAX/0 MAX/1\n",  # MAX/0
        "20 40 MAX/4 10001\n",  # above 10000
        "20 40 MAX/10001 MAX/1\n",
        "20 40 MAX/4 MAX/1 \n",  # trailing space: what a read returns
        "20 40 MAX/4 MAX/1 ",
        "20\n 40 MAX/4 MAX/1\n",  # newline not on the last token
        "-20 40 MAX/4 MAX/1\n",
        "20 40 max/4 MAX/1\n",
        "20 40 MAX4 MAX/1\n",
        "20 40 MAX/ MAX/1\n",
    ],
)
def test_cpu_ratios_rejects(uksm, text):
    assert len(text.encode()) not in (8, 16, 32, 64, 96, 128, 192, 256)
    assert write_errno(uksm, "cpu_ratios", text) == errno.EINVAL
    assert read(uksm, "cpu_ratios") == "20 40 MAX/4 MAX/1 \n"


def test_cpu_ratios_writing_back_what_was_read_fails(uksm):
    assert write_errno(uksm, "cpu_ratios", read(uksm, "cpu_ratios")) == errno.EINVAL


@pytest.mark.parametrize("size", [8, 16, 32, 64, 96, 128, 192, 256])
def test_cpu_ratios_kmalloc_sized_writes_fail(uksm, size):
    text = "1 2 3 " + "0" * (size - 8) + "4\n"  # a valid value of exactly `size` bytes
    assert len(text) == size
    assert write_errno(uksm, "cpu_ratios", text) == errno.EINVAL
    assert uksm.last_write_hazard
    assert read(uksm, "cpu_ratios") == "20 40 MAX/4 MAX/1 \n"
    # One byte more (a leading '+') and the same value is accepted.
    assert write(uksm, "cpu_ratios", "+" + text) == size + 1
    assert not uksm.last_write_hazard
    assert read(uksm, "cpu_ratios") == "1 2 3 4 \n"


def test_cpu_ratios_every_write_leaks(uksm):
    write(uksm, "cpu_ratios", "20 40 MAX/4 MAX/1\n")
    write_errno(uksm, "cpu_ratios", "bad\n")
    write_errno(uksm, "cpu_ratios", "1 2 MAX/2 MAX/1\n")
    assert uksm.state["kmalloc32_leaks"] == 3


def test_cpu_ratios_10000_kills_uksmd_and_run_then_hangs(uksm):
    assert write(uksm, "cpu_ratios", "20 40 10000 MAX/1\n") == 18
    assert uksm.last_write_hazard
    assert uksm.state["uksmd_alive"] is False
    assert read(uksm, "cpu_ratios") == "20 40 10000 MAX/1 \n"
    with pytest.raises(KernelHang) as info:
        write(uksm, "run", "0\n")
    assert info.value.errno == errno.ETIMEDOUT
    assert read(uksm, "run") == "1\n"
    # Parsing happens before the mutex: a bad value still fails at once.
    assert write_errno(uksm, "run", "2\n") == errno.EINVAL


def test_cpu_ratios_max_10000_is_harmless(uksm):
    write(uksm, "cpu_ratios", "20 40 MAX/10000 MAX/1\n")
    assert uksm.state["uksmd_alive"] is True
    assert not uksm.last_write_hazard


# -- eval_intervals ------------------------------------------------------------------


def test_eval_intervals_accepts_and_truncates(uksm):
    assert write(uksm, "eval_intervals", "0 1 4294967295 4294967301\n") == 26
    assert read(uksm, "eval_intervals") == "0 1 4294967295 5 \n"
    assert uksm.last_write_hazard
    assert uksm.state["corruption"] == 1


@pytest.mark.parametrize(
    "text, corrupts",
    [
        ("x 1 2 3\n", False),  # first token bad: kfree() of the original pointer
        ("1000\n", False),  # no separator at all
        ("1000 x 2 3\n", True),  # fails after the first token
        ("1000 500 200\n", True),  # third separator missing
        ("1000 500 200 50 \n", True),  # trailing space
        ("1000  500 200 50\n", True),  # doubled separator
        ("1000 500 200 -50\n", True),
    ],
)
def test_eval_intervals_rejects_and_corrupts(uksm, text, corrupts):
    assert write_errno(uksm, "eval_intervals", text) == errno.EINVAL
    assert uksm.last_write_hazard
    assert uksm.state["corruption"] == (1 if corrupts else 0)
    assert read(uksm, "eval_intervals") == "1000 500 200 50 \n"


def test_eval_intervals_fail_after_three_corruptions(uksm):
    for value in (1, 2, 3):
        write(uksm, "eval_intervals", "%d 2 3 4\n" % value)
    assert read(uksm, "eval_intervals") == "3 2 3 4 \n"
    assert write_errno(uksm, "eval_intervals", "9 9 9 9\n") == errno.EINVAL
    assert uksm.state["corruption"] == 4
    assert read(uksm, "eval_intervals") == "3 2 3 4 \n"


# -- thresholds -----------------------------------------------------------------------


@pytest.mark.parametrize("attr", ["abundant_threshold", "thrash_threshold"])
def test_thresholds(uksm, attr):
    for value in (0, 1, 99):
        write(uksm, attr, "%d\n" % value)
        assert read(uksm, attr) == "%d\n" % value
    for text in ("100", "-1", "5 "):
        assert write_errno(uksm, attr, text) == errno.EINVAL
    assert read(uksm, attr) == "99\n"


def test_no_store_returns_ebusy(uksm):
    uksm.state["pages_shared"] = 10
    write(uksm, "run", "0")
    write(uksm, "cpu_governor", "low")


# -- statistics and variants -------------------------------------------------------


def test_pages_scanned_power_of_two_format():
    kernel = UksmKernel(state={"pages_scanned": 3355443200, "pages_scanned_pow2": 1})
    assert read(kernel, "pages_scanned") == "3355443200 * 2^1\n"


def test_legacy_layout_has_no_governor():
    kernel = make_kernel("uksm-legacy")
    assert kernel.attributes() == [
        "run",
        "sleep_millisecs",
        "max_cpu_percentage",
        "pages_shared",
        "pages_sharing",
        "pages_scanned",
    ]
    assert not kernel.has("cpu_governor")
    with pytest.raises(OSError) as info:
        kernel.read("cpu_governor")
    assert info.value.errno == errno.ENOENT


def test_state_merge_is_validated(uksm):
    uksm.merge_state(
        {"pages_shared": 10, "uksmd_alive": False, "hang_seconds": 0.5, "cpu_governor": "low", "hang_errno": "EINTR"}
    )
    assert read(uksm, "pages_shared") == "10\n"
    for patch in (
        {"nope": 1},
        {"pages_shared": "10"},
        {"uksmd_alive": 1},
        {"cpu_governor": "turbo"},
        {"cpu_ratios": [1, 2]},
        {"hz": 123},
        {"hang_errno": "ENOPE"},
        {"hang_errno": 4},
    ):
        with pytest.raises(OSError) as info:
            uksm.merge_state(patch)
        assert info.value.errno == errno.EINVAL


# -- section 2.5: uksmd raises a short sleep_millisecs (through a mounted host) ---------------
#
# Expected values are worked out by hand in the comments (rung 0 real ratio r, HZ, ema):
# budget = 1000 * jiffies_to_usecs(sleep) / (10000 - r) * r, raised sleep =
# usecs_to_jiffies(ema * (10000 - r) / r / 1000) + 1 jiffies, integer arithmetic left to right.


def tick_rounded(written, hz):
    """What sleep_millisecs reads after a write, before any raise: rounded up to the tick."""
    tick = Fraction(1000, hz)
    return math.ceil(math.ceil(written / tick) * tick)


def uksmd_events(host):
    return [entry for entry in host.log() if entry["op"] == "uksmd"]


def oserror(func, *args, **kwargs):
    with pytest.raises(OSError) as info:
        func(*args, **kwargs)
    return info.value.errno


def test_uksmd_raises_a_short_sleep_before_the_next_read(make_host):
    host = make_host("uksm", overrides={"ema_per_page_time": 90000})
    host.clear_log()
    assert host.write("sleep_millisecs", "12\n") == 3
    state = host.state()
    assert (state["sleep_jiffies"], state["saved_sleep_jiffies"], state["uksmd_batch_due"]) == (3, 3, True)
    # r 20, HZ 250: budget(3 jiffies) = 12000000 / 9980 * 20 = 24040 < 90000;
    # 90000 * 9980 / 20 / 1000 = 44910 us -> 12 jiffies, +1 = 13 jiffies = 52 ms
    assert host.read("sleep_millisecs") == "52\n"
    assert host.read("sleep_millisecs") == "52\n"
    state = host.state()
    assert (state["sleep_jiffies"], state["saved_sleep_jiffies"], state["uksmd_batch_due"]) == (13, 3, False)
    assert host.read("ema_per_page_time") == "90000\n"  # ema does not move by itself
    # The raise is the kernel's: logged as a uksmd event, never as a write.
    assert [(entry["attr"], entry["data"]) for entry in host.writes()] == [("sleep_millisecs", "12\n")]
    assert [
        (e["attr"], e["data"], e["nbytes"], e["result"], e["was"], e["ema"], e["ratio"], e["round"])
        for e in uksmd_events(host)
    ] == [("sleep_millisecs", "52\n", 0, "raised", 12, 90000, 20, 1)]


def test_a_change_of_ema_through_the_control_interface_raises_at_the_next_read(make_host):
    host = make_host("uksm")
    host.write("sleep_millisecs", "12\n")
    assert host.read("sleep_millisecs") == "12\n"
    host.set_state(ema_per_page_time=90000)
    assert host.state()["sleep_jiffies"] == 3  # nothing happens before a read
    assert host.read("sleep_millisecs") == "52\n"


@pytest.mark.parametrize("hz", [100, 250, 300, 1000])
def test_the_default_ema_raises_no_sleep_but_zero(make_host, hz):
    host = make_host("uksm", hz=hz)
    assert host.read("ema_per_page_time") == "624\n"
    for governor in ("full", "medium", "low", "quiet"):
        host.write("cpu_governor", governor + "\n")
        for written in (1, 2, 3, 4, 5, 7, 10, 12, 40, 48, 50, 99, 100, 101, 500, 999, 1000):
            host.write("sleep_millisecs", "%d\n" % written)
            assert host.read("sleep_millisecs") == "%d\n" % tick_rounded(written, hz), (governor, written)
    assert uksmd_events(host) == []
    host.write("sleep_millisecs", "0\n")
    assert host.read("sleep_millisecs") != "0\n"


@pytest.mark.parametrize("hz, expected", [(1000, 2), (250, 8), (300, 7), (100, 20)])
def test_sleep_0_is_raised_at_the_first_batch(make_host, hz, expected):
    # budget(0) = 0 is below any ema; 624 * 9980 / 20 / 1000 = 311 us -> 1 jiffy, +1 = 2 jiffies
    # (2 jiffies at HZ 300 read 7 ms). The real kernel at HZ 250 read 0, then 8.
    host = make_host("uksm", hz=hz)
    host.write("sleep_millisecs", "0\n")
    assert host.read("sleep_millisecs") == "%d\n" % expected
    assert host.state()["saved_sleep_jiffies"] == 0


@pytest.mark.parametrize(
    "hz, written, expected",
    [
        (1000, 12, 46),  # 44910 us -> 45 jiffies, +1 = 46 ms
        (250, 12, 52),  # -> 12 jiffies, +1 = 13 = 52 ms
        (300, 12, 50),  # 12 ms = 4 jiffies; 44910 us -> 14 jiffies (13.47 rounded up), +1 = 15 = 50 ms
        (100, 12, 60),  # 12 ms = 2 jiffies; 44910 us -> 5 jiffies, +1 = 6 = 60 ms
        (100, 40, 60),  # 4 jiffies: budget 40000000 / 9980 * 20 = 80160 < 90000
        (100, 50, 50),  # 5 jiffies: budget 100200 >= 90000: no raise
    ],
)
def test_the_raise_at_each_tick_rate(make_host, hz, written, expected):
    host = make_host("uksm", hz=hz, overrides={"ema_per_page_time": 90000})
    host.write("sleep_millisecs", "%d\n" % written)
    assert host.read("sleep_millisecs") == "%d\n" % expected


@pytest.mark.parametrize("ema, expected", [(6660, "4\n"), (6661, "7\n"), (6680, "7\n"), (6681, "7\n")])
def test_hz_300_truncates_jiffies_to_usecs_and_rounds_usecs_to_jiffies_up(make_host, ema, expected):
    # 1 ms is 1 jiffy (reads 4 ms); jiffies_to_usecs(1) = 3333, not 3334:
    # budget = 3333000 / 9980 * 20 = 6660 (3334 would give 6680, and no raise for 6661..6680).
    # 6661 * 9980 / 20 / 1000 = 3323 us: usecs_to_jiffies rounds it up to 1 jiffy, +1 = 2 jiffies = 7 ms.
    host = make_host("uksm", hz=300, overrides={"ema_per_page_time": ema})
    host.write("sleep_millisecs", "1\n")
    assert host.read("sleep_millisecs") == expected


# rung 0 real ratio -> (cpu_ratios written, {hz: (highest D raised, highest value read)}), the table of 2.5
BOUND_TABLE = {
    1: ("MAX/10000 MAX/4 MAX/2 MAX/1", {1000: (999, 1001), 250: (996, 1004), 100: (990, 1010)}),
    10: ("10 20 MAX/2 MAX/1", {1000: (99, 101), 250: (96, 104), 100: (90, 110)}),
    20: ("20 40 MAX/4 MAX/1", {1000: (49, 51), 250: (48, 56), 100: (40, 60)}),
    40: ("40 40 MAX/4 MAX/1", {1000: (24, 26), 250: (24, 32), 100: (20, 40)}),
}


@pytest.mark.parametrize("hz", [1000, 250, 100])
def test_the_raise_is_bounded_as_section_2_5_tabulates(make_host, hz):
    host = make_host("uksm", hz=hz, overrides={"ema_per_page_time": 100000})
    for ratio, (ratios, rows) in sorted(BOUND_TABLE.items()):
        raisable, highest = rows[hz]
        host.write("cpu_ratios", ratios + "\n")
        for written in (0, raisable):
            host.write("sleep_millisecs", "%d\n" % written)
            assert host.read("sleep_millisecs") == "%d\n" % highest, (ratio, written)
        # one tick more is not raised, even by an ema of 100000
        next_tick = raisable + 1000 // hz
        host.write("sleep_millisecs", "%d\n" % next_tick)
        assert host.read("sleep_millisecs") == "%d\n" % next_tick, ratio
        assert {event["ratio"] for event in uksmd_events(host) if event["attr"] == "sleep_millisecs"} >= {ratio}


def test_ema_100000_at_ratio_20_and_hz_250_reads_at_most_56(make_host):
    host = make_host("uksm", overrides={"ema_per_page_time": 100000})
    for written in range(0, 61):
        host.write("sleep_millisecs", "%d\n" % written)
        shown = int(host.read("sleep_millisecs"))
        if written <= 48:
            assert shown == 56, written
        else:
            assert shown == tick_rounded(written, 250), written
    host.write("sleep_millisecs", "20\n")
    for _pass in range(3):
        host.uksmd_rounds(7)  # rounds pass, restores among them: never above the bound
        assert host.read("sleep_millisecs") == "56\n"


def test_ema_above_100000_is_reset_to_500_at_the_next_batch(make_host):
    host = make_host("uksm")
    host.write("sleep_millisecs", "12\n")
    host.set_state(ema_per_page_time=100001)
    assert host.state()["ema_per_page_time"] == 100001  # nothing moves before a batch
    assert host.read("sleep_millisecs") == "12\n"  # reset before step 4: 500 raises nothing
    assert host.read("ema_per_page_time") == "500\n"
    reset = uksmd_events(host)[-1]
    assert (reset["attr"], reset["data"], reset["result"], reset["was"]) == (
        "ema_per_page_time",
        "500\n",
        "reset",
        100001,
    )
    host.set_state(ema_per_page_time=100000)  # not above 100000: kept
    assert host.read("ema_per_page_time") == "100000\n"
    assert host.read("sleep_millisecs") == "56\n"


def test_ema_is_reset_throughout_every_256th_round(make_host):
    host = make_host("uksm", overrides={"eval_round": 255, "ema_per_page_time": 90000})
    host.write("sleep_millisecs", "12\n")
    assert host.read("sleep_millisecs") == "52\n"
    host.uksmd_rounds(1)  # round 256: ema reset to 500, and the restore of a multiple of 8
    assert host.state()["eval_round"] == 256
    assert host.read("ema_per_page_time") == "500\n"
    assert host.read("sleep_millisecs") == "12\n"
    host.set_state(ema_per_page_time=90000)  # still round 256: reset again at the batch
    assert host.read("sleep_millisecs") == "12\n"
    assert host.read("ema_per_page_time") == "500\n"
    host.set_state(ema_per_page_time=90000, eval_round=257)
    assert host.read("sleep_millisecs") == "52\n"
    assert host.read("ema_per_page_time") == "90000\n"


def test_restore_every_8th_round_with_a_low_ema_reads_what_was_written(make_host):
    host = make_host("uksm", overrides={"ema_per_page_time": 90000})
    host.write("sleep_millisecs", "12\n")
    assert host.read("sleep_millisecs") == "52\n"
    host.set_state(ema_per_page_time=500)
    assert host.read("sleep_millisecs") == "52\n"  # a raise stays until the next restore
    host.uksmd_rounds(6)  # rounds 2 to 7
    assert host.state()["eval_round"] == 7
    assert host.read("sleep_millisecs") == "52\n"
    host.uksmd_rounds(1)  # round 8
    assert host.read("sleep_millisecs") == "12\n"
    restore = uksmd_events(host)[-1]
    assert (restore["data"], restore["result"], restore["was"], restore["round"]) == ("12\n", "restored", 52, 8)
    assert [entry["data"] for entry in host.writes()] == ["12\n"]


def test_a_restore_raises_again_at_once_while_the_condition_holds(make_host):
    host = make_host("uksm", overrides={"ema_per_page_time": 100000})
    host.write("sleep_millisecs", "12\n")
    assert host.read("sleep_millisecs") == "56\n"
    host.set_state(ema_per_page_time=90000)
    assert host.read("sleep_millisecs") == "56\n"  # budget(14 jiffies) = 112220 >= 90000: stays
    host.set_state(eval_round=16)  # a batch in round 16: back to 12, raised again with today's ema
    assert host.read("sleep_millisecs") == "52\n"
    assert uksmd_events(host)[-1]["result"] == "restored, raised"
    host.set_state(ema_per_page_time=500)  # still round 16: every batch restores
    assert host.read("sleep_millisecs") == "12\n"


def test_the_raise_uses_the_real_ratio_of_a_max_rung_0(make_host):
    host = make_host("uksm", overrides={"ema_per_page_time": 90000})
    assert host.write("cpu_ratios", "MAX/100 MAX/4 MAX/2 MAX/1\n") == 26
    host.write("sleep_millisecs", "12\n")
    # max_cpu_percentage 95: r = 100 * 95 // 100 = 95, budget(3 jiffies) = 12000000 / 9905 * 95 = 115045
    assert host.read("sleep_millisecs") == "12\n"
    host.write("max_cpu_percentage", "10\n")
    # r = 100 * 10 // 100 = 10: budget 12010 < 90000; 90000 * 9990 / 10 / 1000 = 89910 us -> 23 jiffies, +1
    assert host.read("sleep_millisecs") == "96\n"
    assert uksmd_events(host)[-1]["ratio"] == 10


def test_a_governor_write_raises_with_the_preset_ratio(make_host):
    host = make_host("uksm", overrides={"ema_per_page_time": 90000})
    host.write("sleep_millisecs", "12\n")
    assert host.read("sleep_millisecs") == "52\n"
    host.write("cpu_governor", "low\n")  # rung 0 ratio 10: budget(13 jiffies) = 52050 < 90000
    assert host.read("sleep_millisecs") == "96\n"
    host.write("cpu_governor", "full\n")  # back to 20: a raise only grows until the next restore
    assert host.read("sleep_millisecs") == "96\n"
    host.set_state(eval_round=8)
    assert host.read("sleep_millisecs") == "52\n"


def test_no_batch_while_run_is_0_and_uksmd_catches_up_at_run_1(make_host):
    host = make_host("uksm", overrides={"ema_per_page_time": 90000})
    host.write("run", "0\n")
    host.write("sleep_millisecs", "12\n")
    assert host.read("sleep_millisecs") == "12\n"
    assert host.state()["uksmd_batch_due"] is True
    host.write("run", "1\n")
    assert host.read("sleep_millisecs") == "52\n"


def test_uksmd_rounds_fail_while_uksmd_is_paused_or_gone(make_host):
    host = make_host("uksm", overrides={"ema_per_page_time": 90000})
    host.write("run", "0\n")
    assert oserror(host.uksmd_rounds, 1) == errno.EINVAL
    assert host.state()["eval_round"] == 1
    host.set_state(run=1, uksmd_rounds=2)  # the document's own run counts
    assert host.state()["eval_round"] == 3
    host.write("sleep_millisecs", "12\n")
    host.write("cpu_ratios", "20 40 10000 MAX/1\n")  # kills uksmd (section 2.3)
    assert oserror(host.uksmd_rounds, 1) == errno.ESRCH
    assert oserror(host.set_state, eval_round=8, uksmd_rounds=1) == errno.ESRCH
    assert host.state()["eval_round"] == 3  # nothing of a refused document is applied
    assert host.read("sleep_millisecs") == "12\n"  # a dead uksmd raises nothing


def test_a_ratio_of_10000_at_a_batch_kills_uksmd(make_host):
    host = make_host("uksm")
    host.set_state(max_cpu_percentage=100)  # only the state can hold 100: MAX/1 is then worth 10000
    assert host.read("sleep_millisecs") == "100\n"
    assert host.state()["uksmd_alive"] is False
    assert not os.path.exists(os.path.join(host.paths.proc, "42"))
    died = uksmd_events(host)[-1]
    assert (died["attr"], died["result"], died["hazard"]) == ("cpu_ratios", "uksmd died", True)


def test_bad_uksmd_state_values_fail_einval(make_host):
    host = make_host("uksm")
    for patch in (
        {"eval_round": -1},
        {"eval_round": 1.5},
        {"eval_round": True},
        {"saved_sleep_jiffies": "3"},
        {"ema_per_page_time": -5},
        {"uksmd_batch_due": 1},
        {"uksmd_rounds": -1},
        {"uksmd_rounds": 1000001},
        {"uksmd_rounds": 1.0},
        {"uksmd_rounds": 1, "no_such_key": 1},
    ):
        assert oserror(host.set_state, **patch) == errno.EINVAL, patch
    assert host.state()["eval_round"] == 1


def test_uksmd_rounds_on_a_ksm_host_fail_einval(make_host):
    host = make_host("ksm")
    assert oserror(host.uksmd_rounds, 1) == errno.EINVAL


def test_setting_sleep_jiffies_sets_the_saved_sleep_too(make_host):
    host = make_host("uksm")
    host.set_state(sleep_jiffies=5)
    assert (host.state()["sleep_jiffies"], host.state()["saved_sleep_jiffies"]) == (5, 5)
    host.set_state(sleep_jiffies=14, saved_sleep_jiffies=3, eval_round=7)  # a raise made earlier
    assert host.read("sleep_millisecs") == "56\n"
    host.uksmd_rounds(1)
    assert host.read("sleep_millisecs") == "12\n"


def test_offline_control_and_cli_set_prepare_a_raise(make_host):
    host = make_host("uksm", mount=False)
    root = host.paths.root
    assert (
        cli.main(
            ["create", root, "--variant", "uksm", "--hz", "1000"]
            + ["--set", "ema_per_page_time=90000", "--set", "sleep_jiffies=12", "--set", "eval_round=6"]
        )
        == 0
    )
    state = host.state()
    assert (state["saved_sleep_jiffies"], state["eval_round"], state["uksmd_batch_due"]) == (12, 6, True)
    host.uksmd_rounds(1)  # offline: acts on .simhost/state.json
    state = host.state()
    assert (state["sleep_jiffies"], state["eval_round"]) == (46, 7)
    host.set_state(ema_per_page_time=500)
    server.mount(root)
    assert host.read("sleep_millisecs") == "46\n"
    host.uksmd_rounds(1)
    assert host.read("sleep_millisecs") == "12\n"
    host.reboot()  # back to what create made, batch due included
    assert host.read("sleep_millisecs") == "46\n"


# -- the same, against an independent re-implementation of steps 2 to 4 ------------------------


class Reference:
    """Section 2.5's steps 2 to 4, written from the text again: times as Fractions of a millisecond."""

    def __init__(self, hz, ratio, written_ms):
        self.ms_per_jiffy = Fraction(1000, hz)
        self.ratio = ratio
        self.saved = self.sleep = math.ceil(written_ms / self.ms_per_jiffy)  # msecs_to_jiffies

    def budget(self, jiffies):
        usecs = math.floor(jiffies * self.ms_per_jiffy * 1000)  # jiffies_to_usecs truncates
        return (1000 * usecs) // (10000 - self.ratio) * self.ratio

    def batches(self, ema, rounds):
        for number in rounds:
            if ema > 100000 or number % 256 == 0:
                ema = 500
            if number % 8 == 0:
                self.sleep = self.saved
            if self.budget(self.sleep) < ema:
                wanted_usecs = ema * (10000 - self.ratio) // self.ratio // 1000
                self.sleep = math.ceil(Fraction(wanted_usecs, 1000) / self.ms_per_jiffy) + 1  # rounds up
        return ema

    def shown(self, ema):
        return math.ceil(self.sleep * self.ms_per_jiffy), ema


def real_ratio(token, max_cpu_percentage):
    if token.startswith("MAX/"):
        return max((10000 // int(token[4:])) * max_cpu_percentage // 100, 1)
    return int(token)


EMAS = st.one_of(
    st.integers(0, 200000),
    st.integers(60000, 101000),
    st.integers(0, 3000),
    st.integers(-30, 30).map(lambda offset: ("budget", offset)),  # near budget(D): where rounding matters
)


class DirectHost:
    """The few Control calls the property uses, on a SimHost without FUSE (for many examples)."""

    def __init__(self):
        self.host = SimHost({"variant": "uksm", "kernel": boot_state("uksm")})

    def read(self, attr):
        return self.host.read_attr(attr).decode()

    def write(self, attr, text):
        return self.host.write_attr(attr, text.encode())

    def set_state(self, **values):
        self.host.merge_state(values)

    def uksmd_rounds(self, count):
        self.set_state(uksmd_rounds=count)


def check_against_the_reference(host, hz, written, rung0, max_cpu, ema, first_round, later_ema, more_rounds):
    host.write("cpu_ratios", "%s 40 MAX/4 MAX/1\n" % rung0)
    host.write("max_cpu_percentage", "%d\n" % max_cpu)
    reference = Reference(hz, real_ratio(rung0, int(host.read("max_cpu_percentage"))), written)
    ema, later_ema = [
        max(reference.budget(reference.saved) + value[1], 0) if isinstance(value, tuple) else value
        for value in (ema, later_ema)
    ]
    host.set_state(hz=hz, ema_per_page_time=ema, eval_round=first_round)
    host.write("sleep_millisecs", "%d\n" % written)
    # the batch of the next read, in round first_round
    ema = reference.batches(ema, [first_round])
    assert (int(host.read("sleep_millisecs")), int(host.read("ema_per_page_time"))) == reference.shown(ema)
    # a new ema: its batch in the same round, then more_rounds rounds
    host.set_state(ema_per_page_time=later_ema)
    host.uksmd_rounds(more_rounds)
    ema = reference.batches(later_ema, range(first_round, first_round + more_rounds + 1))
    assert (int(host.read("sleep_millisecs")), int(host.read("ema_per_page_time"))) == reference.shown(ema)


EXAMPLES = {
    "hz": st.sampled_from([100, 250, 300, 1000]),
    "written": st.one_of(st.integers(0, 1000), st.integers(0, 120)),
    "rung0": st.one_of(st.integers(1, 9999).map(str), st.integers(1, 10000).map("MAX/{}".format)),
    "max_cpu": st.integers(0, 100),
    "ema": EMAS,
    "first_round": st.integers(1, 1100),
    "later_ema": EMAS,
    "more_rounds": st.integers(0, 20),
}


@settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # one host, fully reset by every example
)
@given(**EXAMPLES)
def test_batches_through_fuse_match_an_independent_reading_of_section_2_5(make_host, **example):
    host = getattr(make_host, "hypothesis_host", None)
    if host is None:
        host = make_host.hypothesis_host = make_host("uksm")
    check_against_the_reference(host, **example)


@settings(max_examples=2000, deadline=None, database=None)
@given(**EXAMPLES)
def test_batches_match_an_independent_reading_of_section_2_5(**example):
    check_against_the_reference(DirectHost(), **example)
