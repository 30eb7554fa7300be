"""Run the proxy on loopback through either door: a real uvicorn, or the Lambda runtime behind
the local Function URL emulator."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from s3proxy_dev.function_url.config import EmulatorConfig, EventFormat, PlatformLimits
from s3proxy_dev.function_url.emulator import FunctionUrlEmulator
from service.app import create_app
from service.server import uvicorn_config
from service.settings import Settings
from service.tracing import Tracing


@contextmanager
def serve_proxy(settings: Settings, timeout: float = 15.0, tracing: Tracing | None = None) -> Iterator[str]:
    """Serve ``create_app(settings)`` as ``serve`` does, on 127.0.0.1 (OS-chosen port); yield its base URL.

    ``tracing`` replaces the one the settings ask for (e.g. spans kept in memory)."""
    server = uvicorn.Server(uvicorn_config(create_app(settings, tracing=tracing), settings, "127.0.0.1", 0))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=timeout)


EMULATOR_WAIT = 30.0
"""Seconds the emulator may take to start or to close."""


@contextmanager
def serve_function_url(
    settings: Settings,
    timeout: float = 60.0,
    limits: PlatformLimits | None = None,
    runtime_output: Path | None = None,
    event_format: EventFormat = "function-url",
    concurrency: int = 1,
) -> Iterator[str]:
    """Serve the app through our Lambda runtime behind the local Function URL emulator; yield its URL.

    ``event_format="rest"`` has the emulator present API Gateway REST proxy events instead;
    ``concurrency`` above 1 runs the runtime as on Lambda Managed Instances.

    The runtime is a child process (``python -m service lambda``) configured by environment
    variables, as on Lambda.  ``timeout`` is the function timeout in seconds; platform
    ``limits`` are off unless given, so tests run at loopback speed.  The runtime's stdout
    and stderr go to ``runtime_output`` when given, else to this process's.  The runtimes have
    reached ``/next`` (or failed their init) when the URL is yielded.
    """
    assert Settings.from_env(settings.to_env()) == settings
    config = EmulatorConfig(
        port=0,
        timeout=timeout,
        limits=limits,
        invoke_mode=settings.lambda_invoke_mode,
        event_format=event_format,
        concurrency=concurrency,
        extra_env=tuple(settings.to_env().items()),
        runtime_output=None if runtime_output is None else str(runtime_output),
    )
    wait = max(timeout, EMULATOR_WAIT)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    emulator = FunctionUrlEmulator(config)
    asyncio.run_coroutine_threadsafe(emulator.start(), loop).result(timeout=wait)
    # The runtime's INIT is over before the first request, as after a Lambda cold start: on a
    # loaded machine INIT can outlast a test client's timeout. An init failure is the tests'
    # to see, through their requests.
    try:
        asyncio.run_coroutine_threadsafe(emulator.wait_ready(), loop).result(timeout=wait)
        yield emulator.url
    finally:
        asyncio.run_coroutine_threadsafe(emulator.close(), loop).result(timeout=wait)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=wait)
        loop.close()
