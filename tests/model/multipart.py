"""Reading a ``multipart/byteranges`` payload (RFC 9110 §14.6, RFC 2046 §5.1.1).

The boundary is the server's random choice, so tests parse the payload and compare its parts.
"""

from __future__ import annotations

import re
from email.message import Message

from tests.model.expected import Part

_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
_CRLF = b"\r\n"


class BadMultipart(ValueError):
    """The payload or its ``Content-Type`` breaks RFC 2046's multipart syntax."""


def boundary_of(content_type: str) -> str:
    """The boundary parameter of a ``multipart/byteranges`` media type.

    Raises:
        BadMultipart: another media type, or a missing or invalid boundary (RFC 2046 §5.1.1:
            1 to 70 bchars, not ending in a space).
    """
    message = Message()
    message["content-type"] = content_type
    boundary = message.get_boundary()
    if message.get_content_type() != "multipart/byteranges" or boundary is None:
        raise BadMultipart(f"not multipart/byteranges with a boundary: {content_type!r}")
    if not _BOUNDARY.fullmatch(boundary):
        raise BadMultipart(f"invalid boundary {boundary!r}")
    return boundary


def parse_parts(boundary: str, payload: bytes) -> tuple[Part, ...]:
    """The body parts of ``payload``, in order.

    Lines end in CRLF; the delimiter is CRLF ``--boundary``; a preamble and an epilogue are
    allowed and skipped; the close delimiter ``--boundary--`` is required.

    Raises:
        BadMultipart: no parts, no close delimiter, or a part without its header section.
    """
    delimiter = _CRLF + b"--" + boundary.encode("ascii")
    # The first delimiter may open the payload without a preceding CRLF (RFC 2046 §5.1.1).
    segments = (_CRLF + payload).split(delimiter)
    parts: list[Part] = []
    for segment in segments[1:]:
        if segment.startswith(b"--"):
            if not parts:
                raise BadMultipart("no body parts")
            return tuple(parts)
        parts.append(_parse_part(segment))
    raise BadMultipart("no close delimiter")


def _parse_part(segment: bytes) -> Part:
    # After the boundary: optional transport padding (spaces, tabs), then CRLF.
    padding_end = len(segment) - len(segment.lstrip(b" \t"))
    if segment[padding_end : padding_end + 2] != _CRLF:
        raise BadMultipart("boundary line not ended by CRLF")
    header_block, separator, data = segment[padding_end + 2 :].partition(_CRLF + _CRLF)
    if not separator:
        raise BadMultipart("body part without a blank line after its header section")
    fields: dict[str, str] = {}
    for line in header_block.split(_CRLF):
        name, colon, value = line.decode("latin-1").partition(":")
        if not colon:
            raise BadMultipart(f"header line without a colon: {line!r}")
        fields[name.strip().lower()] = value.strip(" \t")
    return Part(fields.get("content-type", ""), fields.get("content-range", ""), data)
