"""The benchmark suite of issue 12: the proxy side by side with nginx and the Node.js design.

Run:  make bench   (installs nginx and the Node.js reference, then runs this with BENCH_ARGS)
      .venv/bin/python benchmarks/suite.py [--rounds 5] [--quick] [--out docs] [--json FILE]

Everything runs on loopback, each server in its own process:

* **nginx as S3**: nginx serving files path-style (``/bench/KEY``) from a directory, with the
  ETag, Last-Modified, Range and conditional support nginx has for static files; aiobotocore's
  GetObject and HeadObject accept its answers. The files are read from the page cache.
* **the peer**: a second nginx, one worker, ``proxy_pass`` to nginx-as-S3 with upstream
  keep-alive and no temporary files: what a user would otherwise put in front of a bucket.
* ``serve`` (uvicorn, one process) on nginx-as-S3, with the default chunk size and with
  ``S3_PROXY_CHUNK_SIZE=1048576``; also on moto and s3rver, next to GETs straight from them.
* the Lambda runtime alone (``python -m service lambda``, run as Lambda runs it: from the zip
  layout ``deploy/package.py`` builds for this interpreter, with its byte code, by the bare
  interpreter with ``-S -B``, so neither this virtualenv nor writable caches are in play) and
  the Node.js design (a handler
  on npm ``aws-lambda-ric`` with ``awslambda.streamifyResponse`` piping GetObject's body into
  ``awslambda.HttpResponseStream.from``, ``benchmarks/node/handler.mjs``), each behind a raw
  Runtime API stub in this process that serves one event at a time and drains the streamed
  response without keeping it; no emulator.
* the local Function URL emulator with a zero-cost runtime behind it
  (``benchmarks/zero_cost_runtime.py``): the emulator's own relay ceiling.

Clients are curl (C, one process per measurement, ``-Z`` for concurrency), writing to
/dev/null. Each scenario runs ``--rounds`` times; within a round the targets run one after
the other, in reverse order every other round, so that the machine's drift hits all alike.
Reported are medians and the spread (min-max) over rounds.

Units: throughput in MB/s (10^6 bytes per second, the client's bytes over the wall time of
the transfer); times in ms; CPU in seconds per GiB sent (utime + stime of the target's
processes from ``/proc/PID/stat``, the difference over the transfer); memory in MiB (the
sum of ``VmHWM`` from ``/proc/PID/status`` over the target's processes, reset before each
transfer through ``/proc/PID/clear_refs``; ``VmRSS`` sampled every 50 ms for the plots).
Cold start: seconds from spawning a runtime to its first ``GET /next`` at the stub. The
first small invocation: from the stub sending the event of a 1 KiB GET to the end of the
streamed response. The Python runtime's INIT, phase by phase (interpreter start, imports,
settings, building the app, the S3 client's creation and warm-up), comes from
``benchmarks/init_phases.py``, spawned with the runtime's environment after each cold start.

Writes ``OUT/benchmarks.md`` (the tables, the machine, the command, a tuning guide) and the
plots ``OUT/benchmarks/*.png``; ``--json FILE`` also writes every sample. The exit status is
1 if any transfer failed (wrong status or length) or a scenario produced no number.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import grp
import json
import os
import platform
import pwd
import queue
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MiB = 1024 * 1024
GiB = 1024 * MiB
MB = 1_000_000
BUCKET = "bench"
SMALL_KEY = "small-1KiB.bin"
SMALL_SIZE = 1024
CLK_TCK = os.sysconf("SC_CLK_TCK")
SAMPLE_INTERVAL = 0.05
"""Seconds between two ``VmRSS`` samples."""
START_TIMEOUT = 60.0
"""Seconds a server or runtime gets to come up."""
TRANSFER_TIMEOUT = 900.0
"""Seconds any one measurement may take."""
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "S3RVER", "AWS_SECRET_ACCESS_KEY": "S3RVER", "AWS_REGION": "us-east-1"}
"""s3rver checks signatures against these fixed credentials; moto and nginx accept any."""
NODE_DIR = ROOT / "benchmarks" / "node"
NODE_RIC = ROOT / "node_modules" / "aws-lambda-ric" / "index.mjs"
S3RVER = ROOT / "node_modules" / ".bin" / "s3rver"
RUNTIME_PREFIX = "/2018-06-01/runtime"
PYTHON_RUNTIME = "lambda runtime (Python)"


# --- settings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What to run; sizes in bytes."""

    rounds: int
    single_sizes: tuple[int, ...]
    """Object sizes of the single-stream scenario."""
    concurrent_sizes: tuple[int, ...]
    concurrencies: tuple[int, ...]
    lambda_size: int
    """Object size of the runtime-alone and relay-ceiling scenarios."""
    backend_size: int
    """Object size streamed from moto and s3rver."""
    headline_concurrency: int
    """The concurrency of the table's rows (64)."""


DEFAULT_PLAN = Plan(
    rounds=5,
    single_sizes=(16 * MiB, 64 * MiB, 256 * MiB, GiB),
    concurrent_sizes=(16 * MiB, 64 * MiB),
    concurrencies=(1, 8, 64),
    lambda_size=256 * MiB,
    backend_size=256 * MiB,
    headline_concurrency=64,
)
QUICK_PLAN = Plan(
    rounds=1,
    single_sizes=(MiB,),
    concurrent_sizes=(MiB,),
    concurrencies=(4,),
    lambda_size=MiB,
    backend_size=MiB,
    headline_concurrency=4,
)


# --- procfs -------------------------------------------------------------------------------


def cpu_seconds(pids: Sequence[int]) -> float:
    """utime + stime of ``pids`` in seconds, from ``/proc/PID/stat`` (fields 14 and 15)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def status_mib(pids: Sequence[int], name: str) -> float:
    """The sum of a ``kB`` field of ``/proc/PID/status`` (``VmRSS``, ``VmHWM``) over ``pids``, in MiB."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith(name + ":"):
                    total += int(line.split()[1])
    return total / 1024


def reset_peak(pids: Sequence[int]) -> None:
    """Reset ``VmHWM`` of ``pids`` to their current RSS (``5`` into ``/proc/PID/clear_refs``)."""
    for pid in pids:
        with contextlib.suppress(OSError), open(f"/proc/{pid}/clear_refs", "w") as file:
            file.write("5")


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (``/proc/PID/task/*/children``, else every ``/proc/N/stat``)."""
    files = list(Path(f"/proc/{pid}/task").glob("*/children"))
    if files:
        return sorted(int(word) for path in files for word in path.read_text().split())
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            if int(stat.read_text().rpartition(")")[2].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return sorted(found)


class RssSampler:
    """Samples the summed ``VmRSS`` (MiB) of some processes every :data:`SAMPLE_INTERVAL` seconds."""

    def __init__(self, pids: Sequence[int]) -> None:
        self._pids = list(pids)
        self.series: list[tuple[float, float]] = []
        """(seconds since start, MiB)."""
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = time.monotonic()

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            self.series.append((time.monotonic() - self._started, status_mib(self._pids, "VmRSS")))
            if self._done.wait(SAMPLE_INTERVAL):
                return


# --- processes ------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Spawned:
    """A process this suite started, with its log file."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def tail(self) -> str:
        """The end of its log."""
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


class Processes:
    """Starts processes with their output in a log directory; stops them all (SIGTERM, then SIGKILL)."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self._running: list[Spawned] = []

    def start(self, name: str, command: Sequence[str], env: Mapping[str, str], cwd: Path | None = None) -> Spawned:
        """Start ``command``; its stdout and stderr go to ``LOGS/NAME.log``."""
        log = self.logs / f"{name}.log"
        with log.open("ab") as output:
            process = subprocess.Popen(
                list(command), env=dict(env), stdout=output, stderr=subprocess.STDOUT, cwd=cwd or ROOT
            )
        spawned = Spawned(name, process, log)
        self._running.append(spawned)
        return spawned

    def stop(self, spawned: Spawned) -> None:
        """SIGTERM ``spawned`` and wait for it (SIGKILL after 10 s)."""
        if spawned in self._running:
            self._running.remove(spawned)
        if spawned.process.poll() is None:
            spawned.process.terminate()
            try:
                spawned.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                spawned.process.kill()
                spawned.process.wait()

    def stop_all(self) -> None:
        """Stop every process still running, the last started first."""
        for spawned in reversed(list(self._running)):
            self.stop(spawned)


def wait_http(url: str, spawned: Spawned, timeout: float = START_TIMEOUT) -> None:
    """Wait until ``url`` answers with any HTTP status; raise SystemExit with the log's tail if not."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and spawned.process.poll() is None:
        result = subprocess.run(
            ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", url],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.stdout.strip() not in ("", "000"):
            return
        time.sleep(0.1)
    raise SystemExit(f"bench: {spawned.name} did not answer {url}; the end of its log:\n{spawned.tail()}")


# --- the objects ----------------------------------------------------------------------------


def key_for(size: int) -> str:
    """The object key of the generated object of ``size`` bytes."""
    return f"object-{size}.bin"


def write_objects(directory: Path, sizes: Sequence[int]) -> dict[int, Path]:
    """Write one file per size into ``directory`` (1 MiB blocks, each unique by its index); return them."""
    pattern = os.urandom(MiB)
    files: dict[int, Path] = {}
    for size in sorted(set(sizes)):
        path = directory / key_for(size)
        with path.open("wb") as file:
            for index in range(0, size, MiB):
                block = index.to_bytes(8, "big") + pattern[8:]
                file.write(block[: min(MiB, size - index)])
        files[size] = path
    (directory / SMALL_KEY).write_bytes(pattern[:SMALL_SIZE])
    return files


# --- nginx ------------------------------------------------------------------------------------


def nginx_user_line() -> str:
    """A ``user`` directive for workers when running as root (nginx's default group may not exist)."""
    if os.geteuid() != 0:
        return ""
    for user, group in (("www-data", "www-data"), ("nobody", "nogroup"), ("nobody", "nobody")):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(user)
            grp.getgrnam(group)
            return f"user {user} {group};"
    return "user root root;"


def nginx_config(prefix: Path, workers: str, server_block: str) -> str:
    """A complete nginx.conf in the foreground, everything (pid, logs, temp) under ``prefix``."""
    temp = prefix / "temp"
    return f"""
{nginx_user_line()}
worker_processes {workers};
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    default_type application/octet-stream;
    keepalive_requests 100000;
    {server_block}
}}
"""


def fake_s3_block(port: int, directory: Path) -> str:
    """nginx-as-S3: ``GET/HEAD /bench/KEY`` answers the file ``DIRECTORY/KEY`` (ETag, ranges, conditionals)."""
    return f"""
    sendfile on;
    tcp_nopush on;
    server {{
        listen 127.0.0.1:{port} reuseport backlog=4096;
        location /{BUCKET}/ {{ alias {directory}/; etag on; }}
    }}"""


def peer_block(port: int, s3_port: int) -> str:
    """The peer: ``proxy_pass`` of ``/KEY`` to nginx-as-S3's ``/bench/KEY``, keep-alive, no temp files."""
    return f"""
    upstream s3 {{ server 127.0.0.1:{s3_port}; keepalive 128; }}
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{
            proxy_pass http://s3/{BUCKET}/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_max_temp_file_size 0;
        }}
    }}"""


def start_nginx(processes: Processes, name: str, workers: str, block: str) -> Spawned:
    """Write ``LOGS/NAME/nginx.conf`` and start nginx on it in the foreground."""
    prefix = processes.logs / name
    (prefix / "temp").mkdir(parents=True, exist_ok=True)
    prefix.chmod(0o755)
    (prefix / "nginx.conf").write_text(nginx_config(prefix, workers, block))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    return processes.start(name, [nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf")], os.environ)


# --- S3 implementations with an API (moto, s3rver) ----------------------------------------------


def start_moto(processes: Processes, env: Mapping[str, str]) -> tuple[Spawned, str]:
    """moto's S3 server in its own process; returns it and its endpoint."""
    port = free_port()
    spawned = processes.start("moto", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], env)
    endpoint = f"http://127.0.0.1:{port}"
    wait_http(f"{endpoint}/moto-api/", spawned)
    return spawned, endpoint


def start_s3rver(processes: Processes, env: Mapping[str, str], directory: Path) -> tuple[Spawned, str]:
    """s3rver (npm) storing in ``directory``; returns it and its endpoint."""
    if not S3RVER.exists():
        raise SystemExit(f"bench: {S3RVER} is missing; run `npm ci` in {ROOT} (make bench does)")
    port = free_port()
    command = [str(S3RVER), "-d", str(directory), "-a", "127.0.0.1", "-p", str(port), "--silent"]
    spawned = processes.start("s3rver", command, env)
    endpoint = f"http://127.0.0.1:{port}"
    wait_http(endpoint, spawned)
    return spawned, endpoint


def seed(endpoint: str, files: Mapping[str, Path]) -> dict[str, str]:
    """Create the bucket on ``endpoint`` and upload ``files`` (key -> path); return presigned GET URLs."""
    import boto3

    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    urls = {}
    for key, path in files.items():
        s3.upload_file(str(path), BUCKET, key)
        urls[key] = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=7200)
    return urls


# --- HTTP targets and the curl client ----------------------------------------------------------


@dataclass
class Target:
    """Something the client GETs objects from: a base URL and the processes whose cost is measured."""

    name: str
    base: str
    pids: list[int]
    url_for: Callable[[str], str] | None = None
    """The URL of a key, when it is not ``BASE/KEY`` (presigned URLs)."""

    def url(self, key: str) -> str:
        """The URL of ``key`` on this target."""
        return self.url_for(key) if self.url_for else f"{self.base}/{key}"


@dataclass
class Sample:
    """One measurement of one target. See the module docstring for the units."""

    scenario: str
    target: str
    size: int
    concurrency: int
    round: int
    throughput_mb_s: float = 0.0
    ttfb_ms: float = 0.0
    """Median over the transfers of the time to the first response byte."""
    cpu_s_per_gib: float = 0.0
    peak_rss_mib: float = 0.0
    errors: int = 0
    extra: dict[str, float] = field(default_factory=dict)
    rss_series: list[tuple[float, float]] = field(default_factory=list)


CURL_FORMAT = "%{http_code} %{time_starttransfer} %{time_total} %{size_download}\\n"


def curl_transfers(urls: Sequence[str], parallel: int) -> tuple[float, list[tuple[int, float, float, int]]]:
    """GET every URL with one curl process, ``parallel`` at once; return the wall seconds and, per
    transfer, (status, seconds to first byte, seconds in all, bytes)."""
    config = "".join(f'url = "{url}"\noutput = "/dev/null"\n' for url in urls)
    command = ["curl", "-s", "-K", "-", "-w", CURL_FORMAT, "--max-time", str(TRANSFER_TIMEOUT), "--noproxy", "*"]
    if parallel > 1:
        command += ["-Z", "--parallel-immediate", "--parallel-max", str(parallel)]
    started = time.perf_counter()
    result = subprocess.run(command, input=config, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    transfers = []
    for line in result.stdout.splitlines():
        status, first, total, size = line.split()
        transfers.append((int(status), float(first), float(total), int(float(size))))
    return wall, transfers


def measure_http(scenario: str, target: Target, key: str, *, size: int, concurrency: int, round_: int) -> Sample:
    """GET ``key`` (``size`` bytes) ``concurrency`` times at once from ``target``; one :class:`Sample`."""
    sample = Sample(scenario, target.name, size, concurrency, round_)
    reset_peak(target.pids)
    before = cpu_seconds(target.pids)
    with RssSampler(target.pids) as sampler:
        wall, transfers = curl_transfers([target.url(key)] * concurrency, concurrency)
    cpu = cpu_seconds(target.pids) - before
    good = [t for t in transfers if t[0] == 200 and t[3] == size]
    sample.errors = concurrency - len(good)
    received = sum(t[3] for t in transfers)
    # One stream: curl's own transfer time; several: the wall time of all of them together.
    seconds = transfers[0][2] if concurrency == 1 and transfers else wall
    sample.throughput_mb_s = received / MB / seconds if seconds > 0 else 0.0
    sample.ttfb_ms = statistics.median(t[1] for t in transfers) * 1000 if transfers else 0.0
    sample.cpu_s_per_gib = cpu / (received / GiB) if received else 0.0
    sample.peak_rss_mib = status_mib(target.pids, "VmHWM")
    sample.rss_series = sampler.series
    return sample


def warm_up(target: Target, key: str) -> None:
    """One small ranged GET, so connection pools and lazy imports are filled before measuring."""
    subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "-r", "0-0", "--noproxy", "*", "--max-time", "60", target.url(key)],
        check=False,
    )


def alternated(items: Sequence[Target], round_: int) -> list[Target]:
    """``items`` in order on even rounds, reversed on odd ones."""
    return list(items) if round_ % 2 == 0 else list(reversed(items))


def start_serve(
    processes: Processes, name: str, env: Mapping[str, str], endpoint: str, extra: Mapping[str, str] | None = None
) -> Target:
    """``python -m service serve`` on ``endpoint``'s bucket; returns it as a target."""
    port = free_port()
    proxy_env = {**env, "S3_PROXY_BUCKET": BUCKET, "S3_PROXY_ENDPOINT_URL": endpoint, **(extra or {})}
    spawned = processes.start(name, [sys.executable, "-m", "service", "serve", "--port", str(port)], proxy_env)
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/_s3proxy/health", spawned)
    return Target(name, base, [spawned.process.pid])


# --- the Runtime API stub ------------------------------------------------------------------------


@dataclass
class Delivered:
    """One invocation as the stub saw it; times from ``time.monotonic()``."""

    event_sent: float = 0.0
    first_byte: float = 0.0
    ended: float = 0.0
    body_bytes: int = 0
    """Bytes of the streamed response, prelude and delimiter included."""
    status: int = 0
    """The status code in the response's prelude (0 if none could be read)."""
    error: str = ""


class RuntimeStub:
    """A raw Runtime API on 127.0.0.1: ``/next`` serves queued events, responses are drained and timed.

    Each connection gets a thread; requests are parsed by hand, chunked bodies are skipped with
    ``recv_into`` into one scratch buffer (never kept), so the stub costs far less than a runtime.
    """

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=16)
        self.address = f"127.0.0.1:{self._listener.getsockname()[1]}"
        self._events: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self._delivered: dict[str, Delivered] = {}
        self._done: dict[str, threading.Event] = {}
        self.first_next: float = 0.0
        self._first_next_seen = threading.Event()
        self._closed = False
        self._generation = 0
        """Bumped by :meth:`reset`: connections of an earlier runtime no longer take events."""
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self) -> None:
        """Forget the first ``/next`` and the connections so far (before a new runtime is spawned)."""
        self._generation += 1
        self.first_next = 0.0
        self._first_next_seen.clear()

    def wait_first_next(self, timeout: float = START_TIMEOUT) -> float:
        """The monotonic time of the first ``GET /next`` since :meth:`reset`; SystemExit on timeout."""
        if not self._first_next_seen.wait(timeout):
            raise SystemExit("bench: the runtime never asked the stub for /next")
        return self.first_next

    def invoke(self, event: Mapping[str, object], timeout: float = TRANSFER_TIMEOUT) -> Delivered:
        """Queue ``event``, wait until its response has been drained; return what was seen."""
        request_id = str(uuid.uuid4())
        self._delivered[request_id] = Delivered()
        self._done[request_id] = done = threading.Event()
        self._events.put((request_id, json.dumps(event).encode()))
        if not done.wait(timeout):
            raise SystemExit(f"bench: invocation {request_id} got no complete response in {timeout:g} s")
        return self._delivered.pop(request_id)

    def close(self) -> None:
        """Stop accepting connections."""
        self._closed = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        reader = _Reader(connection)
        generation = self._generation
        with contextlib.suppress(OSError, ConnectionError, ValueError), connection:
            while True:
                method, target, headers = reader.head()
                if method == "GET" and target == RUNTIME_PREFIX + "/invocation/next":
                    self._next(connection, generation)
                elif method == "POST" and target.endswith("/response"):
                    self._response(connection, reader, target.split("/")[-2], headers)
                else:
                    reader.skip_body(headers, None)
                    if "/error" in target:
                        request_id = target.split("/")[-2]
                        self._finish(request_id, error=target)
                    _reply(connection, 202)

    def _next(self, connection: socket.socket, generation: int) -> None:
        if not self._first_next_seen.is_set():
            self.first_next = time.monotonic()
            self._first_next_seen.set()
        while True:
            if generation != self._generation:
                raise ConnectionError("a runtime stopped since this connection was made")
            with contextlib.suppress(queue.Empty):
                request_id, event = self._events.get(timeout=0.1)
                break
        deadline = int((time.time() + TRANSFER_TIMEOUT) * 1000)
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            f"Lambda-Runtime-Aws-Request-Id: {request_id}\r\nLambda-Runtime-Deadline-Ms: {deadline}\r\n"
            "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:bench\r\n"
            f"Lambda-Runtime-Trace-Id: Root=1-00000000-{uuid.uuid4().hex[:24]};Sampled=0\r\n"
            f"Content-Length: {len(event)}\r\n\r\n"
        ).encode()
        delivered = self._delivered.get(request_id)
        if delivered is not None:
            delivered.event_sent = time.monotonic()
        connection.sendall(head + event)

    def _response(self, connection: socket.socket, reader: _Reader, request_id: str, headers: dict[str, str]) -> None:
        delivered = self._delivered.get(request_id, Delivered())
        delivered.body_bytes, delivered.first_byte, start = reader.skip_body(headers, 4096)
        delivered.status = _prelude_status(start)
        _reply(connection, 202)
        self._finish(request_id)

    def _finish(self, request_id: str, error: str = "") -> None:
        delivered = self._delivered.get(request_id)
        if delivered is not None:
            delivered.ended = time.monotonic()
            delivered.error = error
        done = self._done.pop(request_id, None)
        if done is not None:
            done.set()


def _reply(connection: socket.socket, status: int) -> None:
    body = b'{"status":"OK"}'
    connection.sendall(
        f"HTTP/1.1 {status} Accepted\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body
    )


def _prelude_status(start: bytes) -> int:
    """The ``statusCode`` of a streamed response's JSON prelude (the bytes before 8 NULs), else 0."""
    prelude, found, _ = start.partition(b"\0" * 8)
    if not found:
        return 0
    with contextlib.suppress(ValueError, AttributeError):
        return int(json.loads(prelude).get("statusCode", 0))
    return 0


class _Reader:
    """Buffered reads of HTTP/1.1 requests on one socket; bodies are skipped, not kept."""

    SCRATCH = 1024 * 1024

    def __init__(self, connection: socket.socket) -> None:
        self._sock = connection
        self._buffer = bytearray()
        self._scratch = bytearray(self.SCRATCH)

    def _fill(self) -> None:
        data = self._sock.recv(262144)
        if not data:
            raise ConnectionError("closed")
        self._buffer += data

    def _line(self) -> bytes:
        while (end := self._buffer.find(b"\r\n")) < 0:
            self._fill()
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 2]
        return line

    def head(self) -> tuple[str, str, dict[str, str]]:
        """The next request's method, target and headers (names lower-cased)."""
        line = self._line()
        while not line:  # stray CRLFs between requests
            line = self._line()
        method, target, _ = line.decode("latin-1").split(" ", 2)
        headers: dict[str, str] = {}
        while line := self._line():
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        return method, target, headers

    def _skip(self, count: int, keep: bytearray, keep_limit: int) -> None:
        """Consume ``count`` body bytes, the first of them (up to ``keep_limit`` in all) into ``keep``."""
        taken = min(count, len(self._buffer))
        if len(keep) < keep_limit:
            keep += self._buffer[: min(taken, keep_limit - len(keep))]
        del self._buffer[:taken]
        left = count - taken
        view = memoryview(self._scratch)
        while left:
            read = self._sock.recv_into(view, min(left, self.SCRATCH))
            if not read:
                raise ConnectionError("closed mid-body")
            if len(keep) < keep_limit:
                keep += view[: min(read, keep_limit - len(keep))]
            left -= read

    def skip_body(self, headers: Mapping[str, str], keep_limit: int | None) -> tuple[int, float, bytes]:
        """Skip the body; return its size in bytes, the monotonic time its first byte was in, and its start."""
        keep = bytearray()
        limit = keep_limit or 0
        first = 0.0
        if "chunked" not in headers.get("transfer-encoding", "").lower():
            length = int(headers.get("content-length", "0"))
            if length:
                if not self._buffer:
                    self._fill()
                first = time.monotonic()
                self._skip(length, keep, limit)
            return length, first, bytes(keep)
        total = 0
        while True:
            size = int(self._line().split(b";")[0], 16)
            if size == 0:
                while self._line():  # trailers, up to the empty line
                    pass
                return total, first, bytes(keep)
            if not first:
                first = time.monotonic()
            self._skip(size, keep, limit)
            total += size
            self._line()  # the CRLF after the chunk's data


def function_url_event(key: str) -> dict[str, object]:
    """A Function URL (payload 2.0) event of ``GET /KEY``."""
    now = datetime.datetime.now(datetime.UTC)
    domain = "bench0000000000000000.lambda-url.us-east-1.on.aws"
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": f"/{key}",
        "rawQueryString": "",
        "headers": {"host": domain, "user-agent": "bench", "accept": "*/*", "x-forwarded-proto": "https"},
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "bench0000000000000000",
            "domainName": domain,
            "domainPrefix": "bench0000000000000000",
            "http": {
                "method": "GET",
                "path": f"/{key}",
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "bench",
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }


def lambda_environment(env: Mapping[str, str], api: str, handler: str, task_root: Path) -> dict[str, str]:
    """Lambda's reserved variables for a runtime reaching the stub at ``api``."""
    return {
        **env,
        "AWS_LAMBDA_RUNTIME_API": api,
        "_HANDLER": handler,
        "LAMBDA_TASK_ROOT": str(task_root),
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1769",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/bench",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_DEFAULT_REGION": env.get("AWS_REGION", "us-east-1"),
        "TZ": ":UTC",
    }


@dataclass(frozen=True)
class RuntimeKind:
    """How to start one runtime design against the stub."""

    name: str
    command: tuple[str, ...]
    env: dict[str, str]
    cwd: Path
    interpreter: tuple[str, ...] = ()
    """The interpreter and its options that ``command`` starts with (Python only)."""


def build_layout(work: Path) -> Path:
    """The Lambda zip layout for this interpreter and machine (``deploy/package.py``), in ``work``.

    Raises:
        SystemExit: the build failed.
    """
    layout = work / "layout"
    libc_version = platform.libc_ver()[1]
    command = [sys.executable, str(ROOT / "deploy" / "package.py"), "--target", str(layout)]
    command += ["--arch", platform.machine(), "--python-version", f"{sys.version_info.major}.{sys.version_info.minor}"]
    command += ["--glibc", ".".join(libc_version.split(".")[:2])]
    if subprocess.run(command, check=False).returncode != 0:
        raise SystemExit("bench: deploy/package.py could not build the Lambda layout (output above)")
    return layout


def runtime_kinds(env: Mapping[str, str], api: str, endpoint: str, layout: Path) -> list[RuntimeKind]:
    """Our Python runtime from the zip ``layout`` and the Node.js design, on nginx-as-S3 at ``endpoint``."""
    python_env = lambda_environment(env, api, "service.lambda_bridge", layout)
    python_env.update({"S3_PROXY_BUCKET": BUCKET, "S3_PROXY_ENDPOINT_URL": endpoint, "PYTHONPATH": str(layout)})
    python_env["S3_PROXY_REDIRECT_OVER_BYTES"] = "off"  # stream every size, as the Node.js handler does
    node_env = lambda_environment(env, api, "handler.handler", NODE_DIR)
    node_env.update({"BENCH_S3_ENDPOINT": endpoint, "BENCH_BUCKET": BUCKET})
    node = shutil.which("node") or "node"
    python = (getattr(sys, "_base_executable", sys.executable), "-S", "-B")
    return [
        RuntimeKind(PYTHON_RUNTIME, (*python, "-m", "service", "lambda"), python_env, layout, python),
        RuntimeKind("Node.js design", (node, str(NODE_RIC), "handler.handler"), node_env, NODE_DIR),
    ]


def measure_runtime(
    processes: Processes, stub: RuntimeStub, kind: RuntimeKind, key: str, *, size: int, round_: int
) -> list[Sample]:
    """Spawn ``kind``, time its cold start and first small invocation, then stream ``key`` once."""
    stub.reset()
    spawned_at = time.monotonic()
    spawned = processes.start(kind.name.split()[0].lower() + "-runtime", kind.command, kind.env, kind.cwd)
    try:
        first_next = stub.wait_first_next()
        cold = Sample("cold start", kind.name, 0, 1, round_)
        cold.extra["cold_start_ms"] = (first_next - spawned_at) * 1000
        small = stub.invoke(function_url_event(SMALL_KEY))
        first = Sample("first small invocation", kind.name, SMALL_SIZE, 1, round_)
        first.extra["first_invocation_ms"] = (small.ended - small.event_sent) * 1000
        first.errors = int(small.status != 200)
        pids = [spawned.process.pid]
        reset_peak(pids)
        before = cpu_seconds(pids)
        with RssSampler(pids) as sampler:
            delivered = stub.invoke(function_url_event(key))
        sample = Sample("runtime alone", kind.name, size, 1, round_)
        seconds = delivered.ended - delivered.event_sent
        sample.throughput_mb_s = delivered.body_bytes / MB / seconds if seconds > 0 else 0.0
        sample.ttfb_ms = (delivered.first_byte - delivered.event_sent) * 1000
        sample.cpu_s_per_gib = (cpu_seconds(pids) - before) / (max(delivered.body_bytes, 1) / GiB)
        sample.peak_rss_mib = status_mib(pids, "VmHWM")
        sample.errors = int(delivered.status != 200 or delivered.body_bytes < size or bool(delivered.error))
        sample.rss_series = sampler.series
    finally:
        processes.stop(spawned)
    phases = [init_phases(kind, round_)] if kind.name == PYTHON_RUNTIME else []
    return [cold, first, sample, *phases]


INIT_PHASES = ("started", "imported", "configured", "built", "ready")
"""The moments ``benchmarks/init_phases.py`` prints, in order."""


def init_phases(kind: RuntimeKind, round_: int) -> Sample:
    """Spawn ``benchmarks/init_phases.py`` as ``kind`` would start; the ms of each INIT phase,
    named after the moment that ends it (``started``: from the spawn)."""
    sample = Sample("init breakdown", kind.name, 0, 1, round_)
    probe = (*kind.interpreter, str(ROOT / "benchmarks" / "init_phases.py"))
    spawned_at = time.monotonic()
    result = subprocess.run(
        probe, env=kind.env, cwd=kind.cwd, capture_output=True, text=True, timeout=START_TIMEOUT, check=False
    )
    if result.returncode != 0:
        print(f"bench: init_phases.py failed: {result.stderr.strip()[-500:]}", file=sys.stderr)
        sample.errors = 1
        return sample
    moments = json.loads(result.stdout)
    previous = spawned_at
    for name in INIT_PHASES:
        sample.extra[f"init_{name}_ms"] = (moments[name] - previous) * 1000
        previous = moments[name]
    return sample


# --- the run ----------------------------------------------------------------------------------


@dataclass
class Environment:
    """The servers the scenarios share. Each scenario has its own ``serve`` process (all named
    ``serve``), so that the memory one scenario leaves behind does not count in another's peak."""

    env: dict[str, str]
    s3_endpoint: str
    serve: Target
    """For single streams."""
    serve_1mib: Target
    nginx: Target
    serve_concurrent: Target
    serve_runtime: Target
    """Next to the runtimes alone."""
    layout: Path
    """The Lambda zip layout the Python runtime runs from."""


def run_single(environment: Environment, plan: Plan, round_: int) -> list[Sample]:
    """Single streams of each size: serve, serve with 1 MiB chunks, the nginx peer."""
    targets = [environment.serve, environment.serve_1mib, environment.nginx]
    samples = []
    for size in plan.single_sizes:
        for target in alternated(targets, round_):
            samples.append(
                measure_http("single stream", target, key_for(size), size=size, concurrency=1, round_=round_)
            )
    return samples


def run_concurrent(environment: Environment, plan: Plan, round_: int) -> list[Sample]:
    """Each concurrency and size: serve and the nginx peer."""
    targets = [environment.serve_concurrent, environment.nginx]
    samples = []
    for size in plan.concurrent_sizes:
        for concurrency in plan.concurrencies:
            for target in alternated(targets, round_):
                samples.append(
                    measure_http("concurrent", target, key_for(size), size=size, concurrency=concurrency, round_=round_)
                )
    return samples


def run_runtimes(
    environment: Environment, processes: Processes, stub: RuntimeStub, plan: Plan, round_: int
) -> list[Sample]:
    """The two runtime designs alone behind the stub, and serve on the same object, alternated."""
    kinds = runtime_kinds(environment.env, stub.address, environment.s3_endpoint, environment.layout)
    order: list[RuntimeKind | Target] = [kinds[0], environment.serve_runtime, kinds[1]]
    if round_ % 2:
        order.reverse()
    samples = []
    key = key_for(plan.lambda_size)
    for item in order:
        if isinstance(item, Target):
            sample = measure_http("runtime alone", item, key, size=plan.lambda_size, concurrency=1, round_=round_)
            samples.append(sample)
        else:
            samples.extend(measure_runtime(processes, stub, item, key, size=plan.lambda_size, round_=round_))
    return samples


def start_relay(processes: Processes, env: Mapping[str, str]) -> tuple[Target, Spawned]:
    """The local Function URL emulator (no limits) with the zero-cost runtime as its child."""
    port = free_port()
    runtime = f"{sys.executable} {ROOT / 'benchmarks' / 'zero_cost_runtime.py'}"
    command = [sys.executable, "-m", "service", "function-url", "--port", str(port), "--no-limits"]
    command += ["--timeout", "900", "--command", runtime]
    spawned = processes.start("function-url", command, env)
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/ready", spawned)
    return Target("Function URL emulator", base, [spawned.process.pid]), spawned


def run_relay(target: Target, runtime_pids: list[int], plan: Plan, round_: int) -> Sample:
    """One stream of ``lambda_size`` bytes through the emulator from the zero-cost runtime."""
    size = plan.lambda_size
    before = cpu_seconds(runtime_pids)
    sample = measure_http("relay ceiling", target, f"bytes/{size}", size=size, concurrency=1, round_=round_)
    received_gib = size / GiB
    sample.extra["runtime_cpu_s_per_gib"] = (cpu_seconds(runtime_pids) - before) / received_gib
    return sample


def run_backends(targets: Sequence[Target], plan: Plan, round_: int) -> list[Sample]:
    """serve on moto and s3rver, and GETs straight from them, alternated."""
    size = plan.backend_size
    return [
        measure_http("backends", t, key_for(size), size=size, concurrency=1, round_=round_)
        for t in alternated(targets, round_)
    ]


def run(plan: Plan, out: Path, json_file: Path | None, command: str) -> int:
    """Start everything, run every scenario ``plan.rounds`` times, write the report."""
    env = {**os.environ, **CREDENTIALS, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    for variable in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        env.pop(variable, None)
    os.environ.update({k: v for k, v in env.items() if k in CREDENTIALS})
    samples: list[Sample] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="s3-stream-proxy-bench-") as tmp:
        work = Path(tmp)
        work.chmod(0o755)
        data = work / "data"
        logs = work / "logs"
        data.mkdir(mode=0o755)
        logs.mkdir(mode=0o755)
        sizes = {*plan.single_sizes, *plan.concurrent_sizes, plan.lambda_size, plan.backend_size}
        files = write_objects(data, sorted(sizes))
        processes = Processes(logs)
        stub = RuntimeStub()
        try:
            samples = run_all(plan, processes, stub, env=env, data=data, files=files, work=work)
        finally:
            stub.close()
            processes.stop_all()
    elapsed = time.monotonic() - started
    if json_file is not None:
        json_file.write_text(json.dumps([asdict(s) for s in samples], indent=1))
    from bench_report import write_report

    missing = write_report(samples, plan, out, command, elapsed)
    failed = sum(s.errors for s in samples)
    print(f"bench: {len(samples)} samples in {elapsed:.0f} s, {failed} failed transfers; report in {out}")
    if missing:
        print(f"bench: scenarios without numbers: {', '.join(missing)}", file=sys.stderr)
    return 1 if failed or missing else 0


def run_all(
    plan: Plan,
    processes: Processes,
    stub: RuntimeStub,
    *,
    env: dict[str, str],
    data: Path,
    files: Mapping[int, Path],
    work: Path,
) -> list[Sample]:
    """Every scenario, round after round; returns the samples."""
    s3_port, peer_port = free_port(), free_port()
    fake_s3 = start_nginx(processes, "nginx-s3", "auto", fake_s3_block(s3_port, data))
    endpoint = f"http://127.0.0.1:{s3_port}"
    wait_http(f"{endpoint}/{BUCKET}/{SMALL_KEY}", fake_s3)
    peer = start_nginx(processes, "nginx-peer", "1", peer_block(peer_port, s3_port))
    nginx = Target("nginx proxy_pass", f"http://127.0.0.1:{peer_port}", [])
    wait_http(f"{nginx.base}/{SMALL_KEY}", peer)
    nginx.pids = [peer.process.pid, *children(peer.process.pid)]
    serve = start_serve(processes, "serve", env, endpoint)
    serve_1mib = start_serve(processes, "serve 1 MiB chunks", env, endpoint, {"S3_PROXY_CHUNK_SIZE": str(MiB)})
    serve_concurrent = start_serve(processes, "serve (concurrent)", env, endpoint)
    serve_runtime = start_serve(processes, "serve (runtime alone)", env, endpoint)
    serve_concurrent.name = serve_runtime.name = serve.name
    layout = build_layout(work)
    environment = Environment(env, endpoint, serve, serve_1mib, nginx, serve_concurrent, serve_runtime, layout)
    relay, relay_process = start_relay(processes, env)
    relay_runtime = children(relay_process.process.pid)
    backends = start_backends(processes, env, files[plan.backend_size], work)
    for target in (serve, serve_1mib, nginx, serve_concurrent, serve_runtime, *backends):
        warm_up(target, key_for(plan.backend_size) if target in backends else SMALL_KEY)
    samples: list[Sample] = []
    for round_ in range(plan.rounds):
        print(f"bench: round {round_ + 1} of {plan.rounds}", flush=True)
        samples += run_single(environment, plan, round_)
        samples += run_concurrent(environment, plan, round_)
        samples += run_runtimes(environment, processes, stub, plan, round_)
        samples.append(run_relay(relay, relay_runtime, plan, round_))
        samples += run_backends(backends, plan, round_)
    return samples


def start_backends(processes: Processes, env: dict[str, str], file: Path, work: Path) -> list[Target]:
    """moto and s3rver holding ``file``, serve on each, and each one's presigned URL as a target."""
    targets: list[Target] = []
    key = file.name
    moto, moto_endpoint = start_moto(processes, env)
    s3rver_dir = work / "s3rver"
    s3rver_dir.mkdir()
    s3rver, s3rver_endpoint = start_s3rver(processes, env, s3rver_dir)
    for name, spawned, endpoint in (("moto", moto, moto_endpoint), ("s3rver", s3rver, s3rver_endpoint)):
        urls = seed(endpoint, {key: file})
        targets.append(start_serve(processes, f"serve on {name}", env, endpoint))
        direct = Target(f"{name} direct", endpoint, [spawned.process.pid])
        direct.url_for = urls.__getitem__
        targets.append(direct)
    return targets


# --- main ---------------------------------------------------------------------------------------


def mib_list(text: str) -> tuple[int, ...]:
    """argparse type: comma-separated sizes in MiB (fractions allowed), returned in bytes."""
    try:
        values = tuple(int(float(word) * MiB) for word in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes in MiB like 16,64, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"sizes must be positive, got {text!r}")
    return values


def int_list(text: str) -> tuple[int, ...]:
    """argparse type: comma-separated positive whole numbers."""
    if not re.fullmatch(r"[1-9][0-9]*(,[1-9][0-9]*)*", text):
        raise argparse.ArgumentTypeError(f"expected positive whole numbers like 1,8,64, got {text!r}")
    return tuple(int(word) for word in text.split(","))


def parse_plan(argv: Sequence[str] | None) -> tuple[Plan, Path, Path | None]:
    """The plan from the command line: the defaults (or ``--quick``'s), with any option overriding them."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes and one round (the CI smoke run)")
    parser.add_argument("--rounds", type=int, help="rounds per scenario (default 5; 1 with --quick)")
    parser.add_argument("--single-mib", type=mib_list, help="single-stream sizes, MiB (default 16,64,256,1024)")
    parser.add_argument("--concurrent-mib", type=mib_list, help="object sizes under concurrency, MiB (default 16,64)")
    parser.add_argument("--concurrency", type=int_list, help="concurrent clients (default 1,8,64)")
    parser.add_argument("--lambda-mib", type=float, help="object size for the runtimes and the relay, MiB (256)")
    parser.add_argument("--backend-mib", type=float, help="object size on moto and s3rver, MiB (default 256)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="where benchmarks.md and its plots go")
    parser.add_argument("--json", type=Path, help="also write every sample to this JSON file")
    args = parser.parse_args(argv)
    plan = QUICK_PLAN if args.quick else DEFAULT_PLAN
    overrides: dict[str, object] = {}
    if args.rounds is not None:
        if args.rounds < 1:
            parser.error("--rounds must be at least 1")
        overrides["rounds"] = args.rounds
    if args.single_mib:
        overrides["single_sizes"] = args.single_mib
    if args.concurrent_mib:
        overrides["concurrent_sizes"] = args.concurrent_mib
    if args.concurrency:
        overrides["concurrencies"] = args.concurrency
        overrides["headline_concurrency"] = max(args.concurrency)
    for name, value in (("lambda_size", args.lambda_mib), ("backend_size", args.backend_mib)):
        if value is not None:
            if value <= 0:
                parser.error(f"--{name.split('_')[0]}-mib must be positive")
            overrides[name] = int(value * MiB)
    plan = Plan(**{**asdict(plan), **overrides})
    return plan, args.out, args.json


def check_tools() -> None:
    """Exit with a readable message when nginx, curl, node or the npm packages are missing."""
    missing = [tool for tool in ("curl", "node") if shutil.which(tool) is None]
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        missing.append("nginx (apt-get install nginx; make bench does it as root)")
    if not NODE_RIC.exists():
        missing.append(f"{NODE_RIC} (npm ci in {ROOT})")
    if not (NODE_DIR / "node_modules" / "@aws-sdk" / "client-s3").exists():
        missing.append(f"@aws-sdk/client-s3 (npm ci --prefix {NODE_DIR})")
    if missing:
        raise SystemExit("bench: missing: " + "; ".join(missing))


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options, check the tools, run."""
    plan, out, json_file = parse_plan(argv)
    check_tools()
    out.mkdir(parents=True, exist_ok=True)
    words = ["benchmarks/suite.py", *(sys.argv[1:] if argv is None else argv)]
    return run(plan, out, json_file, " ".join(words))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
