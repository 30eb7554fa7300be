"""Build the Lambda zip layout: the ``service`` package, its dependencies and the launcher.

The layout is what ``LAMBDA_TASK_ROOT`` (``/var/task``) holds at run time::

    bootstrap           the launcher (lambda/bootstrap), mode 0755
    service/            this project
    <dependencies>/     starlette, aiobotocore, uvicorn, h11, ... as wheels for the target
    **/__pycache__/     byte code for the target's Python, when an interpreter of that version
                        is at hand (see :func:`compile_bytecode`)

botocore's data keeps only the services the runtime can call (:data:`BOTOCORE_SERVICES`).

Dependencies are installed with pip's cross-platform options (``--platform``,
``--python-version``, ``--implementation cp``, ``--only-binary=:all:``), as the Lambda
guide "Working with .zip file archives for Python Lambda functions" (python-package.html)
describes, so the build needs no Docker and no compiler: a dependency without a wheel for
the target fails the build instead of compiling for the wrong platform.

``sam build`` runs this through deploy/Makefile; the zip-layout test runs it for the local
interpreter.  Usage::

    python deploy/package.py --target DIR --arch aarch64 --python-version 3.13 [--glibc 2.34]
                             [--compile-with /path/to/python3.13]

Exit status: 0 on success, 1 if pip or a file operation fails, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The source checkout this script belongs to."""

ARCHITECTURES = ("aarch64", "x86_64")
"""Machine names as in manylinux platform tags; Lambda calls them arm64 and x86_64."""

LAMBDA_GLIBC = "2.34"
"""glibc of Amazon Linux 2023, the OS of the python3.12/3.13 and provided.al2023 runtimes."""

OLDEST_MANYLINUX_GLIBC = 17
"""manylinux2014 is glibc 2.17 (PEP 599); older manylinux tags are not built for cp313."""

SOURCE_FILES = ("pyproject.toml", "README.md")
"""Files besides service/ that building our wheel reads."""

BOTOCORE_SERVICES = frozenset({"s3", "sts", "sso", "sso-oidc"})
"""The botocore service models the zip keeps: S3, and those credential providers load (assumed
roles, IAM Identity Center). botocore lists every model directory before loading one, so the
other 400 or so cost stat and listdir calls at client creation, and half the layout's size."""

EXIT_FAILURE = 1
EXIT_USAGE = 2


class PackageError(Exception):
    """A build step failed; the message is one readable line."""


def manylinux_platforms(arch: str, glibc: str) -> list[str]:
    """Return every manylinux platform tag a system with ``glibc`` (``"2.34"``) runs, newest first.

    pip's ``--platform`` matches tags exactly (it only widens the legacy manylinux2014 alias),
    so a wheel tagged only ``manylinux_2_28_aarch64`` needs that tag listed (PEP 600).

    Raises:
        ValueError: ``arch`` is not one of :data:`ARCHITECTURES` or ``glibc`` is not 2.N, N >= 17.
    """
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; expected one of {', '.join(ARCHITECTURES)}")
    match = re.fullmatch(r"2\.(\d+)", glibc)
    if match is None or int(match.group(1)) < OLDEST_MANYLINUX_GLIBC:
        raise ValueError(f"glibc version must look like 2.N with N >= {OLDEST_MANYLINUX_GLIBC}, got {glibc!r}")
    newest = int(match.group(1))
    tags = [f"manylinux_2_{minor}_{arch}" for minor in range(newest, OLDEST_MANYLINUX_GLIBC - 1, -1)]
    return [*tags, f"manylinux2014_{arch}"]


def build_wheel(source: Path, workdir: Path) -> Path:
    """Build this project's wheel from a copy of ``source`` (the wheel is pure Python).

    Copying first keeps setuptools' ``build/`` and ``*.egg-info`` out of the checkout.

    Raises:
        PackageError: a source file is missing or pip fails.
    """
    tree = workdir / "src"
    tree.mkdir()
    for name in SOURCE_FILES:
        if not (source / name).is_file():
            raise PackageError(f"{source / name} is missing; --source must be the project checkout")
        shutil.copy2(source / name, tree / name)
    shutil.copytree(source / "service", tree / "service", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    wheels = workdir / "dist"
    _pip("wheel", "--no-deps", "--wheel-dir", str(wheels), str(tree))
    found = sorted(wheels.glob("*.whl"))
    if len(found) != 1:
        raise PackageError(f"expected one wheel in {wheels}, found {len(found)}")
    return found[0]


def install_for_target(wheel: Path, staging: Path, platforms: Sequence[str], python_version: str) -> None:
    """Install ``wheel`` and its dependencies into ``staging`` as wheels built for the target.

    ``--no-compile`` because byte code made by this interpreter would not match the
    target's Python version; the console-script directory ``bin/`` is dropped because its
    shebangs name this machine's interpreter (Lambda starts the launcher instead).

    Raises:
        PackageError: pip fails, e.g. a dependency has no wheel for the target.
    """
    platform_options = [option for tag in platforms for option in ("--platform", tag)]
    _pip(
        "install",
        "--target",
        str(staging),
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        python_version,
        *platform_options,
        "--no-compile",
        str(wheel),
    )
    shutil.rmtree(staging / "bin", ignore_errors=True)


def prune_botocore_data(staging: Path) -> None:
    """Remove the service models of ``staging/botocore/data`` not in :data:`BOTOCORE_SERVICES`;
    the files shared by every service (endpoints, partitions, retry and default configuration)
    stay.

    Raises:
        PackageError: there is no botocore data, or a kept service is missing from it.
    """
    data = staging / "botocore" / "data"
    if not data.is_dir():
        raise PackageError(f"{data} is missing; botocore was not installed")
    services = {path.name for path in data.iterdir() if path.is_dir()}
    missing = BOTOCORE_SERVICES - services
    if missing:
        raise PackageError(f"botocore has no model for {', '.join(sorted(missing))}")
    for name in sorted(services - BOTOCORE_SERVICES):
        shutil.rmtree(data / name)


def bytecode_interpreter(python_version: str, chosen: str | None) -> str | None:
    """The interpreter that compiles the layout's byte code: ``chosen`` if given, else this
    one when it is ``python_version`` (``"3.13"``), else ``python3.13`` from ``PATH`` if it
    runs and is that version; None when there is none.

    Byte code is only valid for the minor version that wrote it (its magic number).

    Raises:
        PackageError: ``chosen`` does not run or is another version.
    """
    if chosen is not None:
        if _version_of(chosen) != python_version:
            raise PackageError(f"--compile-with {chosen} is not a working Python {python_version}")
        return chosen
    if f"{sys.version_info.major}.{sys.version_info.minor}" == python_version:
        return sys.executable
    found = shutil.which(f"python{python_version}")
    return found if found and _version_of(found) == python_version else None


def compile_bytecode(staging: Path, python: str) -> None:
    """Compile every module in ``staging`` with ``python`` into ``__pycache__``.

    Lambda's ``/var/task`` is read-only, so without byte code in the package each cold start
    compiles every module it imports, in memory, and throws the result away. The byte code is
    ``unchecked-hash`` (PEP 552; Python docs, py_compile "PycInvalidationMode"): used without
    looking at the source's timestamp, which a zip keeps to two seconds and which a build may
    reset, so a timestamp check could find every file stale. Optimisation level 0 (no ``-O``),
    the level the launcher's ``python3 -m service lambda`` loads.

    Raises:
        PackageError: the compiler fails (a module with a syntax error for that Python).
    """
    command = [python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", str(staging)]
    if subprocess.run(command, check=False).returncode != 0:
        raise PackageError(f"compileall with {python} failed (output above)")


def _version_of(python: str) -> str | None:
    try:
        result = subprocess.run(
            [python, "-c", "import sys; print(*sys.version_info[:2], sep='.')"],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def add_launcher(source: Path, staging: Path) -> None:
    """Copy ``lambda/bootstrap`` to the package root, executable by everyone.

    Lambda runs the function as an unprivileged user, so the launcher needs mode 0755
    (runtimes-custom.html: a non-executable bootstrap fails with Runtime.InvalidEntrypoint).

    Raises:
        PackageError: the launcher is missing.
    """
    launcher = source / "lambda" / "bootstrap"
    if not launcher.is_file():
        raise PackageError(f"{launcher} is missing")
    target = staging / "bootstrap"
    shutil.copyfile(launcher, target)
    target.chmod(stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)


def publish(staging: Path, target: Path, *, clean: bool) -> None:
    """Move the finished layout from ``staging`` into ``target``.

    Raises:
        PackageError: ``target`` has files and ``clean`` is false.
    """
    target.mkdir(parents=True, exist_ok=True)
    leftovers = sorted(target.iterdir())
    if leftovers and not clean:
        raise PackageError(f"{target} is not empty; pass --clean to replace its contents")
    for path in leftovers:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    for path in sorted(staging.iterdir()):
        shutil.move(str(path), target / path.name)


def build(
    source: Path,
    target: Path,
    platforms: Sequence[str],
    python_version: str,
    *,
    clean: bool,
    compile_with: str | None = None,
) -> None:
    """Build the complete layout for ``platforms``/``python_version`` into ``target``, with
    byte code when :func:`bytecode_interpreter` finds an interpreter (a warning otherwise).

    Raises:
        PackageError: any step fails.
    """
    compiler = bytecode_interpreter(python_version, compile_with)
    if not clean and target.is_dir() and any(target.iterdir()):
        raise PackageError(f"{target} is not empty; pass --clean to replace its contents")
    with tempfile.TemporaryDirectory(prefix="s3-stream-proxy-package-") as scratch:
        workdir = Path(scratch)
        staging = workdir / "staging"
        wheel = build_wheel(source, workdir)
        install_for_target(wheel, staging, platforms, python_version)
        prune_botocore_data(staging)
        if compiler is None:
            print(
                f"package.py: warning: no Python {python_version} to compile byte code with (--compile-with);"
                " without it Lambda compiles every module at each cold start",
                file=sys.stderr,
            )
        else:
            compile_bytecode(staging, compiler)
        add_launcher(source, staging)
        publish(staging, target, clean=clean)


def _pip(*arguments: str) -> None:
    command = [sys.executable, "-m", "pip", *arguments, "--quiet", "--disable-pip-version-check"]
    result = subprocess.run(command, check=False)
    if result.returncode != 0:
        raise PackageError(f"pip {arguments[0]} failed with exit status {result.returncode} (output above)")


def _python_version(text: str) -> str:
    if re.fullmatch(r"3\.\d{1,2}", text) is None:
        raise argparse.ArgumentTypeError(f"expected a Python version like 3.13, got {text!r}")
    return text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="package.py", description="Build the s3-stream-proxy Lambda zip layout into a directory."
    )
    parser.add_argument("--target", type=Path, required=True, help="output directory (sam build: $ARTIFACTS_DIR)")
    parser.add_argument("--arch", choices=ARCHITECTURES, required=True, help="target machine")
    parser.add_argument("--python-version", type=_python_version, required=True, help="target Python, e.g. 3.13")
    parser.add_argument(
        "--glibc", default=LAMBDA_GLIBC, help="target glibc, e.g. 2.34 (default: %(default)s, Amazon Linux 2023)"
    )
    parser.add_argument("--source", type=Path, default=ROOT, help="project checkout (default: %(default)s)")
    parser.add_argument("--clean", action="store_true", help="replace whatever --target already holds")
    parser.add_argument(
        "--compile-with",
        metavar="PYTHON",
        help="interpreter of the target version that compiles the byte code"
        " (default: this one if it is that version, else pythonX.Y on PATH)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (see the module docstring)."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        platforms = manylinux_platforms(args.arch, args.glibc)
    except ValueError as exc:
        parser.error(str(exc))
    try:
        build(
            args.source.resolve(),
            args.target.resolve(),
            platforms,
            args.python_version,
            clean=args.clean,
            compile_with=args.compile_with,
        )
    except (PackageError, OSError) as exc:
        print(f"package.py: error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    print(f"package.py: built {args.target} for cp{args.python_version.replace('.', '')} {args.arch}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    os.umask(0o022)  # files in the zip must be readable by Lambda's unprivileged user
    sys.exit(main())
