"""The Lambda zip layout runs on its own: built by deploy/package.py, served from its directory.

The layout is built for this interpreter and machine (instead of cp313 on Amazon Linux),
copied to a fresh directory, and served through the local Function URL emulator with the
layout's own ``bootstrap`` as the runtime command.  The emulator is a developer tool and
runs from the checkout; the runtime runs with cwd and PYTHONPATH set to the layout and
``python -S`` (no site-packages at all), so nothing it imports can come from the checkout
or the test's virtualenv.  The layout holds the product alone: no developer tools.
"""

from __future__ import annotations

import importlib.util
import json
import platform
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.support.backends import CREDENTIALS, Backend, seed_bucket

ROOT = Path(__file__).resolve().parents[1]
STARTUP_DEADLINE = 60.0
SHUTDOWN_DEADLINE = 15.0
OBJECT_KEY = "docs/report.bin"
OBJECT = bytes(range(251)) * 2000  # about 490 KiB


@pytest.fixture(scope="module")
def task_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The layout built for the local interpreter, then moved away from its build directory."""
    workdir = tmp_path_factory.mktemp("zip")
    build = workdir / "build"
    libc, libc_version = platform.libc_ver()
    assert libc == "glibc", "manylinux wheels need glibc"
    command = [
        sys.executable,
        str(ROOT / "deploy" / "package.py"),
        "--target",
        str(build),
        "--arch",
        platform.machine(),
        "--python-version",
        f"{sys.version_info.major}.{sys.version_info.minor}",
        "--glibc",
        ".".join(libc_version.split(".")[:2]),
    ]
    subprocess.run(command, check=True, timeout=600)
    task = workdir / "task"
    shutil.copytree(build, task, symlinks=True)
    shutil.rmtree(build)
    return task


@pytest.fixture(scope="module")
def isolated_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory whose ``python3`` is the base interpreter without any site-packages (-S)."""
    directory = tmp_path_factory.mktemp("python")
    base = getattr(sys, "_base_executable", sys.executable)
    launcher = directory / "python3"
    launcher.write_text(f'#!/bin/sh\nexec {base} -S "$@"\n')
    launcher.chmod(0o755)
    return directory


@pytest.fixture(scope="module")
def bucket(moto: Backend) -> str:
    return seed_bucket(moto, "zip", {f"site/{OBJECT_KEY}": OBJECT})


@pytest.fixture
def environment(task_root: Path, isolated_python: Path, moto: Backend, bucket: str, tmp_path: Path) -> dict[str, str]:
    """The whole environment of the processes under test; nothing is inherited."""
    return {
        "PATH": f"{isolated_python}:/usr/bin:/bin",
        "PYTHONPATH": str(task_root),
        "HOME": str(tmp_path),
        **CREDENTIALS,
        "S3_PROXY_BUCKET": bucket,
        "S3_PROXY_KEY_PREFIX": "site/",
        "S3_PROXY_ENDPOINT_URL": moto.endpoint_url,
    }


class _Lines:
    """Collects a process's stderr lines on a thread so the pipe never fills up."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.seen: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        assert process.stderr is not None
        self._thread = threading.Thread(target=self._pump, args=(process.stderr,), daemon=True)
        self._thread.start()

    def _pump(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self._queue.put(line)

    def wait_for(self, pattern: str, deadline: float) -> re.Match[str]:
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                break
            self.seen.append(line)
            match = re.search(pattern, line)
            if match:
                return match
        pytest.fail(f"no line matching {pattern!r} in time; stderr so far:\n{''.join(self.seen)}")

    def rest(self) -> str:
        self._thread.join(timeout=SHUTDOWN_DEADLINE)
        while not self._queue.empty():
            self.seen.append(self._queue.get())
        return "".join(self.seen)


def test_zip_layout_holds_the_product_only(task_root: Path) -> None:
    ours = {path.name for path in task_root.iterdir() if path.name in {"service", "s3proxy_dev", "tests"}}
    assert ours == {"service"}
    assert (task_root / "service" / "lambda_bridge" / "entry.py").is_file()
    files = [path.relative_to(task_root).as_posix() for path in task_root.rglob("*") if path.is_file()]
    assert not [name for name in files if re.search(r"(^|/)(s3proxy_dev|function_url|demo)(/|$)", name)]
    assert not [name for name in files if name.startswith("moto")]


def test_zip_layout_keeps_only_the_botocore_models_the_runtime_can_use(task_root: Path) -> None:
    data = task_root / "botocore" / "data"
    assert {path.name for path in data.iterdir() if path.is_dir()} == {"s3", "sts", "sso", "sso-oidc"}
    assert (data / "endpoints.json").is_file() and (data / "partitions.json").is_file()


def test_zip_layout_carries_byte_code_used_without_a_source_check(task_root: Path) -> None:
    # Every module has byte code for this Python, hash-based and unchecked (PEP 552 flags 0b01),
    # so a read-only /var/task never compiles: the loader takes the .pyc whatever the mtimes.
    sources = sorted(task_root.rglob("*.py"))
    assert len(sources) > 500
    headers = {source: _pyc_header(source) for source in sources}
    missing = [source for source, header in headers.items() if header is None]
    assert not missing, missing[:5]
    wrong = [source for source, header in headers.items() if header != (importlib.util.MAGIC_NUMBER, 0b01)]
    assert not wrong, wrong[:5]


def test_zip_layout_imports_its_byte_code_from_a_read_only_tree(
    task_root: Path, isolated_python: Path, environment: dict[str, str]
) -> None:
    # -B: nothing is written (as on Lambda's read-only file system); -v names each module's origin.
    result = _run_python(
        isolated_python, task_root, environment, "-B", "-v", "-c", "import service.lambda_bridge.entry, service.app"
    )
    compiled = re.findall(r"^# code object from (.+\.py)$", result.stderr, re.MULTILINE)
    loaded = re.findall(r"^# (.+\.pyc) matches ", result.stderr, re.MULTILINE)
    assert not compiled, compiled[:5]
    tag = sys.implementation.cache_tag
    assert any(name.endswith(f"/service/__pycache__/app.{tag}.pyc") for name in loaded)


def _run_python(
    isolated_python: Path, task_root: Path, environment: dict[str, str], *arguments: str
) -> subprocess.CompletedProcess[str]:
    """Run the isolated interpreter with ``arguments`` in the layout, as the launcher would; it must succeed."""
    result = subprocess.run(
        [str(isolated_python / "python3"), *arguments],
        cwd=task_root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result


def _pyc_header(source: Path) -> tuple[bytes, int] | None:
    cached = Path(importlib.util.cache_from_source(str(source)))
    if not cached.is_file():
        return None
    header = cached.read_bytes()[:8]
    return header[:4], int.from_bytes(header[4:8], "little")


def test_zip_layout_serves_through_the_function_url_emulator(
    task_root: Path, isolated_python: Path, environment: dict[str, str]
) -> None:
    # The emulator imports from this virtualenv; its child, the layout's bootstrap, sets
    # PYTHONPATH to the layout itself and finds the bare interpreter first on PATH.
    emulator_environment = {name: value for name, value in environment.items() if name != "PYTHONPATH"}
    command = [
        sys.executable,
        "-m",
        "s3proxy_dev.function_url",
        "--task-root",
        str(task_root),
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--timeout",
        "30",
        "--command",
        str(task_root / "bootstrap"),
    ]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=emulator_environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = _Lines(process)
    try:
        deadline = time.monotonic() + STARTUP_DEADLINE
        url = lines.wait_for(r"listening on (http://127\.0\.0\.1:\d+)", deadline).group(1)
        lines.wait_for(r"Runtime ready", deadline)
        whole = httpx.get(f"{url}/{OBJECT_KEY}", timeout=30)
        part = httpx.get(f"{url}/{OBJECT_KEY}", headers={"Range": "bytes=10-19"}, timeout=30)
        missing = httpx.get(f"{url}/no/such/key", timeout=30)
        process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=SHUTDOWN_DEADLINE)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    log = lines.rest()
    assert whole.status_code == 200 and whole.content == OBJECT, log
    assert part.status_code == 206 and part.content == OBJECT[10:20]
    assert missing.status_code == 404
    assert "Runtime started (pid" in log and str(task_root / "bootstrap") in log
    assert returncode == 0, log
    assert "Traceback" not in log


def test_zip_layout_imports_come_only_from_the_layout(
    task_root: Path, isolated_python: Path, environment: dict[str, str]
) -> None:
    probe = (
        "import json, sys, service, service.lambda_bridge.entry, uvicorn, uvloop, aiobotocore, starlette, h11\n"
        "modules = (service, uvicorn, uvloop, aiobotocore, starlette, h11)\n"
        "print(json.dumps({'path': sys.path, 'files': [m.__file__ for m in modules]}))"
    )
    result = _run_python(isolated_python, task_root, environment, "-c", probe)
    report = json.loads(result.stdout)
    assert all(Path(file).is_relative_to(task_root) for file in report["files"]), report["files"]
    assert not [entry for entry in report["path"] if entry and Path(entry).is_relative_to(ROOT)]
    assert not [entry for entry in report["path"] if "site-packages" in entry]
