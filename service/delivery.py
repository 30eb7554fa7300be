"""Build the responses: 200, 206 (single and multipart), 304, and the 416 error (RFC 9110 §15)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field

from starlette.responses import Response

from service import bodies
from service.errors import ProxyError, RangeNotSatisfiable, StreamBroken
from service.http import disposition, multipart
from service.http.ranges import ByteRange, content_range, s3_range, unsatisfied_range
from service.redirect import RedirectPolicy
from service.representation import representation_headers
from service.s3 import GetResult, ObjectMeta, ObjectStore, ReadParams
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
        resume_attempts: most ranged re-reads of an S3 body that breaks mid-stream, per
            answer body or multipart part (>= 0; see :mod:`service.bodies`).
        redirect: which answers are sent to S3 instead (see :mod:`service.redirect`).
    """

    chunk_size: int
    default_cache_control: str
    max_ranges: int
    active_content: ActiveContent = "sandbox"
    resume_attempts: int = 2
    redirect: RedirectPolicy = field(default_factory=RedirectPolicy)


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


def whole(store: ObjectStore, result: GetResult, view: View) -> Response:
    """200 with the whole object streamed from an open ``GetObject`` answer, resumed if it breaks."""
    headers = view.headers(result.meta)
    headers["content-length"] = str(result.meta.size)
    if not result.meta.size:
        return ObjectStreamResponse(bodies.read_body(result.body, view.settings.chunk_size), 200, headers)
    everything = ByteRange(0, result.meta.size - 1)
    chunks = bodies.read_range(result, everything, view.settings.chunk_size, _resumption(store, view))
    return ObjectStreamResponse(chunks, 200, headers)


def partial(store: ObjectStore, result: GetResult, byte_range: ByteRange, view: View) -> Response:
    """206 with one byte range (RFC 9110 §15.3.7.1) from an open ``GetObject`` answer that covers it.

    Raises:
        BadGateway: S3's answer does not cover ``byte_range`` (see :func:`service.bodies.window`).
    """
    headers = view.headers(result.meta)
    headers["content-range"] = content_range(byte_range.first, byte_range.last, result.meta.size)
    headers["content-length"] = str(byte_range.length)
    chunks = bodies.read_range(result, byte_range, view.settings.chunk_size, _resumption(store, view))
    return ObjectStreamResponse(chunks, 206, headers)


def _resumption(store: ObjectStore, view: View) -> bodies.Resumption:
    return bodies.Resumption(store, view.key, view.settings.resume_attempts)


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


async def _parts(
    store: ObjectStore, view: View, layout: multipart.Layout, pin: ReadParams
) -> AsyncGenerator[bytes, None]:
    for byte_range, part_header in layout.parts():
        yield part_header
        try:
            result = await store.get(view.key, **pin_range(pin, byte_range))
            chunks = bodies.read_range(result, byte_range, view.settings.chunk_size, _resumption(store, view))
            async with contextlib.aclosing(chunks):
                async for chunk in chunks:
                    yield chunk
        except ProxyError as exc:
            raise StreamBroken(f"a part of a multipart answer failed: {exc.reason}") from exc
    yield layout.closing
