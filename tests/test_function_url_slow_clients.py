"""Slow, idle and excess clients against the Function URL emulator's HTTP front, over raw sockets.

The twin of ``test_slow_clients.py`` for the other door: ``s3-stream-proxy function-url`` runs
as its own process with short front limits (``--header-timeout``, ``--idle-timeout``,
``--max-connections``) in front of our runtime and moto.  Slowloris-style clients get
``408`` and are dropped in time while normal clients keep being served; an idle kept-alive
connection is closed; past the connection limit a request gets ``503``.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import h11
import httpx
import pytest

from tests.support.backends import CREDENTIALS, Backend, seed_bucket
from tests.support.sockets import free_port, read_until_closed

ROOT = Path(__file__).resolve().parents[1]
HEADER_TIMEOUT = 1.5
IDLE_TIMEOUT = 1.0
MAX_CONNECTIONS = 6
SLACK = 2.0
"""Seconds a timer may fire late on a loaded machine."""
SMALL = b"small object\n"


@pytest.fixture(scope="module")
def bucket(moto: Backend) -> str:
    return seed_bucket(moto, "slow-furl", {"small.txt": SMALL})


@pytest.fixture(scope="module")
def port(moto: Backend, bucket: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        **CREDENTIALS,
        "S3_PROXY_BUCKET": bucket,
        "S3_PROXY_ENDPOINT_URL": moto.endpoint_url,
    }
    limits = ("--header-timeout", str(HEADER_TIMEOUT), "--idle-timeout", str(IDLE_TIMEOUT))
    command = [
        sys.executable,
        *("-m", "service", "function-url", "--port", str(port)),
        *(*limits, "--max-connections", str(MAX_CONNECTIONS)),
    ]
    log = tmp_path_factory.mktemp("emulator") / "stderr.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        _wait_until_served(process, port, log)
        yield port
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=15)


def _wait_until_served(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        with contextlib.suppress(httpx.TransportError):
            if _served(port):
                return
        time.sleep(0.1)
    pytest.fail(f"the emulator did not serve: {log.read_text()}")


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=HEADER_TIMEOUT + IDLE_TIMEOUT + 3 * SLACK)


def _read_response(sock: socket.socket, client: h11.Connection) -> tuple[int, bytes]:
    """Read one whole response on a kept-alive connection with h11; (status, body)."""
    status, body = 0, b""
    while True:
        event = client.next_event()
        if event is h11.NEED_DATA:
            client.receive_data(sock.recv(65536))
        elif isinstance(event, h11.Response):
            status = event.status_code
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            client.start_next_cycle()
            return status, body
        else:
            raise AssertionError(f"unexpected {event!r}")


def _get_small(sock: socket.socket, client: h11.Connection) -> None:
    sock.sendall(client.send(h11.Request(method="GET", target="/small.txt", headers=[("Host", "x")])) or b"")
    sock.sendall(client.send(h11.EndOfMessage()) or b"")
    assert _read_response(sock, client) == (200, SMALL)


def _served(port: int) -> bool:
    response = httpx.get(f"http://127.0.0.1:{port}/small.txt", timeout=10)
    return response.status_code == 200 and response.content == SMALL


def _served_soon(port: int) -> bool:
    """Served within SLACK seconds: closed connections take a moment to leave the count."""
    deadline = time.monotonic() + SLACK
    while not _served(port):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


class Slowloris:
    """A client that sends its request head one header field at a time, never finishing it."""

    def __init__(self, port: int) -> None:
        self.sock = _connect(port)
        self.sock.sendall(b"GET /small.txt HTTP/1.1\r\nHost: x\r\n")
        self.started = time.monotonic()
        self.answer = b""
        self.dropped_after: float | None = None
        self._fields = 0

    def trickle(self) -> None:
        """Send one more field, unless the front has answered; then note when and what."""
        if self.dropped_after is not None:
            return
        if select.select([self.sock], [], [], 0)[0]:
            self.answer = read_until_closed(self.sock)
            self.dropped_after = time.monotonic() - self.started
            return
        try:
            self.sock.sendall(f"X-Trickle-{self._fields}: {self._fields}\r\n".encode())
        except (BrokenPipeError, ConnectionResetError):
            self.dropped_after = time.monotonic() - self.started
        self._fields += 1


@pytest.mark.parametrize(
    "sent",
    [
        pytest.param(b"", id="nothing"),
        pytest.param(b"GET /small.t", id="half-a-request-line"),
        pytest.param(b"GET /small.txt HTTP/1.1\r\nHost: x\r\n", id="head-without-its-end"),
    ],
)
def test_an_incomplete_head_gets_408_and_is_closed_in_time(port: int, sent: bytes) -> None:
    with _connect(port) as sock:
        started = time.monotonic()
        sock.sendall(sent)
        answer = read_until_closed(sock)
        elapsed = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"connection: close" in answer.lower()
    assert HEADER_TIMEOUT - 0.2 <= elapsed <= HEADER_TIMEOUT + SLACK


def test_slowloris_clients_are_dropped_in_time_while_others_are_served(port: int) -> None:
    held = [Slowloris(port) for _ in range(MAX_CONNECTIONS - 1)]
    try:
        served = 0
        deadline = time.monotonic() + HEADER_TIMEOUT + 2 * SLACK
        while any(client.dropped_after is None for client in held) and time.monotonic() < deadline:
            for client in held:
                client.trickle()
            assert _served(port), "a normal client was refused while slowloris clients were held"
            served += 1
            time.sleep(0.2)
    finally:
        for client in held:
            client.sock.close()
    assert served >= 3
    for client in held:
        assert client.dropped_after is not None and client.dropped_after <= HEADER_TIMEOUT + SLACK
        assert client.answer.startswith(b"HTTP/1.1 408 "), client.answer[:100]


def test_the_head_deadline_restarts_for_each_request_on_a_kept_alive_connection(port: int) -> None:
    client = h11.Connection(h11.CLIENT)
    with _connect(port) as sock:
        for _ in range(2):
            _get_small(sock, client)
            time.sleep(IDLE_TIMEOUT / 2)
        sock.sendall(b"GET /small.txt HTTP/1.1\r\n")  # then nothing more
        started = time.monotonic()
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert HEADER_TIMEOUT - 0.2 <= time.monotonic() - started <= HEADER_TIMEOUT + SLACK


def test_an_idle_kept_alive_connection_is_closed_after_the_idle_timeout(port: int) -> None:
    client = h11.Connection(h11.CLIENT)
    with _connect(port) as sock:
        _get_small(sock, client)
        started = time.monotonic()
        rest = read_until_closed(sock)
        elapsed = time.monotonic() - started
    assert rest == b""
    assert IDLE_TIMEOUT - 0.2 <= elapsed <= IDLE_TIMEOUT + SLACK


def test_past_the_connection_limit_clients_get_503_until_the_silent_ones_are_dropped(port: int) -> None:
    time.sleep(0.5)  # connections closed by earlier tests leave the count
    silent = [_connect(port) for _ in range(MAX_CONNECTIONS)]
    try:
        time.sleep(0.2)
        refused = httpx.get(f"http://127.0.0.1:{port}/small.txt", timeout=10)
        assert refused.status_code == 503
        assert refused.headers["connection"] == "close"
        for sock in silent:
            assert read_until_closed(sock).startswith(b"HTTP/1.1 408 ")
            sock.close()
        assert _served_soon(port)
    finally:
        for sock in silent:
            sock.close()
