"""kstrto*() and friends, as the kernel parses store() buffers."""

from __future__ import annotations

import errno

import pytest
from simhost.parse import kstrtobool, kstrtoint, kstrtouint, kstrtoul, store_text, sysfs_streq


@pytest.mark.parametrize(
    "text, value",
    [
        (b"0", 0),
        (b"1\n", 1),
        (b"+7", 7),
        (b"+7\n", 7),
        (b"007", 7),
        (b"18446744073709551615", 2**64 - 1),
    ],
)
def test_kstrtoul_accepts(text, value):
    assert kstrtoul(text) == value


@pytest.mark.parametrize(
    "text",
    [
        b"",
        b"\n",
        b"-1",
        b" 1",
        b"1 ",
        b"1\n\n",
        b"1\r\n",
        b"0x10",
        b"1.0",
        b"++1",
        b"+",
        b"1\nx",
        b"\xd9\xa1",
    ],
)
def test_kstrtoul_rejects(text):
    with pytest.raises(OSError) as info:
        kstrtoul(text)
    assert info.value.errno == errno.EINVAL


def test_kstrtoul_overflow_is_erange_even_with_junk():
    for text in (b"18446744073709551616", b"99999999999999999999999x"):
        with pytest.raises(OSError) as info:
            kstrtoul(text)
        assert info.value.errno == errno.ERANGE


def test_kstrtouint_range():
    assert kstrtouint(b"4294967295") == 2**32 - 1
    with pytest.raises(OSError) as info:
        kstrtouint(b"4294967296")
    assert info.value.errno == errno.ERANGE


@pytest.mark.parametrize(
    "text, value", [(b"-5", -5), (b"+5", 5), (b"2147483647", 2**31 - 1), (b"-2147483648", -(2**31))]
)
def test_kstrtoint(text, value):
    assert kstrtoint(text) == value


@pytest.mark.parametrize("text, code", [(b"2147483648", errno.ERANGE), (b"-+5", errno.EINVAL), (b"--5", errno.EINVAL)])
def test_kstrtoint_errors(text, code):
    with pytest.raises(OSError) as info:
        kstrtoint(text)
    assert info.value.errno == code


@pytest.mark.parametrize(
    "text, value",
    [
        (b"y", True),
        (b"Y", True),
        (b"1", True),
        (b"yes", True),
        (b"on", True),
        (b"ON\n", True),
        (b"oN", True),
        (b"n", False),
        (b"N", False),
        (b"0", False),
        (b"no", False),
        (b"off", False),
        (b"OFF", False),
        (b"0x", False),
        (b"true", True),
        (b"T", True),
        (b"false", False),
        (b"F", False),
    ],
)
def test_kstrtobool(text, value):
    assert kstrtobool(text) is value


@pytest.mark.parametrize("text", [b"", b"o", b"ox", b"2", b"x", b" y", b"\n", b"enable"])
def test_kstrtobool_rejects(text):
    with pytest.raises(OSError) as info:
        kstrtobool(text)
    assert info.value.errno == errno.EINVAL


def test_kstrtobool_before_5_19_has_no_true_false():
    for text in (b"true", b"f"):
        with pytest.raises(OSError):
            kstrtobool(text, true_false=False)


def test_sysfs_streq_and_nul():
    assert sysfs_streq(b"none\n", "none")
    assert sysfs_streq(b"none", "none")
    assert not sysfs_streq(b"none\n\n", "none")
    assert not sysfs_streq(b"none ", "none")
    assert store_text(b"1\0garbage") == b"1"
