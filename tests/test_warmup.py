"""The S3 client's warm-up at start-up (service/warmup.py): it prepares the client, sends
nothing to S3, and never fails the start."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from service.app import create_app
from service.settings import Settings


@pytest.fixture
def listener() -> Iterator[tuple[str, list[socket.socket]]]:
    """A loopback port standing in for S3 that records every connection made to it."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            accepted.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}", accepted
    server.close()
    for connection in accepted:
        connection.close()


def _settings(endpoint: str) -> Settings:
    return Settings.from_env({"S3_PROXY_BUCKET": "media", "S3_PROXY_ENDPOINT_URL": endpoint, "AWS_REGION": "us-east-1"})


def _pools_after_start_up(endpoint: str) -> int:
    """Run the app's lifespan start-up and shut-down; return how many aiohttp sessions its
    S3 client had made by the end of the start-up (aiobotocore 2.x internals)."""

    async def run() -> int:
        app = create_app(_settings(endpoint))
        async with app.router.lifespan_context(app) as state:
            client: Any = state["store"]._client  # type: ignore[index]
            return len(client._endpoint.http_session._sessions)

    return asyncio.run(run())


def test_start_up_prepares_the_client_without_a_request_to_s3(
    listener: tuple[str, list[socket.socket]], monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, accepted = listener
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    assert _pools_after_start_up(endpoint) == 1
    assert accepted == []


def test_start_up_without_credentials_still_starts(
    listener: tuple[str, list[socket.socket]], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    endpoint, accepted = listener
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with caplog.at_level(logging.INFO, logger="service.warmup"):
        assert _pools_after_start_up(endpoint) == 0
    assert "S3 client warm-up skipped" in caplog.text
    assert accepted == []
