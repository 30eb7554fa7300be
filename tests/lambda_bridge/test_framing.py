"""Response heads, the JSON prelude and error reports, byte for byte."""

from __future__ import annotations

import base64
import json

import pytest

from service.lambda_bridge.framing import ErrorReport, ResponseHead, encode_prelude


def test_response_head_joins_duplicates_and_moves_cookies() -> None:
    head = ResponseHead.from_asgi(
        200,
        [
            (b"Cache-Control", b"no-cache"),
            (b"set-cookie", b"a=1; Path=/"),
            (b"cache-control", b"no-store"),
            (b"Set-Cookie", b"b=2; Secure"),
            (b"ETag", b'"abc"'),
        ],
    )
    assert head.headers == {"Cache-Control": ["no-cache", "no-store"], "ETag": ['"abc"']}
    assert head.joined_headers == {"Cache-Control": "no-cache, no-store", "ETag": '"abc"'}
    assert head.cookies == ["a=1; Path=/", "b=2; Secure"]
    assert head.header("etag") == '"abc"'
    assert head.header("content-type") is None


def test_response_head_drops_framing_and_hop_by_hop_fields() -> None:
    names = [b"Content-Length", b"transfer-encoding", b"Connection", b"keep-alive", b"Trailer", b"Upgrade"]
    head = ResponseHead.from_asgi(200, [(name, b"x") for name in names] + [(b"content-type", b"text/plain")])
    assert head.headers == {"content-type": ["text/plain"]}
    assert head.length is None  # "x" is no size


@pytest.mark.parametrize(
    ("values", "length"),
    [
        pytest.param([b"12989840"], "12989840", id="one"),
        pytest.param([b"0"], "0", id="zero"),
        pytest.param([b" 42 "], "42", id="spaces-trimmed"),
        pytest.param([b"7", b"7"], "7", id="repeated-equal"),
        pytest.param([b"7", b"8"], None, id="conflicting"),
        pytest.param([b"-1"], None, id="negative"),
        pytest.param([b"\xd9\xa3"], None, id="non-ascii-digit"),
        pytest.param([], None, id="absent"),
    ],
)
def test_response_head_keeps_one_valid_content_length_apart(values: list[bytes], length: str | None) -> None:
    head = ResponseHead.from_asgi(200, [(b"Content-Length", value) for value in values])
    assert head.length == length
    assert head.headers == {}
    prelude = json.loads(encode_prelude(head))
    assert prelude["headers"] == ({} if length is None else {"content-length": length})


@pytest.mark.parametrize("status", [99, 600, "200", None, True])
def test_response_head_rejects_invalid_status(status: object) -> None:
    with pytest.raises(TypeError, match="invalid status"):
        ResponseHead.from_asgi(status, [])


@pytest.mark.parametrize(
    ("method", "status", "expected"),
    [("GET", 200, True), ("HEAD", 200, False), ("GET", 204, False), ("GET", 304, False), ("GET", 416, True)],
)
def test_response_head_has_content(method: str, status: int, expected: bool) -> None:
    assert ResponseHead(status).has_content(method) is expected


def test_encode_prelude_is_compact_json_without_nul() -> None:
    head = ResponseHead(206, {"Content-Type": ["application/pdf"], "X-Test": ["a"]}, ["a=b; Path=/"])
    prelude = encode_prelude(head)
    assert prelude == (
        b'{"statusCode":206,"headers":{"Content-Type":"application/pdf","X-Test":"a"},"cookies":["a=b; Path=/"]}'
    )
    hostile = encode_prelude(ResponseHead(200, {"x": ["\x00é"]}))
    assert b"\x00" not in hostile
    assert json.loads(hostile)["headers"]["x"] == "\x00é"


def test_error_report_trailers_carry_standard_base64_json() -> None:
    report = ErrorReport.from_exception("Function.StreamError", ValueError("bad ?>> bytes"))
    (type_name, type_value), (body_name, body_value) = report.trailers()
    assert (type_name, type_value) == (b"Lambda-Runtime-Function-Error-Type", b"Function.StreamError")
    assert body_name == b"Lambda-Runtime-Function-Error-Body"
    decoded = json.loads(base64.b64decode(body_value, validate=True))
    assert decoded == {"errorType": "ValueError", "errorMessage": "bad ?>> bytes", "stackTrace": []}


def test_error_report_with_trace_lists_traceback_lines() -> None:
    try:
        raise ImportError("no module named 'service.app'")
    except ImportError as exc:
        report = ErrorReport.from_exception("Runtime.ImportModuleError", exc, with_trace=True)
    body = json.loads(report.to_json())
    assert body["errorType"] == "ImportError"
    assert body["stackTrace"][0].startswith("Traceback")
    assert "test_error_report_with_trace_lists_traceback_lines" in "".join(body["stackTrace"])
