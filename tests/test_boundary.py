"""The deployable product (:mod:`service`) never loads a developer tool (:mod:`s3proxy_dev`).

Each check runs in a fresh interpreter, so what the test process itself imported cannot
hide an import: the Lambda runtime's entry, the app built by ``create_app`` and served
through its lifespan, and the command line's own modules.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEVELOPER_ONLY = ("s3proxy_dev", "moto", "tests")
"""Top-level packages the product must not load: the tools, their embedded S3 and the tests."""

_REPORT = "import json, sys\nprint(json.dumps(sorted(sys.modules)))"


def _modules_after(code: str, **environ: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", f"{code}\n{_REPORT}"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "S3_PROXY_BUCKET": "boundary", "AWS_REGION": "us-east-1", **environ},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    modules: list[str] = json.loads(result.stdout.splitlines()[-1])
    return modules


def _developer_modules(modules: list[str]) -> list[str]:
    return [name for name in modules if name.split(".")[0] in DEVELOPER_ONLY]


_PRODUCT = [
    pytest.param("import service.lambda_bridge.entry", id="lambda-runtime-entry"),
    pytest.param("import service.__main__, service.cli", id="command-line"),
    pytest.param(
        "import asyncio\n"
        "from starlette.testclient import TestClient\n"
        "from service.app import create_app\n"
        "from service.settings import Settings\n"
        "with TestClient(create_app(Settings.from_env())) as client:\n"
        "    assert client.get('/_s3proxy/health').status_code == 200",
        id="create-app-through-its-lifespan",
    ),
]
"""What a deployment loads: the runtime's entry, the command line, the app through its lifespan."""


@pytest.mark.parametrize("code", _PRODUCT)
def test_product_imports_no_developer_tool(code: str) -> None:
    modules = _modules_after(code)
    assert "service" in modules
    assert _developer_modules(modules) == []


def test_the_check_sees_a_developer_tool_when_one_is_imported() -> None:
    modules = _modules_after("import s3proxy_dev.function_url")
    assert "s3proxy_dev.function_url.emulator" in _developer_modules(modules)


def _opentelemetry_modules(modules: list[str]) -> list[str]:
    return [name for name in modules if name.split(".")[0] == "opentelemetry"]


@pytest.mark.parametrize("code", _PRODUCT)
def test_with_tracing_off_the_product_imports_no_opentelemetry(code: str) -> None:
    """The otel extra may be installed (it is, with dev); off, it costs no import at all."""
    assert _opentelemetry_modules(_modules_after(code)) == []


def test_the_check_sees_opentelemetry_when_tracing_is_on() -> None:
    pytest.importorskip("opentelemetry.sdk", reason="the otel extra is not installed")
    code = str(_PRODUCT[2].values[0])
    modules = _modules_after(code, S3_PROXY_TRACING="otel", OTEL_TRACES_EXPORTER="none")
    assert "opentelemetry.sdk.trace" in _opentelemetry_modules(modules)


HEAVY_OPTIONAL = ("boto3", "aioboto3", "s3transfer", "opentelemetry", "prometheus_client")
"""Packages the Lambda runtime's INIT must not pay for: boto3's resource layer (the S3 client
is aiobotocore's), and the tracing and metrics libraries while those are off (the default)."""

_LAMBDA_INIT = (
    "import asyncio\n"
    "import service.lambda_bridge.entry as entry\n"
    "from service.lambda_bridge.lifespan import Lifespan\n"
    "app, _ = entry.load_service_app()\n"
    "lifespan = Lifespan(app)\n"
    "async def init():\n"
    "    await lifespan.startup()\n"
    "    await lifespan.shutdown()\n"
    "asyncio.run(init())"
)
"""What the runtime does before its first ``/next``: build the app and run its lifespan startup."""


def test_the_lambda_runtime_init_imports_no_heavy_optional_module() -> None:
    modules = _modules_after(_LAMBDA_INIT)
    assert "service.app" in modules and "aiobotocore.client" in modules
    assert [name for name in modules if name.split(".")[0] in HEAVY_OPTIONAL] == []
