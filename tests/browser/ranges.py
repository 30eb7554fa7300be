"""Reading ``Content-Range`` values the browser received (RFC 9110 §14.4)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_BYTE_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


@dataclass(frozen=True)
class ReceivedRange:
    """A satisfied byte range: first and last byte position (inclusive) and the complete length, in bytes."""

    first: int
    last: int
    complete_length: int

    @property
    def length(self) -> int:
        """Bytes in the range."""
        return self.last - self.first + 1


def parse_content_range(value: str) -> ReceivedRange:
    """Parse ``bytes first-last/complete-length`` (RFC 9110 §14.4, ``range-resp`` form only).

    Raises:
        ValueError: ``value`` is not that form, or ``last`` is before ``first`` or past the end.
    """
    match = _BYTE_RANGE.fullmatch(value.strip())
    if not match:
        raise ValueError(f"not a byte range-resp: {value!r}")
    first, last, complete = (int(group) for group in match.groups())
    if not first <= last < complete:
        raise ValueError(f"inconsistent byte range: {value!r}")
    return ReceivedRange(first, last, complete)
