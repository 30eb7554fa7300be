"""S3-aware shortcuts for ``Range``: when one ``GetObject`` can answer a ranged request.

S3 serves exactly one byte range per request and resolves it against the object's size
itself (clamping, suffix ranges), so a request for a single range can go to S3 as it is
and the size comes back in ``Content-Range`` — one S3 request instead of a ``HeadObject``
for the size first. No library knows this S3 behaviour, hence this module. The decision
of what to answer is still :func:`service.http.ranges.parse_range`'s; the caller checks
that S3 served exactly the range that decision picks.
"""

from __future__ import annotations

MAX_DIGITS = 18
"""Longer positions go the slow way (HeadObject first); S3's parsing of them is unknown."""


def single_range_spec(value: str) -> str | None:
    """The S3 ``Range`` value for a header naming exactly one well-formed byte range, else None.

    ``"Bytes= 10-19,"`` → ``"bytes=10-19"``; ``"bytes=-500"`` → ``"bytes=-500"``. None for
    several ranges, another unit, bad syntax, inverted or zero-length suffix ranges, and
    positions over :data:`MAX_DIGITS` digits. Linear in ``len(value)``.
    """
    unit, equals, ranges = value.partition("=")
    if not equals or unit.lower() != "bytes":
        return None
    elements = [element.strip(" \t") for element in ranges.split(",")]
    specs = [element for element in elements if element]
    if len(specs) != 1:
        return None
    first, dash, last = specs[0].partition("-")
    if not dash or not _digits(first, last):
        return None
    if not first and int(last) == 0:
        return None
    if first and last and int(last) < int(first):
        return None
    return f"bytes={first}-{last}"


def _digits(first: str, last: str) -> bool:
    if not first and not last:
        return False
    return all(not part or (part.isascii() and part.isdigit() and len(part) <= MAX_DIGITS) for part in (first, last))


def served_range(content_range: str | None) -> tuple[int, int] | None:
    """The (first, last) positions of S3's ``Content-Range: bytes a-b/size``, or None."""
    if not content_range or not content_range.startswith("bytes "):
        return None
    span = content_range[len("bytes ") :].split("/", 1)[0]
    first, dash, last = span.partition("-")
    if not dash or not first.isdigit() or not last.isdigit():
        return None
    return int(first), int(last)
