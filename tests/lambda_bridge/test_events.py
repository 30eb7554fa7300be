"""Event → ASGI scope mapping, asserted on whole scopes from realistic JSON fixtures."""

from __future__ import annotations

import base64
import json

import pytest
from starlette.types import Scope

from service.lambda_bridge.errors import MalformedEventError
from service.lambda_bridge.events import parse_event
from tests.lambda_bridge.conftest import load_event

ASGI = {"version": "3.0", "spec_version": "2.3"}


def _parse(event: dict[str, object]) -> tuple[Scope, bytes, str]:
    request = parse_event(json.dumps(event).encode())
    return request.scope, request.body, request.kind


def test_parse_event_function_url_get() -> None:
    event = load_event("function_url_get")
    scope, body, kind = _parse(event)
    assert scope == {
        "type": "http",
        "asgi": ASGI,
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        "path": "/videos/café tour.mp4",
        "raw_path": b"/videos/caf%C3%A9%20tour.mp4",
        "query_string": b"versionId=3HL4kqtJlcpXroDTDmJ%2BrmSpXd3dIbrHY&x=1&x=2",
        "root_path": "",
        "headers": [
            (b"host", b"abcdefghij1234567890.lambda-url.us-east-1.on.aws"),
            (b"range", b"bytes=0-1023"),
            (b"if-none-match", b'"9b2cf535f27731c974343645a3985328"'),
            (b"accept", b"*/*"),
            (b"user-agent", b"curl/8.5.0"),
            (b"x-amzn-tls-version", b"TLSv1.3"),
            (b"x-amzn-tls-cipher-suite", b"TLS_AES_128_GCM_SHA256"),
            (b"x-amzn-trace-id", b"Root=1-692ac2a2-0123456789abcdef01234567"),
            (b"x-forwarded-proto", b"https"),
            (b"x-forwarded-port", b"443"),
            (b"x-forwarded-for", b"198.51.100.7"),
            (b"cookie", b"session=abc123; theme=dark"),
        ],
        "server": ("abcdefghij1234567890.lambda-url.us-east-1.on.aws", 443),
        "client": ("198.51.100.7", 0),
        "aws.event": event,
    }
    assert body == b""
    assert kind == "v2"


def test_parse_event_function_url_post_base64_body() -> None:
    event = load_event("function_url_post_base64")
    scope, body, kind = _parse(event)
    assert scope == {
        "type": "http",
        "asgi": ASGI,
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": "/uploads/blob.bin",
        "raw_path": b"/uploads/blob.bin",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"abcdefghij1234567890.lambda-url.eu-west-1.on.aws"),
            (b"content-type", b"application/octet-stream"),
            (b"content-length", b"6"),
            (b"x-amzn-tls-version", b"TLSv1.3"),
            (b"x-forwarded-proto", b"https"),
            (b"x-forwarded-port", b"443"),
            (b"x-forwarded-for", b"203.0.113.44"),
            (b"x-amzn-trace-id", b"Root=1-692ac2a2-89abcdef0123456789abcdef"),
        ],
        "server": ("abcdefghij1234567890.lambda-url.eu-west-1.on.aws", 443),
        "client": ("203.0.113.44", 0),
        "aws.event": event,
    }
    assert body == bytes([0, 1, 2, 253, 254, 255])
    assert kind == "v2"


def test_parse_event_http_api_v2_shares_the_mapping() -> None:
    event = load_event("http_api_v2")
    scope, body, kind = _parse(event)
    assert scope == {
        "type": "http",
        "asgi": ASGI,
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        "path": "/reports/q3.csv",
        "raw_path": b"/reports/q3.csv",
        "query_string": b"download=1",
        "root_path": "",
        "headers": [
            (b"accept", b"text/csv"),
            (b"content-length", b"0"),
            (b"host", b"r3pmxmplak.execute-api.us-east-2.amazonaws.com"),
            (b"user-agent", b"Mozilla/5.0"),
            (b"x-amzn-trace-id", b"Root=1-692ac2a2-11112222333344445555aaaa"),
            (b"x-forwarded-for", b"192.0.2.10, 198.51.100.1"),
            (b"x-forwarded-port", b"443"),
            (b"x-forwarded-proto", b"https"),
            (b"cookie", b"lang=en"),
        ],
        "server": ("r3pmxmplak.execute-api.us-east-2.amazonaws.com", 443),
        "client": ("192.0.2.10", 0),
        "aws.event": event,
    }
    assert (body, kind) == (b"", "v2")


def test_parse_event_rest_v1_uses_multi_value_fields() -> None:
    event = load_event("rest_v1")
    scope, body, kind = _parse(event)
    assert scope == {
        "type": "http",
        "asgi": ASGI,
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        "path": "/reports/2026 Q3.pdf",
        "raw_path": b"/reports/2026%20Q3.pdf",
        "query_string": b"tag=x%20y&tag=c&q=a%20b%26c",
        "root_path": "",
        "headers": [
            (b"accept", b"application/pdf"),
            (b"accept", b"*/*;q=0.1"),
            (b"cookie", b"session=abc; theme=dark"),
            (b"host", b"1234567890.execute-api.us-east-1.amazonaws.com"),
            (b"user-agent", b"curl/8.5.0"),
            (b"x-amzn-trace-id", b"Root=1-692ac2a2-aaaabbbbccccddddeeeeffff"),
            (b"x-forwarded-for", b"198.51.100.23"),
            (b"x-forwarded-port", b"443"),
            (b"x-forwarded-proto", b"https"),
        ],
        "server": ("1234567890.execute-api.us-east-1.amazonaws.com", 443),
        "client": ("198.51.100.23", 0),
        "aws.event": event,
    }
    assert (body, kind) == (b"", "v1")


def test_parse_event_alb_keeps_query_as_sent() -> None:
    event = load_event("alb")
    scope, body, kind = _parse(event)
    assert scope == {
        "type": "http",
        "asgi": ASGI,
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/docs/readme.txt",
        "raw_path": b"/docs/readme.txt",
        "query_string": b"note=a%20b",
        "root_path": "",
        "headers": [
            (b"accept", b"text/plain"),
            (b"host", b"proxy-alb-123456789.us-east-1.elb.amazonaws.com"),
            (b"user-agent", b"curl/8.5.0"),
            (b"x-amzn-trace-id", b"Root=1-692ac2a2-abcdefabcdefabcdefabcdef"),
            (b"x-forwarded-for", b"203.0.113.9"),
            (b"x-forwarded-port", b"80"),
            (b"x-forwarded-proto", b"http"),
        ],
        "server": ("proxy-alb-123456789.us-east-1.elb.amazonaws.com", 80),
        "client": ("203.0.113.9", 0),
        "aws.event": event,
    }
    assert (body, kind) == (b"", "v1")


def test_parse_event_text_body_is_utf8_encoded() -> None:
    event = load_event("function_url_post_base64")
    event.update(body="héllo", isBase64Encoded=False)
    assert parse_event(json.dumps(event).encode()).body == "héllo".encode()


def test_parse_event_escapes_a_decoded_raw_path() -> None:
    # HTTP APIs are reported to hand over rawPath already decoded; raw_path must stay valid.
    event = load_event("http_api_v2")
    event["rawPath"] = "/a b/ü"
    scope, _, _ = _parse(event)
    assert (scope["path"], scope["raw_path"]) == ("/a b/ü", b"/a%20b/%C3%BC")


@pytest.mark.parametrize(
    ("change", "reason", "kind"),
    [
        pytest.param({"rawPath": 7}, "rawPath is missing or not a string", "v2", id="path-not-string"),
        pytest.param({"rawPath": "videos"}, "does not start with '/'", "v2", id="relative-path"),
        pytest.param({"body": "***", "isBase64Encoded": True}, "not valid base64", "v2", id="bad-base64"),
        pytest.param({"headers": {"a": 1}}, "headers is not an object of strings", "v2", id="header-not-string"),
        pytest.param({"cookies": "a=b"}, "cookies is not a list of strings", "v2", id="cookies-not-list"),
        pytest.param({"requestContext": {"http": {"method": "G T"}}}, "invalid HTTP method", "v2", id="bad-method"),
    ],
)
def test_parse_event_rejects_malformed_v2(change: dict[str, object], reason: str, kind: str) -> None:
    event = load_event("function_url_get")
    event.update(change)
    with pytest.raises(MalformedEventError) as caught:
        parse_event(json.dumps(event).encode())
    assert reason in caught.value.reason
    assert caught.value.kind == kind


def test_parse_event_rejects_malformed_v1_with_v1_kind() -> None:
    event = load_event("rest_v1")
    event["multiValueHeaders"] = {"Accept": "text/html"}
    with pytest.raises(MalformedEventError) as caught:
        parse_event(json.dumps(event).encode())
    assert caught.value.kind == "v1"
    assert "not a list of strings" in caught.value.reason


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        pytest.param(b"{not json", "not valid JSON", id="not-json"),
        pytest.param(b"[1, 2]", "not a JSON object", id="array"),
        pytest.param(b'{"key1": "value1"}', "not an HTTP event", id="console-test-event"),
        pytest.param(base64.b64encode(b"x"), "not valid JSON", id="garbage"),
    ],
)
def test_parse_event_rejects_non_http_payloads(payload: bytes, reason: str) -> None:
    with pytest.raises(MalformedEventError) as caught:
        parse_event(payload)
    assert reason in caught.value.reason
