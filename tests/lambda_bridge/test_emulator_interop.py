"""Our runtime behind the project's local Function URL emulator (``s3proxy_dev.function_url``), which
was written separately from the Runtime API spec: both sides must agree on the wire protocol."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx
import pytest

from s3proxy_dev.function_url import EmulatorConfig, FunctionUrlEmulator

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = (
    "import os, sys; from service.lambda_bridge import serve; "
    "from tests.lambda_bridge.apps import load_interop_app; "
    "sys.exit(serve(load_interop_app, os.environ['AWS_LAMBDA_RUNTIME_API']))"
)


@dataclass(frozen=True)
class FunctionURL:
    url: str
    mode: str


@pytest.fixture(params=["RESPONSE_STREAM", "BUFFERED"])
async def function_url(request: pytest.FixtureRequest) -> AsyncIterator[FunctionURL]:
    mode = request.param
    config = EmulatorConfig(
        port=0,
        timeout=30.0,
        limits=None,
        command=(sys.executable, "-c", RUNTIME),
        invoke_mode=mode,
        task_root=str(ROOT),
        extra_env=(("BRIDGE_TEST_INVOKE_MODE", mode), ("PYTHONPATH", str(ROOT))),
    )
    async with FunctionUrlEmulator(config) as emulator:
        with anyio.fail_after(30):
            assert await emulator.wait_ready() is None
        yield FunctionURL(emulator.url, mode)


async def test_get_through_the_emulator(function_url: FunctionURL) -> None:
    async with httpx.AsyncClient(base_url=function_url.url) as client:
        response = await client.get("/hello")
    assert (response.status_code, response.text) == (200, "hello")
    assert response.headers["x-test"] == "a"
    assert [value.split(";")[0] for value in response.headers.get_list("set-cookie")] == ["a=1", "b=2"]


async def test_head_through_the_emulator(function_url: FunctionURL) -> None:
    async with httpx.AsyncClient(base_url=function_url.url) as client:
        response = await client.head("/hello")
    assert (response.status_code, response.content) == (200, b"")


async def test_streamed_pieces_through_the_emulator(function_url: FunctionURL) -> None:
    async with httpx.AsyncClient(base_url=function_url.url) as client:
        response = await client.get("/stream")
    assert (response.status_code, response.text) == (200, "abc")


async def test_failure_midway_never_looks_complete(function_url: FunctionURL) -> None:
    async with httpx.AsyncClient(base_url=function_url.url) as client:
        if function_url.mode == "RESPONSE_STREAM":
            # The error trailers make the emulator cut the body short, as Lambda does.
            with pytest.raises(httpx.RemoteProtocolError):
                await client.get("/broken")
            return
        response = await client.get("/broken")
    assert (response.status_code, response.text) == (500, "Internal Server Error\n")
