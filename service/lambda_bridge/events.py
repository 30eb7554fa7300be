"""Map a Lambda HTTP integration event to an ASGI ``http`` scope and request body.

One mapping serves payload format 2.0 (Lambda Function URLs and API Gateway HTTP APIs share
it: Lambda docs "urls-invocation.html", API Gateway docs "http-api-develop-integrations-lambda.html");
a second serves the REST proxy / ALB format 1.0 (API Gateway docs
"set-up-lambda-proxy-integrations.html", ELB docs "lambda-functions.html").
Scope fields follow the ASGI HTTP connection scope, spec version 2.3.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlencode

from starlette.types import Scope

from service.lambda_bridge.errors import EventKind, MalformedEventError

Headers = list[tuple[bytes, bytes]]

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
"""An RFC 9110 §5.6.2 token, which every method is."""

# Characters that may stand literally in an encoded path (RFC 3986 pchar plus "/" and "%").
# Escaping everything else leaves a percent-encoded path byte-for-byte unchanged, and makes a
# path that arrived already decoded (reported for HTTP API rawPath) valid again.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"


@dataclass(frozen=True)
class HTTPRequest:
    """An event mapped to ASGI: ``scope`` (http scope, ``aws.event`` = the event), the request
    ``body`` in bytes, and the event ``kind`` that decides the buffered result shape."""

    scope: Scope
    body: bytes
    kind: EventKind


def parse_event(payload: bytes) -> HTTPRequest:
    """Map the JSON body of ``GET /runtime/invocation/next`` to an :class:`HTTPRequest`.

    Raises:
        MalformedEventError: not JSON, not an object, of no known HTTP shape, or a field has
            the wrong type or an invalid value (method, path, base64 body).
    """
    try:
        event = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise MalformedEventError("the event is not valid JSON") from None
    if not isinstance(event, dict):
        raise MalformedEventError("the event is not a JSON object")
    if event.get("version") == "2.0" and isinstance(event.get("requestContext"), dict):
        return _from_v2(event)
    if "httpMethod" in event:
        return _from_v1(event)
    raise MalformedEventError("not an HTTP event (expected payload format 2.0 or a REST proxy event)")


def _from_v2(event: dict[str, Any]) -> HTTPRequest:
    context = _object(event, "requestContext", "v2")
    http = _object(context, "http", "v2")
    headers = _single_value_headers(event, "v2")
    cookies = _string_list(event, "cookies")
    if cookies:
        # The cookies array is authoritative (a cookie header may or may not come along).
        headers = [item for item in headers if item[0] != b"cookie"]
        headers.append(_field("cookie", "; ".join(cookies), "v2"))
    scope = _http_scope(
        event,
        method=_method(_string(http, "method", "v2"), "v2"),
        raw_path=_path(_string(event, "rawPath", "v2"), "v2"),
        query_string=_optional_string(event, "rawQueryString", "v2").encode(),
        headers=headers,
        host=_optional_string(context, "domainName", "v2"),
        client_ip=_optional_string(http, "sourceIp", "v2"),
    )
    return HTTPRequest(scope, _body(event, "v2"), "v2")


def _from_v1(event: dict[str, Any]) -> HTTPRequest:
    context = event.get("requestContext") or {}
    if not isinstance(context, dict):
        raise MalformedEventError("requestContext is not an object", "v1")
    identity = context.get("identity") or {}
    headers = _multi_value_headers(event) if event.get("multiValueHeaders") else _single_value_headers(event, "v1")
    scope = _http_scope(
        event,
        method=_method(_string(event, "httpMethod", "v1"), "v1"),
        raw_path=_path(_string(event, "path", "v1"), "v1"),
        query_string=_v1_query_string(event, raw="elb" in context),
        headers=headers,
        host=_optional_string(context, "domainName", "v1"),
        client_ip=_v1_client_ip(identity, headers),
    )
    return HTTPRequest(scope, _body(event, "v1"), "v1")


def _v1_client_ip(identity: object, headers: Headers) -> str:
    """API Gateway names the caller in ``identity.sourceIp``; ALB only appends it as the last
    ``X-Forwarded-For`` entry (earlier entries come from the client and prove nothing)."""
    if isinstance(identity, dict) and isinstance(identity.get("sourceIp"), str):
        return str(identity["sourceIp"])
    forwarded = dict(headers).get(b"x-forwarded-for", b"").decode("latin-1")
    return forwarded.rpartition(",")[2].strip()


def _http_scope(
    event: dict[str, Any],
    *,
    method: str,
    raw_path: str,
    query_string: bytes,
    headers: Headers,
    host: str,
    client_ip: str,
) -> Scope:
    fields = dict(headers)
    scheme = fields.get(b"x-forwarded-proto", b"https").decode("latin-1")
    port = fields.get(b"x-forwarded-port", b"")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": scheme if scheme in ("http", "https") else "https",
        "path": unquote(raw_path),
        "raw_path": quote(raw_path, safe=_PATH_SAFE).encode("ascii"),
        "query_string": query_string,
        "root_path": "",
        "headers": headers,
        "server": (host or fields.get(b"host", b"").decode("latin-1"), int(port) if port.isdigit() else 443),
        "client": (client_ip, 0) if client_ip else None,
        "aws.event": event,
    }


def _single_value_headers(event: Mapping[str, Any], kind: EventKind) -> Headers:
    raw = event.get("headers") or {}
    if not isinstance(raw, dict) or not all(isinstance(value, str) for value in raw.values()):
        raise MalformedEventError("headers is not an object of strings", kind)
    return [_field(name, value, kind) for name, value in raw.items()]


def _field(name: str, value: str, kind: EventKind) -> tuple[bytes, bytes]:
    """One header field for the scope; CR, LF and NUL can never be part of one (RFC 9110 §5.5).

    Raises:
        MalformedEventError: the name or value holds CR, LF or NUL.
    """
    if any(char in name or char in value for char in "\r\n\0"):
        raise MalformedEventError(f"header {name[:40]!r} holds CR, LF or NUL", kind)
    return name.lower().encode(), value.encode()


def _multi_value_headers(event: Mapping[str, Any]) -> Headers:
    raw = event["multiValueHeaders"]
    if not isinstance(raw, dict):
        raise MalformedEventError("multiValueHeaders is not an object", "v1")
    headers: Headers = []
    for name, values in raw.items():
        if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
            raise MalformedEventError(f"multiValueHeaders[{name!r}] is not a list of strings", "v1")
        headers.extend(_field(name, value, "v1") for value in values)
    return headers


def _v1_query_string(event: Mapping[str, Any], *, raw: bool) -> bytes:
    """REST APIs hand over decoded parameters, so they are encoded again; ALB passes them
    through exactly as sent (ELB docs), so they are joined as they are."""
    params = event.get("multiValueQueryStringParameters") or event.get("queryStringParameters") or {}
    if not isinstance(params, dict):
        raise MalformedEventError("queryStringParameters is not an object", "v1")
    pairs: list[tuple[str, str]] = []
    for name, values in params.items():
        for value in values if isinstance(values, list) else [values]:
            if not isinstance(value, str):
                raise MalformedEventError(f"query parameter {name!r} is not a string", "v1")
            pairs.append((name, value))
    if raw:
        return "&".join(f"{name}={value}" for name, value in pairs).encode()
    return urlencode(pairs, quote_via=quote).encode()


def _body(event: Mapping[str, Any], kind: EventKind) -> bytes:
    body = event.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise MalformedEventError("body is not a string", kind)
    if not event.get("isBase64Encoded"):
        return body.encode()
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error:
        raise MalformedEventError("isBase64Encoded is true but body is not valid base64", kind) from None


def _method(value: str, kind: EventKind) -> str:
    if not _TOKEN.fullmatch(value):
        raise MalformedEventError(f"invalid HTTP method {value!r}", kind)
    return value.upper()


def _path(value: str, kind: EventKind) -> str:
    if not value.startswith("/"):
        raise MalformedEventError(f"the request path {value!r} does not start with '/'", kind)
    return value


def _object(mapping: Mapping[str, Any], name: str, kind: EventKind) -> dict[str, Any]:
    value = mapping.get(name)
    if not isinstance(value, dict):
        raise MalformedEventError(f"{name} is missing or not an object", kind)
    return value


def _string(mapping: Mapping[str, Any], name: str, kind: EventKind) -> str:
    value = mapping.get(name)
    if not isinstance(value, str):
        raise MalformedEventError(f"{name} is missing or not a string", kind)
    return value


def _optional_string(mapping: Mapping[str, Any], name: str, kind: EventKind) -> str:
    value = mapping.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedEventError(f"{name} is not a string", kind)
    return value


def _string_list(mapping: Mapping[str, Any], name: str) -> list[str]:
    value = mapping.get(name) or []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise MalformedEventError(f"{name} is not a list of strings")
    return value
