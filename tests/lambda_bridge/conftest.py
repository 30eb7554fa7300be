"""Fixtures for the Lambda bridge tests: a fake Runtime API on loopback and a running runtime."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from service.lambda_bridge import BridgeOptions
from service.lambda_bridge.runtime import Runtime
from service.lambda_bridge.runtime_api import RuntimeAddress, RuntimeAPIClient
from tests.lambda_bridge.fake_runtime_api import FakeRuntimeAPI

EVENTS = Path(__file__).parent / "events"


def load_event(name: str) -> dict[str, Any]:
    """A JSON event fixture from ``tests/lambda_bridge/events``."""
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return event


def http_only(app: ASGIApp) -> ASGIApp:
    """``app`` behind a guard that refuses lifespan scopes, as an app without lifespan does."""

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise RuntimeError("lifespan is not supported")
        await app(scope, receive, send)

    return guarded


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def runtime_api() -> AsyncIterator[FakeRuntimeAPI]:
    api = FakeRuntimeAPI()
    async with api.running():
        yield api


@contextlib.asynccontextmanager
async def serving(
    app: ASGIApp, api: FakeRuntimeAPI, client_class: type[RuntimeAPIClient] = RuntimeAPIClient, **options: Any
) -> AsyncIterator[asyncio.Task[int]]:
    """Run ``Runtime(app).run()`` against ``api`` until the block ends; yields the task."""
    client = client_class(RuntimeAddress.parse(api.address))
    task = asyncio.create_task(Runtime(app, client, BridgeOptions(**options)).run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
