"""A sample PNG image: a colour gradient crossed by concentric rings.

Encoded with :mod:`zlib` alone so the demo needs no imaging library; the format is
the PNG specification (ISO/IEC 15948, W3C PNG 2nd/3rd edition): signature, ``IHDR``,
one ``IDAT`` with the zlib-compressed scanlines, ``IEND``; each chunk carries a CRC-32
of its type and data.
"""

from __future__ import annotations

import struct
import zlib

WIDTH = 640
HEIGHT = 400
"""Pixels of the sample image."""

SIGNATURE = b"\x89PNG\r\n\x1a\n"
"""The eight bytes every PNG file starts with (PNG spec §5.2)."""

_BIT_DEPTH = 8
_COLOUR_TYPE_RGB = 2
_FILTER_NONE = b"\x00"


def build_pattern_png(width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """Return an 8-bit RGB, non-interlaced PNG of ``width`` x ``height`` pixels.

    Red grows left to right, blue top to bottom, and green draws rings around the
    centre.  Only integer arithmetic is used, so the bytes (and their SHA-256) are the
    same on every platform.

    Raises:
        ValueError: a dimension is not in 1..2**31-1 (PNG spec §11.2.2).
    """
    if not (0 < width < 2**31 and 0 < height < 2**31):
        raise ValueError("PNG dimensions must be between 1 and 2**31-1 pixels")
    header = struct.pack(">IIBBBBB", width, height, _BIT_DEPTH, _COLOUR_TYPE_RGB, 0, 0, 0)
    scanlines = b"".join(_FILTER_NONE + _row(y, width, height) for y in range(height))
    return b"".join(
        (
            SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(scanlines, 9)),
            _chunk(b"IEND", b""),
        )
    )


def _row(y: int, width: int, height: int) -> bytes:
    centre_x, centre_y = width // 2, height // 2
    blue = 255 * y // max(height - 1, 1)
    dy2 = (y - centre_y) ** 2
    pixels = bytearray()
    for x in range(width):
        ring = ((x - centre_x) ** 2 + dy2) >> 6
        # A triangle wave of the squared distance: bright and dark rings, no seams.
        green = ring % 256 if ring % 512 < 256 else 255 - ring % 256
        pixels += bytes((255 * x // max(width - 1, 1), green, blue))
    return bytes(pixels)


def _chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk (PNG spec §5.3): length, type, data, CRC-32 of type and data."""
    crc = zlib.crc32(kind + data)
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)
