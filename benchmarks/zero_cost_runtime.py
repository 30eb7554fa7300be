"""A Lambda runtime that costs next to nothing, to find the local Function URL's own ceiling.

Run by the emulator (``s3-stream-proxy function-url --command "python benchmarks/zero_cost_runtime.py"``);
``benchmarks/suite.py`` does that for its relay-ceiling scenario. It polls ``/next`` on
``AWS_LAMBDA_RUNTIME_API`` over one blocking socket and answers every invocation with a
streamed 200: the prelude, then, for a path ``/bytes/N``, ``N`` bytes of one prebuilt 1 MiB
buffer sent as HTTP chunks of at most 1 MiB with ``sendmsg`` (no copy, no parsing), and
``ok`` for any other path (the emulator's readiness probe). Nothing is read from S3.
"""

from __future__ import annotations

import json
import os
import socket
import sys

PREFIX = "/2018-06-01/runtime"
PIECE = 1024 * 1024
"""Bytes per HTTP chunk of the response body."""
FILLER = bytes(range(256)) * (PIECE // 256)
PRELUDE = json.dumps({"statusCode": 200, "headers": {"content-type": "application/octet-stream"}}).encode()
DELIMITER = b"\0" * 8


class Connection:
    """One kept-alive HTTP/1.1 connection to the Runtime API, read with a small buffer."""

    def __init__(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        self._sock = socket.create_connection((host, int(port)))
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buffer = b""
        self._host = address

    def _read_head(self) -> tuple[int, dict[str, str]]:
        while b"\r\n\r\n" not in self._buffer:
            data = self._sock.recv(65536)
            if not data:
                raise ConnectionError("the Runtime API closed the connection")
            self._buffer += data
        head, self._buffer = self._buffer.split(b"\r\n\r\n", 1)
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return int(status_line.split()[1]), headers

    def _read_body(self, length: int) -> bytes:
        while len(self._buffer) < length:
            data = self._sock.recv(65536)
            if not data:
                raise ConnectionError("the Runtime API closed the connection")
            self._buffer += data
        body, self._buffer = self._buffer[:length], self._buffer[length:]
        return body

    def next_invocation(self) -> tuple[str, dict[str, object]]:
        """GET ``/next``; return the request id and the event."""
        self._sock.sendall(f"GET {PREFIX}/invocation/next HTTP/1.1\r\nHost: {self._host}\r\n\r\n".encode())
        _, headers = self._read_head()
        body = self._read_body(int(headers.get("content-length", "0")))
        return headers["lambda-runtime-aws-request-id"], json.loads(body)

    def respond(self, request_id: str, size: int, payload: bytes) -> None:
        """POST a streamed response: the prelude, then ``size`` filler bytes, or ``payload`` if ``size`` is 0."""
        head = (
            f"POST {PREFIX}/invocation/{request_id}/response HTTP/1.1\r\nHost: {self._host}\r\n"
            "Lambda-Runtime-Function-Response-Mode: streaming\r\n"
            "Content-Type: application/vnd.awslambda.http-integration-response\r\n"
            "Transfer-Encoding: chunked\r\n\r\n"
        ).encode()
        first = PRELUDE + DELIMITER + (payload if not size else b"")
        self._sock.sendall(head + b"%x\r\n" % len(first) + first + b"\r\n")
        left = size
        while left:
            piece = min(left, PIECE)
            view = memoryview(FILLER)[:piece]
            self._sock.sendmsg([b"%x\r\n" % piece, view, b"\r\n"])
            left -= piece
        self._sock.sendall(b"0\r\n\r\n")
        _, headers = self._read_head()
        self._read_body(int(headers.get("content-length", "0")))


def main() -> int:
    """Serve invocations until the Runtime API goes away."""
    connection = Connection(os.environ["AWS_LAMBDA_RUNTIME_API"])
    try:
        while True:
            request_id, event = connection.next_invocation()
            path = str(event.get("rawPath", "/"))
            size = int(path.rsplit("/", 1)[1]) if path.startswith("/bytes/") else 0
            connection.respond(request_id, size, b"ok")
    except (ConnectionError, KeyboardInterrupt):
        return 0


if __name__ == "__main__":
    sys.exit(main())
