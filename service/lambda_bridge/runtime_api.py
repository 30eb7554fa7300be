"""Client of the Lambda Runtime API, version 2018-06-01.

Endpoints (Lambda docs "runtimes-api.html"; streaming: "runtimes-custom.html#runtimes-custom-response-streaming"):

* ``GET  /runtime/invocation/next``            long poll for the next invocation (no timeout)
* ``POST /runtime/invocation/{id}/response``   buffered result, or a chunked stream with trailers
* ``POST /runtime/invocation/{id}/error``      the invocation failed before any response byte
* ``POST /runtime/init/error``                 start-up failed; the process exits afterwards
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

import h11

from service.lambda_bridge.errors import RuntimeAPIError
from service.lambda_bridge.framing import (
    ERROR_BODY_TRAILER,
    ERROR_TYPE_TRAILER,
    PRELUDE_CONTENT_TYPE,
    ErrorReport,
)
from service.lambda_bridge.http1 import Reply, RuntimeAPIConnection

RUNTIME_API_VARIABLE = "AWS_LAMBDA_RUNTIME_API"
API_PREFIX = "/2018-06-01/runtime"
ACCEPTED = 202

STREAM_SEND_BUFFER_BYTES = 128 * 1024
"""Kernel send buffer (``SO_SNDBUF``) of a streaming response connection, in bytes.

Error trailers queue behind every body byte still on its way.  When the platform passes the
stream on slower than its documented bandwidth (a client that reads slowly holds it back),
bytes pile up in buffers, where no account of posted bytes sees them; with small buffers on
our side, the runtime waits in ``drain()`` instead, and what can lie ahead of the trailers
stays bounded.  Loopback autotuning would otherwise grow this buffer to megabytes
(``net.ipv4.tcp_wmem``).  Linux doubles the value for its bookkeeping (socket(7))."""

STREAM_WRITE_BUFFER_BYTES = 64 * 1024
"""High-water mark of the asyncio transport buffer of that connection, in bytes (asyncio's
default, set explicitly because the bound matters for the same reason)."""


@dataclass(frozen=True)
class RuntimeAddress:
    """Where the Runtime API listens: the ``host:port`` of ``AWS_LAMBDA_RUNTIME_API``."""

    host: str
    port: int

    @classmethod
    def parse(cls, value: str) -> RuntimeAddress:
        """Parse ``host:port`` (``[v6]:port`` too).

        Raises:
            ValueError: empty, or no valid port (1-65535); the message names the variable.
        """
        host, _, port = value.strip().rpartition(":")
        host = host.removeprefix("[").removesuffix("]")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            shown = repr(value) if value else "not set"
            raise ValueError(f"{RUNTIME_API_VARIABLE} must be host:port, got {shown}")
        return cls(host, int(port))

    @property
    def host_header(self) -> bytes:
        """The ``Host`` field value for requests to this address."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}".encode("ascii")


@dataclass(frozen=True)
class NextInvocation:
    """One invocation as the ``GET /runtime/invocation/next`` reply delivers it: its request
    id (``Lambda-Runtime-Aws-Request-Id``), deadline, function ARN, trace id and event.

    ``deadline_ms`` is the Unix epoch deadline in milliseconds (``Lambda-Runtime-Deadline-Ms``,
    ``None`` if absent or unreadable); ``event`` is the raw event JSON.
    """

    request_id: str
    deadline_ms: int | None
    function_arn: str | None
    trace_id: str | None
    event: bytes

    @classmethod
    def from_reply(cls, reply: Reply) -> NextInvocation:
        """Read the invocation headers of a ``/next`` reply.

        Raises:
            RuntimeAPIError: the status is not 200 or the request id is missing.
        """
        if reply.status != 200:
            raise RuntimeAPIError("next invocation", reply.status, reply.body[:200].decode("utf-8", "replace"))
        request_id = reply.header(b"lambda-runtime-aws-request-id")
        if not request_id:
            raise RuntimeAPIError("next invocation", reply.status, "without Lambda-Runtime-Aws-Request-Id")
        deadline = reply.header(b"lambda-runtime-deadline-ms") or ""
        return cls(
            request_id=request_id,
            deadline_ms=int(deadline) if deadline.isdigit() else None,
            function_arn=reply.header(b"lambda-runtime-invoked-function-arn"),
            trace_id=reply.header(b"lambda-runtime-trace-id"),
            event=reply.body,
        )


class ResponseStream:
    """A streaming ``POST /invocation/{id}/response`` in progress.

    Request fields and their order match the bytes AWS's Node.js runtime client sends; both
    error trailers are declared up front, as the custom runtime docs require (two ``Trailer``
    field lines, which RFC 9110 §5.3 makes equal to one comma-separated line).  The body is
    chunked by h11: every :meth:`write` is one chunk, :meth:`end` writes the last chunk and
    any trailers.
    """

    def __init__(self, connection: RuntimeAPIConnection, target: str, host_header: bytes) -> None:
        self._connection = connection
        self._target = target
        self._host_header = host_header

    async def begin(self, chunks: Sequence[bytes]) -> None:
        """Send the request head and the first ``chunks`` (prelude, delimiter) with one drain,
        so the head never goes out without them."""
        headers = [
            (b"Lambda-Runtime-Function-Response-Mode", b"streaming"),
            (b"Trailer", ERROR_TYPE_TRAILER),
            (b"Trailer", ERROR_BODY_TRAILER),
            (b"Content-Type", PRELUDE_CONTENT_TYPE.encode("ascii")),
            (b"Transfer-Encoding", b"chunked"),
            (b"Host", self._host_header),
            (b"Connection", b"keep-alive"),
        ]
        self._connection.write(h11.Request(method="POST", target=self._target, headers=headers))
        for chunk in chunks[:-1]:
            self._connection.write(h11.Data(data=chunk))
        await self._connection.send(h11.Data(data=chunks[-1]))

    async def write(self, data: bytes) -> None:
        """Send ``data`` as one chunk and wait for the buffer to drain.  ``data`` must not be
        empty: a zero-length chunk would end the body."""
        await self._connection.send(h11.Data(data=data))

    async def end(self, trailers: Sequence[tuple[bytes, bytes]] = ()) -> None:
        """Write the last chunk, then ``trailers`` (RFC 9112 §7.1.2)."""
        await self._connection.send(h11.EndOfMessage(headers=list(trailers)))

    async def read_reply(self) -> None:
        """Wait for the Runtime API's reply to the complete stream.

        Raises:
            RuntimeAPIError: the reply is not 202 Accepted.
        """
        _expect_accepted("streamed response", await self._connection.receive_reply("streamed response"))

    async def aclose(self) -> None:
        """Close the connection (the docs ask runtimes to close it after a stream)."""
        await self._connection.aclose()


class RuntimeAPIClient:
    """Calls to the Runtime API at ``address``; each call uses its own connection."""

    def __init__(self, address: RuntimeAddress) -> None:
        self.address = address

    async def next_invocation(self) -> NextInvocation:
        """Long-poll ``/next`` with no timeout: Lambda may freeze the process while it waits.

        Raises:
            RuntimeAPIError, OSError: the Runtime API failed; the runtime should exit.
        """
        reply = await self._exchange("next invocation", "GET", "/invocation/next")
        return NextInvocation.from_reply(reply)

    async def open_stream(self, request_id: str) -> ResponseStream:
        """Connect for a streaming response to invocation ``request_id``; nothing is sent yet."""
        connection = await RuntimeAPIConnection.open(self.address.host, self.address.port)
        _bound_bytes_in_flight(connection)
        target = f"{API_PREFIX}/invocation/{quote(request_id, safe='')}/response"
        return ResponseStream(connection, target, self.address.host_header)

    async def restore_next(self) -> None:
        """SnapStart: ``GET /restore/next``, answered only once Lambda has restored the snapshot
        taken while it waited (docs runtimes-api.html, "After restore").

        Raises:
            RuntimeAPIError, OSError: the Runtime API failed or did not answer 200.
        """
        what = "restore next"
        reply = await self._exchange(what, "GET", "/restore/next")
        if reply.status != 200:
            raise RuntimeAPIError(what, reply.status, reply.body[:200].decode("utf-8", "replace"))

    async def post_restore_error(self, report: ErrorReport) -> None:
        """SnapStart: report that the work after a restore failed.  Raises unless 202."""
        what = "restore error"
        body = report.to_json()
        _expect_accepted(what, await self._exchange(what, "POST", "/restore/error", body, report.error_type))

    async def post_response(self, request_id: str, payload: bytes) -> None:
        """Post a buffered JSON result (at most 6 MB).  Raises ``RuntimeAPIError`` unless 202."""
        what = "buffered response"
        path = f"/invocation/{quote(request_id, safe='')}/response"
        _expect_accepted(what, await self._exchange(what, "POST", path, payload))

    async def post_invocation_error(self, request_id: str, report: ErrorReport) -> None:
        """Report that invocation ``request_id`` failed.  Raises ``RuntimeAPIError`` unless 202."""
        what = "invocation error"
        path = f"/invocation/{quote(request_id, safe='')}/error"
        _expect_accepted(what, await self._exchange(what, "POST", path, report.to_json(), report.error_type))

    async def post_init_error(self, report: ErrorReport) -> None:
        """Report a start-up failure.  Raises ``RuntimeAPIError`` unless 202."""
        what = "init error"
        _expect_accepted(what, await self._exchange(what, "POST", "/init/error", report.to_json(), report.error_type))

    async def _exchange(
        self, what: str, method: str, path: str, body: bytes = b"", error_type: str | None = None
    ) -> Reply:
        headers = [(b"Host", self.address.host_header)]
        if method == "POST":
            headers += [(b"Content-Type", b"application/json"), (b"Content-Length", b"%d" % len(body))]
        if error_type is not None:
            headers.append((ERROR_TYPE_TRAILER, error_type.encode("ascii")))
        connection = await RuntimeAPIConnection.open(self.address.host, self.address.port)
        try:
            await connection.send(h11.Request(method=method, target=API_PREFIX + path, headers=headers))
            if body:
                await connection.send(h11.Data(data=body))
            await connection.send(h11.EndOfMessage())
            return await connection.receive_reply(what)
        finally:
            await connection.aclose()


def _bound_bytes_in_flight(connection: RuntimeAPIConnection) -> None:
    """Keep our share of the bytes between the app and the platform small (see
    :data:`STREAM_SEND_BUFFER_BYTES`)."""
    sock = connection.writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, STREAM_SEND_BUFFER_BYTES)
    connection.writer.transport.set_write_buffer_limits(high=STREAM_WRITE_BUFFER_BYTES)


def _expect_accepted(what: str, reply: Reply) -> None:
    if reply.status != ACCEPTED:
        raise RuntimeAPIError(what, reply.status, reply.body[:200].decode("utf-8", "replace"))
