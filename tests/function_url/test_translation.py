"""Request event building and response decoding, checked against the documented formats."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from s3proxy_dev.function_url.config import FunctionIdentity, PlatformLimits
from s3proxy_dev.function_url.event import ClientRequest, InvocationIds, build_event, split_target
from s3proxy_dev.function_url.limits import ResponseMeter, ResponseTooLarge
from s3proxy_dev.function_url.outcome import ClientResponseHead
from s3proxy_dev.function_url.responses import (
    DELIMITER,
    MAX_PRELUDE_BYTES,
    BadResponse,
    PreludeDecoder,
    decode_buffered,
    head_from_prelude,
)
from s3proxy_dev.function_url.runtime_api import normalise_error_type

IDS = InvocationIds("req-1", "Root=1-00000000-000000000000000000000000")
FUNCTION = FunctionIdentity(url_id="abc123", region="eu-west-1")


def _event(target: bytes, headers: list[tuple[bytes, bytes]], body: bytes = b"", method: str = "GET") -> dict:  # type: ignore[type-arg]
    return build_event(ClientRequest(method, target, headers, body, "127.0.0.9"), IDS, FUNCTION)


def test_event_keeps_raw_path_and_query_and_joins_repeated_headers() -> None:
    event = _event(b"/a%2Fb/c?x=1&x=2&e=", [(b"X-Dup", b"1"), (b"x-dup", b"2"), (b"Host", b"h")])
    assert (event["rawPath"], event["rawQueryString"]) == ("/a%2Fb/c", "x=1&x=2&e=")
    assert event["queryStringParameters"] == {"x": "1,2", "e": ""}
    assert event["headers"]["x-dup"] == "1,2"
    assert event["headers"]["host"] == "h"
    assert event["headers"]["x-forwarded-for"] == "127.0.0.9"
    context = event["requestContext"]
    assert context["http"]["path"] == "/a%2Fb/c"
    assert context["domainName"] == "abc123.lambda-url.eu-west-1.on.aws"
    assert context["requestId"] == "req-1"
    assert "cookies" not in event and "body" not in event


def test_event_without_query_has_empty_raw_query_and_no_parameters() -> None:
    event = _event(b"/only", [])
    assert event["rawQueryString"] == ""
    assert "queryStringParameters" not in event


def test_cookies_from_every_cookie_header_become_the_cookies_array() -> None:
    event = _event(b"/", [(b"Cookie", b"a=1; b=2"), (b"Cookie", b"c=3")])
    assert event["cookies"] == ["a=1", "b=2", "c=3"]


def test_text_bodies_stay_text_and_binary_bodies_are_base64() -> None:
    text = _event(b"/", [(b"Content-Type", b"application/json")], b'{"a":1}', "POST")
    binary = _event(b"/", [(b"Content-Type", b"image/png")], b"\x89PNG", "POST")
    bad_utf8 = _event(b"/", [(b"Content-Type", b"text/plain")], b"\xff\xfe", "POST")
    assert (text["body"], text["isBase64Encoded"]) == ('{"a":1}', False)
    assert (base64.b64decode(binary["body"]), binary["isBase64Encoded"]) == (b"\x89PNG", True)
    assert bad_utf8["isBase64Encoded"] is True


def test_absolute_form_targets_reduce_to_their_path() -> None:
    assert split_target(b"http://example.test/x%20y?z=1") == ("/x%20y", "z=1")


@given(
    prelude=st.fixed_dictionaries({"statusCode": st.integers(200, 599)}),
    body=st.binary(max_size=300),
    cuts=st.lists(st.integers(0, 400), max_size=6),
)
def test_prelude_decoding_does_not_depend_on_chunking(prelude: dict[str, int], body: bytes, cuts: list[int]) -> None:
    stream = json.dumps(prelude).encode() + DELIMITER + body
    points = sorted({min(cut, len(stream)) for cut in cuts})
    pieces = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    decoder = PreludeDecoder()
    received = b"".join(decoder.feed(piece) for piece in pieces)
    decoder.finish()
    assert decoder.head == ClientResponseHead(prelude["statusCode"], [])
    assert received == body


def test_prelude_without_delimiter_is_refused() -> None:
    decoder = PreludeDecoder()
    decoder.feed(b'{"statusCode": 200}')
    with pytest.raises(BadResponse):
        decoder.finish()
    with pytest.raises(BadResponse):
        PreludeDecoder().feed(b" " * (MAX_PRELUDE_BYTES + 1))


def test_prelude_headers_cookies_and_remapped_framing_fields() -> None:
    head = head_from_prelude(
        {"statusCode": 206, "headers": {"Content-Length": "5", "X-N": 3}, "cookies": ["a=b; Path=/", "c=d"]}
    )
    assert head.status == 206
    assert head.headers == [
        ("x-amzn-Remapped-Content-Length", "5"),
        ("X-N", "3"),
        ("set-cookie", "a=b; Path=/"),
        ("set-cookie", "c=d"),
    ]


@pytest.mark.parametrize(
    "prelude",
    [{"statusCode": "200"}, {"statusCode": 99}, {"headers": []}, {"cookies": "a=b"}, {"headers": {"X": "a\r\nb"}}],
)
def test_malformed_preludes_are_refused(prelude: dict[str, object]) -> None:
    with pytest.raises(BadResponse):
        head_from_prelude(prelude)


def test_buffered_payload_v2_result_is_decoded() -> None:
    result = {"statusCode": 201, "headers": {"content-type": "image/gif"}, "body": "R0lG", "isBase64Encoded": True}
    head, body = decode_buffered(json.dumps(result).encode())
    assert head == ClientResponseHead(201, [("content-type", "image/gif")])
    assert body == b"GIF"


def test_buffered_result_without_status_code_is_a_json_body() -> None:
    head, body = decode_buffered(b'["x", 1]')
    assert head == ClientResponseHead(200, [("content-type", "application/json")])
    assert body == b'["x", 1]'


@pytest.mark.parametrize("payload", [b"not json", b'{"statusCode": 200, "body": "%%", "isBase64Encoded": true}'])
def test_invalid_buffered_results_are_refused(payload: bytes) -> None:
    with pytest.raises(BadResponse):
        decode_buffered(payload)


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("Runtime.ImportModuleError", "Runtime.ImportModuleError"),
        ("Function.StreamError", "Function.StreamError"),
        ("Function.", "Function.Unknown"),
        ("Error", "Runtime.Unknown"),
        (None, "Runtime.Unknown"),
    ],
)
def test_error_types_are_normalised_as_rapid_does(raw: str | None, normalised: str) -> None:
    assert normalise_error_type(raw) == normalised


@pytest.mark.anyio
async def test_meter_refuses_bytes_past_the_size_limit() -> None:
    meter = ResponseMeter(PlatformLimits(max_buffered_bytes=10), streamed=False)
    await meter.admit(10)
    with pytest.raises(ResponseTooLarge):
        await meter.admit(1)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
