"""deploy/package.py: the platform tags it asks pip for, and its errors on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "deploy" / "package.py"


def _run(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(PACKAGE), *arguments], capture_output=True, text=True, timeout=60, check=False
    )


def _platforms(arch: str, glibc: str) -> list[str]:
    probe = (
        "import importlib.util, json, sys\n"
        f"spec = importlib.util.spec_from_file_location('package', {str(PACKAGE)!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "print(json.dumps(module.manylinux_platforms(sys.argv[1], sys.argv[2])))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, arch, glibc], capture_output=True, text=True, timeout=60, check=True
    )
    platforms: list[str] = json.loads(result.stdout)
    return platforms


def test_platforms_cover_every_manylinux_tag_amazon_linux_2023_runs() -> None:
    platforms = _platforms("aarch64", "2.34")
    assert platforms[0] == "manylinux_2_34_aarch64"
    assert "manylinux_2_28_aarch64" in platforms and "manylinux_2_17_aarch64" in platforms
    assert platforms[-1] == "manylinux2014_aarch64"
    assert "manylinux_2_35_aarch64" not in platforms
    assert len(platforms) == 34 - 17 + 2


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param(["--arch", "sparc"], "invalid choice: 'sparc'", id="unknown-architecture"),
        pytest.param(["--arch", "x86_64", "--glibc", "2.5"], "glibc version must look like 2.N", id="old-glibc"),
        pytest.param(["--arch", "x86_64", "--python-version", "three"], "Python version like 3.13", id="bad-python"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(tmp_path: Path, arguments: list[str], message: str) -> None:
    defaults = {"--python-version": "3.13"}
    full = ["--target", str(tmp_path / "out"), *arguments]
    for option, value in defaults.items():
        if option not in arguments:
            full += [option, value]
    result = _run(*full)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_non_empty_target_is_refused_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("not ours")
    result = _run("--target", str(tmp_path), "--arch", "x86_64", "--python-version", "3.13")
    assert result.returncode == 1
    assert "is not empty; pass --clean" in result.stderr
    assert (tmp_path / "keep.txt").read_text() == "not ours"


def test_source_that_is_not_the_checkout_is_a_readable_error(tmp_path: Path) -> None:
    result = _run(
        "--target", str(tmp_path / "out"), "--arch", "x86_64", "--python-version", "3.13", "--source", str(tmp_path)
    )
    assert result.returncode == 1
    assert "pyproject.toml is missing; --source must be the project checkout" in result.stderr
    assert "Traceback" not in result.stderr
