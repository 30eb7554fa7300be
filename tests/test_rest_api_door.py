"""The Lambda runtime behind an API Gateway REST API in streaming mode, as the local Function URL
presents it with ``event_format="rest"``: REST proxy events (payload 1.0), the same streamed
prelude back (API Gateway docs, response-transfer-mode-lambda.html)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import httpx
import pytest

from s3proxy_dev.function_url.config import FunctionIdentity
from s3proxy_dev.function_url.event import ClientRequest, InvocationIds
from s3proxy_dev.function_url.rest_event import build_rest_event
from service.lambda_bridge.events import parse_event
from service.settings import Settings
from tests.support.http import assert_declared_length
from tests.support.relay import Relay
from tests.support.servers import serve_function_url

KEY = "notes/Größe und Maße.txt"
PATH = "/notes/Gr%C3%B6%C3%9Fe%20und%20Ma%C3%9Fe.txt"


def _request(target: bytes, headers: list[tuple[bytes, bytes]], body: bytes = b"") -> ClientRequest:
    return ClientRequest("GET", target, headers, body, "203.0.113.9")


def test_the_rest_event_has_the_proxy_integration_fields() -> None:
    request = _request(
        PATH.encode() + b"?download=a.txt&x=1&x=2",
        [(b"Host", b"h"), (b"Accept", b"text/plain"), (b"accept", b"*/*"), (b"X-Forwarded-For", b"198.51.100.1")],
    )
    event = build_rest_event(request, InvocationIds("req-1", "Root=1-a-b"), FunctionIdentity(), "live")
    assert event["resource"] == "/{proxy+}"
    assert event["path"] == PATH
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"proxy": PATH[1:]}
    assert event["queryStringParameters"] == {"download": "a.txt", "x": "2"}
    assert event["multiValueQueryStringParameters"] == {"download": ["a.txt"], "x": ["1", "2"]}
    multi = event["multiValueHeaders"]
    assert isinstance(multi, dict)
    assert multi["Accept"] == ["text/plain"]
    assert multi["accept"] == ["*/*"]
    assert multi["X-Forwarded-For"] == ["198.51.100.1, 203.0.113.9"]
    assert multi["X-Amzn-Trace-Id"] == ["Root=1-a-b"]
    context = event["requestContext"]
    assert isinstance(context, dict)
    assert context["path"] == f"/live{PATH}"
    assert context["stage"] == "live"
    assert context["requestId"] == "req-1"
    assert context["identity"] == {"sourceIp": "203.0.113.9", "userAgent": ""}
    assert event["body"] is None
    assert event["isBase64Encoded"] is False


def test_the_runtime_maps_the_rest_event_to_the_same_request() -> None:
    request = _request(PATH.encode() + b"?download", [(b"Range", b"bytes=0-9")])
    event = build_rest_event(request, InvocationIds("req-2", "Root=1-a-b"), FunctionIdentity(), "live")
    mapped = parse_event(json.dumps(event).encode())
    assert mapped.kind == "v1"
    assert mapped.scope["method"] == "GET"
    assert mapped.scope["raw_path"] == PATH.encode()
    assert mapped.scope["query_string"] == b"download="
    assert (b"range", b"bytes=0-9") in mapped.scope["headers"]


@pytest.fixture
def rest_door(s3: object, bucket: str, relay: Relay) -> Iterator[str]:
    settings = Settings(bucket=bucket, endpoint_url=relay.url, region="us-east-1")
    with serve_function_url(settings, event_format="rest") as url:
        yield url


def test_objects_stream_through_the_rest_door(rest_door: str, s3: object, bucket: str) -> None:
    data = os.urandom(3 * 1024 * 1024 + 7)
    s3.put_object(Bucket=bucket, Key=KEY, Body=data, ContentType="text/plain")  # type: ignore[attr-defined]
    whole = httpx.get(f"{rest_door}{PATH}", timeout=30)
    assert whole.status_code == 200
    assert whole.content == data
    assert_declared_length(whole, "function-url", len(data))
    part = httpx.get(f"{rest_door}{PATH}", headers={"Range": "bytes=100-199"}, timeout=30)
    assert part.status_code == 206
    assert part.content == data[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"
    head = httpx.head(f"{rest_door}{PATH}?download=n.txt", timeout=30)
    assert head.status_code == 200
    assert head.headers["content-disposition"].startswith('attachment; filename="n.txt"')
    assert_declared_length(head, "function-url", len(data))
    missing = httpx.get(f"{rest_door}/no/such/key", timeout=30)
    assert missing.status_code == 404
    assert missing.headers["x-request-id"] == missing.headers["x-amzn-requestid"]
