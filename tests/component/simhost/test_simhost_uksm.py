"""The UKSM model against section 2 of the ABI contract (no FUSE)."""

from __future__ import annotations

import errno

import pytest

from simhost.kernel import KernelHang, UksmKernel, jiffies_to_msecs, make_kernel, msecs_to_jiffies

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
