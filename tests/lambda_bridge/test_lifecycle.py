"""Lifespan once per process, init errors, and a clean exit on SIGTERM."""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from service.lambda_bridge import BridgeOptions, main, serve
from service.lambda_bridge.runtime import Runtime
from service.lambda_bridge.runtime_api import RuntimeAddress, RuntimeAPIClient
from tests.lambda_bridge import apps
from tests.lambda_bridge.conftest import load_event, serving
from tests.lambda_bridge.fake_runtime_api import FakeRuntimeAPI

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _process_logging_restored() -> Iterator[None]:
    """``main()`` sets up this process's logging, as the runtime's entry must; undo it after, so
    that later tests in the process log as before (the root level, handlers, hooks)."""
    root = logging.getLogger()
    handlers, level, hook = root.handlers[:], root.level, sys.excepthook
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    sys.excepthook = hook
    logging.captureWarnings(False)


def _timeline_app(api: FakeRuntimeAPI) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        api.timeline.append("startup")
        yield {"greeting": "hello"}
        api.timeline.append("shutdown")

    async def endpoint(request: Request) -> PlainTextResponse:
        # Each request gets its own copy of the lifespan state: an earlier scribble never shows.
        leaked = "scribble" in request.scope["state"]
        request.state.scribble = True
        return PlainTextResponse(f"{request.state.greeting} leaked={leaked}")

    return Starlette(routes=[Route("/{path:path}", endpoint)], lifespan=lifespan)


async def test_lifespan_runs_once_around_many_invocations(runtime_api: FakeRuntimeAPI) -> None:
    for number in range(3):
        runtime_api.enqueue(load_event("function_url_get"), request_id=f"req-{number}")
    async with serving(_timeline_app(runtime_api), runtime_api):
        await runtime_api.wait_for(lambda: runtime_api.timeline.count("next") == 4)
        assert runtime_api.timeline == ["startup", "next", "next", "next", "next"]
    assert runtime_api.timeline[-1] == "shutdown"
    assert runtime_api.timeline.count("shutdown") == 1
    assert [post.chunks[2:] for post in runtime_api.posts()] == [[b"hello leaked=False"]] * 3


async def test_lifespan_startup_failure_is_an_init_error(runtime_api: FakeRuntimeAPI) -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        raise ConnectionError("cannot reach the bucket")
        yield  # pragma: no cover - startup fails first

    client = RuntimeAPIClient(RuntimeAddress.parse(runtime_api.address))
    with anyio.fail_after(10):
        status = await Runtime(Starlette(lifespan=lifespan), client, BridgeOptions()).run()
    assert status == 1
    (post,) = runtime_api.posts()
    assert post.target == "/2018-06-01/runtime/init/error"
    assert post.header(b"lambda-runtime-function-error-type") == b"Runtime.LifespanStartupFailed"
    body = json.loads(post.body)
    assert body["errorType"] == "LifespanStartupError"
    assert "cannot reach the bucket" in body["errorMessage"]
    assert "next" not in runtime_api.timeline


@pytest.mark.parametrize(
    ("loader", "error_type", "message"),
    [
        pytest.param(apps.load_missing_module, "Runtime.ImportModuleError", "no_such_module", id="import"),
        pytest.param(apps.load_failing_factory, "Runtime.AppInitError", "the app factory exploded", id="factory"),
    ],
)
async def test_serve_reports_loader_failures(
    runtime_api: FakeRuntimeAPI, loader: Callable[[], Any], error_type: str, message: str
) -> None:
    with anyio.fail_after(10):
        status = await anyio.to_thread.run_sync(serve, loader, runtime_api.address)
    assert status == 1
    (post,) = runtime_api.posts()
    assert post.target == "/2018-06-01/runtime/init/error"
    assert post.header(b"lambda-runtime-function-error-type") == error_type.encode()
    body = json.loads(post.body)
    assert message in body["errorMessage"]
    assert any(message in line for line in body["stackTrace"])


async def test_main_reports_invalid_configuration(runtime_api: FakeRuntimeAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_RUNTIME_API", runtime_api.address)
    monkeypatch.delenv("S3_PROXY_BUCKET", raising=False)
    with anyio.fail_after(10):
        status = await anyio.to_thread.run_sync(main)
    assert status == 1
    (post,) = runtime_api.posts()
    assert post.target == "/2018-06-01/runtime/init/error"
    assert post.header(b"lambda-runtime-function-error-type") == b"Runtime.InvalidConfiguration"
    assert json.loads(post.body)["errorMessage"] == "S3_PROXY_BUCKET: required, but not set"


def _init_failure_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.getMessage().startswith("initialisation failed")]


async def test_a_failing_app_factory_is_logged_with_its_traceback(
    runtime_api: FakeRuntimeAPI, caplog: pytest.LogCaptureFixture
) -> None:
    with anyio.fail_after(10):
        status = await anyio.to_thread.run_sync(serve, apps.load_failing_factory, runtime_api.address)
    assert status == 1
    (record,) = _init_failure_records(caplog)
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError
    assert "Traceback (most recent call last)" in logging.Formatter().format(record)


async def test_invalid_configuration_is_logged_as_one_line(
    runtime_api: FakeRuntimeAPI, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_RUNTIME_API", runtime_api.address)
    monkeypatch.delenv("S3_PROXY_BUCKET", raising=False)
    with anyio.fail_after(10):
        assert await anyio.to_thread.run_sync(main) == 1
    (record,) = _init_failure_records(caplog)
    assert record.exc_info is None
    expected = "initialisation failed (Runtime.InvalidConfiguration): S3_PROXY_BUCKET: required, but not set"
    assert logging.Formatter().format(record) == expected


@pytest.mark.parametrize("value", ["", "localhost", "host:port", "127.0.0.1:70000"])
def test_serve_without_a_runtime_api_exits_2(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert serve(apps.load_failing_factory, value) == 2
    assert "AWS_LAMBDA_RUNTIME_API must be host:port" in capsys.readouterr().err


def _runtime_process(address: str) -> list[str]:
    code = (
        "import sys; from service.lambda_bridge import serve; "
        "from tests.lambda_bridge.apps import load_logging_app; "
        "sys.exit(serve(load_logging_app, sys.argv[1]))"
    )
    return [sys.executable, "-c", code, address]


async def test_sigterm_runs_lifespan_shutdown_once_and_exits_0(runtime_api: FakeRuntimeAPI, tmp_path: Path) -> None:
    log = tmp_path / "log.txt"
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), apps.LOG_VARIABLE: str(log)}
    runtime_api.enqueue(load_event("function_url_get"))
    process = await anyio.open_process(
        _runtime_process(runtime_api.address), cwd=ROOT, env=env, stdout=subprocess.DEVNULL
    )
    async with process:
        await runtime_api.wait_for(lambda: runtime_api.timeline.count("next") == 2, timeout=30)
        process.send_signal(signal.SIGTERM)
        with anyio.fail_after(10):
            status = await process.wait()
    assert status == 0
    assert log.read_text().splitlines() == ["startup", "request", "shutdown"]
    (post,) = runtime_api.posts()
    assert post.chunks[2:] == [b"served"]
