"""The fault table: one GET through each door while S3 fails in one way, and what the client saw.

Run:  .venv/bin/python benchmarks/faults.py [--size-mib 32] [--read-timeout 2] [--short-timeout 5] [--long-timeout S]

moto's S3 server runs as a process of its own, holding one object of random bytes (default
32 MiB). For every pair of fault and door a fresh proxy is started, reaching moto through the
fault-injecting TCP relay of the test suite (``tests/support/relay.py``), and one client GETs
the whole object with httpx, streaming, until the body ends or the connection is aborted.
The doors (each warmed up with one health check, which asks S3 nothing):

* ``serve``: uvicorn, as ``s3-stream-proxy serve`` runs it;
* ``function-url, limits on, LONG s``: our Lambda runtime behind the local Function URL
  emulator with Lambda's limits (6 MiB burst, then 2 MiB/s) and a function timeout of
  ``--long-timeout`` seconds, by default long enough for the object at Lambda's rate plus
  6 s (20 s for 32 MiB);
* ``function-url, limits off, LONG s``: the same at loopback speed. The runtime still ends
  a stream whose bytes could not drain at Lambda's documented rate before the deadline (it
  cannot know the emulator's limits are off), hence the same long timeout;
* ``function-url, limits on, SHORT s``: Lambda's limits and a short function timeout
  (``--short-timeout``, 5 s), where the deadline comes before a large object is through.

The faults (the cut point is a quarter of the object, counted in bytes S3 sent):

* the S3 connection cut, or reset (TCP RST), mid-body, once;
* the body stalling mid-way, once, until ``S3_PROXY_READ_TIMEOUT`` (``--read-timeout``);
* ``503 SlowDown`` on the first GetObject, or on the resume after a cut;
* every S3 connection cut mid-body, so the resume attempts are used up;
* every S3 connection refused (reset as soon as it is accepted, before any answer);
* S3 never answering (a request accepted, no byte sent back);
* the body stalling mid-way for longer than any function timeout (the read timeout is
  raised to the long timeout plus 5 s), so on Lambda the deadline comes first.

Each row records the status, the body bytes received and the length declared
(``Content-Length``; a Function URL answers chunked and declares none), whether the body
ended cleanly and was byte-identical to the object (SHA-256) or was aborted, the GetObject
requests the relay forwarded to S3 and the connections the proxy opened to it (a relay's
503 or refused connection reaches S3 with no request), and the seconds from sending the
request until the body ended or was aborted. On the Function URL doors the emulator's
verdict on the invocation is added (e.g. ``Function.DeadlineExceeded``).

Prints a Markdown table; ``--json FILE`` also writes the rows as JSON. Nothing here asserts
an outcome: the exit status is 0 once every row was measured.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import logging
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import boto3
import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # the relay and the door helpers live in the test suite

from s3proxy_dev.function_url.config import PlatformLimits  # noqa: E402
from service.lambda_bridge.bandwidth import STREAM_BURST_BYTES, STREAM_RATE_BYTES_PER_SECOND  # noqa: E402
from service.settings import Settings  # noqa: E402
from tests.support.relay import Canned, CutAfter, Fault, Refuse, Relay, ResetAfter, Stall, StallAfter  # noqa: E402
from tests.support.servers import serve_function_url, serve_proxy  # noqa: E402

MiB = 1024 * 1024
BUCKET = "faults"
KEY = "object.bin"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "faults", "AWS_SECRET_ACCESS_KEY": "faults", "AWS_REGION": "us-east-1"}
"""moto accepts any credentials; these keep the machine's own out of the run."""
START_TIMEOUT = 30.0
"""Seconds moto gets to answer its first request."""
CLIENT_TIMEOUT = 120.0
"""Seconds the client waits for any one read; far more than any door takes to give up."""
EMULATOR_LOG = "s3proxy_dev.function_url"
HEALTH = "/_s3proxy/health"


@dataclass(frozen=True)
class Scenario:
    """One fault: what the relay does to the next connections (``queued``, in order) and to
    every other one (``fault``), and the read timeout (seconds) the proxy runs with."""

    name: str
    queued: tuple[Fault, ...]
    fault: Fault
    read_timeout: float


@dataclass(frozen=True)
class Door:
    """How the proxy is reached: uvicorn, or the Function URL emulator with or without
    Lambda's limits and a function timeout of ``timeout`` seconds."""

    name: str
    lambda_limits: PlatformLimits | None = None
    timeout: float | None = None
    """The function timeout (seconds); None for ``serve``, which has none."""

    def open(self, settings: Settings, runtime_log: Path) -> AbstractContextManager[str]:
        """Start the proxy behind this door; the context yields its base URL."""
        if self.timeout is None:
            return serve_proxy(settings)
        return serve_function_url(settings, timeout=self.timeout, limits=self.lambda_limits, runtime_output=runtime_log)


@dataclass
class Row:
    """What one GET met. Sizes in bytes, ``seconds`` from the request until its end."""

    fault: str
    door: str
    status: int = 0
    received: int = 0
    declared: int | None = None
    complete: bool = False
    """The body ended cleanly (its declared length, or the last chunk, arrived)."""
    identical: bool = False
    """A complete 200 whose bytes have the object's SHA-256."""
    error: str = ""
    """Why the client's read ended early (the httpx exception), or an error answer's first line."""
    invocation: str = ""
    """The emulator's verdict on the invocation (Function URL doors only)."""
    gets: int = 0
    connections: int = 0
    seconds: float = 0.0

    def client_saw(self) -> str:
        """The outcome in a few words, for the table."""
        if self.status == 0:
            saw = f"no response ({self.error})"
        elif self.status >= 300:
            saw = f"{self.status} `{self.error}`" if self.error else str(self.status)
        elif not self.complete:
            saw = f"{self.status}, aborted ({self.error})"
        elif self.identical:
            saw = f"{self.status}, complete, identical"
        else:
            saw = f"{self.status}, complete but NOT identical"
        return f"{saw}; {self.invocation}" if self.invocation else saw


def scenarios(size: int, read_timeout: float, long_read_timeout: float) -> list[Scenario]:
    """The faults, cut or stalled after a quarter of a ``size``-byte object has left S3."""
    cut = size // 4
    slow_down = Canned(503, "SlowDown")
    plain = Scenario("", (), None, read_timeout)
    return [
        replace(plain, name="S3 connection cut mid-body, once", queued=(CutAfter(cut),)),
        replace(plain, name="S3 connection reset mid-body, once", queued=(ResetAfter(cut),)),
        replace(
            plain, name=f"S3 body stalled mid-way, once ({read_timeout:g} s read timeout)", queued=(StallAfter(cut),)
        ),
        replace(plain, name="503 SlowDown on the first GetObject", queued=(slow_down,)),
        replace(plain, name="503 SlowDown on the resume after a cut", queued=(CutAfter(cut), slow_down)),
        replace(plain, name="every S3 connection cut mid-body (resumes used up)", fault=CutAfter(cut)),
        replace(plain, name="S3 refusing every connection", fault=Refuse()),
        replace(plain, name=f"S3 never answering ({read_timeout:g} s read timeout)", fault=Stall()),
        Scenario(
            f"S3 body stalled past the function timeout ({long_read_timeout:g} s read timeout)",
            (StallAfter(cut),),
            None,
            long_read_timeout,
        ),
    ]


def doors(short_timeout: float, long_timeout: float) -> list[Door]:
    """``serve``, then the Function URL with and without Lambda's limits, then with a short timeout."""
    return [
        Door("serve"),
        Door(f"function-url, limits on, {long_timeout:g} s", PlatformLimits(), long_timeout),
        Door(f"function-url, limits off, {long_timeout:g} s", None, long_timeout),
        Door(f"function-url, limits on, {short_timeout:g} s", PlatformLimits(), short_timeout),
    ]


def long_enough(size: int) -> float:
    """A function timeout (seconds) in which ``size`` bytes drain at Lambda's documented rate
    (as the runtime reckons it), with 1 s for the runtime's deadline margin and 5 s for the
    faults' own delays (a stall, a retry's back-off)."""
    return float(math.ceil(max(0, size - STREAM_BURST_BYTES) / STREAM_RATE_BYTES_PER_SECOND) + 6)


# --- one GET --------------------------------------------------------------------------------


def get(url: str, row: Row, expected_sha256: str) -> None:
    """GET ``url`` streaming to the end or until the connection aborts; fill in ``row``."""
    digest = hashlib.sha256()
    first = b""
    started = time.perf_counter()
    try:
        with httpx.stream("GET", url, timeout=CLIENT_TIMEOUT) as response:
            row.status = response.status_code
            length = response.headers.get("content-length")
            row.declared = int(length) if length is not None else None
            for chunk in response.iter_raw():
                if not first:
                    first = chunk[:200]
                digest.update(chunk)
                row.received += len(chunk)
            row.complete = True
    except httpx.TransportError as exc:
        row.error = type(exc).__name__
    row.seconds = time.perf_counter() - started
    if row.complete and row.status >= 300:
        row.error = first.decode("utf-8", "replace").splitlines()[0] if first else ""
    row.identical = row.complete and row.status == 200 and digest.hexdigest() == expected_sha256


def warm_up(base: str) -> None:
    """One health check first, which asks S3 nothing: the Lambda runtime's first invocation
    (its cold start) is not counted in the time, and no S3 connection is pooled before the
    measured GET, whose connections the relay's faults are for."""
    httpx.get(f"{base}{HEALTH}", timeout=CLIENT_TIMEOUT).raise_for_status()


class InvocationLog(logging.Handler):
    """Collects what the emulator concludes about each invocation: its outcome line
    (``GET /key -> 200, cut: Function.StreamError``) and any Lambda-side timeout."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def verdict(self) -> str:
        """The invocation's failure as the emulator reported it, or "" when it succeeded."""
        timed_out = [line for line in self.lines if "Task timed out" in line]
        failed = [line.split(" Failed: ", 1)[1].split(":", 1)[0] for line in self.lines if " Failed: " in line]
        if timed_out:
            return "invocation: Sandbox.Timeout"
        return f"invocation: {failed[0]}" if failed else ""


@contextlib.contextmanager
def emulator_log() -> Iterator[InvocationLog]:
    """Capture the emulator's log records (kept off the terminal) for the ``with`` block."""
    logger = logging.getLogger(EMULATOR_LOG)
    handler = InvocationLog()
    saved = (logger.level, logger.propagate)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


def measure(scenario: Scenario, door: Door, moto_url: str, expected_sha256: str, runtime_log: Path) -> Row:
    """Start a fresh relay and proxy for one fault and door, GET the object once, and say what happened."""
    row = Row(fault=scenario.name, door=door.name)
    relay = Relay(moto_url)
    relay.start()
    try:
        relay.queued = list(scenario.queued)
        relay.fault = scenario.fault
        settings = Settings(
            bucket=BUCKET, endpoint_url=relay.url, region=CREDENTIALS["AWS_REGION"], read_timeout=scenario.read_timeout
        )
        with emulator_log() as log, door.open(settings, runtime_log) as base:
            warm_up(base)
            get(f"{base}/{KEY}", row, expected_sha256)
        row.invocation = log.verdict() if door.timeout is not None else ""
        row.gets = len([method for method in relay.requests_for(f"/{KEY}") if method == "GET"])
        row.connections = relay.connections_made
    finally:
        relay.stop()
    return row


# --- moto -----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """Run moto's S3 server as a process on loopback; yield its URL."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_until_up(f"{url}/moto-api/", process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"faults: moto exited with status {process.returncode}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url, timeout=5).status_code == 200:
                return
        time.sleep(0.1)
    raise SystemExit(f"faults: moto did not answer in {START_TIMEOUT:g} s")


def seed(moto_url: str, body: bytes) -> None:
    """Create the bucket and put the object straight into moto (not through the relay)."""
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_url,
        region_name=CREDENTIALS["AWS_REGION"],
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=body)


# --- the report -----------------------------------------------------------------------------


def table(rows: list[Row]) -> str:
    """The rows as a Markdown table: fault | door | client saw | bytes | S3 requests | time."""
    lines = [
        "| fault | door | client saw | bytes received / declared | S3 requests | time (s) |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        declared = f"{row.declared:,}" if row.declared is not None else "chunked"
        requests = f"{row.gets} GET, {row.connections} conn."
        lines.append(
            f"| {row.fault} | {row.door} | {row.client_saw()} | {row.received:,} / {declared} | {requests} "
            f"| {row.seconds:.2f} |"
        )
    return "\n".join(lines)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="faults.py", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size-mib", type=float, default=32.0, help="object size in MiB (default: %(default)s)")
    parser.add_argument(
        "--read-timeout", type=float, default=2.0, help="S3_PROXY_READ_TIMEOUT, seconds (default: %(default)s)"
    )
    parser.add_argument(
        "--short-timeout", type=float, default=5.0, help="the short function timeout, seconds (default: %(default)s)"
    )
    parser.add_argument(
        "--long-timeout",
        type=float,
        help="the long function timeout, seconds (default: enough for the object at Lambda's rate, plus 6 s)",
    )
    parser.add_argument("--only", default="", help="measure only the faults whose name contains this text")
    parser.add_argument("--json", type=Path, help="also write the rows to this file as JSON")
    parser.add_argument("--runtime-log", type=Path, help="append the Lambda runtime's output here (default: discard)")
    args = parser.parse_args(argv)
    args.size = max(1, int(args.size_mib * MiB))
    if args.long_timeout is None:
        args.long_timeout = max(args.short_timeout, long_enough(args.size))
    if args.size_mib <= 0 or args.read_timeout <= 0 or min(args.short_timeout, args.long_timeout) <= 1:
        parser.error("need a positive size and read timeout, and function timeouts over 1 s (the deadline margin)")
    return args


def run(args: argparse.Namespace, progress: Callable[[str], None]) -> list[Row]:
    """Measure every fault through every door; report each row to ``progress`` as it is done."""
    body = os.urandom(args.size)
    expected = hashlib.sha256(body).hexdigest()
    long_read_timeout = args.long_timeout + 5.0
    rows = []
    with moto_server() as moto_url, tempfile.TemporaryDirectory(prefix="faults-") as scratch:
        seed(moto_url, body)
        runtime_log = args.runtime_log or Path(scratch) / "runtime.log"
        for scenario in scenarios(args.size, args.read_timeout, long_read_timeout):
            if args.only not in scenario.name:
                continue
            for door in doors(args.short_timeout, args.long_timeout):
                row = measure(scenario, door, moto_url, expected, runtime_log)
                progress(f"faults: {row.fault} | {row.door} | {row.client_saw()} | {row.seconds:.2f} s")
                rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    """Build the fault table; return the exit status (see the module docstring)."""
    args = _arguments(argv)
    _isolate_credentials(os.environ)
    # A SIGTERM unwinds like Ctrl-C, so moto, the relay and the doors are stopped on the way out.
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))
    rows = run(args, lambda line: print(line, file=sys.stderr, flush=True))
    print(
        f"{args.size:,}-byte object; S3_PROXY_READ_TIMEOUT {args.read_timeout:g} s unless given, "
        f"S3_PROXY_RESUME_ATTEMPTS and S3_PROXY_MAX_ATTEMPTS at their defaults ({Settings.resume_attempts}, "
        f"{Settings.max_attempts})\n"
    )
    print(table(rows))
    if args.json is not None:
        args.json.write_text(json.dumps([asdict(row) for row in rows], indent=2) + "\n")
    return 0


def _isolate_credentials(environ: MutableMapping[str, str]) -> None:
    """Point the proxy (and the runtime child, which inherits them) at moto's fake credentials."""
    environ.update(CREDENTIALS)
    for variable in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        environ.pop(variable, None)


if __name__ == "__main__":
    sys.exit(main())
