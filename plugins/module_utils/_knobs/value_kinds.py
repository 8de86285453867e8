# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""Value kinds of the knob model: how each UKSM and KSM sysfs attribute's value is read and written.

A kind knows four things about an attribute's value:

* ``parse``: what the kernel prints, as a typed Python value;
* ``coerce``: what a user asked for, checked and typed (raises ``KnobValueError``);
* ``format``: the exact text to ``write()`` (always ending with a newline);
* ``normalise``: what the kernel will read back after that write (clamps, ``MAX/N`` round trip).

Jiffy rounding depends on the kernel's HZ, which sysfs does not expose, so kinds also answer
``equivalent(desired, current)``: whether a read-back value is what the kernel makes of the
desired one on some supported HZ. Stdlib only: this file also runs in the boot-time applier.
"""

from __future__ import annotations

from ..errors import UksmError

TYPE_CHECKING = False  # importing typing costs the boot applier ~8 ms; annotations are strings
if TYPE_CHECKING:
    import typing as t

UINT_MAX = 2**32 - 1
ULONG_MAX = 2**64 - 1
INT_MAX = 2**31 - 1

# Tick rates a Linux x86/arm kernel can be built with; sleep_millisecs rounds up to one tick.
SUPPORTED_HZ = (100, 250, 300, 1000)

# Slab sizes of the kernel's kmalloc caches. A cpu_ratios write of exactly one of these byte
# counts makes the UKSM parser read past its buffer (docs/knob-reference.md, Hazards).
KMALLOC_SIZES = frozenset((8, 16, 32, 64, 96, 128, 192, 256))


# More digits than any knob or statistic can hold (ULONG_MAX has 20); int() of a few thousand
# digits is slow and, past 4300, an error of its own.
MAX_DIGITS = 40


def is_decimal(text: str, signs: str = '') -> bool:
    """At most MAX_DIGITS ASCII digits after at most one leading character of ``signs`` (``re`` is
    not imported: it costs the boot applier milliseconds)."""
    if text and text[0] in signs:
        text = text[1:]
    return len(text) <= MAX_DIGITS and text.isascii() and text.isdigit()


class KnobValueError(UksmError):
    """A user value that the kernel would reject, or that a hazard guard refuses."""

    def __init__(self, why: str, accepted: str) -> None:
        super().__init__(why)
        self.why = why
        self.accepted = accepted


class KernelFormatError(UksmError):
    """The kernel printed something this model does not understand."""


def close_match(name: str, names: t.Iterable[str], prefix: str = '') -> str:
    """`` (did you mean X?)`` for the closest of ``names`` (shown with ``prefix``), or nothing."""
    # only for this hint: importing difflib costs the boot applier milliseconds
    import difflib  # pylint: disable=import-outside-toplevel

    close = difflib.get_close_matches(name, list(names), n=1)
    return ' (did you mean %s%s?)' % (prefix, close[0]) if close else ''


def jiffies_round_trip(msecs: int, hz: int) -> int:
    """What ``jiffies_to_msecs(msecs_to_jiffies(msecs))`` gives on a kernel built with ``hz``."""
    jiffies = -(-msecs * hz // 1000)
    return -(-jiffies * 1000 // hz)


def strip_newline(text: str) -> str:
    return text[:-1] if text.endswith('\n') else text


def _as_int(value: t.Any, accepted: str) -> int:
    """A user value as an int: ints and decimal strings only, never YAML booleans or floats."""
    if isinstance(value, bool):
        raise KnobValueError('is a boolean, but a number is expected', accepted)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise KnobValueError('is not a whole number', accepted)
    if isinstance(value, str):
        text = value.strip()
        if is_decimal(text, '+-'):
            return int(text)
        if text.lstrip('+-').isascii() and text.lstrip('+-').isdigit():
            raise KnobValueError('is out of range (%d digits)' % len(text.lstrip('+-')), accepted)
        raise KnobValueError('is not a decimal integer', accepted)
    raise KnobValueError('is a %s, but a number is expected' % type(value).__name__, accepted)


class Kind:
    """Base of all value kinds; the defaults suit read-only statistics."""

    #: short name used in docs and facts
    label = 'value'

    def describe(self) -> str:
        return self.label

    def parse(self, text: str) -> t.Any:
        raise NotImplementedError

    def coerce(self, value: t.Any) -> t.Any:
        raise KnobValueError('is a read-only statistic', 'nothing (read-only)')

    def coerce_for(self, value: t.Any, offered: t.Sequence[str] | None) -> t.Any:
        """``coerce`` on a kernel that offers ``offered`` (the choices it reads; only a Choice asks)."""
        return self.coerce(value)

    def format(self, value: t.Any) -> str:
        raise NotImplementedError

    def normalise(self, value: t.Any) -> t.Any:
        return value

    def equivalent(self, desired: t.Any, current: t.Any) -> bool:
        return self.normalise(desired) == current


class Unsigned(Kind):
    """A decimal the kernel parses with kstrtoul/kstrtouint, with optional clamps and rounding."""

    label = 'unsigned integer'

    def __init__(
        self,
        minimum: int = 0,
        maximum: int = UINT_MAX,
        clamps: dict[tuple[int, int], int] | None = None,
        jiffies: bool = False,
        mask: int | None = None,
    ) -> None:
        self.minimum = minimum
        self.maximum = maximum
        # {(low, high): stored}: writes in [low, high] read back as ``stored``
        self.clamps = clamps or {}
        self.jiffies = jiffies
        # bits of the read value that carry the setting (KSM run reads 4..6 during hot-remove)
        self.mask = mask

    def describe(self) -> str:
        text = 'an integer from %d to %d' % (self.minimum, self.maximum)
        for (low, high), stored in sorted(self.clamps.items()):
            span = str(low) if low == high else '%d..%d' % (low, high)
            text += '; %s is stored as %d' % (span, stored)
        if self.jiffies:
            text += '; read back rounded up to the kernel tick'
        return text

    def parse(self, text: str) -> int:
        body = strip_newline(text).strip()
        if not is_decimal(body):
            raise KernelFormatError('expected an unsigned integer, read %r' % text)
        value = int(body)
        return value & self.mask if self.mask is not None else value

    def coerce(self, value: t.Any) -> int:
        number = _as_int(value, self.describe())
        if number < self.minimum or number > self.maximum:
            raise KnobValueError('is out of range', self.describe())
        return number

    def format(self, value: int) -> str:
        return '%d\n' % value

    def normalise(self, value: int) -> int:
        for (low, high), stored in self.clamps.items():
            if low <= value <= high:
                return stored
        return value

    def equivalent(self, desired: int, current: t.Any) -> bool:
        value = self.normalise(desired)
        if not self.jiffies:
            return value == current
        return current in {jiffies_round_trip(value, hz) for hz in SUPPORTED_HZ}


class Boolean(Unsigned):
    """0 or 1; KSM parses some of these with kstrtobool, so YAML booleans are accepted here."""

    label = 'boolean'

    def __init__(self) -> None:
        super().__init__(0, 1)

    def describe(self) -> str:
        return '0 or 1 (true or false)'

    def coerce(self, value: t.Any) -> int:
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, str) and value.strip().lower() in ('true', 'false', 'yes', 'no', 'on', 'off'):
            return int(value.strip().lower() in ('true', 'yes', 'on'))
        return super().coerce(value)


class Signed(Kind):
    """A signed decimal statistic (``general_profit`` can be negative)."""

    label = 'signed integer'

    def parse(self, text: str) -> int:
        body = strip_newline(text).strip()
        if not is_decimal(body, '-'):
            raise KernelFormatError('expected a signed integer, read %r' % text)
        return int(body)


class Counter(Unsigned):
    """A read-only unsigned statistic."""

    label = 'counter'

    def __init__(self) -> None:
        super().__init__(0, ULONG_MAX)

    def coerce(self, value: t.Any) -> int:
        raise KnobValueError('is a read-only statistic', 'nothing (read-only)')


class ScaledCounter(Counter):
    """UKSM's ``pages_scanned``: ``%lu``, or ``N * 2^B`` once the counter has overflowed."""

    label = 'counter (N * 2^B)'

    def parse(self, text: str) -> int:
        number, scaled, shift = strip_newline(text).strip().partition(' * 2^')
        if not is_decimal(number) or (scaled and not is_decimal(shift)):
            raise KernelFormatError('expected N or "N * 2^B", read %r' % text)
        return int(number) << int(shift or 0)


class Choice(Kind):
    """A bracketed choice: the kernel prints every option and brackets the active one."""

    label = 'choice'

    def __init__(self, choices: t.Sequence[str]) -> None:
        # parsing splits on whitespace, so UKSM's "name " entries and KSM's joined ones read alike
        self.choices = tuple(choices)

    def describe(self) -> str:
        return 'one of %s, as a bare name' % ', '.join(self.choices)

    def parse_all(self, text: str) -> tuple[str, list[str]]:
        """Return the active name and every name offered, in the kernel's order."""
        active = None
        offered = []
        for token in strip_newline(text).split():
            if token.startswith('[') and token.endswith(']') and len(token) > 2:
                token = token[1:-1]
                if active is not None:
                    raise KernelFormatError('two active choices in %r' % text)
                active = token
            offered.append(token)
        if active is None:
            raise KernelFormatError('no bracketed choice in %r' % text)
        return active, offered

    def parse(self, text: str) -> str:
        return self.parse_all(text)[0]

    def coerce_for(self, value: t.Any, offered: t.Sequence[str] | None) -> str:
        return self.coerce(value, offered)

    def coerce(self, value: t.Any, offered: t.Sequence[str] | None = None) -> str:
        options = tuple(offered) if offered else self.choices
        accepted = 'one of %s, as a bare name' % ', '.join(options)
        if not isinstance(value, str):
            raise KnobValueError('is not a name', accepted)
        if value != value.strip() or any(c in value for c in ' []\t\n'):
            raise KnobValueError('must be a bare name without spaces or brackets', accepted)
        if value not in options:
            raise KnobValueError('is not offered by this kernel' + close_match(value, options), accepted)
        return value

    def format(self, value: str) -> str:
        return '%s\n' % value
