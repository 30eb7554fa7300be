"""Build the Function URL request event (payload format 2.0) from a client's HTTP request.

Source: docs urls-invocation.html (request payload), the real Function URL sample in
aws-lambda-rust-runtime (lambda-http/tests/data/lambda_function_url_request.json), and the API
Gateway HTTP API payload 2.0 description that Function URLs share.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from s3proxy_dev.function_url.config import FunctionIdentity

JsonObject = dict[str, object]

# Function URLs pass text bodies as they are and base64-encode the rest.  AWS does not publish
# its list; these are the types API Gateway and Function URLs are seen treating as text.
TEXT_TYPES = (
    "application/json",
    "application/javascript",
    "application/xml",
    "application/x-www-form-urlencoded",
    "application/graphql",
)
TEXT_SUFFIXES = ("+json", "+xml")


@dataclass(frozen=True)
class ClientRequest:
    """One HTTP request as the Function URL received it.

    ``target`` is the request-target exactly as sent (bytes, not decoded); ``headers`` keeps
    the order and case the client used; ``body`` is the whole request content.
    """

    method: str
    target: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes
    source_ip: str


@dataclass(frozen=True)
class InvocationIds:
    """Per-request identifiers: the Lambda request id and the X-Ray trace header."""

    request_id: str
    trace_header: str


def build_event(request: ClientRequest, ids: InvocationIds, function: FunctionIdentity) -> JsonObject:
    """Return the payload-2.0 event for ``request`` as a JSON-ready dict.

    Header names are lower-cased and repeated headers joined with commas; cookies also appear
    as the ``cookies`` array; ``rawPath``/``rawQueryString`` are the request-target split at
    the first ``?`` without decoding; binary bodies are base64 with ``isBase64Encoded`` true.
    """
    raw_path, raw_query = split_target(request.target)
    headers = _joined_headers(request, ids.trace_header)
    now = time.time()
    event: JsonObject = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": _request_context(request, ids, function, now, headers),
        "isBase64Encoded": False,
    }
    cookies = _cookies(request.headers)
    if cookies:
        event["cookies"] = cookies
    query = _query_parameters(raw_query)
    if query:
        event["queryStringParameters"] = query
    if request.body:
        add_body(event, request.body, headers.get("content-type", ""))
    return event


def split_target(target: bytes) -> tuple[str, str]:
    """Split a request-target into (raw path, raw query without ``?``), both undecoded.

    An absolute-form target (``http://host/p?q``, RFC 9112 §3.2.2) is reduced to its path.
    """
    text = target.decode("latin-1")
    if not text.startswith("/"):
        parts = urlsplit(text)
        text = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    path, _, query = text.partition("?")
    return path, query


def _joined_headers(request: ClientRequest, trace_header: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    for raw_name, raw_value in request.headers:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    # The Function URL front end adds these; the values describe the local listener.
    forwarded = headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = f"{forwarded}, {request.source_ip}" if forwarded else request.source_ip
    headers.setdefault("x-forwarded-proto", "http")
    headers["x-amzn-trace-id"] = trace_header
    return headers


def _cookies(pairs: Iterable[tuple[bytes, bytes]]) -> list[str]:
    cookies: list[str] = []
    for name, value in pairs:
        if name.lower() == b"cookie":
            text = value.decode("latin-1")
            cookies.extend(part.strip() for part in text.split(";") if part.strip())
    return cookies


def _query_parameters(raw_query: str) -> dict[str, str]:
    # Repeated keys are comma-joined, as AWS does (lossy; apps should parse rawQueryString).
    params: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        params[key] = f"{params[key]},{value}" if key in params else value
    return params


def _request_context(
    request: ClientRequest,
    ids: InvocationIds,
    function: FunctionIdentity,
    now: float,
    headers: dict[str, str],
) -> JsonObject:
    raw_path, _ = split_target(request.target)
    return {
        "accountId": "anonymous",
        "apiId": function.url_id,
        "domainName": function.domain_name,
        "domainPrefix": function.url_id,
        "http": {
            "method": request.method,
            "path": raw_path,
            "protocol": "HTTP/1.1",
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": ids.request_id,
        "routeKey": "$default",
        "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "timeEpoch": int(now * 1000),
    }


def add_body(event: JsonObject, body: bytes, content_type: str) -> None:
    """Put ``body`` in ``event``: text types as UTF-8 text, anything else base64 with
    ``isBase64Encoded`` true."""
    if _is_text_type(content_type):
        try:
            event["body"] = body.decode("utf-8")
            return
        except UnicodeDecodeError:
            pass
    event["body"] = base64.b64encode(body).decode("ascii")
    event["isBase64Encoded"] = True


def _is_text_type(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type.startswith("text/") or media_type in TEXT_TYPES or media_type.endswith(TEXT_SUFFIXES)
