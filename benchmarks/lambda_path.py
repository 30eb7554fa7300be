"""Benchmark: the same object through both doors, uvicorn and the Lambda path, side by side.

Run:  .venv/bin/python benchmarks/lambda_path.py [--size-mib 256]

Everything runs on loopback, each part in its own process: moto's S3 server, holding one
generated object (default 256 MiB); the proxy under uvicorn (``python -m service serve``);
and the Lambda path, the local Function URL emulator (``python -m service function-url
--no-limits --timeout 900``) with this project's runtime (``python -m service lambda``) as its
child. The doors are measured one after the other, each alone with moto: one small warm-up
request, then five ranged GETs of ``bytes=0-1023`` (median time to first byte), then one full
GET (time to first body byte, throughput, sha256 of the body) while the resident memory of
the door's processes is sampled from ``/proc``. Every request opens a new connection. The
same requests straight to moto end the report, to tell the doors' cost from moto's own.

The table shows the two doors and the ratio Lambda path / uvicorn for each row. Memory is
``VmRSS`` sampled every 20 ms and the kernel's high-water mark ``VmHWM`` (both in
``/proc/PID/status``). The exit status is 1 if any body differs from the object.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import httpx
from boto3.s3.transfer import TransferConfig

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

MiB = 1024 * 1024
BUCKET = "bench"
KEY = "big.bin"
RANGE = "bytes=0-1023"
RANGE_LENGTH = 1024
RANGED_RUNS = 5
RANGED_LABEL = f"{RANGE} time to first byte, ms (median of {RANGED_RUNS})"
SAMPLE_INTERVAL = 0.02
"""Seconds between two ``VmRSS`` samples."""
START_TIMEOUT = 60.0
"""Seconds a server gets to answer its first request."""
SEED_BLOCK = hashlib.sha256(b"s3-stream-proxy benchmark").digest() * (MiB // 32)


# --- the object: generated block by block, so neither side ever holds it whole -------------


def block(index: int) -> bytes:
    """The ``index``-th MiB of the object: its index (8 bytes, big-endian), then a fixed pattern."""
    return index.to_bytes(8, "big") + SEED_BLOCK[8:]


def object_sha256(size: int) -> str:
    """The hex sha256 of the first ``size`` bytes (a whole number of MiB) of the object."""
    digest = hashlib.sha256()
    for index in range(size // MiB):
        digest.update(block(index))
    return digest.hexdigest()


class GeneratedObject(io.RawIOBase):
    """A non-seekable raw reader of the object's first ``size`` bytes, made one block at a time.

    Upload it wrapped in :class:`io.BufferedReader`: the uploader sizes its parts by what one
    ``read(n)`` returns and S3 rejects parts under 5 MiB, and a buffered ``read(n)`` returns
    ``n`` bytes until the object ends.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._position = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        written = 0
        while written < len(view) and self._position < self._size:
            index, offset = divmod(self._position, MiB)
            piece = block(index)[offset : offset + len(view) - written]
            view[written : written + len(piece)] = piece
            written += len(piece)
            self._position += len(piece)
        return written


def seed(endpoint: str, size: int) -> str:
    """Upload the object to a new bucket of the S3 at ``endpoint`` in 8 MiB parts.

    Returns a presigned GET URL of it (valid for an hour), for the straight-from-S3 reference:
    moto refuses unsigned GETs of some objects.
    """
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    with io.BufferedReader(GeneratedObject(size), buffer_size=MiB) as body:
        s3.upload_fileobj(body, BUCKET, KEY, Config=TransferConfig(max_concurrency=2))
    return s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": KEY}, ExpiresIn=3600)


# --- processes and their memory, from /proc ------------------------------------------------


def status_kib(pid: int, name: str) -> int:
    """A ``kB`` field of ``/proc/PID/status`` (``VmRSS``, ``VmHWM``); raises SystemExit if absent."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except FileNotFoundError:
        raise SystemExit(f"benchmark: process {pid} is gone") from None
    for line in lines:
        if line.startswith(name + ":"):
            return int(line.split()[1])
    raise SystemExit(f"benchmark: no {name} for process {pid}")


def child_pids(pid: int) -> list[int]:
    """The children of ``pid``, from ``/proc/PID/task/*/children``.

    Kernels built without ``CONFIG_PROC_CHILDREN`` have no such file; then every
    ``/proc/N/stat`` is read for its parent id (the field after the parenthesised name).
    """
    files = list(Path(f"/proc/{pid}/task").glob("*/children"))
    if files:
        return sorted(int(word) for path in files for word in path.read_text().split())
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            after_name = stat.read_text().rpartition(")")[2].split()
            if int(after_name[1]) == pid:
                children.append(int(stat.parent.name))
    return sorted(children)


@dataclass
class Memory:
    """Resident memory of one process in KiB: before the full GET, peak sampled, high-water mark."""

    idle: int
    peak_sampled: int = 0
    high_water: int = 0


class RssSampler:
    """Samples ``VmRSS`` of some processes in a thread; on exit, records each one's ``VmHWM``."""

    def __init__(self, pids: Mapping[str, int]) -> None:
        self._pids = dict(pids)
        self.memory = {role: Memory(idle=status_kib(pid, "VmRSS")) for role, pid in self._pids.items()}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        for role, pid in self._pids.items():
            self._sample(role, pid)
            self.memory[role].high_water = status_kib(pid, "VmHWM")

    def _run(self) -> None:
        while not self._done.wait(SAMPLE_INTERVAL):
            for role, pid in self._pids.items():
                with contextlib.suppress(SystemExit):  # a vanished process is caught in __exit__
                    self._sample(role, pid)

    def _sample(self, role: str, pid: int) -> None:
        memory = self.memory[role]
        memory.peak_sampled = max(memory.peak_sampled, memory.idle, status_kib(pid, "VmRSS"))


@contextlib.contextmanager
def running(command: Sequence[str], env: Mapping[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` with its output in ``log``; on exit, SIGTERM it and wait (SIGKILL after 10 s)."""
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=dict(env), stdout=output, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until ``url`` answers 2xx; raises SystemExit with the log's tail if it never does."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url, timeout=START_TIMEOUT, trust_env=False).is_success:
                return
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-2000:]
    raise SystemExit(f"benchmark: {url} did not come up; the end of {log.name}:\n{tail}")


# --- requests --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fetched:
    """One GET: seconds to the first body byte and to the last, and the body's sha256 and length."""

    ttfb: float
    total: float
    sha256: str
    length: int


def fetch(url: str, headers: Mapping[str, str] | None = None) -> Fetched:
    """GET ``url`` on a new connection; raises httpx.HTTPStatusError unless 2xx."""
    digest = hashlib.sha256()
    started = time.perf_counter()
    ttfb = 0.0
    length = 0
    with httpx.stream("GET", url, headers=headers, timeout=900, trust_env=False) as response:
        response.raise_for_status()
        # No chunk size: each chunk is what one socket read returned, so the first one marks
        # the first body byte rather than the first full buffer.
        for chunk in response.iter_raw():
            if not length:
                ttfb = time.perf_counter() - started
            length += len(chunk)
            digest.update(chunk)
    return Fetched(ttfb, time.perf_counter() - started, digest.hexdigest(), length)


# --- one door --------------------------------------------------------------------------------


@dataclass
class DoorResult:
    """What one door measured; times in seconds, memory per process role."""

    full: Fetched
    ranged_ttfb: float
    body_ok: bool
    memory: dict[str, Memory] = field(default_factory=dict)

    @property
    def throughput(self) -> float:
        """Full GET throughput in MiB/s."""
        return self.full.length / MiB / self.full.total


@dataclass(frozen=True)
class ExpectedDigests:
    """The object as the client must receive it: its size in bytes and sha256s, whole and ranged."""

    size: int
    sha256: str
    range_sha256: str


def measure(url: str, expected: ExpectedDigests, pids: Mapping[str, int]) -> DoorResult:
    """Warm up, time the ranged GETs, then the full GET while sampling the processes ``pids`` names."""
    fetch(url, {"Range": "bytes=0-0"})
    ranged = [fetch(url, {"Range": RANGE}) for _ in range(RANGED_RUNS)]
    with RssSampler(pids) as sampler:
        full = fetch(url)
    ranged_ok = all(r.sha256 == expected.range_sha256 and r.length == RANGE_LENGTH for r in ranged)
    full_ok = full.sha256 == expected.sha256 and full.length == expected.size
    return DoorResult(full, statistics.median(r.ttfb for r in ranged), ranged_ok and full_ok, sampler.memory)


def through_uvicorn(env: Mapping[str, str], logs: Path, expected: ExpectedDigests) -> DoorResult:
    """Measure ``python -m service serve``; its one process is the ``server``."""
    port = free_port()
    log = logs / "uvicorn.log"
    with running([sys.executable, "-m", "service", "serve", "--port", str(port)], env, log) as server:
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/_s3proxy/health", server, log)
        return measure(f"{base}/{KEY}", expected, {"server": server.pid})


def through_lambda(env: Mapping[str, str], logs: Path, expected: ExpectedDigests) -> DoorResult:
    """Measure ``python -m service function-url``: the ``emulator`` and its child, the ``server``."""
    port = free_port()
    log = logs / "function-url.log"
    command = [sys.executable, "-m", "service", "function-url", "--port", str(port), "--no-limits", "--timeout", "900"]
    with running(command, env, log) as emulator:
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/_s3proxy/health", emulator, log)
        runtimes = child_pids(emulator.pid)
        if len(runtimes) != 1:
            raise SystemExit(f"benchmark: expected one runtime under the emulator, found {runtimes}")
        result = measure(f"{base}/{KEY}", expected, {"server": runtimes[0], "emulator": emulator.pid})
        if child_pids(emulator.pid) != runtimes:
            raise SystemExit(f"benchmark: the runtime {runtimes[0]} was replaced during the run; see {log}")
        return result


# --- the report ------------------------------------------------------------------------------


def ratio(lambda_value: float, uvicorn_value: float) -> str:
    """``lambda_value / uvicorn_value`` as ``1.23x``."""
    return f"{lambda_value / uvicorn_value:.2f}x" if uvicorn_value else "-"


def table(uvicorn: DoorResult, lambda_: DoorResult) -> list[tuple[str, str, str, str]]:
    """The report's rows: what, uvicorn, Lambda path, Lambda path / uvicorn."""

    def row(label: str, u: float, lam: float, unit: float = 1.0) -> tuple[str, str, str, str]:
        return label, f"{u / unit:.1f}", f"{lam / unit:.1f}", ratio(lam, u)

    server_u, server_l, emulator = uvicorn.memory["server"], lambda_.memory["server"], lambda_.memory["emulator"]
    return [
        row("full GET throughput, MiB/s", uvicorn.throughput, lambda_.throughput),
        row("full GET time to first byte, ms", uvicorn.full.ttfb, lambda_.full.ttfb, 1e-3),
        row(RANGED_LABEL, uvicorn.ranged_ttfb, lambda_.ranged_ttfb, 1e-3),
        row("server RSS before the full GET, MiB", server_u.idle, server_l.idle, 1024),
        row("server RSS peak sampled, MiB", server_u.peak_sampled, server_l.peak_sampled, 1024),
        row("server RSS high-water (VmHWM), MiB", server_u.high_water, server_l.high_water, 1024),
        ("emulator RSS peak sampled, MiB", "-", f"{emulator.peak_sampled / 1024:.1f}", "-"),
        ("emulator RSS high-water (VmHWM), MiB", "-", f"{emulator.high_water / 1024:.1f}", "-"),
        row("all processes' VmHWM, MiB", server_u.high_water, server_l.high_water + emulator.high_water, 1024),
        ("bodies match the object (sha256)", yes_no(uvicorn.body_ok), yes_no(lambda_.body_ok), "-"),
    ]


def yes_no(ok: bool) -> str:
    """``yes``, or ``NO`` loud enough to see in a table."""
    return "yes" if ok else "NO"


def print_report(size: int, uvicorn: DoorResult, lambda_: DoorResult, direct: DoorResult) -> None:
    """Print the object size, the side-by-side table and the straight-from-S3 reference."""
    rows = [("", "uvicorn", "Lambda path", "Lambda/uvicorn"), *table(uvicorn, lambda_)]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    print(f"object: {size // MiB} MiB in moto, loopback; server = the uvicorn process / the Lambda runtime")
    for label, *cells in rows:
        print(f"{label:<{widths[0]}}  " + "  ".join(f"{cell:>{w}}" for cell, w in zip(cells, widths[1:], strict=True)))
    print(
        f"reference, straight from moto: {direct.throughput:.1f} MiB/s, time to first byte "
        f"{direct.full.ttfb * 1000:.1f} ms, {RANGE} {direct.ranged_ttfb * 1000:.1f} ms"
    )


# --- main ------------------------------------------------------------------------------------


def positive_int(text: str) -> int:
    """argparse type: a positive whole number."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return int(text)


def main() -> int:
    """Parse the options and run; return 0, or 1 if a body differs from the object or a GET fails."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size-mib", type=positive_int, default=256, help="object size in MiB (default: 256)")
    size = parser.parse_args().size_mib * MiB
    try:
        return run(size)
    except httpx.HTTPError as exc:
        print(f"benchmark: {exc}", file=sys.stderr)
        return 1


def run(size: int) -> int:
    """Start moto, seed a ``size``-byte object, measure both doors and moto, print the report."""
    loopback = {"NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    credentials = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_REGION": "us-east-1"}
    env = {**os.environ, **loopback, **credentials}
    os.environ.update(loopback | credentials)
    expected = ExpectedDigests(size, object_sha256(size), hashlib.sha256(block(0)[:RANGE_LENGTH]).hexdigest())
    moto_port = free_port()
    endpoint = f"http://127.0.0.1:{moto_port}"
    with tempfile.TemporaryDirectory(prefix="s3-stream-proxy-bench-") as tmp:
        logs = Path(tmp)
        moto_command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)]
        with running(moto_command, env, logs / "moto.log") as moto:
            wait_http(f"{endpoint}/moto-api/", moto, logs / "moto.log")
            presigned = seed(endpoint, size)
            proxy_env = {**env, "S3_PROXY_BUCKET": BUCKET, "S3_PROXY_ENDPOINT_URL": endpoint}
            uvicorn = through_uvicorn(proxy_env, logs, expected)
            lambda_ = through_lambda(proxy_env, logs, expected)
            direct = measure(presigned, expected, {"moto": moto.pid})
    print_report(size, uvicorn, lambda_, direct)
    return 0 if uvicorn.body_ok and lambda_.body_ok and direct.body_ok else 1


if __name__ == "__main__":
    sys.exit(main())
