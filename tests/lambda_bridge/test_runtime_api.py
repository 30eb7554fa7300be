"""The Runtime API client: addresses, invocation headers, and the requests it sends."""

from __future__ import annotations

import json

import pytest

from service.lambda_bridge.errors import RuntimeAPIError
from service.lambda_bridge.framing import ErrorReport
from service.lambda_bridge.http1 import Reply
from service.lambda_bridge.runtime_api import NextInvocation, RuntimeAddress, RuntimeAPIClient
from tests.lambda_bridge.fake_runtime_api import FakeRuntimeAPI

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("value", "host", "port", "host_header"),
    [
        ("127.0.0.1:9001", "127.0.0.1", 9001, b"127.0.0.1:9001"),
        ("localhost:80", "localhost", 80, b"localhost:80"),
        ("[::1]:9001", "::1", 9001, b"[::1]:9001"),
    ],
)
def test_runtime_address_parse(value: str, host: str, port: int, host_header: bytes) -> None:
    address = RuntimeAddress.parse(value)
    assert (address.host, address.port, address.host_header) == (host, port, host_header)


@pytest.mark.parametrize("value", ["", "9001", ":9001", "host:", "host:0", "host:x1"])
def test_runtime_address_parse_rejects(value: str) -> None:
    with pytest.raises(ValueError, match="AWS_LAMBDA_RUNTIME_API must be host:port"):
        RuntimeAddress.parse(value)


def test_invocation_from_reply_reads_headers() -> None:
    reply = Reply(
        200,
        [
            (b"lambda-runtime-aws-request-id", b"8476a536-e9f4-11e8-9739-2dfe598c3fcd"),
            (b"lambda-runtime-deadline-ms", b"1542409706888"),
            (b"lambda-runtime-invoked-function-arn", b"arn:aws:lambda:us-east-2:123456789012:function:custom"),
            (b"lambda-runtime-trace-id", b"Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Sampled=1"),
        ],
        b"{}",
    )
    assert NextInvocation.from_reply(reply) == NextInvocation(
        request_id="8476a536-e9f4-11e8-9739-2dfe598c3fcd",
        deadline_ms=1542409706888,
        function_arn="arn:aws:lambda:us-east-2:123456789012:function:custom",
        trace_id="Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Sampled=1",
        event=b"{}",
    )


def test_invocation_without_deadline_or_trace() -> None:
    invocation = NextInvocation.from_reply(Reply(200, [(b"lambda-runtime-aws-request-id", b"r")], b"{}"))
    assert (invocation.deadline_ms, invocation.trace_id, invocation.function_arn) == (None, None, None)


@pytest.mark.parametrize(
    ("reply", "status"),
    [
        pytest.param(Reply(200, [], b"{}"), 200, id="no-request-id"),
        pytest.param(Reply(500, [], b'{"errorType":"ServiceError"}'), 500, id="server-error"),
    ],
)
def test_invocation_from_bad_reply(reply: Reply, status: int) -> None:
    with pytest.raises(RuntimeAPIError) as caught:
        NextInvocation.from_reply(reply)
    assert caught.value.status == status
    assert caught.value.fatal is (status == 500)


async def test_next_invocation_long_polls_get(runtime_api: FakeRuntimeAPI) -> None:
    client = RuntimeAPIClient(RuntimeAddress.parse(runtime_api.address))
    runtime_api.enqueue({"hello": "world"}, request_id="abc", trace_id="Root=1-x")
    invocation = await client.next_invocation()
    assert (invocation.request_id, invocation.trace_id) == ("abc", "Root=1-x")
    assert json.loads(invocation.event) == {"hello": "world"}
    (request,) = runtime_api.requests
    assert (request.method, request.target) == ("GET", "/2018-06-01/runtime/invocation/next")
    assert request.header(b"host") == runtime_api.address.encode()


async def test_post_init_error_sends_type_header_and_json(runtime_api: FakeRuntimeAPI) -> None:
    client = RuntimeAPIClient(RuntimeAddress.parse(runtime_api.address))
    await client.post_init_error(ErrorReport("Runtime.InvalidConfiguration", "ConfigError", "bad"))
    (request,) = runtime_api.requests
    assert (request.method, request.target) == ("POST", "/2018-06-01/runtime/init/error")
    assert request.header(b"lambda-runtime-function-error-type") == b"Runtime.InvalidConfiguration"
    assert request.header(b"content-type") == b"application/json"
    assert json.loads(request.body) == {"errorType": "ConfigError", "errorMessage": "bad", "stackTrace": []}


async def test_post_response_raises_on_refusal(runtime_api: FakeRuntimeAPI) -> None:
    client = RuntimeAPIClient(RuntimeAddress.parse(runtime_api.address))
    runtime_api.reply_status = 413
    with pytest.raises(RuntimeAPIError) as caught:
        await client.post_response("req/1", b'{"statusCode":200}')
    assert caught.value.status == 413
    assert runtime_api.requests[0].target == "/2018-06-01/runtime/invocation/req%2F1/response"
