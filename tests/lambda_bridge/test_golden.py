"""Our streaming POST, byte for byte against the bytes AWS's Node.js runtime client sends.

The expected bytes are the appendix of /work/shared/reference/lambda-streaming.md ("Bytes observed
from AWS's Node.js runtime client", aws-lambda-ric 4.0.2).  Only the Host line may differ.  In
the error case the trailer *names and order* must match; their values are ours by design
(``Function.StreamError`` and a ``stackTrace`` key, where Node sends the JS error name and ``trace``).
"""

from __future__ import annotations

import base64
import json
import re

import pytest
from starlette.types import Receive, Scope, Send

from tests.lambda_bridge.conftest import load_event, serving
from tests.lambda_bridge.fake_runtime_api import FakeRuntimeAPI

pytestmark = pytest.mark.anyio

APPENDIX_HEAD = (
    b"POST /2018-06-01/runtime/invocation/req-1/response HTTP/1.1\r\n"
    b"Lambda-Runtime-Function-Response-Mode: streaming\r\n"
    b"Trailer: Lambda-Runtime-Function-Error-Type\r\n"
    b"Trailer: Lambda-Runtime-Function-Error-Body\r\n"
    b"Content-Type: application/vnd.awslambda.http-integration-response\r\n"
    b"Transfer-Encoding: chunked\r\n"
    b"Host: 127.0.0.1:9555\r\n"
    b"Connection: keep-alive\r\n"
    b"\r\n"
)
APPENDIX_PRELUDE = (
    b'66\r\n{"statusCode":206,"headers":{"Content-Type":"application/pdf","X-Test":"a"},'
    b'"cookies":["a=b; Path=/"]}\r\n'
    b"8\r\n\x00\x00\x00\x00\x00\x00\x00\x00\r\n"
)
APPENDIX_SUCCESS = APPENDIX_HEAD + APPENDIX_PRELUDE + b"7\r\nHello, \r\n6\r\nworld!\r\n0\r\n\r\n"
APPENDIX_ERROR_BEFORE_TRAILERS = APPENDIX_HEAD + APPENDIX_PRELUDE + b"7\r\nHello, \r\n0\r\n"
APPENDIX_TRAILER_NAMES = [b"Lambda-Runtime-Function-Error-Type", b"Lambda-Runtime-Function-Error-Body"]

HOST_LINE = re.compile(rb"^Host: [^\r\n]*\r\n", re.MULTILINE)


def _without_host(raw: bytes) -> bytes:
    head, separator, body = raw.partition(b"\r\n\r\n")
    return HOST_LINE.sub(b"", head + b"\r\n", count=1)[:-2] + separator + body


async def _start(send: Send) -> None:
    headers = [(b"Content-Type", b"application/pdf"), (b"X-Test", b"a"), (b"Set-Cookie", b"a=b; Path=/")]
    await send({"type": "http.response.start", "status": 206, "headers": headers})


async def success_app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        raise RuntimeError("no lifespan")
    await _start(send)
    await send({"type": "http.response.body", "body": b"Hello, ", "more_body": True})
    await send({"type": "http.response.body", "body": b"world!"})


async def failing_app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        raise RuntimeError("no lifespan")
    await _start(send)
    await send({"type": "http.response.body", "body": b"Hello, ", "more_body": True})
    raise RuntimeError("boom midstream")


async def _record_post(app: object, runtime_api: FakeRuntimeAPI) -> bytes:
    runtime_api.enqueue(load_event("function_url_get"), request_id="req-1")
    async with serving(app, runtime_api):  # type: ignore[arg-type]
        await runtime_api.wait_for(lambda: len(runtime_api.posts()) == 1)
    return runtime_api.posts()[0].raw


async def test_streamed_success_matches_node_client_bytes(runtime_api: FakeRuntimeAPI) -> None:
    assert (
        len(b'{"statusCode":206,"headers":{"Content-Type":"application/pdf","X-Test":"a"},"cookies":["a=b; Path=/"]}')
        == 0x66
    )
    raw = await _record_post(success_app, runtime_api)
    assert _without_host(raw) == _without_host(APPENDIX_SUCCESS)
    assert f"Host: {runtime_api.address}\r\n".encode() in raw


async def test_streamed_error_after_first_write_matches_node_client_framing(runtime_api: FakeRuntimeAPI) -> None:
    raw = await _record_post(failing_app, runtime_api)
    stripped = _without_host(raw)
    prefix = _without_host(APPENDIX_ERROR_BEFORE_TRAILERS)
    assert stripped.startswith(prefix)
    trailer_section = stripped[len(prefix) :]
    assert trailer_section.endswith(b"\r\n\r\n")
    lines = [line.split(b": ", 1) for line in trailer_section[:-4].split(b"\r\n")]
    assert [name for name, _ in lines] == APPENDIX_TRAILER_NAMES
    values = dict(lines)
    assert values[b"Lambda-Runtime-Function-Error-Type"] == b"Function.StreamError"
    body = json.loads(base64.b64decode(values[b"Lambda-Runtime-Function-Error-Body"], validate=True))
    assert body == {"errorType": "RuntimeError", "errorMessage": "boom midstream", "stackTrace": []}
