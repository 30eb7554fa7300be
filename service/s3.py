"""S3 access: ``GetObject`` / ``HeadObject`` with every failure translated to a :mod:`service.errors` type.

botocore reports S3's answers as exceptions (including 304 and 412) and connection
trouble as a zoo of exception classes; this module is the one place that knows them.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal, TypedDict, Unpack

import aiohttp
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    NoCredentialsError,
    ReadTimeoutError,
)

from service.errors import (
    BadGateway,
    BadRequest,
    Forbidden,
    GatewayTimeout,
    NotFound,
    NotModified,
    PreconditionFailed,
    ProxyError,
    RangeNotSatisfiable,
    ServiceUnavailable,
    StreamBroken,
)
from service.http.ranges import ContentRange, parse_content_range
from service.requestfacts import note_s3_answer, note_s3_error
from service.tracing import Tracing

if TYPE_CHECKING:
    from aiobotocore.response import StreamingBody
    from types_aiobotocore_s3 import S3Client
    from types_aiobotocore_s3.type_defs import GetObjectOutputTypeDef, HeadObjectOutputTypeDef

S3ErrorKind = Literal[
    "not_found",
    "forbidden",
    "throttled",
    "timeout",
    "unreachable",
    "no_credentials",
    "server_error",
    "bad_key",
    "body_broken",
]
"""How an S3 call or body failed, as the request's facts and the metrics name it (:func:`error_kind`)."""


class ReadParams(TypedDict, total=False):
    """The optional ``GetObject`` parameters the proxy sends, as boto names them (S3 API reference).

    Attributes:
        Range: one byte range, ``bytes=first-last``, ``bytes=first-`` or ``bytes=-suffix``.
        IfMatch: one strong entity-tag with its quotes; S3 answers 412 unless it matches.
        IfNoneMatch: one strong entity-tag with its quotes; S3 answers 304 if it matches.
        IfModifiedSince: an aware datetime; S3 answers 304 unless modified after it.
        IfUnmodifiedSince: an aware datetime; S3 answers 412 if modified after it.
    """

    Range: str
    IfMatch: str
    IfNoneMatch: str
    IfModifiedSince: datetime
    IfUnmodifiedSince: datetime


class ResponseOverrides(TypedDict, total=False):
    """Headers S3 is asked to send in place of the stored ones, on a signed ``GetObject``
    (S3 API reference, GetObject: "Overriding response header values through the request").

    Attributes:
        ResponseContentType: sent as ``Content-Type``.
        ResponseContentDisposition: sent as ``Content-Disposition``.
        ResponseCacheControl: sent as ``Cache-Control``.
    """

    ResponseContentType: str
    ResponseContentDisposition: str
    ResponseCacheControl: str


@dataclass(frozen=True)
class ObjectMeta:
    """An object's representation metadata, as S3 sent it.

    Attributes:
        size: size of the whole object in bytes (also for ranged answers).
        headers: S3's response headers, names lower-cased, values verbatim
            (``etag`` keeps its quotes, ``last-modified`` its IMF-fixdate text).
        content_range: S3's ``Content-Range``, parsed once; None when it sent none or
            one that is not a ``bytes`` range (the body then holds the whole object).
    """

    size: int
    headers: Mapping[str, str]
    content_range: ContentRange | None = None

    @property
    def etag(self) -> str | None:
        """The entity tag with its quotes, e.g. ``'"9b2cf535f27731c974343645a3985328"'``."""
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        """The ``Last-Modified`` HTTP-date exactly as S3 sent it."""
        return self.headers.get("last-modified")

    @property
    def version_id(self) -> str | None:
        """The S3 version id, when the bucket is versioned."""
        return self.headers.get("x-amz-version-id")


class ObjectBody:
    """An open S3 body: read it in chunks, then close it (closing early drops its connection).

    Closing before the end closes the underlying HTTP connection rather than returning it
    to the pool with unread bytes, so nothing keeps downloading once the client is gone.
    """

    def __init__(self, stream: StreamingBody) -> None:
        self._stream = stream

    async def chunks(self, size: int) -> AsyncIterator[bytes]:
        """Yield the body as it arrives, in chunks of at most ``size`` bytes.

        Each chunk is what the connection has buffered, up to ``size``: when S3 sends faster
        than the client takes, chunks are large and few (each costs a fixed amount of work
        on the way out), and no more of S3's body is held than aiohttp's own flow control
        lets in. Not ``StreamingBody.read(size)``: aiohttp raises a stream's buffer limit to
        twice the largest ``read(n)`` asked (``StreamReader.set_read_chunk_size``), so with
        a large ``size`` every stream would buffer that much more.

        Raises:
            StreamBroken: S3 failed, timed out or ended short mid-body (aiohttp checks the
                body against its ``Content-Length``).
        """
        content = self._stream.content
        # A wait asks for no more than the buffer's low-water mark, which leaves the limit as it is.
        wait_for = min(size, content.get_read_buffer_limits()[0])
        while True:
            try:
                data = content.read_nowait(size) or await content.read(wait_for)
            except (BotoCoreError, aiohttp.ClientError, TimeoutError, OSError) as exc:
                note_s3_error("body_broken")
                raise StreamBroken(f"S3 body failed mid-stream: {type(exc).__name__}") from exc
            if not data:
                return
            yield data

    def close(self) -> None:
        """Close the body and release (drop) its connection at once. Safe to call twice."""
        self._stream.close()


@dataclass(frozen=True)
class GetResult:
    """The answer to ``GetObject``: metadata plus an open body the caller must close."""

    meta: ObjectMeta
    body: ObjectBody


@dataclass(frozen=True)
class Refusals:
    """How S3's refusals are answered (see :func:`translate`).

    Attributes:
        forbidden_as_not_found: answer 404 where S3 answers 403, so that a client cannot
            tell a denied key from a missing one.
        retry_after: the ``Retry-After`` of the 503 sent while S3 throttles (seconds).
    """

    forbidden_as_not_found: bool
    retry_after: int


class ObjectStore:
    """Reads objects of ``bucket`` through one shared aiobotocore S3 client.

    ``refusals`` says how S3's refusals are answered. ``signer`` presigns URLs (see
    :meth:`presigned_get`); it defaults to ``client``, and is another client when clients
    must reach S3 at another endpoint than the proxy does. ``tracing`` sees every call
    (:meth:`service.tracing.Tracing.s3_call`: a span each when OpenTelemetry is on).
    """

    def __init__(
        self,
        client: S3Client,
        bucket: str,
        refusals: Refusals,
        signer: S3Client | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        self._client = client
        self._signer = signer or client
        self._bucket = bucket
        self._refusals = refusals
        self._tracing = tracing or Tracing()

    async def presigned_get(self, key: str, expires: int, version_id: str | None, overrides: ResponseOverrides) -> str:
        """A URL that lets its holder ``GetObject`` ``key`` for ``expires`` seconds (SigV4 query
        signing, S3 user guide "Sharing objects with presigned URLs"), with the ``overrides``.

        ``version_id`` pins the URL to one version of a versioned bucket. Signing is local:
        no request goes to S3. The URL dies earlier if the signing credentials are
        temporary and expire first.
        """
        params: dict[str, object] = {"Bucket": self._bucket, "Key": key, **overrides}
        if version_id:
            params["VersionId"] = version_id
        return await self._signer.generate_presigned_url("get_object", Params=params, ExpiresIn=expires)

    async def head(self, key: str) -> ObjectMeta:
        """``HeadObject`` (S3 API reference): the object's metadata, no body.

        Raises:
            ProxyError: a subclass matching S3's answer (see :func:`translate`).
        """
        with self._tracing.s3_call("HeadObject", self._bucket, key) as call, self._translated():
            answer = await self._client.head_object(Bucket=self._bucket, Key=key)
            call.answered(answer["ResponseMetadata"])
        return _meta(answer)

    async def get(self, key: str, **params: Unpack[ReadParams]) -> GetResult:
        """``GetObject`` (S3 API reference) with ``params`` such as ``Range`` or ``IfMatch``.

        Raises:
            ProxyError: a subclass matching S3's answer (see :func:`translate`).
        """
        with self._tracing.s3_call("GetObject", self._bucket, key) as call, self._translated():
            answer = await self._client.get_object(Bucket=self._bucket, Key=key, **params)
            call.answered(answer["ResponseMetadata"])
        return GetResult(_meta(answer), ObjectBody(answer["Body"]))

    @contextlib.contextmanager
    def _translated(self) -> Iterator[None]:
        """Translate the failures of the S3 call in the block; time it when S3 answers.

        The time from issuing the call to S3's answer headers (botocore returns once they
        are in; the body is still unread) goes to the request's facts
        (:func:`service.requestfacts.note_s3_answer`): for a success, and for an error S3
        itself answered (``ClientError``: 404, 304, ...), not for a call S3 never answered.
        A failure's kind (:func:`error_kind`) goes there too (:func:`~service.requestfacts.note_s3_error`).
        """
        issued = time.perf_counter()
        try:
            yield
        except Exception as exc:
            if isinstance(exc, ClientError):
                note_s3_answer(time.perf_counter() - issued)
            error = translate(exc, self._refusals)
            if error is None:
                raise
            kind = error_kind(exc, error)
            if kind is not None:
                note_s3_error(kind)
            raise error from exc
        note_s3_answer(time.perf_counter() - issued)


def translate(exc: BaseException, refusals: Refusals) -> ProxyError | None:
    """Map a botocore/aiohttp exception to the proxy's answer, or ``None`` if it is not S3's.

    NoSuchKey/404 → 404; AccessDenied/403 → 403 (404 with ``forbidden_as_not_found``);
    SlowDown/503 → 503 with ``Retry-After``; 304/412/416 → themselves; other S3 5xx,
    unknown S3 4xx, connection failures and missing credentials → 502; timeouts → 504.
    """
    if isinstance(exc, ClientError):
        return _client_error(exc, refusals)
    if isinstance(exc, (ReadTimeoutError, ConnectTimeoutError, TimeoutError)):
        return GatewayTimeout("S3 did not answer in time")
    if isinstance(exc, NoCredentialsError):
        return BadGateway("the proxy has no AWS credentials for S3")
    if isinstance(exc, (BotoCoreError, aiohttp.ClientError, OSError)):
        return BadGateway("S3 could not be reached")
    return None


_KINDS: dict[type[ProxyError], S3ErrorKind] = {
    NotFound: "not_found",
    Forbidden: "forbidden",
    ServiceUnavailable: "throttled",
    GatewayTimeout: "timeout",
    BadRequest: "bad_key",
}


def error_kind(exc: BaseException, error: ProxyError) -> S3ErrorKind | None:
    """The kind of S3 failure ``exc`` is, given its translation ``error`` (:func:`translate`).

    None for S3's answers to the request's own conditions and ranges (304, 412, 416): they
    are answers, not failures. A 403 is ``forbidden`` even when it is answered as a 404
    (``forbidden_as_not_found``); a ``BadGateway`` is ``server_error`` when S3 answered
    (5xx, an unknown 4xx), ``no_credentials`` without credentials, else ``unreachable``.
    """
    if isinstance(error, (NotModified, PreconditionFailed, RangeNotSatisfiable)):
        return None
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status == 403 or str(exc.response.get("Error", {}).get("Code", "")) in _FORBIDDEN:
            return "forbidden"
    kind = _KINDS.get(type(error))
    if kind is not None:
        return kind
    if isinstance(exc, ClientError):
        return "server_error"
    return "no_credentials" if isinstance(exc, NoCredentialsError) else "unreachable"


_NOT_FOUND = frozenset({"NoSuchKey", "NotFound", "404"})
_FORBIDDEN = frozenset({"AccessDenied", "Forbidden", "403", "AllAccessDisabled"})
_THROTTLED = frozenset({"SlowDown", "503", "ServiceUnavailable", "Throttling", "RequestLimitExceeded"})
_BAD_KEY = frozenset({"KeyTooLongError", "InvalidObjectName"})


def _client_error(exc: ClientError, refusals: Refusals) -> ProxyError:
    code = str(exc.response.get("Error", {}).get("Code", ""))
    metadata = exc.response.get("ResponseMetadata", {})
    status = int(metadata.get("HTTPStatusCode", 0) or 0)
    headers = {k.lower(): v for k, v in metadata.get("HTTPHeaders", {}).items()}
    if code in _NOT_FOUND or (status == 404 and code != "NoSuchBucket"):
        return NotFound("no object at this key")
    if code in _FORBIDDEN or status == 403:
        if refusals.forbidden_as_not_found:
            return NotFound("no object at this key")
        return Forbidden("access to this key is denied")
    if code in _THROTTLED or status == 503:
        return ServiceUnavailable(
            "S3 is throttling requests; retry later",
            {"Retry-After": str(refusals.retry_after)},
        )
    return _conditional_or_other(code, status, headers)


def _conditional_or_other(code: str, status: int, headers: Mapping[str, str]) -> ProxyError:
    if status == 304 or code in {"304", "NotModified"}:
        return NotModified("not modified", _validators(headers))
    if status == 412 or code in {"412", "PreconditionFailed"}:
        return PreconditionFailed("a precondition failed")
    if status == 416 or code in {"416", "InvalidRange"}:
        return RangeNotSatisfiable("the range is not satisfiable")
    if code in _BAD_KEY:
        return BadRequest("S3 rejected the object key")
    return BadGateway("S3 failed to answer")


def _validators(headers: Mapping[str, str]) -> dict[str, str]:
    return {name: headers[name] for name in ("etag", "last-modified") if name in headers}


def _meta(answer: GetObjectOutputTypeDef | HeadObjectOutputTypeDef) -> ObjectMeta:
    headers = {k.lower(): v for k, v in answer["ResponseMetadata"]["HTTPHeaders"].items()}
    served = parse_content_range(headers["content-range"]) if "content-range" in headers else None
    size = served.complete_length if served else None
    if size is None:
        size = int(answer.get("ContentLength", 0))
    return ObjectMeta(size=size, headers=headers, content_range=served)
