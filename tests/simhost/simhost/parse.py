"""Kernel string parsers (lib/kstrtox.c, lib/string.c) reimplemented in Python.

Every parser takes the bytes a store() callback would see and raises
``OSError`` with the errno the kernel helper returns.  Callers decide, like
the kernel stores do, whether to pass that errno on or to map it to EINVAL.
"""

from __future__ import annotations

import errno

ULONG_MAX = 2**64 - 1
UINT_MAX = 2**32 - 1
INT_MAX = 2**31 - 1
LLONG_MAX = 2**63 - 1


def kernel_error(code: int, what: str = "") -> OSError:
    """Build the OSError a failing store returns."""
    return OSError(code, what or errno.errorcode.get(code, str(code)))


def _kstrtoull(text: bytes) -> int:
    # Mirrors _kstrtoull(): digits first (overflow wins over trailing junk),
    # then one optional newline, then nothing.
    count = 0
    while count < len(text) and 0x30 <= text[count] <= 0x39:
        count += 1
    if count == 0:
        raise kernel_error(errno.EINVAL, "not a decimal number")
    value = int(text[:count])
    if value > ULONG_MAX:
        raise kernel_error(errno.ERANGE, "overflow")
    rest = text[count:]
    if rest.startswith(b"\n"):
        rest = rest[1:]
    if rest:
        raise kernel_error(errno.EINVAL, "trailing characters")
    return value


def kstrtoull(text: bytes) -> int:
    """Parse like kstrtoull(s, 10): optional '+', decimal digits, one optional newline."""
    if text.startswith(b"+"):
        text = text[1:]
    return _kstrtoull(text)


def kstrtoul(text: bytes) -> int:
    """kstrtoul(s, 10) on a 64-bit kernel (unsigned long is 64 bits)."""
    return kstrtoull(text)


def kstrtouint(text: bytes) -> int:
    """kstrtouint(s, 10): like kstrtoul but ERANGE above UINT_MAX."""
    value = kstrtoull(text)
    if value > UINT_MAX:
        raise kernel_error(errno.ERANGE, "overflow")
    return value


def kstrtoll(text: bytes) -> int:
    """kstrtoll(s, 10): an optional '-' is accepted as well (but not "-+")."""
    if text.startswith(b"-"):
        value = _kstrtoull(text[1:])
        if value > LLONG_MAX + 1:
            raise kernel_error(errno.ERANGE, "overflow")
        return -value
    value = kstrtoull(text)
    if value > LLONG_MAX:
        raise kernel_error(errno.ERANGE, "overflow")
    return value


def kstrtoint(text: bytes) -> int:
    """kstrtoint(s, 10): a signed 32-bit value, ERANGE outside it."""
    value = kstrtoll(text)
    if value > INT_MAX or value < -INT_MAX - 1:
        raise kernel_error(errno.ERANGE, "overflow")
    return value


def kstrtobool(text: bytes, true_false: bool = True) -> bool:
    """kstrtobool(): only the first one or two characters count.

    'y', 'Y', '1' are true; 'n', 'N', '0' are false; 'on' and 'off' (any
    case) too.  Kernels since 5.19 also take 't'/'T' and 'f'/'F'
    (``true_false``).  Anything after the deciding characters is ignored, so
    ``yes`` and ``1x`` are true, like in the kernel.
    """
    first = text[:1]
    if first in (b"y", b"Y", b"1") or (true_false and first in (b"t", b"T")):
        return True
    if first in (b"n", b"N", b"0") or (true_false and first in (b"f", b"F")):
        return False
    if first in (b"o", b"O"):
        second = text[1:2]
        if second in (b"n", b"N"):
            return True
        if second in (b"f", b"F"):
            return False
    raise kernel_error(errno.EINVAL, "not a boolean")


def sysfs_streq(text: bytes, word: str) -> bool:
    """sysfs_streq(): equal except for one trailing newline on either side."""
    if text.endswith(b"\n"):
        text = text[:-1]
    return text == word.encode()


def store_text(data: bytes) -> bytes:
    """What a store() sees: kernfs NUL-terminates the buffer, C stops at the first NUL."""
    return data.split(b"\0", 1)[0]
