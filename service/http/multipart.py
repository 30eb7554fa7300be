"""The layout of a ``multipart/byteranges`` body (RFC 9110 §14.6, RFC 2046 §5.1.1).

The body is fixed before any byte is sent, so its exact ``Content-Length`` is known up
front and each part can be streamed from its own ranged S3 request::

    --BOUNDARY\\r\\n
    Content-Type: text/plain\\r\\n
    Content-Range: bytes 0-9/100\\r\\n
    \\r\\n
    <10 bytes>\\r\\n
    --BOUNDARY\\r\\n
    ...
    <last part's bytes>\\r\\n
    --BOUNDARY--\\r\\n

The first delimiter has no leading CRLF; every later one, and the closing delimiter,
starts with the CRLF that ends the previous part's data.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from service.http.ranges import ByteRange, content_range

# RFC 2046 §5.1.1 bcharsnospace: 1 to 70 of these, not ending in a space.
_BCHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ")
# The bchars that are also tchar, so a boundary made only of them needs no quotes.
_TOKEN_BCHARS = _BCHARS - frozenset("(),/:=? ")


def new_boundary() -> str:
    """A random boundary: 32 hex digits (128 bits from :mod:`secrets`).

    The parts are not scanned for it; at 128 bits a collision with object data is not
    a practical concern.
    """
    return secrets.token_hex(16)


@dataclass(frozen=True)
class Layout:
    """Everything but the data of a ``multipart/byteranges`` body.

    Build one with :meth:`new`. Sizes are in bytes.

    Attributes:
        boundary: the delimiter string (RFC 2046 bchars, 1-70 characters).
        part_type: the representation's ``Content-Type``, repeated in each part, or
            None to leave it out.
        size: the representation's complete length.
        ranges: the parts' byte ranges, in the order they are sent.
    """

    boundary: str
    part_type: str | None
    size: int
    ranges: tuple[ByteRange, ...]

    @classmethod
    def new(
        cls,
        part_type: str | None,
        size: int,
        ranges: Sequence[ByteRange],
        *,
        boundary: str | None = None,
    ) -> Layout:
        """Lay out a body for ``ranges`` of a ``size``-byte representation.

        Args:
            part_type: the ``Content-Type`` of the representation, or None.
            size: the representation's length (bytes).
            ranges: at least one range, each within ``size``.
            boundary: the boundary to use; a fresh :func:`new_boundary` by default.

        Raises:
            ValueError: when ``ranges`` is empty or a range ends past ``size``, when
                ``part_type`` has control characters or is not Latin-1 (it would break
                or inject a header line), or when ``boundary`` is not RFC 2046 valid.
        """
        layout = cls(new_boundary() if boundary is None else boundary, part_type, size, tuple(ranges))
        layout._validate()
        return layout

    @property
    def content_type(self) -> str:
        """The response's ``Content-Type``: ``multipart/byteranges; boundary=...``.

        The boundary is quoted only when it is not a token (RFC 9110 §5.6.6).
        """
        if _TOKEN_BCHARS.issuperset(self.boundary):
            return f"multipart/byteranges; boundary={self.boundary}"
        return f'multipart/byteranges; boundary="{self.boundary}"'

    @property
    def closing(self) -> bytes:
        """The close delimiter sent after the last part's data, with its line end."""
        return f"\r\n--{self.boundary}--\r\n".encode("ascii")

    @property
    def content_length(self) -> int:
        """The exact body length: part headers, part data and the close delimiter."""
        headers = sum(len(header) for _, header in self.parts())
        return headers + sum(r.length for r in self.ranges) + len(self.closing)

    def parts(self) -> Iterator[tuple[ByteRange, bytes]]:
        """Each range with the bytes sent before its data, in order.

        Those bytes are the delimiter (preceded by CRLF except for the first part), the
        part's ``Content-Type`` and ``Content-Range`` lines and the empty line.
        """
        type_line = "" if self.part_type is None else f"Content-Type: {self.part_type}\r\n"
        for index, byte_range in enumerate(self.ranges):
            crlf = "\r\n" if index else ""
            value = content_range(byte_range.first, byte_range.last, self.size)
            header = f"{crlf}--{self.boundary}\r\n{type_line}Content-Range: {value}\r\n\r\n"
            yield byte_range, header.encode("latin-1")

    def _validate(self) -> None:
        if not self.ranges:
            raise ValueError("a multipart/byteranges body needs at least one range")
        for byte_range in self.ranges:
            content_range(byte_range.first, byte_range.last, self.size)  # raises when outside
        if self.part_type is not None and not _is_field_value(self.part_type):
            raise ValueError(f"unusable part Content-Type: {self.part_type!r}")
        if not 1 <= len(self.boundary) <= 70 or self.boundary.endswith(" ") or not _BCHARS.issuperset(self.boundary):
            raise ValueError(f"invalid multipart boundary: {self.boundary!r}")


def _is_field_value(value: str) -> bool:
    """Visible Latin-1 characters, spaces and tabs only (RFC 9110 §5.5 field-vchar)."""
    return all(char in " \t" or "!" <= char <= "~" or "\xa0" <= char <= "\xff" for char in value)
