"""The ``Range`` request header for the ``bytes`` unit (RFC 9110 §14.1-§14.4).

:func:`parse_range` turns a ``Range`` field value and the representation's size into one
of three decisions: ignore the header (answer 200 with the whole representation), answer
416 Range Not Satisfiable, or answer 206 with one or more byte ranges.

No library exposes this decision on its own, and a quadratic range parser was a
denial-of-service hole in Starlette (CVE-2025-62727), so it is written here with every
step linear in the field's length: one backtracking-free syntax check, duplicate specs
dropped, one pass over the rest and a sort. Positions with more than 18 digits are
compared as digit strings and never converted whole, so a 10,000-digit position costs a
linear scan and cannot trip Python's limit on ``int`` conversion of long strings.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

DEFAULT_MAX_RANGES = 16
"""How many ranges may remain after coalescing before the header is ignored."""

_OWS = " \t"


@dataclass(frozen=True)
class ByteRange:
    """An inclusive byte range of a representation (RFC 9110 §14.1.1 ``first-pos-last-pos``).

    Attributes:
        first: offset of the first byte (bytes, >= 0).
        last: offset of the last byte, inclusive (bytes, >= ``first``).

    Raises:
        ValueError: when ``first`` is negative or ``last`` is before ``first``.
    """

    first: int
    last: int

    def __post_init__(self) -> None:
        if not 0 <= self.first <= self.last:
            raise ValueError(f"invalid byte range {self.first}-{self.last}")

    @property
    def length(self) -> int:
        """Number of bytes in the range."""
        return self.last - self.first + 1


class RangeOutcome(enum.Enum):
    """What to answer for a ``Range`` header (RFC 9110 §14.2)."""

    IGNORE = "ignore"
    """Serve the whole representation with 200: the header is invalid, names another
    unit, or asks for more ranges than allowed."""

    UNSATISFIABLE = "unsatisfiable"
    """Answer 416 with ``Content-Range: bytes */size`` (RFC 9110 §15.5.17)."""

    SATISFIABLE = "satisfiable"
    """Answer 206 with the decision's ranges (RFC 9110 §15.3.7)."""


@dataclass(frozen=True)
class RangeDecision:
    """The result of :func:`parse_range`.

    Attributes:
        outcome: which of 200 / 416 / 206 to answer.
        ranges: for ``SATISFIABLE``, the coalesced ranges in request order, disjoint
            and non-adjacent, each within the representation; empty otherwise.
    """

    outcome: RangeOutcome
    ranges: tuple[ByteRange, ...] = ()

    @property
    def is_multipart(self) -> bool:
        """Whether the 206 needs a ``multipart/byteranges`` body (more than one range)."""
        return len(self.ranges) > 1


_IGNORE = RangeDecision(RangeOutcome.IGNORE)
_UNSATISFIABLE = RangeDecision(RangeOutcome.UNSATISFIABLE)

# Every quantifier is possessive (Python 3.11+), so matching never backtracks and costs
# time linear in the field's length. Elements are int-range ("5-9", "5-") or suffix-range
# ("-5"), with optional whitespace and empty elements around commas (RFC 9110 §5.6.1).
_ELEMENT = r"[ \t]*+(?:[0-9]++-[0-9]*+|-[0-9]++)?+[ \t]*+"
_RANGE_SET = re.compile(rf"(?:{_ELEMENT},)*+{_ELEMENT}")
_DROP_OWS = str.maketrans("", "", _OWS)

# A range-spec of at most this many characters has no position longer than 18 digits,
# which int() converts in constant time. Longer specs (rare) are first shortened with
# string comparisons, so that a 10,000-digit position costs a linear scan only.
_SHORT_SPEC = 19


def parse_range(value: str, size: int, *, max_ranges: int = DEFAULT_MAX_RANGES) -> RangeDecision:
    """Decide how to answer a ``Range`` header for a representation of ``size`` bytes.

    Implements RFC 9110 §14.1.1 (grammar, satisfiability) and §14.2 (a server may ignore
    the header, coalesce ranges, or refuse too many):

    * ``IGNORE`` when the value is not ``bytes=`` followed by a valid range set (unit
      compared case-insensitively, optional whitespace and empty elements around
      commas allowed), when any ``first-last`` range is inverted, or when more than
      ``max_ranges`` ranges remain after coalescing.
    * ``UNSATISFIABLE`` when no range is satisfiable: every first position is at or past
      the end, a suffix length is zero, or the representation is empty (a 206 cannot
      describe a zero-length representation: ``Content-Range`` needs first <= last).
    * ``SATISFIABLE`` otherwise: unsatisfiable members are dropped, last positions past
      the end are clamped, a suffix longer than the representation selects all of it,
      and overlapping or adjacent ranges are merged.

    Runs in time linear in ``len(value)`` plus a sort of the ranges.

    Args:
        value: the ``Range`` field value.
        size: the representation's length (bytes, >= 0).
        max_ranges: most ranges allowed after coalescing (>= 1).

    Raises:
        ValueError: when ``size`` is negative or ``max_ranges`` is below 1.
    """
    if size < 0:
        raise ValueError(f"size must be >= 0, got {size}")
    if max_ranges < 1:
        raise ValueError(f"max_ranges must be >= 1, got {max_ranges}")
    specs = _parse_ranges_specifier(value)
    if specs is None:
        return _IGNORE
    satisfiable = _resolve(specs, size)
    if satisfiable is None:
        return _IGNORE
    if not satisfiable:
        return _UNSATISFIABLE
    merged = _coalesce(satisfiable, max_ranges)
    if merged is None:
        return _IGNORE
    return RangeDecision(RangeOutcome.SATISFIABLE, tuple(ByteRange(*pair) for pair in merged))


def content_range(first: int, last: int, size: int) -> str:
    """The ``Content-Range`` value of a 206 part: ``bytes first-last/size`` (RFC 9110 §14.4).

    Raises:
        ValueError: unless ``0 <= first <= last < size``.
    """
    if not 0 <= first <= last < size:
        raise ValueError(f"byte range {first}-{last} is not within a size of {size}")
    return f"bytes {first}-{last}/{size}"


def unsatisfied_range(size: int) -> str:
    """The ``Content-Range`` value of a 416: ``bytes */size`` (RFC 9110 §14.4).

    Raises:
        ValueError: when ``size`` is negative.
    """
    if size < 0:
        raise ValueError(f"size must be >= 0, got {size}")
    return f"bytes */{size}"


def s3_range(first: int, last: int) -> str:
    """The ``Range`` parameter of an S3 GetObject request for one byte range: ``bytes=first-last``.

    S3 honours a single range only, so a multipart answer makes one request per part.

    Raises:
        ValueError: unless ``0 <= first <= last``.
    """
    if not 0 <= first <= last:
        raise ValueError(f"invalid byte range {first}-{last}")
    return f"bytes={first}-{last}"


def _parse_ranges_specifier(value: str) -> list[str] | None:
    """The distinct range-specs of ``bytes=range-set``, without whitespace, in request order.

    Returns None when the header must be ignored: another unit, bad syntax or no
    range-spec. Duplicates are dropped early because they cannot change the union.
    """
    unit, equals, range_set = value.strip(_OWS).partition("=")
    if not equals or not unit.isascii() or unit.lower() != "bytes":
        return None
    if _RANGE_SET.fullmatch(range_set) is None:
        return None
    # Once validated, whitespace only surrounds elements, so dropping all of it is safe. A
    # dict keeps the request's order (parts are sent in it) and drops duplicates.
    specs = dict.fromkeys(range_set.translate(_DROP_OWS).split(","))
    specs.pop("", None)
    return list(specs) or None


def _resolve(specs: list[str], size: int) -> list[tuple[int, int]] | None:
    """Clamp each range-spec to the representation, dropping unsatisfiable ones.

    Returns ``(first, last)`` pairs, or None when an int-range is inverted: RFC 9110
    §14.1.1 makes the whole range-set invalid. The loop is inlined and works on plain
    tuples because a 64 KiB header holds thousands of specs.
    """
    pairs: list[tuple[int, int]] = []
    append = pairs.append
    last_byte = size - 1
    for spec in specs:
        first, _, last = spec.partition("-")
        if len(spec) > _SHORT_SPEC:
            shortened = _shorten(first, last, size)
            if shortened is None:
                return None
            first, last = shortened
        if not first:
            suffix = min(int(last), size)
            if suffix:
                append((size - suffix, last_byte))
            continue
        start = int(first)
        if not last:
            if start < size:
                append((start, last_byte))
            continue
        end = int(last)
        if end < start:
            return None
        if start < size:
            append((start, end if end < size else last_byte))
    return pairs


def _shorten(first: str, last: str, size: int) -> tuple[str, str] | None:
    """Replace long digit strings by short ones with the same effect; None when inverted.

    A first-pos or suffix-length beyond ``size`` acts like ``size``; a last-pos at or
    beyond the end acts like an open int-range.
    """
    first, last = _without_zeros(first), _without_zeros(last)
    if first and last and (len(first), first) > (len(last), last):
        return None
    size_digits = len(str(size))
    if not first:
        return "", last if len(last) <= size_digits else str(size)
    if len(first) > size_digits:
        first = str(size)
    if last and (len(last) > size_digits or int(last) >= size):
        last = ""
    return first, last


def _without_zeros(digits: str) -> str:
    """Drop leading zeros so that digit strings compare by length, then lexically."""
    return (digits.lstrip("0") or "0") if digits else ""


def _coalesce(pairs: list[tuple[int, int]], limit: int) -> list[tuple[int, int]] | None:
    """Merge overlapping and adjacent ``(first, last)`` pairs; None when more than ``limit``.

    RFC 9110 §14.2 lets a server coalesce ranges, and §15.3.7.2 asks for the parts in the
    order they were requested: a merged range takes the place of its earliest member.
    After sorting by ``first`` one linear pass suffices, and it can stop early: a finished
    range is never merged again, so the count only grows.
    """
    by_first = sorted(range(len(pairs)), key=lambda index: pairs[index][0])
    merged: list[tuple[int, int, int]] = []  # (request position, first, last)
    position = by_first[0]
    start, end = pairs[position]
    for index in by_first:
        first, last = pairs[index]
        if first > end + 1:
            merged.append((position, start, end))
            if len(merged) == limit:
                return None  # and the current range makes one more
            position, start, end = index, first, last
        else:
            end = max(end, last)
            position = min(position, index)
    merged.append((position, start, end))
    merged.sort()
    return [(first, last) for _, first, last in merged]
