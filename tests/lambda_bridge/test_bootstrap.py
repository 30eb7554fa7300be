"""``lambda/bootstrap``: ignores Lambda's arguments, finds python3, sets PYTHONPATH for zips."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

BOOTSTRAP = Path(__file__).resolve().parents[2] / "lambda" / "bootstrap"

# Stands in for an interpreter: reports how it was started.
FAKE_PYTHON = '#!/bin/sh\necho "args=$*"\necho "pythonpath=${PYTHONPATH:-}"\n'


def _fake_python(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    python = directory / "python3"
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    return python


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["/bin/sh", str(BOOTSTRAP), *args], env=env, capture_output=True, text=True, timeout=10, check=False
    )


def test_bootstrap_is_executable() -> None:
    assert BOOTSTRAP.stat().st_mode & 0o111


def test_wrapper_ignores_lambda_args_and_adds_task_root(tmp_path: Path) -> None:
    task_root = tmp_path / "task"
    (task_root / "service").mkdir(parents=True)
    (task_root / "service" / "__init__.py").write_text("")
    _fake_python(task_root / "bin")
    env = {"PATH": "/usr/bin:/bin", "LAMBDA_TASK_ROOT": str(task_root), "PYTHONPATH": "/var/runtime"}
    result = _run(env, "/var/lang/bin/python3.13", "/var/runtime/bootstrap.py")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["args=-m service lambda", f"pythonpath={task_root}:/var/runtime"]


def test_installed_package_uses_python3_from_path_and_leaves_pythonpath(tmp_path: Path) -> None:
    _fake_python(tmp_path / "bin")
    env = {"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin", "LAMBDA_TASK_ROOT": str(tmp_path / "image")}
    result = _run(env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["args=-m service lambda", "pythonpath="]


@pytest.mark.skipif(
    any(Path(path).exists() for path in ("/var/lang/bin/python3", "/opt/bin/python3", "/opt/python/bin/python3")),
    reason="this machine has an interpreter where Lambda keeps one",
)
def test_no_interpreter_is_a_readable_error(tmp_path: Path) -> None:
    result = _run({"PATH": str(tmp_path), "LAMBDA_TASK_ROOT": str(tmp_path)})
    assert result.returncode == 127
    assert "bootstrap: no python3 found" in result.stderr
