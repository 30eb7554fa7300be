"""``run_demo`` end to end in a real subprocess, under uvicorn and through the Lambda path, plus its
banner and listening socket."""

from __future__ import annotations

import hashlib
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from s3proxy_dev.demo import pseudorandom
from s3proxy_dev.demo.banner import base_url, format_banner, format_lambda_banner, format_size, object_url
from s3proxy_dev.demo.listen import ListenError, open_listener
from s3proxy_dev.demo.samples import MIB, TEXT_KEY, demo_samples, sample_manifest
from s3proxy_dev.function_url.config import PlatformLimits

REPO = Path(__file__).resolve().parents[1]
SMALL_BINARY = 2 * MIB + 1
READY_LINE = "Ctrl-C to stop."
STARTUP_DEADLINE = 60.0  # seconds; startup takes a few
STOP_DEADLINE = 20.0


class Demo:
    """``run_demo`` running in a child Python process; stdout is read line by line.

    ``lambda_path`` is the Python expression passed as ``run_demo``'s ``lambda_path``.
    """

    def __init__(self, port: int, binary_size: int, stderr_path: Path, lambda_path: str) -> None:
        code = (
            "import sys\n"
            "from s3proxy_dev.demo.lambda_path import LambdaPath\n"
            "from s3proxy_dev.demo.run import run_demo\n"
            f"sys.exit(run_demo('127.0.0.1', {port}, binary_size={binary_size}, lambda_path={lambda_path}))\n"
        )
        self.stderr_path = stderr_path
        self._stderr = stderr_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-u", "-c", code],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            encoding="utf-8",
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for_line(self, text: str, deadline: float = STARTUP_DEADLINE) -> None:
        """Read stdout until a line containing ``text``; fail on EOF or after ``deadline`` seconds."""
        end = time.monotonic() + deadline
        while not any(text in line for line in self.lines):
            try:
                line = self._queue.get(timeout=max(end - time.monotonic(), 0))
            except queue.Empty:
                pytest.fail(f"no {text!r} within {deadline} s; stdout so far: {self.lines}")
            if line is None:
                pytest.fail(f"exited ({self.process.wait()}) before {text!r}; stderr: {self.stderr()}")
            self.lines.append(line)

    def rest_of_stdout(self) -> list[str]:
        """Every stdout line not read yet, up to EOF (call once the process has exited)."""
        rest = []
        while (line := self._queue.get(timeout=STOP_DEADLINE)) is not None:
            rest.append(line)
        return rest

    def stop(self, signal_number: int) -> int:
        """Send ``signal_number`` and return the exit status (fails after the stop deadline)."""
        self.process.send_signal(signal_number)
        return self.process.wait(timeout=STOP_DEADLINE)

    def stderr(self) -> str:
        self._stderr.flush()
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._stderr.close()
        assert self.process.stdout is not None
        self.process.stdout.close()


@contextmanager
def demo(tmp_path: Path, port: int = 0, binary_size: int = SMALL_BINARY, lambda_path: str = "None") -> Iterator[Demo]:
    running = Demo(port, binary_size, tmp_path / "stderr.txt", lambda_path)
    try:
        yield running
    finally:
        running.close()


def banner_base_url(lines: list[str]) -> str:
    for line in lines:
        match = re.match(r"s3-stream-proxy demo: (http://127\.0\.0\.1:\d+) serves s3://demo-bucket", line)
        if match:
            return match.group(1)
    pytest.fail(f"no base URL in the banner: {lines}")


def test_demo_serves_every_sample_then_stops_cleanly_on_sigint(tmp_path: Path) -> None:
    manifest = sample_manifest(demo_samples(SMALL_BINARY))
    with demo(tmp_path) as running:
        running.wait_for_line(READY_LINE)
        base = banner_base_url(running.lines)
        with httpx.Client(trust_env=False, timeout=30) as client:
            for info in manifest:
                url = object_url(base, info.key)
                assert any(url in line for line in running.lines), f"{url} missing from the banner"
                response = client.get(url)
                assert response.status_code == 200, (info.key, response.text)
                assert response.headers["content-type"] == info.content_type
                assert int(response.headers["content-length"]) == info.size
                assert hashlib.sha256(response.content).hexdigest() == info.sha256
            assert client.get(f"{base}/_s3proxy/health").status_code == 200
            # The banner suggests `curl -r`: a range across a block boundary of the binary.
            first, last = MIB - 500, MIB + 499
            partial = client.get(object_url(base, manifest[-1].key), headers={"Range": f"bytes={first}-{last}"})
            assert partial.status_code == 206
            assert partial.headers["content-range"] == f"bytes {first}-{last}/{SMALL_BINARY}"
            assert partial.content == pseudorandom.byte_range(first, last - first + 1)
        assert running.stop(signal.SIGINT) == 0
        assert "Traceback" not in running.stderr()


def child_processes(pid: int) -> dict[int, str]:
    """Processes whose parent is ``pid``, from /proc: process id -> command line (words joined by spaces)."""
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            command = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue  # the process ended while we looked
        # After the command name, which is in parentheses and may hold spaces: state, then parent id.
        if int(text[text.rindex(")") + 2 :].split()[1]) == pid:
            children[int(stat.parent.name)] = command.replace(b"\0", b" ").decode(errors="replace").strip()
    return children


def test_function_url_serves_through_the_lambda_runtime_then_stops_it_on_sigint(tmp_path: Path) -> None:
    samples = {sample.key: sample for sample in demo_samples(SMALL_BINARY)}
    with demo(tmp_path, lambda_path="LambdaPath(limits=None)") as running:
        running.wait_for_line(READY_LINE)
        assert any("through the Lambda path" in line for line in running.lines)
        assert any(line.lstrip().startswith("curl -N ") for line in running.lines)
        runtimes = child_processes(running.process.pid)
        assert [command for command in runtimes.values() if command.endswith("-m service lambda")], runtimes
        base = banner_base_url(running.lines)
        with httpx.Client(trust_env=False, timeout=30) as client:
            pdf = client.get(object_url(base, "docs/handbook.pdf"))
            assert pdf.status_code == 200, pdf.text
            assert pdf.headers["content-type"] == "application/pdf"
            assert "x-amzn-requestid" in pdf.headers, "answered by the Function URL"
            assert hashlib.sha256(pdf.content).hexdigest() == samples["docs/handbook.pdf"].sha256()
            wav = samples["media/tone.wav"]
            first, last = 44, 44 + 88_200 - 1  # the first second of audio, after the RIFF header
            part = client.get(object_url(base, wav.key), headers={"Range": f"bytes={first}-{last}"})
            assert part.status_code == 206, part.text
            assert part.headers["content-range"] == f"bytes {first}-{last}/{wav.size}"
            assert part.content == wav.open_stream().read()[first : last + 1]
        assert running.stop(signal.SIGINT) == 0
        assert "Traceback" not in running.stderr()
    assert [pid for pid in runtimes if Path(f"/proc/{pid}").exists()] == [], "the runtime outlived the demo"


def test_limits_without_function_url_is_a_usage_error() -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "service", "demo", "--no-limits"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=STOP_DEADLINE,
        check=False,
    )
    assert finished.returncode == 2
    assert finished.stdout == ""
    assert finished.stderr.strip() == (
        "s3-stream-proxy demo: error: --limits and --no-limits apply only with --function-url"
    )


def test_demo_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    with demo(tmp_path) as running:
        running.wait_for_line(READY_LINE)
        assert running.stop(signal.SIGTERM) == 0
        assert "Traceback" not in running.stderr()


def test_ctrl_c_while_seeding_stops_without_waiting_for_the_upload(tmp_path: Path) -> None:
    # Uploading 1 GiB to moto takes well over STOP_DEADLINE (about 28 s on two idle cores),
    # so exiting within the deadline shows the interrupt cancelled the upload.
    with demo(tmp_path, binary_size=1024 * MIB) as running:
        running.wait_for_line("uploading")
        assert running.stop(signal.SIGINT) == 0
        assert READY_LINE not in running.lines
        assert "Traceback" not in running.stderr()


def test_port_in_use_is_a_one_line_error_and_status_1(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with demo(tmp_path, port=port) as running:
            status = running.process.wait(timeout=STOP_DEADLINE)
            stdout = running.rest_of_stdout()
            stderr = running.stderr()
    assert status == 1
    assert stdout == [], "it must fail before generating or seeding anything"
    assert stderr.strip().splitlines() == [
        f"s3-stream-proxy demo: cannot listen on 127.0.0.1:{port}: address already in use"
    ]


def test_listener_reports_a_port_in_use_and_out_of_range_ports() -> None:
    with open_listener("127.0.0.1", 0) as listener:
        port = listener.getsockname()[1]
        with pytest.raises(ListenError, match=f"127.0.0.1:{port}: address already in use"):
            open_listener("127.0.0.1", port)
    with pytest.raises(ListenError, match="out of range"):
        open_listener("127.0.0.1", 70_000)
    with pytest.raises(ListenError, match="cannot resolve host"):
        open_listener("no-such-host.invalid", 0)


def test_urls_percent_encode_keys_as_utf8_and_show_a_browsable_host() -> None:
    base = base_url("127.0.0.1", 8080)
    assert object_url(base, TEXT_KEY) == (
        "http://127.0.0.1:8080/notes/Gr%C3%B6%C3%9Fe%20und%20Ma%C3%9Fe%20%E2%80%93%20r%C3%A9sum%C3%A9.txt"
    )
    assert base_url("0.0.0.0", 80) == "http://127.0.0.1:80"
    assert base_url("::", 8080) == "http://[::1]:8080"
    assert base_url("::1", 8080) == "http://[::1]:8080"


def test_banner_lists_each_sample_with_its_size() -> None:
    samples = demo_samples(SMALL_BINARY)
    banner = format_banner("http://127.0.0.1:8080", "demo-bucket", "http://127.0.0.1:5000", samples)
    for sample in samples:
        line = next(line for line in banner.splitlines() if object_url("http://127.0.0.1:8080", sample.key) in line)
        assert format_size(sample.size) in line
    assert banner.rstrip().endswith("Ctrl-C to stop.")
    assert format_size(256 * MIB) == "256.0 MiB"
    assert format_size(1536) == "1.5 KiB"
    assert format_size(583) == "583 B"


def test_lambda_banner_tells_the_path_and_its_limits() -> None:
    samples = demo_samples(SMALL_BINARY)
    base = "http://127.0.0.1:9100"
    limited = format_lambda_banner(base, "demo-bucket", "http://127.0.0.1:5000", samples, PlatformLimits())
    assert "first 6.0 MiB at full speed" in limited
    assert "then 2.0 MiB/s" in limited
    assert "--no-limits" in limited
    lifted = format_lambda_banner(base, "demo-bucket", "http://127.0.0.1:5000", samples, None)
    assert "limits are lifted" in lifted
    for banner in (limited, lifted):
        assert "Lambda path" in banner
        assert f"curl -N -s {base}/docs/handbook.pdf | sha256sum" in banner
        assert banner.rstrip().endswith("Ctrl-C to stop.")
