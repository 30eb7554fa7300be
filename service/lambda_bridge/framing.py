"""Bytes the bridge puts on the wire: response heads, the HTTP-integration prelude, error reports.

Pure functions only; no I/O.  Sources: Lambda custom runtime docs, "Response streaming"
(runtimes-custom.html#runtimes-custom-response-streaming); API Gateway docs,
"response-transfer-mode-lambda.html" for the prelude; RFC 9110 §5.3 for joining field lines.
"""

from __future__ import annotations

import base64
import json
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field

PRELUDE_CONTENT_TYPE = "application/vnd.awslambda.http-integration-response"
PRELUDE_DELIMITER = b"\x00" * 8
"""Eight NUL bytes end the JSON prelude; the payload bytes follow."""

ERROR_TYPE_TRAILER = b"Lambda-Runtime-Function-Error-Type"
ERROR_BODY_TRAILER = b"Lambda-Runtime-Function-Error-Body"

# Framing and hop-by-hop fields describe our connection to the Runtime API, not the
# representation, so none of these are forwarded as they are.  Content-Length is the one
# exception, kept apart in ResponseHead.length: see encode_prelude.
FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive", "trailer", "upgrade"})

NO_CONTENT_STATUSES = frozenset({204, 304})
"""Statuses whose responses never carry content (RFC 9110 §15.3.5, §15.4.5)."""


@dataclass(frozen=True)
class ResponseHead:
    """The status and fields of an ASGI ``http.response.start``, regrouped for Lambda.

    ``headers`` maps each field name (first spelling seen) to its values in order;
    ``cookies`` holds every ``Set-Cookie`` value; framing fields are dropped from
    ``headers``, but the app's ``Content-Length`` (the size of the body, or for HEAD of the
    body a GET would get, RFC 9110 §8.6) is kept as ``length``, a decimal string, for
    :func:`encode_prelude`.
    """

    status: int
    headers: dict[str, list[str]] = field(default_factory=dict)
    cookies: list[str] = field(default_factory=list)
    length: str | None = None

    @classmethod
    def from_asgi(cls, status: object, raw_headers: Iterable[tuple[bytes, bytes]]) -> ResponseHead:
        """Build from the ``status`` and ``headers`` of an ``http.response.start`` message.

        Names and values are decoded as Latin-1, as ASGI servers do.

        Raises:
            TypeError: ``status`` is not an integer from 100 to 599 (ASGI spec, HTTP 2.3).
        """
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            raise TypeError(f"ASGI http.response.start has an invalid status {status!r}")
        headers: dict[str, list[str]] = {}
        cookies: list[str] = []
        lengths: list[str] = []
        spellings: dict[str, str] = {}
        for raw_name, raw_value in raw_headers:
            name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
            lowered = name.lower()
            if lowered == "set-cookie":
                cookies.append(value)
            elif lowered == "content-length":
                lengths.append(value.strip())
            elif lowered not in FRAMING_HEADERS:
                headers.setdefault(spellings.setdefault(lowered, name), []).append(value)
        return cls(status, headers, cookies, _single_length(lengths))

    @property
    def joined_headers(self) -> dict[str, str]:
        """Single-valued fields: repeated values joined with ``", "`` (RFC 9110 §5.3)."""
        return {name: ", ".join(values) for name, values in self.headers.items()}

    def header(self, name: str) -> str | None:
        """The joined value of field ``name`` (any case), or ``None`` if absent."""
        lowered = name.lower()
        for key, values in self.headers.items():
            if key.lower() == lowered:
                return ", ".join(values)
        return None

    def has_content(self, method: str) -> bool:
        """Whether a body may follow: not for HEAD, 1xx, 204 or 304 (RFC 9110 §6.4.1)."""
        return method != "HEAD" and self.status >= 200 and self.status not in NO_CONTENT_STATUSES


def _single_length(values: list[str]) -> str | None:
    """The one ``Content-Length`` an app declared: all its values equal and all digits
    (RFC 9110 §8.6), else ``None`` (no size is better than a wrong one)."""
    distinct = set(values)
    if len(distinct) != 1:
        return None
    (value,) = distinct
    return value if value.isascii() and value.isdigit() else None


def encode_prelude(head: ResponseHead) -> bytes:
    """Return the JSON prelude ``{"statusCode","headers","cookies"}`` as compact UTF-8 bytes.

    The app's ``Content-Length`` goes in as ``content-length``: AWS documents nothing of it
    for a streamed response, and a Function URL is reported to hand it to the client renamed
    ``x-amzn-Remapped-content-length`` (cargo-lambda issue #862, from a deployed function),
    next to its own chunked framing.  So a client can read the size of a 200, of a 206 and of
    a HEAD's object from that field; the body's framing stays the platform's.

    JSON escaping guarantees the prelude holds no NUL byte, so the delimiter stays unique.
    """
    headers = head.joined_headers
    if head.length is not None:
        headers["content-length"] = head.length
    prelude = {"statusCode": head.status, "headers": headers, "cookies": head.cookies}
    return json.dumps(prelude, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class ErrorReport:
    """An error in the shape the Runtime API takes it (Lambda Runtime API docs, "runtimes-api.html").

    ``error_type`` is the ``Lambda-Runtime-Function-Error-Type`` value and must match
    ``(Runtime|Function).[A-Z][a-zA-Z]+`` or Lambda reports ``Runtime.Unknown``;
    ``name`` and ``message`` become ``errorType`` and ``errorMessage`` of the JSON body.
    """

    error_type: str
    name: str
    message: str
    stack_trace: tuple[str, ...] = ()

    @classmethod
    def from_exception(cls, error_type: str, exc: BaseException, *, with_trace: bool = False) -> ErrorReport:
        """Describe ``exc``; ``with_trace`` adds its formatted traceback lines (for init errors,
        which only reach the function's logs, never an HTTP client)."""
        trace = tuple(traceback.format_exception(exc)) if with_trace else ()
        return cls(error_type, type(exc).__name__, str(exc), trace)

    def to_json(self) -> bytes:
        """The JSON body ``{"errorType","errorMessage","stackTrace"}`` as UTF-8 bytes."""
        body = {"errorType": self.name, "errorMessage": self.message, "stackTrace": list(self.stack_trace)}
        return json.dumps(body, separators=(",", ":")).encode("utf-8")

    def trailers(self) -> list[tuple[bytes, bytes]]:
        """The two error trailers that end a failed stream: the type, then the standard
        base64 of :meth:`to_json` (custom runtime docs, "Response streaming")."""
        return [
            (ERROR_TYPE_TRAILER, self.error_type.encode("ascii")),
            (ERROR_BODY_TRAILER, base64.b64encode(self.to_json())),
        ]
