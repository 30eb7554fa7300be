"""Reading bytes out of S3 answers: where a byte range sits in one, and resuming a broken body.

An S3 body can break after the response has started: a connection reset, a body that
stalls until the read timeout, a server that ends it early. Status and headers are
already with the client, so the only honest ways on are to continue or to abort. The
reader here continues: it asks S3 again for the bytes not yet sent, with a ranged
``GetObject`` pinned by ``IfMatch`` to the ETag of the answer it started from, so that
two versions of an object are never spliced into one body (S3 API reference,
``GetObject``: ``Range``, ``If-Match``). botocore retries requests that fail before their
body begins, but nothing in botocore or aiobotocore resumes a body that breaks, hence
this module. Only when resuming fails (the object changed, or the attempts are used up)
does the stream fail, and the client sees an aborted response, as without resuming.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from service.errors import BadGateway, PreconditionFailed, ProxyError, StreamBroken
from service.http.ranges import ByteRange, s3_range
from service.requestfacts import note_resume
from service.s3 import GetResult, ObjectBody, ObjectMeta, ObjectStore

logger = logging.getLogger("s3_stream_proxy.resume")


@dataclass(frozen=True)
class Resumption:
    """Where to ask again when a body breaks, and how often.

    Attributes:
        store: the bucket the object is read from.
        key: the object's S3 key.
        attempts: most ranged re-reads per answer body (>= 0; 0 never resumes).
    """

    store: ObjectStore
    key: str
    attempts: int


def window(meta: ObjectMeta, byte_range: ByteRange) -> tuple[int, int]:
    """Where ``byte_range`` sits in an S3 answer: (bytes to skip, bytes to send).

    S3 honours the ``Range`` it is sent, but S3-compatible servers do not always (s3rver
    answers ``bytes=0-0`` with the whole object), so the bytes sent are taken from what
    the answer's ``Content-Range`` (or its absence: the whole object) says it holds.

    Raises:
        BadGateway: the answer does not hold all of ``byte_range``.
    """
    skip = _offset(meta, byte_range)
    if skip is None:
        raise BadGateway("S3 answered with a different byte range")
    return skip, byte_range.length


def covers(meta: ObjectMeta, byte_range: ByteRange) -> bool:
    """Whether an S3 answer described by ``meta`` holds all of ``byte_range``."""
    return _offset(meta, byte_range) is not None


def _offset(meta: ObjectMeta, byte_range: ByteRange) -> int | None:
    """How many bytes into an S3 answer's body ``byte_range`` starts; None unless the body holds all of it.

    The body holds its ``Content-Range`` when that is valid (RFC 9110 §14.4), the whole
    object without one, and nothing that can be placed otherwise (an unsatisfied or
    invalid ``Content-Range``, or an empty object).
    """
    if meta.content_range is not None:
        held = meta.content_range.span
    else:
        held = ByteRange(0, meta.size - 1) if meta.size else None
    if held is None or byte_range.first < held.first or byte_range.last > held.last:
        return None
    return byte_range.first - held.first


async def read_range(
    result: GetResult, wanted: ByteRange, chunk_size: int, resumption: Resumption
) -> AsyncGenerator[bytes, None]:
    """Yield the bytes ``wanted`` of the object in chunks of at most ``chunk_size`` bytes.

    They come from ``result`` (an open ``GetObject`` answer that holds them, see
    :func:`window`), and after a break from ranged re-reads of what is left, up to
    ``resumption.attempts`` of them. Every byte of ``wanted`` is yielded exactly once, in
    order. Bodies are always closed.

    Raises:
        BadGateway: ``result`` does not hold ``wanted`` (before anything is yielded).
        StreamBroken: the body broke and could not be resumed: no attempts left, the
            answer has no ETag to pin, the object changed, or S3 failed the re-read.
    """
    span = window(result.meta, wanted)
    etag = result.meta.etag
    next_byte, attempts = wanted.first, resumption.attempts
    while True:
        try:
            # aclosing: when the client leaves mid-chunk, the body is closed now, not at GC.
            async with contextlib.aclosing(_read(result.body, chunk_size, span)) as chunks:
                async for chunk in chunks:
                    next_byte += len(chunk)
                    yield chunk
            return
        except StreamBroken as broken:
            if attempts == 0 or etag is None:
                raise
            attempts -= 1
            note_resume()
            logger.warning("resuming %s at byte %d: %s", resumption.key, next_byte, broken)
            rest = ByteRange(next_byte, wanted.last)
            result = await _read_again(resumption, etag, rest)
            span = _window_after_break(result, etag, rest)


def read_body(body: ObjectBody, chunk_size: int) -> AsyncGenerator[bytes, None]:
    """``body`` in chunks of at most ``chunk_size`` bytes, never resumed; the body is always closed.

    For answers with no byte to resume from (an empty object). The generator raises
    StreamBroken when the body fails.
    """
    return _read(body, chunk_size)


async def _read_again(resumption: Resumption, etag: str, rest: ByteRange) -> GetResult:
    """The ranged, pinned ``GetObject`` for ``rest``.

    Raises:
        StreamBroken: the object changed (S3's 412 to ``IfMatch``), or S3 failed the request
            after botocore's own retries.
    """
    try:
        return await resumption.store.get(resumption.key, IfMatch=etag, Range=s3_range(rest.first, rest.last))
    except PreconditionFailed:
        raise StreamBroken(_CHANGED) from None
    except ProxyError as exc:
        raise StreamBroken(f"resuming failed: {exc.reason}") from exc


_CHANGED = "the object changed while it was sent; cannot resume"


def _window_after_break(result: GetResult, etag: str, rest: ByteRange) -> tuple[int, int]:
    """Where ``rest`` sits in the re-read answer, which must be of the version ``etag`` names.

    The ETag is compared again because S3-compatible servers do not all honour ``IfMatch``
    (s3rver ignores it and sends the new version).

    Raises:
        StreamBroken: the answer is of another version, or does not hold ``rest``.
    """
    skip = _offset(result.meta, rest) if result.meta.etag == etag else None
    if skip is not None:
        return skip, rest.length
    result.body.close()
    if result.meta.etag != etag:
        raise StreamBroken(_CHANGED)
    raise StreamBroken("resuming failed: S3 answered with a different byte range")


async def _read(body: ObjectBody, chunk_size: int, span: tuple[int, int] | None = None) -> AsyncGenerator[bytes, None]:
    """Yield ``body`` in chunks of at most ``chunk_size`` bytes; always close it.

    With ``span`` = (skip, length), only that window of the body is sent, and a body that
    ends before the window does fails the stream.
    """
    skip, remaining = span or (0, None)
    try:
        async for chunk in body.chunks(chunk_size):
            part = chunk[skip:] if skip else chunk
            skip = max(0, skip - len(chunk))
            if remaining is not None:
                part = part[:remaining]
                remaining -= len(part)
            if part:
                yield part
            if remaining == 0:
                return
        if remaining:
            raise StreamBroken("the S3 body ended before the byte range did")
    finally:
        body.close()
