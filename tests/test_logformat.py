"""Log format and level: the JSON record's shape, Lambda's advanced logging controls, bad values.

The access records themselves are in ``test_access_records.py``; here is what every record
shares, and how the format and level are chosen per command.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from service import requestid
from service.logformat import JsonFormatter, lambda_choice, utc_timestamp
from service.settings import ConfigError, Settings
from tests.lambda_bridge.fake_runtime_api import FakeRuntimeAPI

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _record(message: str, *args: object, exc: BaseException | None = None, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("s3_stream_proxy.test", logging.WARNING, "/src/mod.py", 7, message, args, None)
    if exc is not None:
        record.exc_info = (type(exc), exc, exc.__traceback__)
    record.funcName = "work"
    record.created = 1_780_000_000.25
    record.__dict__.update(extra)
    return record


def test_a_json_record_has_lambdas_keys_and_its_extra_fields() -> None:
    line = JsonFormatter().format(_record("served %s", "a.pdf", outcome="complete", bytesSent=12))
    assert "\n" not in line
    assert json.loads(line) == {
        "timestamp": "2026-05-28T20:26:40.250Z",
        "level": "WARNING",
        "message": "served a.pdf",
        "logger": "s3_stream_proxy.test",
        "outcome": "complete",
        "bytesSent": 12,
    }


def test_a_json_record_names_the_request_being_served() -> None:
    with requestid.bound("8f507cfc-xmpl-4697-b07a-ac58fc914c95"):
        document = json.loads(JsonFormatter().format(_record("inside")))
    assert document["requestId"] == "8f507cfc-xmpl-4697-b07a-ac58fc914c95"
    assert "requestId" not in json.loads(JsonFormatter().format(_record("outside")))


def test_a_json_record_with_an_exception_says_what_and_where_on_one_line() -> None:
    try:
        raise ValueError("bad\nvalue")
    except ValueError as exc:
        caught = exc
    line = JsonFormatter().format(_record("it failed", exc=caught, odd=object()))
    assert "\n" not in line
    document = json.loads(line)
    assert (document["message"], document["errorType"], document["errorMessage"]) == (
        "it failed",
        "ValueError",
        "bad\nvalue",
    )
    assert isinstance(document["stackTrace"], list)
    assert "test_a_json_record_with_an_exception" in document["stackTrace"][0]
    assert document["location"] == "/src/mod.py:work:7"
    assert document["odd"].startswith("<object object at ")  # what JSON cannot hold, as text


def test_timestamps_are_utc_with_milliseconds() -> None:
    assert utc_timestamp(0.5) == "1970-01-01T00:00:00.500Z"
    assert utc_timestamp(1_780_000_000.9999) == "2026-05-28T20:26:40.999Z"


@pytest.mark.parametrize(
    ("environ", "chosen"),
    [
        ({}, ("json", logging.INFO)),
        ({"AWS_LAMBDA_LOG_FORMAT": "Text", "AWS_LAMBDA_LOG_LEVEL": "WARN"}, ("text", logging.WARNING)),
        ({"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "TRACE"}, ("json", logging.DEBUG)),
        ({"AWS_LAMBDA_LOG_LEVEL": "FATAL"}, ("json", logging.CRITICAL)),
        (
            {"S3_PROXY_LOG_FORMAT": "text", "S3_PROXY_LOG_LEVEL": "error", "AWS_LAMBDA_LOG_FORMAT": "JSON"},
            ("text", logging.ERROR),
        ),
        ({"S3_PROXY_LOG_LEVEL": "LOUD", "AWS_LAMBDA_LOG_LEVEL": "DEBUG"}, ("json", logging.DEBUG)),
        ({"S3_PROXY_LOG_FORMAT": "xml", "AWS_LAMBDA_LOG_FORMAT": "odd"}, ("json", logging.INFO)),
    ],
)
def test_the_lambda_runtime_honours_lambdas_logging_controls_unless_ours_are_set(
    environ: dict[str, str], chosen: tuple[str, int]
) -> None:
    assert lambda_choice(environ) == chosen


def test_settings_read_the_log_variables() -> None:
    base = {"S3_PROXY_BUCKET": "my-bucket"}
    assert Settings.from_env(base).log_format is None  # the command's default applies
    settings = Settings.from_env(
        {**base, "S3_PROXY_LOG_FORMAT": "JSON", "S3_PROXY_LOG_LEVEL": "warn", "S3_PROXY_TRUST_REQUEST_ID": "on"}
    )
    assert (settings.log_format, settings.log_level, settings.trust_request_id) == ("json", "WARNING", True)
    assert Settings.from_env(settings.to_env()) == settings


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("S3_PROXY_LOG_FORMAT", "xml", "S3_PROXY_LOG_FORMAT: expected json or text, got 'xml'"),
        ("S3_PROXY_LOG_LEVEL", "LOUD", "S3_PROXY_LOG_LEVEL: expected DEBUG, INFO, WARNING or ERROR, got 'LOUD'"),
        ("S3_PROXY_TRUST_REQUEST_ID", "maybe", "S3_PROXY_TRUST_REQUEST_ID: expected true or false, got 'maybe'"),
    ],
)
def test_a_bad_log_setting_stops_serve_with_one_line_and_exit_2(variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=f"^{message}$"):
        Settings.from_env({"S3_PROXY_BUCKET": "my-bucket", variable: value})
    env = {"PATH": os.environ["PATH"], "S3_PROXY_BUCKET": "my-bucket", variable: value}
    done = subprocess.run(
        [sys.executable, "-m", "service", "serve"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (2, "", f"s3-stream-proxy: error: {message}\n")


@pytest.mark.anyio
@pytest.mark.parametrize(("aws_format", "shape"), [(None, "json"), ("Text", "text")])
async def test_on_lambda_a_bad_log_setting_is_an_init_error_written_as_a_record(
    aws_format: str | None, shape: str, tmp_path: Path
) -> None:
    """Nothing but log records reaches the runtime's stdout and stderr, even when init fails."""
    api = FakeRuntimeAPI()
    async with api.running():
        env = {
            "PATH": os.environ["PATH"],
            "AWS_LAMBDA_RUNTIME_API": api.address,
            "S3_PROXY_BUCKET": "my-bucket",
            "S3_PROXY_LOG_LEVEL": "LOUD",
            **({} if aws_format is None else {"AWS_LAMBDA_LOG_FORMAT": aws_format}),
        }
        output = tmp_path / "output"
        with output.open("wb") as sink:
            with anyio.fail_after(60):
                done = await anyio.run_process(
                    [sys.executable, "-m", "service", "lambda"],
                    cwd=ROOT,
                    env=env,
                    stdout=sink,
                    stderr=sink,
                    check=False,
                )
        (post,) = api.posts()
    assert done.returncode == 1
    assert post.target == "/2018-06-01/runtime/init/error"
    expected = (
        "initialisation failed (Runtime.InvalidConfiguration): "
        "S3_PROXY_LOG_LEVEL: expected DEBUG, INFO, WARNING or ERROR, got 'LOUD'"
    )
    (line,) = output.read_text(encoding="utf-8").splitlines()
    if shape == "json":
        document = json.loads(line)
        assert document.pop("timestamp")
        assert document == {"level": "ERROR", "message": expected, "logger": "service.lambda_bridge"}
    else:
        assert line.endswith(f" ERROR service.lambda_bridge: {expected}"), line
