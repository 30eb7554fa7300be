"""Build the responses: 200, 206 (single and multipart), 304, and the 416 error (RFC 9110 §15)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass

from starlette.responses import Response

from service.errors import BadGateway, ProxyError, RangeNotSatisfiable, StreamBroken
from service.http import disposition, multipart
from service.http.ranges import ByteRange, content_range, s3_range, unsatisfied_range
from service.representation import representation_headers
from service.s3 import GetResult, ObjectBody, ObjectMeta, ObjectStore, ReadParams
from service.settings import ActiveContent
from service.streaming import ObjectStreamResponse

_NOT_MODIFIED_HEADERS = ("etag", "last-modified", "cache-control", "expires", "vary", "content-location")
"""What a 304 repeats from the 200 it stands for (RFC 9110 §15.4.5), plus Last-Modified."""


@dataclass(frozen=True)
class ResponseSettings:
    """The settings that shape every answer of a process; built once, at startup.

    Attributes:
        chunk_size: most bytes handed to the server per body message (bytes, >= 1).
        default_cache_control: ``Cache-Control`` for objects stored without one; empty
            for no header (RFC 9111 §5.2).
        max_ranges: most byte ranges one answer may hold after coalescing, beyond which
            ``Range`` is ignored (>= 1; RFC 9110 §14.2).
        active_content: how types a browser runs are served (see
            :mod:`service.representation`): sandboxed inline, or as attachments.
    """

    chunk_size: int
    default_cache_control: str
    max_ranges: int
    active_content: ActiveContent = "sandbox"


@dataclass(frozen=True)
class View:
    """How an object is presented to this request.

    Attributes:
        key: the S3 key.
        settings: the settings that shape the answer.
        download: None to serve inline as stored; otherwise ``?download`` was given: an
            empty string names the download after the key's base name, anything else is
            the file name to use (RFC 6266 ``attachment``).
    """

    key: str
    settings: ResponseSettings
    download: str | None = None

    def headers(self, meta: ObjectMeta) -> dict[str, str]:
        """Representation headers for ``meta``, without ``Content-Length``."""
        headers = representation_headers(
            meta, self.key, self.settings.default_cache_control, self.settings.active_content
        )
        if self.download is not None:
            name = self.download or disposition.key_basename(self.key)
            headers["content-disposition"] = disposition.attachment(name)
        return headers


def head(meta: ObjectMeta, view: View) -> Response:
    """200 to ``HEAD``: the headers a ``GET`` would send, no body."""
    headers = view.headers(meta)
    headers["content-length"] = str(meta.size)
    return Response(status_code=200, headers=headers)


def whole(result: GetResult, view: View) -> Response:
    """200 with the whole object streamed from an open ``GetObject`` answer."""
    headers = view.headers(result.meta)
    headers["content-length"] = str(result.meta.size)
    return ObjectStreamResponse(_read(result.body, view.settings.chunk_size), 200, headers)


def partial(result: GetResult, byte_range: ByteRange, view: View) -> Response:
    """206 with one byte range (RFC 9110 §15.3.7.1) from an open ``GetObject`` answer that covers it.

    Raises:
        BadGateway: S3's answer does not cover ``byte_range`` (see :func:`window`).
    """
    headers = view.headers(result.meta)
    headers["content-range"] = content_range(byte_range.first, byte_range.last, result.meta.size)
    headers["content-length"] = str(byte_range.length)
    chunks = _read(result.body, view.settings.chunk_size, window(result.meta, byte_range))
    return ObjectStreamResponse(chunks, 206, headers)


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


def byteranges(
    store: ObjectStore, meta: ObjectMeta, ranges: Sequence[ByteRange], view: View, pin: ReadParams
) -> Response:
    """206 ``multipart/byteranges`` (RFC 9110 §14.6), one ranged ``GetObject`` per part, streamed in order.

    Each part is fetched only when the previous one is sent, pinned by ``pin`` (S3's
    ``IfMatch``) to the version ``meta`` describes. A part that fails once the body has
    started aborts the connection.
    """
    headers = view.headers(meta)
    part_type = headers.pop("content-type")
    layout = multipart.Layout.new(part_type, meta.size, ranges)
    headers["content-type"] = layout.content_type
    headers["content-length"] = str(layout.content_length)
    chunks = _parts(store, view, layout, pin)
    return ObjectStreamResponse(chunks, 206, headers)


def pin_range(pin: ReadParams, byte_range: ByteRange) -> ReadParams:
    """``pin`` (the ``IfMatch`` of the version being read, if any) with S3's ``Range`` for ``byte_range``."""
    return {**pin, "Range": s3_range(byte_range.first, byte_range.last)}


def not_modified(meta: ObjectMeta, view: View) -> Response:
    """304 with the validators and caching headers of the 200 it stands for, no body."""
    full = view.headers(meta)
    headers = {name: full[name] for name in _NOT_MODIFIED_HEADERS if name in full}
    return Response(status_code=304, headers=headers)


def unsatisfiable(meta: ObjectMeta) -> RangeNotSatisfiable:
    """The 416 error for ``meta``, with ``Content-Range: bytes */size`` (RFC 9110 §15.5.17)."""
    return RangeNotSatisfiable(
        "the requested range is not satisfiable", {"content-range": unsatisfied_range(meta.size)}
    )


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


async def _parts(
    store: ObjectStore, view: View, layout: multipart.Layout, pin: ReadParams
) -> AsyncGenerator[bytes, None]:
    for byte_range, part_header in layout.parts():
        yield part_header
        try:
            result = await store.get(view.key, **pin_range(pin, byte_range))
            span = window(result.meta, byte_range)
        except ProxyError as exc:
            raise StreamBroken(f"a part of a multipart answer failed: {exc.reason}") from exc
        async for chunk in _read(result.body, view.settings.chunk_size, span):
            yield chunk
    yield layout.closing
