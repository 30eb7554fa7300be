"""``s3-stream-proxy sign``: prints a link the proxy accepts, or one readable line and exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from service.signing import EXPIRES, METHODS, read_grant

ROOT = Path(__file__).resolve().parents[1]
SECRET = "command-line-signing-secret-0123456789"


def _sign(*args: str, secret: str | None = SECRET) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"]}
    if secret is not None:
        env["S3_PROXY_SIGNING_SECRET"] = secret
    command = [sys.executable, "-m", "service", "sign", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)


def test_sign_prints_a_link_the_proxy_accepts() -> None:
    before = int(time.time())
    result = _sign("docs/a b+c.pdf", "--expires", "600", "--base-url", "https://files.example.com/", "--methods", "GET")
    assert result.returncode == 0, result.stderr
    link = urlsplit(result.stdout.strip())
    assert (link.scheme, link.netloc, link.path) == ("https", "files.example.com", "/docs/a%20b%2Bc.pdf")
    query = parse_qsl(link.query)
    grant = read_grant(unquote(link.path)[1:], query, [SECRET.encode()])
    assert grant is not None
    assert before + 600 <= grant.expires <= int(time.time()) + 600
    assert dict(query)[METHODS] == "GET" and EXPIRES in dict(query)


@pytest.mark.parametrize(
    ("args", "secret", "message"),
    [
        pytest.param(("a",), None, "S3_PROXY_SIGNING_SECRET: required to sign links, but not set", id="no-secret"),
        pytest.param(
            ("a",), "short", "S3_PROXY_SIGNING_SECRET: expected a secret of at least 32 characters", id="short-secret"
        ),
        pytest.param(("a/../b",), SECRET, "the proxy would refuse this key: the path has", id="dot-segment"),
        pytest.param(("a", "--base-url", "ftp://x"), SECRET, "expected an http(s) base URL", id="bad-base-url"),
        pytest.param(("a", "--methods", "PUT"), SECRET, "expected a comma-separated list of GET and HEAD", id="put"),
        pytest.param(("a", "--cidr", "10.0.0.1/8"), SECRET, "has host bits set", id="bad-cidr"),
        pytest.param(("a", "--expires", "0"), SECRET, "expected a positive number of seconds", id="zero-expiry"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: tuple[str, ...], secret: str | None, message: str) -> None:
    defaults = {"--expires": "60", "--base-url": "http://127.0.0.1:8080"}
    extra = [item for name, value in defaults.items() if name not in args for item in (name, value)]
    result = _sign(*args, *extra, secret=secret)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert secret is None or secret not in result.stderr
