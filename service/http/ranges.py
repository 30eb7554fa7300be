"""Byte ranges: the ``Range`` request header and ``Content-Range`` (RFC 9110 §14.1-§14.4).

:func:`parse_range` turns a ``Range`` field value and the representation's size into one
of three decisions: ignore the header (answer 200 with the whole representation), answer
416 Range Not Satisfiable, or answer 206 with one or more byte ranges. Its syntax step,
:func:`range_specs`, is the one reader of the field: :func:`s3_single_range` builds on it
to pass a single range to S3 as it is. :func:`parse_content_range` reads the
``Content-Range`` of S3's answers.

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

# Positions of at most this many digits convert to int in constant time. A range-spec of
# at most _SHORT_SPEC characters has no longer position; longer specs (rare) are first
# shortened with string comparisons, so that a 10,000-digit position costs a linear scan.
_INT_DIGITS = 18
_SHORT_SPEC = _INT_DIGITS + 1


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
    specs = range_specs(value)
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


@dataclass(frozen=True)
class ContentRange:
    """A ``Content-Range`` field value (RFC 9110 §14.4), as read by :func:`parse_content_range`.

    Attributes:
        first: first position of the enclosed range (bytes), or None for an
            unsatisfied-range (``bytes */length``).
        last: last position of the enclosed range (bytes, inclusive), or None likewise.
        complete_length: the representation's length in bytes, or None when the sender
            gave ``*`` (unknown).
    """

    first: int | None
    last: int | None
    complete_length: int | None

    @property
    def span(self) -> ByteRange | None:
        """The enclosed range, or None: an unsatisfied-range, or a value §14.4 calls invalid.

        Invalid means a last position before the first, or a complete length not beyond
        the last position; the content of such an answer cannot be placed.
        """
        if self.first is None or self.last is None or self.last < self.first:
            return None
        if self.complete_length is not None and self.complete_length <= self.last:
            return None
        return ByteRange(self.first, self.last)


# Bounded, possessive repetitions: a failed match stops within a few dozen characters.
_POSITION = rf"[0-9]{{1,{_INT_DIGITS}}}+"
_CONTENT_RANGE = re.compile(
    rf"(?i:bytes) (?:(?P<first>{_POSITION})-(?P<last>{_POSITION})/(?P<length>{_POSITION}|\*)"
    rf"|\*/(?P<unsatisfied>{_POSITION}))",
    re.ASCII,  # so that case-insensitive "bytes" matches no look-alike such as "\u017f"
)


def parse_content_range(value: str) -> ContentRange | None:
    """Read a ``bytes`` ``Content-Range`` value (RFC 9110 §14.4 grammar).

    ``"bytes 0-99/1000"`` → 0, 99, 1000; ``"bytes 0-99/*"`` → 0, 99, None;
    ``"bytes */1000"`` → None, None, 1000. The unit is compared case-insensitively and
    surrounding whitespace is ignored. A value that parses may still be invalid (see
    :attr:`ContentRange.span`).

    Returns None for another unit, bad syntax, and positions or lengths longer than 18
    digits. Linear in ``len(value)``.
    """
    match = _CONTENT_RANGE.fullmatch(value.strip(_OWS))
    if match is None:
        return None
    if match["unsatisfied"] is not None:
        return ContentRange(None, None, int(match["unsatisfied"]))
    length = None if match["length"] == "*" else int(match["length"])
    return ContentRange(int(match["first"]), int(match["last"]), length)


def s3_range(first: int, last: int) -> str:
    """The ``Range`` parameter of an S3 GetObject request for one byte range: ``bytes=first-last``.

    S3 honours a single range only, so a multipart answer makes one request per part.

    Raises:
        ValueError: unless ``0 <= first <= last``.
    """
    if not 0 <= first <= last:
        raise ValueError(f"invalid byte range {first}-{last}")
    return f"bytes={first}-{last}"


def s3_single_range(value: str) -> str | None:
    """The S3 ``Range`` parameter for a ``Range`` value naming one byte range, else None.

    S3 serves one byte range per request and resolves it against the object's size itself
    (clamping, suffix ranges), so such a request can go to S3 as it is, and the size comes
    back in ``Content-Range``: one request instead of a ``HeadObject`` for the size first.
    What to answer is still :func:`parse_range`'s decision; the caller checks that S3
    served the range that decision picks.

    ``"Bytes= 10-19,"`` → ``"bytes=10-19"``; ``"bytes=-500"`` → ``"bytes=-500"``. None
    wherever :func:`range_specs` is None, and for several distinct ranges, an inverted
    range, a zero-length suffix, and positions over 18 digits (how S3 reads those is
    unknown). Linear in ``len(value)``.
    """
    specs = range_specs(value)
    if specs is None or len(specs) != 1:
        return None
    (spec,) = specs
    first, _, last = spec.partition("-")
    if len(first) > _INT_DIGITS or len(last) > _INT_DIGITS:
        return None
    if not first and int(last) == 0:
        return None
    if first and last and int(last) < int(first):
        return None
    return f"bytes={spec}"


def range_specs(value: str) -> list[str] | None:
    """The distinct range-specs of a ``Range`` value ``bytes=range-set`` (RFC 9110 §14.1.1, §14.2).

    ``" Bytes= 10-19, -5,10-19,"`` → ``["10-19", "-5"]``: whitespace removed, empty
    elements and duplicates dropped (they cannot change the union), request order kept.
    Each spec is ``first-last``, ``first-`` or ``-suffix`` in ASCII digits; ``first-last``
    may still be inverted, which :func:`parse_range` rejects.

    Returns None when the header must be ignored: another unit (compared
    case-insensitively), bad syntax, or no range-spec at all. Linear in ``len(value)``.
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
