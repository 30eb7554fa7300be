"""Entry points: ``main()`` serves the s3-stream-proxy app; ``serve()`` serves any ASGI app.

Start-up failures are reported to ``POST /runtime/init/error`` and end the process with a
non-zero status, as the Lambda custom runtime docs ask ("runtimes-custom.html", initialization).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Callable, Mapping
from types import TracebackType

from starlette.types import ASGIApp

from service import logformat
from service.lambda_bridge.concurrency import max_concurrency
from service.lambda_bridge.runtime import BridgeOptions, Runtime, report_init_error
from service.lambda_bridge.runtime_api import RUNTIME_API_VARIABLE, RuntimeAddress, RuntimeAPIClient
from service.lambda_bridge.snapstart import is_snap_start
from service.settings import ConfigError, Settings

logger = logging.getLogger("service.lambda_bridge")

EXIT_USAGE = 2
"""Exit status when not started by Lambda (no usable ``AWS_LAMBDA_RUNTIME_API``)."""

AppLoader = Callable[[], tuple[ASGIApp, BridgeOptions]]
"""Builds the app and its bridge options at init; may raise (reported as an init error)."""


def main() -> int:
    """Run the Lambda runtime for ``service.app.create_app(Settings.from_env())``.

    Returns the process exit status: 0 after SIGTERM, 1 after an init or Runtime API
    failure, 2 when ``AWS_LAMBDA_RUNTIME_API`` is missing or malformed.

    Logging is set up first, in the format and at the level of
    :func:`service.logformat.lambda_choice` (JSON unless configured otherwise), so that
    even an init error is a log record; nothing else is written to stdout or stderr.
    """
    configure_lambda_logging(os.environ)
    return serve(load_service_app, os.environ.get(RUNTIME_API_VARIABLE, ""))


def configure_lambda_logging(environ: Mapping[str, str]) -> None:
    """Write every log record as :func:`service.logformat.lambda_choice` says, and report an
    exception that would end the process as a record too, not as a bare traceback."""
    logformat.configure(*logformat.lambda_choice(environ))
    sys.excepthook = _log_uncaught


def _log_uncaught(kind: type[BaseException], exc: BaseException, trace: TracebackType | None) -> None:
    logger.critical("the runtime failed: %s", exc, exc_info=(kind, exc, trace))


def serve(load_app: AppLoader, runtime_api: str) -> int:
    """Run the runtime for the app ``load_app`` builds, against the Runtime API at
    ``runtime_api`` (``host:port``); return the exit status as :func:`main` does.

    ``load_app`` errors go to ``/init/error`` as ``Runtime.InvalidConfiguration``
    (:class:`ConfigError`), ``Runtime.ImportModuleError`` (``ImportError``) or
    ``Runtime.AppInitError`` (anything else).
    """
    try:
        address = RuntimeAddress.parse(runtime_api)
    except ValueError as exc:
        print(f"s3-stream-proxy lambda: {exc}; this command runs inside AWS Lambda", file=sys.stderr)
        return EXIT_USAGE
    client = RuntimeAPIClient(address)
    try:
        app, options = load_app()
    except Exception as exc:
        return asyncio.run(report_init_error(client, _init_error_type(exc), exc))
    return asyncio.run(Runtime(app, client, options).run())


def load_service_app() -> tuple[ASGIApp, BridgeOptions]:
    """Build the proxy app and options from ``S3_PROXY_*`` variables.

    Raises:
        ConfigError: a variable is missing or malformed (``AWS_LAMBDA_MAX_CONCURRENCY`` too).
        ImportError: the app module cannot be imported.
    """
    settings = Settings.from_env()
    # Imported here so a broken app module surfaces as an init error, not a crash on import.
    from service.app import create_app

    options = BridgeOptions.from_settings(settings, max_concurrency(os.environ), is_snap_start(os.environ))
    return create_app(settings, door="lambda"), options


def _init_error_type(exc: Exception) -> str:
    if isinstance(exc, ConfigError):
        return "Runtime.InvalidConfiguration"
    if isinstance(exc, ImportError):
        return "Runtime.ImportModuleError"
    return "Runtime.AppInitError"
