"""The Runtime API answers as RAPID does; here the test itself plays the runtime with httpx.

The emulator's child is an idle process, so only the test talks to the Runtime API.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import h11
import httpx
import pytest

from s3proxy_dev.function_url import EmulatorConfig, FunctionUrlEmulator
from s3proxy_dev.function_url.environment import State
from tests.function_url.client import Observed, fetch
from tests.oracles.cases import OracleRequest

pytestmark = pytest.mark.anyio

IDLE_RUNTIME = (sys.executable, "-c", "import time; time.sleep(600)")
TIMEOUT = 7.0


@asynccontextmanager
async def runtime_api(**overrides: object) -> AsyncIterator[tuple[FunctionUrlEmulator, httpx.AsyncClient]]:
    """An emulator with an idle child; yields it and an httpx client on its Runtime API."""
    fields: dict[str, object] = {"port": 0, "timeout": TIMEOUT, "limits": None, "command": IDLE_RUNTIME}
    fields.update(overrides)
    async with FunctionUrlEmulator(EmulatorConfig(**fields)) as emulator:  # type: ignore[arg-type]
        base = f"http://{emulator.runtime_api_addresses[0]}/2018-06-01/runtime"
        async with httpx.AsyncClient(base_url=base, timeout=20) as runtime:
            yield emulator, runtime


def _invoke(emulator: FunctionUrlEmulator, request: OracleRequest | None = None) -> asyncio.Task[Observed]:
    return asyncio.create_task(fetch(emulator.url, request or OracleRequest(target="/p/a%2Fb?q=1")))


async def test_next_delivers_the_event_with_invocation_headers() -> None:
    async with runtime_api() as (emulator, runtime):
        client = _invoke(emulator)
        before = time.time()
        nxt = await runtime.get("/invocation/next")
        request_id = nxt.headers["lambda-runtime-aws-request-id"]
        done = await runtime.post(
            f"/invocation/{request_id}/response", content=b"plain", headers={"content-type": "text/plain"}
        )
        observed = await client
    deadline = int(nxt.headers["lambda-runtime-deadline-ms"]) / 1000
    assert before + TIMEOUT - 1 <= deadline <= time.time() + TIMEOUT
    assert nxt.headers["lambda-runtime-invoked-function-arn"] == emulator.config.function.arn
    assert nxt.headers["lambda-runtime-trace-id"].startswith("Root=1-")
    assert nxt.headers["content-type"] == "application/json"
    event = nxt.json()
    assert (event["version"], event["rawPath"], event["rawQueryString"]) == ("2.0", "/p/a%2Fb", "q=1")
    assert event["requestContext"]["requestId"] == request_id
    assert event["requestContext"]["http"]["sourceIp"] == "127.0.0.1"
    assert event["requestContext"]["domainName"] == emulator.config.function.domain_name
    assert abs(event["requestContext"]["timeEpoch"] / 1000 - before) < 5
    assert (done.status_code, done.json()) == (202, {"status": "OK"})
    # A buffered result on a RESPONSE_STREAM URL passes through with the runtime's content type.
    assert (observed.status, observed.value("content-type"), observed.body) == (200, "text/plain", b"plain")
    assert observed.value("x-amzn-requestid") == request_id


async def test_repeated_next_redelivers_the_running_invocation() -> None:
    async with runtime_api() as (emulator, runtime):
        client = _invoke(emulator)
        first = await runtime.get("/invocation/next")
        again = await runtime.get("/invocation/next")
        request_id = first.headers["lambda-runtime-aws-request-id"]
        await runtime.post(f"/invocation/{request_id}/response", content=b"{}")
        await client
    assert again.headers["lambda-runtime-aws-request-id"] == request_id
    assert again.content == first.content


async def test_bad_response_mode_is_400_and_the_client_gets_502() -> None:
    async with runtime_api() as (emulator, runtime):
        client = _invoke(emulator)
        request_id = (await runtime.get("/invocation/next")).headers["lambda-runtime-aws-request-id"]
        reply = await runtime.post(
            f"/invocation/{request_id}/response",
            content=b"x",
            headers={"lambda-runtime-function-response-mode": "buffered"},
        )
        observed = await client
    assert (reply.status_code, reply.json()["errorType"]) == (400, "InvalidFunctionResponseMode")
    assert (observed.status, observed.body) == (502, b"Internal Server Error")


async def test_second_response_for_the_same_id_is_403() -> None:
    async with runtime_api() as (emulator, runtime):
        client = _invoke(emulator)
        request_id = (await runtime.get("/invocation/next")).headers["lambda-runtime-aws-request-id"]
        first = await runtime.post(f"/invocation/{request_id}/response", content=b'"one"')
        second = await runtime.post(f"/invocation/{request_id}/response", content=b'"two"')
        error = await runtime.post(f"/invocation/{request_id}/error", content=b"{}")
        observed = await client
    assert first.status_code == 202
    assert (second.status_code, second.json()["errorType"]) == (403, "InvalidStateTransition")
    assert error.status_code == 403
    assert observed.body == b'"one"'


async def test_response_without_an_invocation_is_403_and_a_wrong_id_is_400() -> None:
    async with runtime_api() as (emulator, runtime):
        early = await runtime.post("/invocation/nobody/response", content=b"{}")
        client = _invoke(emulator)
        request_id = (await runtime.get("/invocation/next")).headers["lambda-runtime-aws-request-id"]
        wrong = await runtime.post("/invocation/not-the-id/response", content=b"{}")
        right = await runtime.post(f"/invocation/{request_id}/response", content=b"{}")
        await client
    assert (early.status_code, early.json()["errorType"]) == (403, "InvalidStateTransition")
    assert (wrong.status_code, wrong.json()["errorType"]) == (400, "InvalidRequestID")
    assert right.status_code == 202


async def test_error_gives_502_and_the_error_type_is_normalised(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="s3proxy_dev.function_url")
    async with runtime_api() as (emulator, runtime):
        client = _invoke(emulator)
        request_id = (await runtime.get("/invocation/next")).headers["lambda-runtime-aws-request-id"]
        body = json.dumps({"errorMessage": "it broke", "errorType": "ValueError", "stackTrace": []})
        reply = await runtime.post(
            f"/invocation/{request_id}/error",
            content=body,
            headers={"lambda-runtime-function-error-type": "ValueError"},
        )
        observed = await client
    assert reply.status_code == 202
    assert (observed.status, observed.body) == (502, b"Internal Server Error")
    assert "Runtime.Unknown: it broke" in caplog.text


async def test_init_error_is_accepted_once() -> None:
    async with runtime_api() as (_, runtime):
        headers = {"lambda-runtime-function-error-type": "Runtime.ImportModuleError"}
        first = await runtime.post("/init/error", content=b'{"errorMessage": "no module"}', headers=headers)
        second = await runtime.post("/init/error", content=b"{}", headers=headers)
    assert first.status_code == 202
    assert second.status_code == 403


async def test_unknown_paths_and_methods_are_refused() -> None:
    async with runtime_api() as (_, runtime):
        missing = await runtime.get("/invocation/abc/nothing")
        wrong_method = await runtime.post("/invocation/next")
    assert missing.status_code == 404
    assert wrong_method.status_code == 405


async def test_queued_requests_wait_for_the_runtime_one_at_a_time() -> None:
    async with runtime_api() as (emulator, runtime):
        clients = [_invoke(emulator, OracleRequest(target=f"/n/{index}")) for index in range(3)]
        paths = []
        for _ in clients:
            nxt = await runtime.get("/invocation/next")
            paths.append(nxt.json()["rawPath"])
            request_id = nxt.headers["lambda-runtime-aws-request-id"]
            await runtime.post(f"/invocation/{request_id}/response", content=json.dumps(paths[-1]))
        bodies = sorted([(await client).body for client in clients])
    assert sorted(paths) == ["/n/0", "/n/1", "/n/2"]
    assert bodies == [b'"/n/0"', b'"/n/1"', b'"/n/2"']


async def _post_stream(address: str, request_id: str, parts: list[bytes], trailers: list[tuple[str, str]]) -> int:
    """POST a streaming response with h11 (httpx cannot send trailers); return the status."""
    host, port = address.split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    conn = h11.Connection(h11.CLIENT)
    head = h11.Request(
        method="POST",
        target=f"/2018-06-01/runtime/invocation/{request_id}/response",
        headers=[
            ("Host", address),
            ("Lambda-Runtime-Function-Response-Mode", "streaming"),
            ("Content-Type", "application/vnd.awslambda.http-integration-response"),
            ("Transfer-Encoding", "chunked"),
            ("Trailer", "Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body"),
        ],
    )
    data = conn.send(head) + b"".join(conn.send(h11.Data(data=part)) for part in parts)
    writer.write(data + conn.send(h11.EndOfMessage(headers=trailers)))
    await writer.drain()
    while not isinstance(event := conn.next_event(), h11.Response):
        conn.receive_data(await reader.read(4096))
    writer.close()
    return event.status_code


async def test_streamed_prelude_and_error_trailers_reach_the_client() -> None:
    prelude = json.dumps({"statusCode": 207, "headers": {"X-Name": "café"}, "cookies": ["k=v"]}).encode()
    error_body = base64.b64encode(json.dumps({"errorMessage": "late failure"}).encode()).decode()
    trailers = [
        ("Lambda-Runtime-Function-Error-Type", "Function.StreamError"),
        ("Lambda-Runtime-Function-Error-Body", error_body),
    ]
    async with runtime_api() as (emulator, runtime):
        client = _invoke(emulator)
        request_id = (await runtime.get("/invocation/next")).headers["lambda-runtime-aws-request-id"]
        parts = [prelude[:5], prelude[5:] + b"\x00" * 8 + b"body-1;", b"body-2"]
        status = await _post_stream(emulator.runtime_api_addresses[0], request_id, parts, trailers)
        observed = await client
    assert status == 202
    assert (observed.status, observed.body, observed.complete) == (207, b"body-1;body-2", False)
    assert observed.value("x-name") == "café".encode().decode("latin-1")
    assert observed.values("set-cookie") == ["k=v"]


async def _raw_exchange(url: str, data: bytes) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(data)
    await writer.drain()
    async with asyncio.timeout(10):
        reply = await reader.read()
    writer.close()
    return reply


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"NOT HTTP AT ALL\r\n\r\n", b"400"),
        (b"GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + b"a" * 300_000 + b"\r\n\r\n", b"431"),
    ],
)
async def test_malformed_client_requests_get_a_4xx_with_a_reason(data: bytes, status: bytes) -> None:
    async with runtime_api() as (emulator, _):
        reply = await _raw_exchange(emulator.url, data)
    status_line, _, rest = reply.partition(b"\r\n")
    assert status_line.split(b" ")[1] == status
    assert b"bad HTTP/1.1 from peer" in rest


async def test_a_newer_next_replaces_a_waiting_one() -> None:
    async with runtime_api() as (emulator, runtime):
        stale = asyncio.create_task(runtime.get("/invocation/next"))
        async with asyncio.timeout(10):  # until the first poll waits in the emulator
            while emulator.environments[0].state is not State.READY:
                await asyncio.sleep(0.01)
        fresh = asyncio.create_task(runtime.get("/invocation/next"))
        with pytest.raises(httpx.RemoteProtocolError):
            await stale
        client = _invoke(emulator)
        request_id = (await fresh).headers["lambda-runtime-aws-request-id"]
        await runtime.post(f"/invocation/{request_id}/response", content=b'"only one"')
        observed = await client
    assert observed.body == b'"only one"'
