"""Slow, idle and excess clients against ``s3-stream-proxy serve``, over raw sockets.

The proxy runs as its own process with short limits: the request head must arrive within
``HEADER_TIMEOUT`` s, an idle keep-alive connection lasts ``IDLE_TIMEOUT`` s, at most
``MAX_CONNECTIONS`` connections are served at once (503 past it), and SIGTERM waits at most
``SHUTDOWN_TIMEOUT`` s for streams in flight. Slowloris-style clients are dropped in time
while a normal client keeps being served.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.backends import CREDENTIALS, Backend, seed_bucket
from tests.support.sockets import free_port, read_until_closed

ROOT = Path(__file__).resolve().parents[1]
HEADER_TIMEOUT = 1.5
IDLE_TIMEOUT = 1.0
MAX_CONNECTIONS = 6
SHUTDOWN_TIMEOUT = 2.0
SLACK = 2.0
"""Seconds a timer may fire late on a loaded machine."""
SMALL = b"small object\n"
LARGE_SIZE = 64 * 1024 * 1024


@pytest.fixture(scope="module")
def bucket(moto: Backend) -> str:
    large = os.urandom(1024 * 1024) * (LARGE_SIZE // (1024 * 1024))
    return seed_bucket(moto, "slow", {"small.txt": SMALL, "large.bin": large})


@contextlib.contextmanager
def _serve(moto: Backend, bucket: str) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        **CREDENTIALS,
        "S3_PROXY_BUCKET": bucket,
        "S3_PROXY_ENDPOINT_URL": moto.endpoint_url,
        "S3_PROXY_HEADER_TIMEOUT": str(HEADER_TIMEOUT),
        "S3_PROXY_IDLE_TIMEOUT": str(IDLE_TIMEOUT),
        "S3_PROXY_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
        "S3_PROXY_SHUTDOWN_TIMEOUT": str(SHUTDOWN_TIMEOUT),
    }
    command = [sys.executable, "-m", "service", "serve", "--port", str(port)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_until_healthy(process, port)
        yield process, port
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def _wait_until_healthy(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"http://127.0.0.1:{port}/_s3proxy/health", timeout=1).status_code == 200:
                return
        time.sleep(0.05)
    pytest.fail("the proxy did not start")


@pytest.fixture(scope="module")
def port(moto: Backend, bucket: str) -> Iterator[int]:
    with _serve(moto, bucket) as (_, port):
        yield port


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=HEADER_TIMEOUT + IDLE_TIMEOUT + 3 * SLACK)
    return sock


def _served(port: int) -> bool:
    response = httpx.get(f"http://127.0.0.1:{port}/small.txt", timeout=10)
    return response.status_code == 200 and response.content == SMALL


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
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert HEADER_TIMEOUT - 0.2 <= elapsed <= HEADER_TIMEOUT + SLACK


def test_a_head_trickled_one_field_at_a_time_is_dropped_while_others_are_served(port: int) -> None:
    with _connect(port) as sock:
        sock.sendall(b"GET /small.txt HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        closed_after = None
        for index in range(40):
            time.sleep(0.25)
            try:
                sock.sendall(f"X-Trickle-{index}: {index}\r\n".encode())
            except (BrokenPipeError, ConnectionResetError):
                closed_after = time.monotonic() - started
                break
            assert _served(port) if index % 4 == 0 else True
        if closed_after is None:
            answer = read_until_closed(sock)
            closed_after = time.monotonic() - started
            assert answer.startswith(b"HTTP/1.1 408")
    assert closed_after <= HEADER_TIMEOUT + SLACK


def test_the_head_deadline_restarts_for_each_request_on_a_kept_alive_connection(port: int) -> None:
    with _connect(port) as sock:
        for _ in range(2):
            sock.sendall(b"GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            received = b""
            while not received.endswith(SMALL):
                received += sock.recv(65536)
            assert received.startswith(b"HTTP/1.1 200")
            time.sleep(IDLE_TIMEOUT / 2)
        sock.sendall(b"GET /small.txt HTTP/1.1\r\n")  # then nothing more
        started = time.monotonic()
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 408")
    assert time.monotonic() - started <= HEADER_TIMEOUT + SLACK


def test_an_idle_kept_alive_connection_is_closed_after_the_idle_timeout(port: int) -> None:
    with _connect(port) as sock:
        sock.sendall(b"GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        while not received.endswith(SMALL):
            received += sock.recv(65536)
        started = time.monotonic()
        rest = read_until_closed(sock)
        elapsed = time.monotonic() - started
    assert rest == b""
    assert IDLE_TIMEOUT - 0.2 <= elapsed <= IDLE_TIMEOUT + SLACK


def test_past_the_connection_limit_clients_get_503_until_the_silent_ones_are_dropped(port: int) -> None:
    silent = [_connect(port) for _ in range(MAX_CONNECTIONS)]
    try:
        time.sleep(0.2)
        refused = httpx.get(f"http://127.0.0.1:{port}/small.txt", timeout=10)
        assert refused.status_code == 503
        for sock in silent:
            assert read_until_closed(sock).startswith(b"HTTP/1.1 408")
        assert _served(port)
    finally:
        for sock in silent:
            sock.close()


def test_sigterm_waits_for_streams_at_most_the_shutdown_timeout_and_aborts_the_rest(moto: Backend, bucket: str) -> None:
    with _serve(moto, bucket) as (process, port), _connect(port) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        sock.sendall(b"GET /large.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        head = sock.recv(4096)
        assert head.startswith(b"HTTP/1.1 200")
        assert f"content-length: {LARGE_SIZE}".encode() in head.lower()
        time.sleep(0.5)  # the client reads nothing more: the stream is stuck on backpressure
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=SHUTDOWN_TIMEOUT + 3 * SLACK)
        exited_after = time.monotonic() - started
        body = head.split(b"\r\n\r\n", 1)[1] + read_until_closed(sock)
    assert SHUTDOWN_TIMEOUT - 0.2 <= exited_after <= SHUTDOWN_TIMEOUT + 2 * SLACK
    assert len(body) < LARGE_SIZE  # aborted: the client sees a body short of its Content-Length
