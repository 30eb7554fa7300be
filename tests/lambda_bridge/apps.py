"""Small ASGI apps and loaders for :func:`service.lambda_bridge.serve`, importable by the
runtime subprocesses the tests start."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from service.lambda_bridge import BridgeOptions

LOG_VARIABLE = "BRIDGE_TEST_LOG"
"""File the logging app appends ``startup``, ``request`` and ``shutdown`` lines to."""


def _log(line: str) -> None:
    with open(os.environ[LOG_VARIABLE], "a", encoding="utf-8") as log:
        log.write(line + "\n")


@contextlib.asynccontextmanager
async def _logged_lifespan(app: Starlette) -> AsyncIterator[None]:
    _log("startup")
    yield
    _log("shutdown")


async def _logged_request(request: Request) -> PlainTextResponse:
    _log("request")
    return PlainTextResponse("served")


def load_logging_app() -> tuple[ASGIApp, BridgeOptions]:
    """A Starlette app logging its lifespan and requests to ``$BRIDGE_TEST_LOG``."""
    app = Starlette(routes=[Route("/{path:path}", _logged_request)], lifespan=_logged_lifespan)
    return app, BridgeOptions()


def load_missing_module() -> tuple[ASGIApp, BridgeOptions]:
    """Fails like an app whose module cannot be imported."""
    from tests.lambda_bridge import no_such_module  # type: ignore[attr-defined]

    return no_such_module.app, BridgeOptions()  # pragma: no cover - the import fails


def load_failing_factory() -> tuple[ASGIApp, BridgeOptions]:
    """Fails like an app factory that raises."""
    raise RuntimeError("the app factory exploded")


async def _hello(request: Request) -> PlainTextResponse:
    response = PlainTextResponse("hello", headers={"x-test": "a"})
    response.set_cookie("a", "1")
    response.set_cookie("b", "2")
    return response


async def _pieces() -> AsyncIterator[bytes]:
    for piece in (b"a", b"b", b"c"):
        yield piece


async def _broken_pieces() -> AsyncIterator[bytes]:
    yield b"first"
    raise RuntimeError("lost the upstream midway")


def load_interop_app() -> tuple[ASGIApp, BridgeOptions]:
    """Routes for the emulator interop tests; ``$BRIDGE_TEST_INVOKE_MODE`` picks the mode."""
    routes = [
        Route("/hello", _hello, methods=["GET", "HEAD"]),
        Route("/stream", lambda request: StreamingResponse(_pieces(), media_type="text/plain")),
        Route("/broken", lambda request: StreamingResponse(_broken_pieces(), media_type="text/plain")),
    ]
    buffered = os.environ.get("BRIDGE_TEST_INVOKE_MODE") == "BUFFERED"
    return Starlette(routes=routes), BridgeOptions(invoke_mode="BUFFERED" if buffered else "RESPONSE_STREAM")
