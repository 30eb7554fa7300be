"""BUFFERED mode: one JSON result per invocation, in the shape of the event's integration."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import pytest
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from service.errors import StreamBroken
from service.lambda_bridge.buffered import BUFFERED_RESPONSE_LIMIT, TOO_LARGE_TEXT, encoded_size_floor
from tests.lambda_bridge.conftest import http_only, load_event, serving
from tests.lambda_bridge.fake_runtime_api import FakeRuntimeAPI

pytestmark = pytest.mark.anyio

CHUNK = 64 * 1024


async def _result(app: ASGIApp, api: FakeRuntimeAPI, event: Any) -> dict[str, Any]:
    api.enqueue(event)
    async with serving(http_only(app), api, invoke_mode="BUFFERED"):
        await api.wait_for(lambda: len(api.posts()) == 1)
    (post,) = api.posts()
    assert post.target == "/2018-06-01/runtime/invocation/req-1/response"
    assert post.header(b"content-type") == b"application/json"
    assert post.header(b"lambda-runtime-function-response-mode") is None
    result: dict[str, Any] = json.loads(post.body)
    return result


async def _cookie_app(scope: Scope, receive: Receive, send: Send) -> None:
    headers = [
        (b"content-type", b"text/csv; charset=utf-8"),
        (b"vary", b"accept"),
        (b"Vary", b"origin"),
        (b"set-cookie", b"a=1"),
        (b"set-cookie", b"b=2"),
        (b"content-length", b"9"),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"x,y\n", "more_body": True})
    await send({"type": "http.response.body", "body": "é,1\n".encode()})


async def test_payload_v2_result(runtime_api: FakeRuntimeAPI) -> None:
    result = await _result(_cookie_app, runtime_api, load_event("function_url_get"))
    assert result == {
        "statusCode": 200,
        "headers": {"content-type": "text/csv; charset=utf-8", "vary": "accept, origin"},
        "cookies": ["a=1", "b=2"],
        "body": "x,y\né,1\n",
        "isBase64Encoded": False,
    }


async def test_rest_v1_result_uses_multi_value_headers(runtime_api: FakeRuntimeAPI) -> None:
    result = await _result(_cookie_app, runtime_api, load_event("rest_v1"))
    assert result == {
        "statusCode": 200,
        "multiValueHeaders": {
            "content-type": ["text/csv; charset=utf-8"],
            "vary": ["accept", "origin"],
            "set-cookie": ["a=1", "b=2"],
        },
        "body": "x,y\né,1\n",
        "isBase64Encoded": False,
    }


async def test_alb_result_mirrors_single_value_headers(runtime_api: FakeRuntimeAPI) -> None:
    result = await _result(PlainTextResponse("ok", status_code=202), runtime_api, load_event("alb"))
    assert result == {
        "statusCode": 202,
        "statusDescription": "202 Accepted",
        "headers": {"content-type": "text/plain; charset=utf-8"},
        "body": "ok",
        "isBase64Encoded": False,
    }


async def test_binary_body_is_base64(runtime_api: FakeRuntimeAPI) -> None:
    payload = bytes(range(256))
    app = Response(payload, media_type="application/pdf")
    result = await _result(app, runtime_api, load_event("function_url_get"))
    assert result["isBase64Encoded"] is True
    assert base64.b64decode(result["body"]) == payload


async def test_compressed_text_is_base64(runtime_api: FakeRuntimeAPI) -> None:
    app = Response(b"\x1f\x8b\x08\x00", media_type="text/plain", headers={"content-encoding": "gzip"})
    result = await _result(app, runtime_api, load_event("function_url_get"))
    assert (result["body"], result["isBase64Encoded"]) == ("H4sIAA==", True)


async def test_head_result_has_no_body(runtime_api: FakeRuntimeAPI) -> None:
    event = load_event("function_url_get")
    event["requestContext"]["http"]["method"] = "HEAD"
    result = await _result(PlainTextResponse("not for HEAD"), runtime_api, event)
    assert (result["statusCode"], result["body"], result["isBase64Encoded"]) == (200, "", False)


async def test_failure_after_start_becomes_500_not_a_short_body(runtime_api: FakeRuntimeAPI) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise OSError("upstream reset")

    result = await _result(app, runtime_api, load_event("function_url_get"))
    assert result["statusCode"] == 500
    assert result["body"] == "Internal Server Error\n"


async def test_malformed_v1_event_gets_v1_shaped_400(runtime_api: FakeRuntimeAPI) -> None:
    event = load_event("rest_v1")
    event["path"] = "no-slash"
    result = await _result(PlainTextResponse("unused"), runtime_api, event)
    assert result == {
        "statusCode": 400,
        "multiValueHeaders": {"content-type": ["text/plain; charset=utf-8"]},
        "body": "Bad Request: the request path 'no-slash' does not start with '/'\n",
        "isBase64Encoded": False,
    }


async def test_oversize_body_is_413_and_the_app_is_stopped_early(
    runtime_api: FakeRuntimeAPI, caplog: pytest.LogCaptureFixture
) -> None:
    sent: list[int] = []
    total_chunks = 2 * BUFFERED_RESPONSE_LIMIT // CHUNK

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"video/mp4")]})
        for _ in range(total_chunks):
            await send({"type": "http.response.body", "body": b"\xff" * CHUNK, "more_body": True})
            sent.append(CHUNK)
        await send({"type": "http.response.body", "body": b""})

    result = await _result(app, runtime_api, load_event("function_url_get"))
    assert result == {
        "statusCode": 413,
        "headers": {"content-type": "text/plain; charset=utf-8"},
        "cookies": [],
        "body": TOO_LARGE_TEXT,
        "isBase64Encoded": False,
    }
    # base64 makes 4 of 3 bytes: collection stops once 3/4 of the limit has been produced.
    assert sum(sent) <= BUFFERED_RESPONSE_LIMIT * 3 // 4
    assert "RESPONSE_STREAM" in TOO_LARGE_TEXT
    assert "before completing" not in caplog.text  # stopping the app on purpose is no app error


async def test_stream_broken_midway_is_a_500_and_one_log_line(
    runtime_api: FakeRuntimeAPI, caplog: pytest.LogCaptureFixture
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"half", "more_body": True})
        raise StreamBroken("the S3 body ended before the byte range did")

    result = await _result(app, runtime_api, load_event("function_url_get"))
    assert (result["statusCode"], result["body"]) == (500, "Internal Server Error\n")
    (record,) = [entry for entry in caplog.records if entry.levelno >= logging.WARNING]
    assert record.exc_info is None
    assert record.getMessage() == (
        "invocation req-1: the response body broke off: the S3 body ended before the byte range did"
    )


async def test_text_just_under_the_limit_is_sent(runtime_api: FakeRuntimeAPI) -> None:
    body = b"a" * (BUFFERED_RESPONSE_LIMIT - 200)
    result = await _result(PlainTextResponse(body), runtime_api, load_event("function_url_get"))
    assert (result["statusCode"], len(result["body"])) == (200, len(body))


async def test_escaped_text_over_the_limit_is_413(runtime_api: FakeRuntimeAPI) -> None:
    # Each quote becomes \" in JSON, so this body only overflows once serialised.
    body = b'"' * (BUFFERED_RESPONSE_LIMIT // 2 + 1)
    result = await _result(PlainTextResponse(body), runtime_api, load_event("function_url_get"))
    assert result["statusCode"] == 413


@pytest.mark.parametrize(("size", "text", "floor"), [(3, False, 4), (4, False, 8), (0, False, 0), (5, True, 5)])
def test_encoded_size_floor(size: int, text: bool, floor: int) -> None:
    assert encoded_size_floor(size, text=text) == floor
