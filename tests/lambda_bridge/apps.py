"""Small ASGI apps and loaders for :func:`service.lambda_bridge.serve`, importable by the
runtime subprocesses the tests start."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
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
