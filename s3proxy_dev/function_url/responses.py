"""Turn what a runtime posted into the client's status, header fields and body.

Three shapes reach a Function URL (docs runtimes-custom.html#runtimes-custom-response-streaming,
docs urls-invocation.html, reference page §3):

- a stream with content type ``application/vnd.awslambda.http-integration-response``: a JSON
  prelude (``statusCode``, ``headers``, ``cookies``), eight NUL bytes, then the body;
- a stream with any other content type: status 200, that content type, the bytes as body;
- a buffered payload-2.0 result (``statusCode``, ``headers``, ``cookies``, ``body``,
  ``isBase64Encoded``) for a URL in BUFFERED mode.
"""

from __future__ import annotations

import base64
import binascii
import json
import re

from s3proxy_dev.function_url.outcome import ClientResponseHead, HeaderPairs

PRELUDE_CONTENT_TYPE = "application/vnd.awslambda.http-integration-response"
DELIMITER = b"\x00" * 8
MAX_PRELUDE_BYTES = 16 * 1024
"""Largest prelude accepted.  Only API Gateway documents a limit (16 KB, docs
response-transfer-mode-lambda.html); the same bound is used here so a runtime that never sends
the delimiter fails fast instead of buffering a whole body."""

# Framing and hop-by-hop fields belong to the Function URL's own connection.  AWS keeps the
# function's values under an ``x-amzn-Remapped-`` name: seen for content-length, connection and
# server (cargo-lambda issue #862, aws-lambda-web-adapter issue #491); the rest by the same rule.
REMAPPED = frozenset(
    {"connection", "content-length", "keep-alive", "server", "te", "trailer", "transfer-encoding", "upgrade"}
)
TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
FIELD_VALUE = re.compile(r"^[^\x00\r\n]*$")


class BadResponse(ValueError):
    """The runtime's response cannot be turned into an HTTP response; the message says why."""


class PreludeDecoder:
    """Split a streamed HTTP-integration response into its prelude and body, incrementally."""

    def __init__(self) -> None:
        self._pending = b""
        self.head: ClientResponseHead | None = None

    def feed(self, data: bytes) -> bytes:
        """Consume ``data``; return the body bytes it contained once the prelude is decoded.

        Sets :attr:`head` when the delimiter arrives.  Raises :class:`BadResponse` for a prelude
        that is not a JSON object or is larger than :data:`MAX_PRELUDE_BYTES`.
        """
        if self.head is not None:
            return data
        self._pending += data
        prelude, found, rest = self._pending.partition(DELIMITER)
        if not found:
            if len(self._pending) > MAX_PRELUDE_BYTES:
                raise BadResponse(f"no prelude delimiter in the first {MAX_PRELUDE_BYTES} bytes")
            return b""
        self.head = head_from_prelude(_json_object(prelude, "prelude"))
        self._pending = b""
        return rest

    def finish(self) -> None:
        """Check the stream did not end inside the prelude; raises :class:`BadResponse`."""
        if self.head is None:
            raise BadResponse("the stream ended before the prelude delimiter (8 NUL bytes)")


def head_from_prelude(prelude: dict[str, object]) -> ClientResponseHead:
    """Build the client's :class:`ClientResponseHead` from a prelude or payload-2.0 response object.

    ``statusCode`` defaults to 200; ``headers`` values are strings (numbers and booleans are
    written as JSON text); each ``cookies`` entry becomes one ``Set-Cookie``.
    Raises :class:`BadResponse` for wrong types or bytes not allowed in HTTP/1.1 fields.
    """
    status = prelude.get("statusCode", 200)
    if isinstance(status, bool) or not isinstance(status, int) or not 200 <= status <= 599:
        raise BadResponse(f"statusCode must be an integer from 200 to 599, got {status!r}")
    # A null field counts as absent; any other non-object/non-array is an error.
    headers = _prelude_headers(_present(prelude.get("headers"), {}))
    cookies = _present(prelude.get("cookies"), [])
    if not isinstance(cookies, list) or not all(isinstance(c, str) for c in cookies):
        raise BadResponse("cookies must be an array of strings")
    headers.extend(_checked_field("set-cookie", cookie) for cookie in cookies)
    return ClientResponseHead(status=status, headers=headers)


def _present(value: object, default: object) -> object:
    return default if value is None else value


def _prelude_headers(raw: object) -> HeaderPairs:
    if not isinstance(raw, dict):
        raise BadResponse("headers must be an object of strings")
    pairs: HeaderPairs = []
    for name, value in raw.items():
        if isinstance(value, dict | list) or value is None:
            raise BadResponse(f"header {name!r} must have a string value")
        text = value if isinstance(value, str) else json.dumps(value)
        lower = str(name).lower()
        pairs.append(_checked_field(f"x-amzn-Remapped-{name}" if lower in REMAPPED else name, text))
    return pairs


def _checked_field(name: str, value: str) -> tuple[str, str]:
    if not TOKEN.match(name) or not FIELD_VALUE.match(value):
        raise BadResponse(f"header {name!r} is not a valid HTTP/1.1 field")
    return name, value


def decode_buffered(payload: bytes) -> tuple[ClientResponseHead, bytes]:
    """Decode a BUFFERED-mode result into the client's head and body (docs urls-invocation.html).

    A JSON object with ``statusCode`` is a payload-2.0 response; any other valid JSON is sent
    as a 200 ``application/json`` body as it is.  Raises :class:`BadResponse` for invalid JSON,
    bad fields or a ``body`` that does not match ``isBase64Encoded``.
    """
    try:
        result = json.loads(payload)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadResponse(f"the function's result is not valid JSON ({exc})") from exc
    if not isinstance(result, dict) or "statusCode" not in result:
        return ClientResponseHead(200, [("content-type", "application/json")]), payload
    return head_from_prelude(result), _buffered_body(result)


def _buffered_body(result: dict[str, object]) -> bytes:
    body = result.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise BadResponse("body must be a string")
    if not result.get("isBase64Encoded"):
        return body.encode("utf-8")
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error as exc:
        raise BadResponse(f"body is flagged isBase64Encoded but is not base64 ({exc})") from exc


def _json_object(data: bytes, what: str) -> dict[str, object]:
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadResponse(f"the {what} is not valid JSON ({exc})") from exc
    if not isinstance(value, dict):
        raise BadResponse(f"the {what} must be a JSON object")
    return value
