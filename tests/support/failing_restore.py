"""A runtime for tests: our Lambda runtime serving an app whose start works once and then fails.

Run as ``python -m tests.support.failing_restore`` with the Runtime API variables Lambda sets.
Started for SnapStart, the runtime starts the app at init, waits at ``/runtime/restore/next``
and starts it again after the restore; that second start raises, which the runtime must report
to ``/runtime/restore/error``.  Every process starts afresh, so each new environment fails its
restore, as every environment resumed from one snapshot would.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.types import ASGIApp

from service.lambda_bridge.entry import configure_lambda_logging, serve
from service.lambda_bridge.runtime import BridgeOptions
from service.lambda_bridge.snapstart import is_snap_start

RESTORE_FAILURE = "the S3 endpoint is unreachable after the restore"


def load_app() -> tuple[ASGIApp, BridgeOptions]:
    """Build the app: its lifespan starts at the first call and raises at every later one."""
    starts = 0

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        nonlocal starts
        starts += 1
        if starts > 1:
            raise ConnectionError(RESTORE_FAILURE)
        yield

    return Starlette(lifespan=lifespan), BridgeOptions(snap_start=is_snap_start(os.environ))


if __name__ == "__main__":
    configure_lambda_logging(os.environ)
    sys.exit(serve(load_app, os.environ["AWS_LAMBDA_RUNTIME_API"]))
