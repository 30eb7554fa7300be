"""Deterministic pseudo-random bytes of any length, produced in blocks, never whole in memory.

Block ``i`` (1 MiB) is SHAKE256 (FIPS 202) of a fixed seed followed by ``i`` as 8
big-endian bytes.  Each block differs from every other, so a byte range served from
the wrong offset is detected, and any range can be recomputed on its own.
"""

from __future__ import annotations

import hashlib
import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

BLOCK_SIZE = 1 << 20
"""Bytes generated per SHAKE256 call (1 MiB)."""

SEED = b"s3-stream-proxy demo"


def block(index: int) -> bytes:
    """Return block ``index`` (0-based) of the stream: :data:`BLOCK_SIZE` bytes.

    Raises:
        ValueError: ``index`` is negative.
    """
    if index < 0:
        raise ValueError("block index must not be negative")
    return hashlib.shake_256(SEED + index.to_bytes(8, "big")).digest(BLOCK_SIZE)


def byte_range(start: int, length: int) -> bytes:
    """Return ``length`` bytes of the stream from offset ``start`` (both in bytes).

    Useful to check a partial response (RFC 9110 §14) without generating the whole
    stream.

    Raises:
        ValueError: ``start`` or ``length`` is negative.
    """
    if start < 0 or length < 0:
        raise ValueError("start and length must not be negative")
    first, skip = divmod(start, BLOCK_SIZE)
    last = (start + length + BLOCK_SIZE - 1) // BLOCK_SIZE
    joined = b"".join(block(index) for index in range(first, last))
    return joined[skip : skip + length]


def open_stream(size: int) -> io.BufferedReader:
    """A readable, non-seekable binary stream of the first ``size`` bytes.

    It is buffered so that ``read(n)`` returns exactly ``n`` bytes until the end, which
    boto3's multipart upload needs to cut parts of equal size.

    Raises:
        ValueError: ``size`` is negative.
    """
    return io.BufferedReader(_PseudoRandomRaw(size), buffer_size=BLOCK_SIZE)


class _PseudoRandomRaw(io.RawIOBase):
    """The raw stream under :func:`open_stream`; keeps one block in memory."""

    def __init__(self, size: int) -> None:
        if size < 0:
            raise ValueError("size must not be negative")
        self._size = size
        self._position = 0
        self._cached_index = -1
        self._cached = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        count = min(len(view), self._size - self._position)
        filled = 0
        while filled < count:
            index, offset = divmod(self._position, BLOCK_SIZE)
            taken = min(count - filled, BLOCK_SIZE - offset)
            view[filled : filled + taken] = self._block(index)[offset : offset + taken]
            filled += taken
            self._position += taken
        return count

    def _block(self, index: int) -> memoryview:
        if index != self._cached_index:
            self._cached, self._cached_index = memoryview(block(index)), index
        return self._cached
