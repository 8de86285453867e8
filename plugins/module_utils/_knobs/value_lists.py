# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the litevirt.uksm collection: not a public API, it may change in any release.
"""The value kinds of UKSM's two four-value lists, ``cpu_ratios`` and ``eval_intervals`` (value_kinds.py
has the scalar kinds and what every kind answers). Stdlib only: this file also runs in the boot-time applier.
"""

from __future__ import annotations

from .value_kinds import (
    KMALLOC_SIZES,
    UINT_MAX,
    KernelFormatError,
    Kind,
    KnobValueError,
    is_decimal,
    strip_newline,
)

TYPE_CHECKING = False  # importing typing costs the boot applier ~8 ms; annotations are strings
if TYPE_CHECKING:
    import typing as t


class RatioLadder(Kind):
    """UKSM ``cpu_ratios``: four rungs, each ``N`` (1/10000 of a CPU) or ``MAX/N``."""

    label = 'ratio ladder'
    RUNGS = 4
    SCALE = 10000

    def describe(self) -> str:
        return (
            '4 rungs, each an integer 1..9999 (CPU share in 1/10000) or MAX/N with N 1..10000, '
            'with non-decreasing effective ratios, as a list or a space-separated string'
        )

    def parse(self, text: str) -> list[str]:
        tokens = strip_newline(text).split()
        if len(tokens) != self.RUNGS or not all(
            is_decimal(token[4:] if token.startswith('MAX/') else token, '+') for token in tokens
        ):
            raise KernelFormatError('expected 4 rungs, read %r' % text)
        return tokens

    def coerce(self, value: t.Any) -> list[str]:
        accepted = self.describe()
        rungs = _four_tokens(value, accepted)
        result = []
        for rung in rungs:
            if isinstance(rung, bool):
                raise KnobValueError('has a boolean rung', accepted)
            text = str(rung).strip()
            if text.startswith('MAX/'):
                divisor = text[4:].lstrip('+')
                if not is_decimal(divisor) or not 1 <= int(divisor) <= self.SCALE:
                    raise KnobValueError('has rung %r: MAX/N needs N from 1 to 10000' % text, accepted)
                result.append('MAX/%d' % int(divisor))
                continue
            if not is_decimal(text, '+'):
                raise KnobValueError('has rung %r, neither an integer nor MAX/N' % text, accepted)
            number = int(text)
            if number >= self.SCALE:
                # a positive 10000 kills uksmd (divide error) on a real kernel
                raise KnobValueError(
                    'has rung %d: 10000 and above kill uksmd; use MAX/1 for a whole CPU' % number, accepted
                )
            if number < 1:
                raise KnobValueError('has rung 0: each rung must be at least 1', accepted)
            result.append(str(number))
        return result

    def normalise(self, value: list[str]) -> list[str]:
        result = []
        for rung in value:
            if rung.startswith('MAX/'):
                stored = self.SCALE // int(rung[4:])
                result.append('MAX/%d' % (self.SCALE // stored))
            else:
                result.append(str(int(rung)))
        return result

    def format(self, value: list[str]) -> str:
        text = ' '.join(value) + '\n'
        if len(text) in KMALLOC_SIZES:
            # pad by one byte: the parser reads past a buffer of exactly a kmalloc size
            first = value[0]
            padded = 'MAX/+' + first[4:] if first.startswith('MAX/') else '+' + first
            text = ' '.join([padded] + list(value[1:])) + '\n'
        return text

    def effective(self, rung: str, max_cpu_percentage: int) -> float:
        """CPU share of one rung in 1/10000, as the scanner uses it."""
        if rung.startswith('MAX/'):
            return (self.SCALE // int(rung[4:])) * max_cpu_percentage / 100.0
        return float(int(rung))

    def check_ladder(self, value: list[str], max_cpu_percentage: int) -> None:
        """Refuse a ladder whose effective ratios decrease (a BUG_ON in the scanner: docs/knob-reference.md, Hazards)."""
        shares = [self.effective(rung, max_cpu_percentage) for rung in value]
        for index in range(1, len(shares)):
            if shares[index] < shares[index - 1]:
                raise KnobValueError(
                    'has decreasing effective ratios %s at max_cpu_percentage %d'
                    % (', '.join('%g' % share for share in shares), max_cpu_percentage),
                    self.describe(),
                )


class IntervalList(Kind):
    """UKSM ``eval_intervals``: four unsigned milliseconds (0 means scan fully)."""

    label = 'interval list'
    COUNT = 4

    def describe(self) -> str:
        return '4 integers from 0 to %d (milliseconds), as a list or a space-separated string' % UINT_MAX

    def parse(self, text: str) -> list[int]:
        tokens = strip_newline(text).split()
        if len(tokens) != self.COUNT or not all(is_decimal(token) for token in tokens):
            raise KernelFormatError('expected 4 integers, read %r' % text)
        return [int(token) for token in tokens]

    def coerce(self, value: t.Any) -> list[int]:
        accepted = self.describe()
        result = []
        for item in _four_tokens(value, accepted):
            if isinstance(item, bool):
                raise KnobValueError('has a boolean entry', accepted)
            if isinstance(item, int):
                number = item
            elif isinstance(item, str) and is_decimal(item.strip(), '+'):
                number = int(item)
            else:
                raise KnobValueError('has entry %r, not an unsigned integer' % (item,), accepted)
            if not 0 <= number <= UINT_MAX:
                raise KnobValueError('has entry %d, out of range (the kernel would truncate it)' % number, accepted)
            result.append(number)
        return result

    def format(self, value: list[int]) -> str:
        return ' '.join(str(item) for item in value) + '\n'


def _four_tokens(value: t.Any, accepted: str) -> list[t.Any]:
    if isinstance(value, str):
        items = value.split()
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise KnobValueError('is neither a list nor a space-separated string', accepted)
    if len(items) != 4:
        raise KnobValueError('has %d entries instead of 4' % len(items), accepted)
    return items
