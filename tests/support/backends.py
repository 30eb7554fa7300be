"""The two independent S3 implementations the tests run against: moto's server and s3rver."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import boto3
from moto.server import ThreadedMotoServer

ROOT = Path(__file__).resolve().parents[2]
S3RVER = ROOT / "node_modules" / ".bin" / "s3rver"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "S3RVER", "AWS_SECRET_ACCESS_KEY": "S3RVER", "AWS_REGION": "us-east-1"}
"""s3rver checks signatures against its fixed test credentials; moto accepts any."""


@dataclass(frozen=True)
class Backend:
    """A running S3 implementation on loopback."""

    name: str
    endpoint_url: str


@contextmanager
def moto_backend() -> Iterator[Backend]:
    """Run moto's S3 server on 127.0.0.1 with an OS-chosen port."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield Backend("moto", f"http://{host}:{port}")
    finally:
        server.stop()


@contextmanager
def s3rver_backend(timeout: float = 30.0) -> Iterator[Backend]:
    """Run s3rver (npm) on 127.0.0.1 with an OS-chosen port, storing objects in a temp dir."""
    if not S3RVER.exists():
        raise RuntimeError(f"{S3RVER} is missing: run `npm ci` in {ROOT}")
    directory = tempfile.mkdtemp(prefix="s3rver-")
    process = subprocess.Popen(
        [str(S3RVER), "-d", directory, "-a", "127.0.0.1", "-p", "0", "--silent"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield Backend("s3rver", _wait_for_listening(process, timeout))
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)


def _wait_for_listening(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            raise RuntimeError(f"s3rver exited with status {process.returncode}")
        match = re.search(r"listening on (\S+):(\d+)", line)
        if match:
            return f"http://{match.group(1)}:{match.group(2)}"
    raise RuntimeError("s3rver did not start listening in time")


def seed_bucket(backend: Backend, prefix: str, objects: Mapping[str, bytes], content_type: str | None = None) -> str:
    """Create a bucket named ``prefix-<random>`` on ``backend`` holding ``objects`` (key -> bytes); return its name.

    ``content_type`` is stored on every object when given (else S3's default).
    """
    name = f"{prefix}-{uuid.uuid4().hex[:16]}"
    client = boto3.client(
        "s3",
        endpoint_url=backend.endpoint_url,
        region_name=CREDENTIALS["AWS_REGION"],
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    client.create_bucket(Bucket=name)
    extra = {"ContentType": content_type} if content_type else {}
    for key, body in objects.items():
        client.put_object(Bucket=name, Key=key, Body=body, **extra)
    return name
