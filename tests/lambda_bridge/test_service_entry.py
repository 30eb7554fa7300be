"""The real proxy app through ``lambda/bootstrap`` → ``python -m service lambda`` → :func:`main`,
reading from moto's S3 server, against the fake Runtime API (all on loopback)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import anyio
import boto3
import pytest

from tests.lambda_bridge.conftest import load_event
from tests.lambda_bridge.fake_runtime_api import FakeRuntimeAPI
from tests.support.backends import moto_backend

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
BODY = b"0123456789"


async def test_bootstrap_serves_a_byte_range_from_s3(runtime_api: FakeRuntimeAPI) -> None:
    bucket = f"bridge-{uuid.uuid4().hex[:16]}"
    with moto_backend() as backend:
        s3 = boto3.client(
            "s3",
            endpoint_url=backend.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="docs/hello.txt", Body=BODY, ContentType="text/plain")
        event = load_event("function_url_get")
        event.update(rawPath="/docs/hello.txt", rawQueryString="", cookies=[])
        event["headers"] = {"host": event["requestContext"]["domainName"], "range": "bytes=2-5"}
        runtime_api.enqueue(event)
        env = {
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
            "LAMBDA_TASK_ROOT": str(ROOT),
            "AWS_LAMBDA_RUNTIME_API": runtime_api.address,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            "S3_PROXY_BUCKET": bucket,
            "S3_PROXY_ENDPOINT_URL": backend.endpoint_url,
        }
        command = [
            "/bin/sh",
            str(ROOT / "lambda" / "bootstrap"),
            "/var/lang/bin/python3.13",
            "/var/runtime/bootstrap.py",
        ]
        async with await anyio.open_process(command, env=env, stdout=subprocess.DEVNULL) as process:
            await runtime_api.wait_for(lambda: runtime_api.timeline.count("next") == 2, timeout=30)
            process.send_signal(signal.SIGTERM)
            with anyio.fail_after(10):
                assert await process.wait() == 0
    (post,) = runtime_api.posts()
    prelude = json.loads(post.chunks[0])
    assert prelude["statusCode"] == 206
    assert prelude["headers"]["content-range"] == "bytes 2-5/10"
    assert b"".join(post.chunks[2:]) == b"2345"
    assert post.raw.endswith(b"\r\n0\r\n\r\n")
