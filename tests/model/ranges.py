"""The ``Range`` header field for the ``bytes`` unit (RFC 9110 §14.1 and §14.2).

Grammar (RFC 9110 §14.1.1, §14.1.2 and the list rule of §5.6.1)::

    Range        = range-unit "=" range-set
    range-set    = 1#range-spec           ; empty list elements are allowed
    range-spec   = int-range / suffix-range / other-range
    int-range    = first-pos "-" [ last-pos ]
    suffix-range = "-" suffix-length

Positions are byte offsets, zero-based, with an inclusive last position.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

_INT_RANGE = re.compile(r"([0-9]+)-([0-9]*)")
_SUFFIX_RANGE = re.compile(r"-([0-9]+)")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_OWS = " \t"
_CHUNK_DIGITS = 1000


@dataclass(frozen=True, order=True)
class ByteRange:
    """Bytes ``first`` to ``last`` of a representation, both inclusive (RFC 9110 §14.1.2)."""

    first: int
    last: int

    @property
    def length(self) -> int:
        """Number of bytes in the range."""
        return self.last - self.first + 1


class Decision(enum.Enum):
    """What RFC 9110 §14.2 tells the server to do with a ``Range`` header field."""

    IGNORE = "ignore"
    """Invalid syntax, another unit, or too many ranges: answer 200 with the whole representation."""
    UNSATISFIABLE = "unsatisfiable"
    """Valid, but no range overlaps the representation: answer 416 (RFC 9110 §15.5.17)."""
    PARTIAL = "partial"
    """Answer 206 with the listed ranges."""


@dataclass(frozen=True)
class RangeAnswer:
    """A :class:`Decision` and, for ``PARTIAL``, the ranges to send in the order to send them."""

    decision: Decision
    ranges: tuple[ByteRange, ...] = ()


def answer_range(field_value: str, size: int, max_ranges: int) -> RangeAnswer:
    """Decide how to answer ``Range: field_value`` for a representation of ``size`` bytes.

    Satisfiable ranges are clamped to the representation, unsatisfiable ones dropped
    (RFC 9110 §14.1.2), overlapping or adjacent ones coalesced (§15.3.7.2, which also asks for
    the request's order to be kept); more than ``max_ranges`` left means the field is ignored
    (§14.2 lets a server ignore a costly range set).
    """
    specs = _parse(field_value)
    if specs is None:
        return RangeAnswer(Decision.IGNORE)
    satisfiable = [r for r in (_resolve(spec, size) for spec in specs) if r is not None]
    if not satisfiable:
        return RangeAnswer(Decision.UNSATISFIABLE)
    ranges = coalesce(satisfiable)
    if len(ranges) > max_ranges:
        return RangeAnswer(Decision.IGNORE)
    return RangeAnswer(Decision.PARTIAL, ranges)


_Spec = tuple[int | None, int | None]
"""``(first, last)`` as written: ``(a, None)`` is ``a-``, ``(None, n)`` is the suffix ``-n``."""


def _parse(field_value: str) -> list[_Spec] | None:
    """The range-specs of a ``bytes`` Range field, or ``None`` when the field must be ignored."""
    unit, equals, range_set = field_value.strip(_OWS).partition("=")
    if not equals or not _TOKEN.fullmatch(unit) or unit.lower() != "bytes":
        return None
    elements = [element.strip(_OWS) for element in range_set.split(",")]
    specs = [_parse_spec(element) for element in elements if element]
    if not specs or any(spec is None for spec in specs):
        return None
    return [spec for spec in specs if spec is not None]


def _parse_spec(element: str) -> _Spec | None:
    if match := _INT_RANGE.fullmatch(element):
        first = _number(match.group(1))
        last = _number(match.group(2)) if match.group(2) else None
        # An int-range whose last-pos is below its first-pos is invalid (RFC 9110 §14.1.1).
        return None if last is not None and last < first else (first, last)
    if match := _SUFFIX_RANGE.fullmatch(element):
        return (None, _number(match.group(1)))
    return None


def _number(digits: str) -> int:
    """The exact value of a run of ASCII digits of any length.

    Python refuses ``int()`` on strings of more than a few thousand digits, and positions far past
    64 bits must still compare exactly (``bytes=<huge>-<huger>`` is valid, its inverse is not), so
    long runs are converted in chunks.
    """
    value = 0
    for start in range(0, len(digits), _CHUNK_DIGITS):
        chunk = digits[start : start + _CHUNK_DIGITS]
        value = value * 10 ** len(chunk) + int(chunk)
    return value


def _resolve(spec: _Spec, size: int) -> ByteRange | None:
    """The satisfiable part of one range-spec (RFC 9110 §14.1.2), or ``None``."""
    first, last = spec
    if first is None:
        assert last is not None
        if last == 0 or size == 0:
            return None
        return ByteRange(max(0, size - last), size - 1)
    if first >= size:
        return None
    return ByteRange(first, size - 1 if last is None else min(last, size - 1))


def coalesce(ranges: list[ByteRange]) -> tuple[ByteRange, ...]:
    """Merge overlapping or adjacent ranges; keep the order in which each group first appeared.

    Each merged range takes the place of its earliest member in the request, which is how this
    model reads RFC 9110 §15.3.7.2 ("the same order that the corresponding range-spec appeared").
    """
    order = sorted(range(len(ranges)), key=lambda index: ranges[index])
    groups: list[tuple[int, ByteRange]] = []
    for index in order:
        current = ranges[index]
        if groups and current.first <= groups[-1][1].last + 1:
            position, merged = groups[-1]
            groups[-1] = (min(position, index), ByteRange(merged.first, max(merged.last, current.last)))
        else:
            groups.append((index, current))
    return tuple(merged for _, merged in sorted(groups))
