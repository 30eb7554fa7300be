"""``sam build`` of template.yaml works without Docker and yields a complete Lambda zip layout.

SAM CLI comes from $SAM_CLI, else ``.venv-sam/bin/sam``, else a virtualenv this test creates
once under ``~/.cache/s3-stream-proxy`` from deploy/requirements-sam.txt (SAM CLI cannot
share the project's virtualenv: it pins botocore releases that aioboto3 cannot use).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAM_REQUIREMENTS = ROOT / "deploy" / "requirements-sam.txt"
ELF_MACHINES = {"aarch64": 0xB7, "x86_64": 0x3E}
"""ELF e_machine values (System V ABI supplements for AArch64 and x86-64)."""
FUNCTIONS = {"ProxyFunctionArm64": "aarch64", "ProxyFunctionX86": "x86_64"}
COMPILED_DEPENDENCIES = ("uvloop", "httptools", "yarl", "multidict", "frozenlist", "aiohttp")
PURE_DEPENDENCIES = ("starlette", "aioboto3", "aiobotocore", "botocore", "uvicorn", "h11", "anyio")


def _cache_home() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def _sam_from_cache() -> Path:
    digest = hashlib.sha256(SAM_REQUIREMENTS.read_bytes()).hexdigest()[:12]
    home = _cache_home() / "s3-stream-proxy" / f"sam-cli-{digest}"
    sam = home / "bin" / "sam"
    if not sam.exists():
        shutil.rmtree(home, ignore_errors=True)
        venv.create(home, with_pip=True)
        pip = [str(home / "bin" / "python"), "-m", "pip", "install", "--quiet", "-r", str(SAM_REQUIREMENTS)]
        subprocess.run(pip, check=True, timeout=1200)
    return sam


@pytest.fixture(scope="module")
def sam() -> Path:
    """Path of the ``sam`` executable."""
    configured = os.environ.get("SAM_CLI")
    if configured:
        return Path(configured)
    local = ROOT / ".venv-sam" / "bin" / "sam"
    return local if local.exists() else _sam_from_cache()


@pytest.fixture(scope="module")
def built(sam: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Run ``sam build`` once into a temporary build directory; yield that directory."""
    build_dir = tmp_path_factory.mktemp("sam") / "build"
    environ = dict(os.environ, SAM_CLI_TELEMETRY="0", PYTHON=sys.executable)
    command = [str(sam), "build", "--template-file", str(ROOT / "template.yaml"), "--build-dir", str(build_dir)]
    result = subprocess.run(command, check=False, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"sam build failed:\n{result.stdout}\n{result.stderr}"
    yield build_dir


def _elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", f"{path} is not an ELF file"
    return int.from_bytes(header[18:20], "little")


@pytest.mark.timeout(1800)
@pytest.mark.parametrize(("function", "machine"), sorted(FUNCTIONS.items()))
def test_sam_build_artifact_has_launcher_package_and_target_dependencies(
    built: Path, function: str, machine: str
) -> None:
    artifact = built / function
    launcher = artifact / "bootstrap"
    assert launcher.read_bytes() == (ROOT / "lambda" / "bootstrap").read_bytes()
    assert launcher.stat().st_mode & 0o777 == 0o755
    assert (artifact / "service" / "__main__.py").is_file()
    assert (artifact / "service" / "lambda_bridge" / "entry.py").is_file()
    for name in (*PURE_DEPENDENCIES, *COMPILED_DEPENDENCIES):
        assert (artifact / name / "__init__.py").is_file(), f"{name} missing from {function}"
    extensions = sorted(artifact.rglob("*.so"))
    for package in COMPILED_DEPENDENCIES:
        assert any(package in path.relative_to(artifact).parts[0] for path in extensions), package
    wrong = [path for path in extensions if _elf_machine(path) != ELF_MACHINES[machine]]
    assert not wrong, f"extension modules not built for {machine}: {wrong[:5]}"
    tagged = [path.name for path in extensions if "-linux-gnu" in path.name]
    assert tagged and all("cpython-313" in name and machine in name for name in tagged)


def _python_files(tree: Path) -> set[Path]:
    return {path.relative_to(tree) for path in tree.rglob("*.py") if "__pycache__" not in path.parts}


@pytest.mark.timeout(1800)
def test_sam_build_artifact_has_nothing_from_the_checkout_but_the_package(built: Path) -> None:
    for function in FUNCTIONS:
        artifact = built / function
        assert _python_files(artifact / "service") == _python_files(ROOT / "service")
        assert not (artifact / "tests").exists()
        assert not list(artifact.rglob("conftest.py"))
        test_modules = {path.name for path in (ROOT / "tests").rglob("test_*.py")}
        assert not {path.name for path in artifact.rglob("test_*.py")} & test_modules
        assert not (artifact / "bin").exists(), "console scripts name the build machine's interpreter"
        assert not list(artifact.rglob("__pycache__")), "byte code of the build interpreter"
        top_level = {path.name for path in artifact.iterdir()}
        assert not top_level & {"pyproject.toml", "template.yaml", "Dockerfile", "deploy", "lambda", ".venv"}


@pytest.mark.timeout(1800)
def test_sam_build_template_points_at_the_artifacts_and_skips_the_image(built: Path) -> None:
    text = (built / "template.yaml").read_text()
    for function in FUNCTIONS:
        assert f"CodeUri: {function}" in text
    assert not (built / "ProxyImageFunction").exists()
