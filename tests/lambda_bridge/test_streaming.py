"""RESPONSE_STREAM mode end to end: a real runtime loop against the fake Runtime API on loopback."""

from __future__ import annotations

import base64
import json
import logging
import time
from typing import Any

import anyio
import pytest
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from service.errors import StreamBroken
from service.lambda_bridge.errors import RuntimeAPIError
from service.lambda_bridge.framing import PRELUDE_DELIMITER
from service.lambda_bridge.runtime_api import ResponseStream, RuntimeAPIClient
from tests.lambda_bridge.conftest import http_only, load_event, serving
from tests.lambda_bridge.fake_runtime_api import FakeRuntimeAPI, Recorded

pytestmark = pytest.mark.anyio

TERMINATOR = b"\r\n0\r\n\r\n"


def _event(method: str = "GET", **changes: Any) -> dict[str, Any]:
    event = load_event("function_url_get")
    event["requestContext"]["http"]["method"] = method
    event.update(changes)
    return event


async def _serve(app: ASGIApp, api: FakeRuntimeAPI, events: list[Any], **options: Any) -> list[Recorded]:
    for number, event in enumerate(events, start=1):
        api.enqueue(event, request_id=f"req-{number}", **options.pop(f"enqueue_{number}", {}))
    async with serving(http_only(app), api, **options):
        await api.wait_for(lambda: len(api.posts()) == len(events))
    return api.posts()


def _prelude(post: Recorded) -> dict[str, Any]:
    assert post.chunks[1] == PRELUDE_DELIMITER
    prelude: dict[str, Any] = json.loads(post.chunks[0])
    return prelude


def _error_trailers(post: Recorded) -> tuple[bytes, dict[str, Any]]:
    trailers = dict(post.trailers)
    body = json.loads(base64.b64decode(trailers[b"lambda-runtime-function-error-body"], validate=True))
    return trailers[b"lambda-runtime-function-error-type"], body


@pytest.mark.parametrize(
    ("method", "response", "status"),
    [
        pytest.param("HEAD", PlainTextResponse("not sent for HEAD"), 200, id="head"),
        pytest.param("GET", Response(status_code=304, headers={"etag": '"v1"'}), 304, id="not-modified"),
        pytest.param("GET", Response(status_code=412), 412, id="precondition-failed"),
        pytest.param("GET", Response(status_code=416, headers={"content-range": "bytes */10"}), 416, id="range"),
        pytest.param("GET", RedirectResponse("/elsewhere", status_code=302), 302, id="redirect"),
        pytest.param("GET", Response(status_code=204), 204, id="no-content"),
    ],
)
async def test_empty_body_ends_with_terminator(
    runtime_api: FakeRuntimeAPI, method: str, response: Response, status: int
) -> None:
    (post,) = await _serve(response, runtime_api, [_event(method)])
    assert _prelude(post)["statusCode"] == status
    assert len(post.chunks) == 2
    assert post.trailers == []
    assert post.raw.endswith(b"8\r\n" + PRELUDE_DELIMITER + TERMINATOR)


async def test_head_prelude_keeps_fields_and_the_size_of_the_get(runtime_api: FakeRuntimeAPI) -> None:
    (post,) = await _serve(PlainTextResponse("hello"), runtime_api, [_event("HEAD")])
    assert _prelude(post) == {
        "statusCode": 200,
        "headers": {"content-type": "text/plain; charset=utf-8", "content-length": "5"},
        "cookies": [],
    }
    assert len(post.chunks) == 2  # the prelude and the delimiter: no body


async def test_each_nonempty_body_message_is_one_chunk(runtime_api: FakeRuntimeAPI) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        for piece in (b"a", b"", b"bc"):
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    (post,) = await _serve(app, runtime_api, [_event()])
    assert post.chunks[2:] == [b"a", b"bc"]
    assert post.raw.endswith(b"2\r\nbc" + TERMINATOR)
    assert post.header(b"lambda-runtime-function-response-mode") == b"streaming"


async def test_exception_before_start_streams_a_500(runtime_api: FakeRuntimeAPI) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise LookupError("no such thing")

    (post,) = await _serve(app, runtime_api, [_event()])
    assert _prelude(post)["statusCode"] == 500
    assert post.chunks[2:] == [b"Internal Server Error\n"]
    assert post.trailers == []


async def test_app_returning_without_a_response_gets_a_500(runtime_api: FakeRuntimeAPI) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    (post,) = await _serve(app, runtime_api, [_event()])
    assert _prelude(post)["statusCode"] == 500


async def test_body_before_start_is_a_protocol_error_answered_with_500(runtime_api: FakeRuntimeAPI) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.body", "body": b"early"})

    (post,) = await _serve(app, runtime_api, [_event()])
    assert _prelude(post)["statusCode"] == 500
    assert b"early" not in post.body


async def test_unfinished_response_ends_with_error_trailers(runtime_api: FakeRuntimeAPI) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"half", "more_body": True})

    (post,) = await _serve(app, runtime_api, [_event()])
    assert post.chunks[2:] == [b"half"]
    error_type, body = _error_trailers(post)
    assert error_type == b"Function.StreamError"
    assert body["errorType"] == "IncompleteResponse"


def _logged_about(caplog: pytest.LogCaptureFixture, request_id: str) -> list[logging.LogRecord]:
    """The bridge's records that name invocation ``request_id``."""
    return [
        record
        for record in caplog.records
        if record.name == "service.lambda_bridge" and request_id in record.getMessage()
    ]


async def test_stream_broken_midway_is_one_log_line_without_traceback(
    runtime_api: FakeRuntimeAPI, caplog: pytest.LogCaptureFixture
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"half", "more_body": True})
        try:
            raise TimeoutError("Read timed out\non the S3 body")
        except TimeoutError as exc:
            raise StreamBroken("S3 body failed mid-stream: TimeoutError") from exc

    caplog.set_level(logging.DEBUG, logger="service.lambda_bridge")
    (post,) = await _serve(app, runtime_api, [_event()])
    assert post.chunks[2:] == [b"half"]
    error_type, body = _error_trailers(post)
    assert error_type == b"Function.StreamError"
    assert body == {
        "errorType": "StreamBroken",
        "errorMessage": "S3 body failed mid-stream: TimeoutError",
        "stackTrace": [],
    }
    (record,) = _logged_about(caplog, "req-1")
    assert record.levelno == logging.WARNING
    assert record.exc_info is None
    line = logging.Formatter().format(record)
    assert line == (
        "invocation req-1: the response body broke off: S3 body failed mid-stream: TimeoutError "
        "(caused by TimeoutError: Read timed out on the S3 body)"
    )
    assert [entry for entry in caplog.records if entry.levelno >= logging.WARNING] == [record]


async def test_unexpected_error_midway_is_logged_with_its_traceback(
    runtime_api: FakeRuntimeAPI, caplog: pytest.LogCaptureFixture
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"half", "more_body": True})
        raise LookupError("a bug in the app")

    (post,) = await _serve(app, runtime_api, [_event()])
    error_type, body = _error_trailers(post)
    assert error_type == b"Function.StreamError"
    assert body == {"errorType": "LookupError", "errorMessage": "a bug in the app", "stackTrace": []}
    (record,) = _logged_about(caplog, "req-1")
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None and record.exc_info[0] is LookupError
    formatted = logging.Formatter().format(record)
    assert "Traceback (most recent call last)" in formatted
    assert "LookupError: a bug in the app" in formatted


async def test_stream_broken_before_the_head_is_no_expected_outcome(
    runtime_api: FakeRuntimeAPI, caplog: pytest.LogCaptureFixture
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise StreamBroken("raised before any response")

    (post,) = await _serve(app, runtime_api, [_event()])
    assert _prelude(post)["statusCode"] == 500
    (record,) = _logged_about(caplog, "req-1")
    assert record.exc_info is not None and record.exc_info[0] is StreamBroken


async def test_receive_gives_body_then_disconnect_only_after_response(runtime_api: FakeRuntimeAPI) -> None:
    seen: list[object] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(await receive())

        async def wait_for_disconnect() -> None:
            seen.append(await receive())

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(wait_for_disconnect)
            await send({"type": "http.response.start", "status": 200})
            await send({"type": "http.response.body", "body": b"x", "more_body": True})
            await anyio.wait_all_tasks_blocked()
            seen.append("response still open")
            await send({"type": "http.response.body", "body": b""})

    await _serve(app, runtime_api, [load_event("function_url_post_base64")])
    assert seen == [
        {"type": "http.request", "body": bytes([0, 1, 2, 253, 254, 255]), "more_body": False},
        "response still open",
        {"type": "http.disconnect"},
    ]


async def _serve_with_deadline(app: ASGIApp, api: FakeRuntimeAPI, seconds: float, margin: float) -> Recorded:
    """Serve one invocation that has ``seconds`` to run, queued once the runtime polls; assert
    the response was complete before the deadline itself (Lambda would cut it off there)."""
    async with serving(http_only(app), api, deadline_margin=margin):
        await api.wait_for(lambda: "next" in api.timeline)
        deadline = time.time() + seconds
        api.enqueue(_event(), seconds=seconds)
        await api.wait_for(lambda: len(api.posts()) == 1)
        assert time.time() < deadline
    return api.posts()[0]


async def test_deadline_after_start_ends_with_deadline_trailers(runtime_api: FakeRuntimeAPI) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        await anyio.Event().wait()

    post = await _serve_with_deadline(app, runtime_api, seconds=2.0, margin=1.5)
    assert post.chunks[2:] == [b"partial"]
    error_type, body = _error_trailers(post)
    assert error_type == b"Function.DeadlineExceeded"
    assert body["errorType"] == "DeadlineExceeded"


async def test_deadline_before_start_streams_a_504(runtime_api: FakeRuntimeAPI) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await anyio.Event().wait()

    post = await _serve_with_deadline(app, runtime_api, seconds=1.0, margin=0.7)
    assert _prelude(post)["statusCode"] == 504
    assert post.chunks[2].startswith(b"Gateway Timeout")
    assert post.trailers == []


async def test_malformed_event_gets_400_and_the_next_is_served(runtime_api: FakeRuntimeAPI) -> None:
    first, second = await _serve(PlainTextResponse("fine"), runtime_api, [b"{not json", _event()])
    assert first.target.endswith("/invocation/req-1/response")
    assert _prelude(first)["statusCode"] == 400
    assert first.chunks[2] == b"Bad Request: the event is not valid JSON\n"
    assert second.target.endswith("/invocation/req-2/response")
    assert (_prelude(second)["statusCode"], second.chunks[2:]) == (200, [b"fine"])


async def test_trace_id_is_set_per_invocation(runtime_api: FakeRuntimeAPI) -> None:
    import os

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse(os.environ.get("_X_AMZN_TRACE_ID", "unset"))(scope, receive, send)

    trace = "Root=1-692ac2a2-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1"
    first, second = await _serve(app, runtime_api, [_event(), _event()], enqueue_1={"trace_id": trace})
    assert first.chunks[2:] == [trace.encode()]
    assert second.chunks[2:] == [b"unset"]


class _StreamsRefusedClient(RuntimeAPIClient):
    """Fault injection: streaming POSTs cannot connect, other calls work."""

    async def open_stream(self, request_id: str) -> ResponseStream:
        raise ConnectionRefusedError("streaming connection refused")


async def test_error_before_start_falls_back_to_invocation_error(runtime_api: FakeRuntimeAPI) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise LookupError("no such thing")

    (post,) = await _serve(app, runtime_api, [_event()], client_class=_StreamsRefusedClient)
    assert post.target == "/2018-06-01/runtime/invocation/req-1/error"
    assert post.header(b"lambda-runtime-function-error-type") == b"Function.StreamError"
    assert json.loads(post.body) == {"errorType": "LookupError", "errorMessage": "no such thing", "stackTrace": []}


async def test_runtime_api_500_stops_the_runtime(runtime_api: FakeRuntimeAPI) -> None:
    runtime_api.reply_status = 500
    runtime_api.enqueue(_event())
    async with serving(http_only(PlainTextResponse("x")), runtime_api) as task:
        with anyio.fail_after(10):
            assert await task == 1


async def test_runtime_api_refusal_is_logged_and_serving_continues(runtime_api: FakeRuntimeAPI) -> None:
    runtime_api.reply_status = 403
    posts = await _serve(PlainTextResponse("x"), runtime_api, [_event(), _event()])
    assert [post.target.rsplit("/", 2)[1] for post in posts] == ["req-1", "req-2"]


async def test_a_refused_delivery_is_logged_with_its_traceback(
    runtime_api: FakeRuntimeAPI, caplog: pytest.LogCaptureFixture
) -> None:
    runtime_api.reply_status = 403
    runtime_api.enqueue(_event())
    async with serving(http_only(PlainTextResponse("x")), runtime_api):
        # The runtime polls /next again only once the refusal is handled (and logged).
        await runtime_api.wait_for(lambda: runtime_api.timeline.count("next") == 2)
    (record,) = _logged_about(caplog, "req-1")
    assert "the Runtime API answered 403" in record.getMessage()
    assert record.exc_info is not None and record.exc_info[0] is RuntimeAPIError
