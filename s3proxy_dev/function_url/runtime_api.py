"""The Lambda Runtime API (2018-06-01) for one execution environment, served with h11.

Endpoints (docs runtimes-api.html; routes as in the runtime interface emulator's
rapi/router.go): ``GET /runtime/invocation/next``, ``POST /runtime/invocation/{id}/response``
(buffered or streaming), ``POST /runtime/invocation/{id}/error`` and
``POST /runtime/init/error``, all under ``/2018-06-01``.
"""

from __future__ import annotations

import json
import logging
import re
from urllib.parse import unquote

import h11

from s3proxy_dev.function_url.config import MIB, EmulatorConfig
from s3proxy_dev.function_url.environment import ExecutionEnvironment, RuntimeApiRefusal
from s3proxy_dev.function_url.h11io import PeerGone, ServerConnection, header_value
from s3proxy_dev.function_url.intake import Intake, Truncated, read_data, relay_response
from s3proxy_dev.function_url.invocation import Invocation
from s3proxy_dev.function_url.outcome import InvocationFailure

log = logging.getLogger("s3proxy_dev.function_url")

NEXT_PATH = "/2018-06-01/runtime/invocation/next"
INIT_ERROR_PATH = "/2018-06-01/runtime/init/error"
RESTORE_NEXT_PATH = "/2018-06-01/runtime/restore/next"
RESTORE_ERROR_PATH = "/2018-06-01/runtime/restore/error"
INVOCATION_POST = re.compile(r"^/2018-06-01/runtime/invocation/([^/]+)/(response|error)$")
ERROR_TYPE_SHAPE = re.compile(r"(Runtime|Function)\.[A-Z][a-zA-Z]+")
MAX_ERROR_BODY = 6 * MIB
RESPONSE_MODE = b"lambda-runtime-function-response-mode"


def normalise_error_type(raw: str | None) -> str:
    """Apply RAPID's rule (fatalerror.go): keep ``Runtime.X``/``Function.X`` shapes, else
    ``Function.Unknown`` for a ``Function.`` prefix and ``Runtime.Unknown`` for the rest."""
    text = raw or ""
    if ERROR_TYPE_SHAPE.search(text):
        return text
    return "Function.Unknown" if text.startswith("Function.") else "Runtime.Unknown"


def error_message(body: bytes) -> str:
    """Return ``errorMessage`` from an error JSON body, or the body as text if it is not one."""
    try:
        details = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")
    if isinstance(details, dict) and "errorMessage" in details:
        return str(details["errorMessage"])
    return body.decode("utf-8", "replace")


async def send_json(stream: ServerConnection, status: int, payload: dict[str, str]) -> None:
    """Send a JSON response as RAPID renders its replies."""
    body = json.dumps(payload).encode()
    await stream.send_simple(status, [("content-type", "application/json")], body)


async def read_body(stream: ServerConnection, limit: int) -> bytes:
    """Read a whole request body of at most ``limit`` bytes.

    Raises :class:`RuntimeApiRefusal` (413) beyond ``limit`` and :class:`PeerGone` if cut short.
    """
    parts: list[bytes] = []
    size = 0
    while True:
        try:
            data, _ = await read_data(stream)
        except Truncated as exc:
            raise PeerGone(str(exc)) from exc
        if data is None:
            return b"".join(parts)
        size += len(data)
        if size > limit:
            raise RuntimeApiRefusal(413, "RequestEntityTooLarge", f"Exceeded maximum allowed size ({limit} bytes).")
        parts.append(data)


class RuntimeApi:
    """Serves the Runtime API of one :class:`ExecutionEnvironment` (use :meth:`handle`)."""

    def __init__(self, environment: ExecutionEnvironment, config: EmulatorConfig) -> None:
        self._env = environment
        self._config = config

    async def handle(self, stream: ServerConnection) -> None:
        """Answer one request on ``stream`` (an :data:`h11io.Handler`)."""
        event = await stream.next_event()
        if not isinstance(event, h11.Request):
            return
        try:
            await self._dispatch(stream, event)
        except RuntimeApiRefusal as exc:
            await send_json(stream, exc.status, {"errorMessage": exc.message, "errorType": exc.error_type})

    async def _dispatch(self, stream: ServerConnection, request: h11.Request) -> None:
        method = request.method.decode("ascii", "replace")
        path = request.target.decode("latin-1").split("?", 1)[0]
        match = INVOCATION_POST.match(path)
        if path == NEXT_PATH and method == "GET":
            await self._next(stream)
        elif path in (INIT_ERROR_PATH, RESTORE_ERROR_PATH) and method == "POST":
            await self._init_error(stream, request)
        elif path == RESTORE_NEXT_PATH and method == "GET" and self._config.snap_start:
            await read_body(stream, 0)
            self._env.restore_next()
            await stream.send_simple(200, [("content-type", "application/json")], b"{}")
        elif match and method == "POST" and match[2] == "response":
            await self._response(stream, request, unquote(match[1]))
        elif match and method == "POST":
            await self._error(stream, request, unquote(match[1]))
        elif match or path in (NEXT_PATH, INIT_ERROR_PATH, RESTORE_NEXT_PATH, RESTORE_ERROR_PATH):
            raise RuntimeApiRefusal(405, "MethodNotAllowed", f"{method} is not allowed on {path}")
        else:
            raise RuntimeApiRefusal(404, "NotFound", f"no Runtime API endpoint at {path}")

    async def _next(self, stream: ServerConnection) -> None:
        await read_body(stream, 0)
        invocation = await self._env.next_invocation()
        try:
            await stream.send_simple(200, self._invoke_headers(invocation), invocation.event)
        except PeerGone:
            await self._env.undeliverable(invocation)
            raise

    def _invoke_headers(self, invocation: Invocation) -> list[tuple[str, str]]:
        assert invocation.deadline is not None
        return [
            ("Lambda-Runtime-Aws-Request-Id", invocation.request_id),
            ("Lambda-Runtime-Deadline-Ms", str(int(invocation.deadline * 1000))),
            ("Lambda-Runtime-Invoked-Function-Arn", self._config.function.arn),
            ("Lambda-Runtime-Trace-Id", invocation.runtime_trace_header),
            ("Content-Type", "application/json"),
        ]

    async def _response(self, stream: ServerConnection, request: h11.Request, request_id: str) -> None:
        invocation = self._env.begin_response(request_id, error=False)
        mode = header_value(request.headers, RESPONSE_MODE)
        if mode is not None and mode != "streaming":
            self._env.end_response(request_id)
            failure = InvocationFailure("Runtime.InvalidResponseModeHeader", f"response mode {mode!r}")
            await invocation.channel.fail(failure)
            raise RuntimeApiRefusal(400, "InvalidFunctionResponseMode", "Invalid function response mode")
        streaming = mode is not None
        status = await self._relay(stream, request, invocation, streaming=streaming)
        if status == 413:
            limits = self._config.limits
            limit = (limits.max_streamed_bytes if streaming else limits.max_buffered_bytes) if limits else 0
            message = f"Exceeded maximum allowed payload size ({limit} bytes)."
            raise RuntimeApiRefusal(413, "RequestEntityTooLarge", message)
        await send_json(stream, 202, {"status": "OK"})

    async def _relay(
        self, stream: ServerConnection, request: h11.Request, invocation: Invocation, *, streaming: bool
    ) -> int:
        default_type = "application/octet-stream" if streaming else "application/json"
        content_type = header_value(request.headers, b"content-type") or default_type
        intake = Intake(self._config.invoke_mode, streaming, content_type, self._config.limits)
        try:
            return await relay_response(stream, intake, invocation.channel)
        except Truncated as exc:
            failure = InvocationFailure("Runtime.TruncatedResponse", str(exc))
            await invocation.channel.fail(failure)
            raise PeerGone(str(exc)) from exc
        finally:
            self._env.end_response(invocation.request_id)

    async def _error(self, stream: ServerConnection, request: h11.Request, request_id: str) -> None:
        invocation = self._env.begin_response(request_id, error=True)
        try:
            body = await read_body(stream, MAX_ERROR_BODY)
        except RuntimeApiRefusal:
            await invocation.channel.fail(InvocationFailure("Runtime.Unknown", "error body too large"))
            raise
        finally:
            self._env.end_response(request_id)
        error_type = normalise_error_type(header_value(request.headers, b"lambda-runtime-function-error-type"))
        failure = InvocationFailure(error_type, error_message(body))
        log.error("RequestId: %s Error: %s: %s", invocation.request_id, error_type, failure.message)
        await invocation.channel.fail(failure)
        await send_json(stream, 202, {"status": "OK"})

    async def _init_error(self, stream: ServerConnection, request: h11.Request) -> None:
        body = await read_body(stream, MAX_ERROR_BODY)
        error_type = normalise_error_type(header_value(request.headers, b"lambda-runtime-function-error-type"))
        failure = InvocationFailure(error_type, error_message(body))
        self._env.record_init_error(failure)
        log.error("Runtime init error: %s: %s", error_type, failure.message)
        await send_json(stream, 202, {"status": "OK"})
