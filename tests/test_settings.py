"""Configuration: S3_PROXY_* variables into one typed object; bad values stop start-up readably."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from service.settings import ConfigError, Settings


def test_defaults_and_region_fallback() -> None:
    settings = Settings.from_env({"S3_PROXY_BUCKET": "my-bucket", "AWS_DEFAULT_REGION": "eu-west-1"})
    assert settings.bucket == "my-bucket"
    assert settings.region == "eu-west-1"
    assert settings.chunk_size == 128 * 1024
    assert settings.forbidden_as_not_found is False


def test_every_variable_is_read() -> None:
    settings = Settings.from_env(
        {
            "S3_PROXY_BUCKET": "media",
            "S3_PROXY_KEY_PREFIX": "public/",
            "S3_PROXY_ENDPOINT_URL": "http://127.0.0.1:9000",
            "AWS_REGION": "eu-central-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "S3_PROXY_CHUNK_SIZE": "1048576",
            "S3_PROXY_DEFAULT_CACHE_CONTROL": "no-cache",
            "S3_PROXY_FORBIDDEN_AS_NOT_FOUND": "true",
            "S3_PROXY_READ_TIMEOUT": "2.5",
            "S3_PROXY_MAX_ATTEMPTS": "5",
            "S3_PROXY_CORS_ALLOW_ORIGINS": "https://a.example, https://b.example",
            "S3_PROXY_LAMBDA_INVOKE_MODE": "buffered",
        }
    )
    assert settings.key_prefix == "public/"
    assert settings.endpoint_url == "http://127.0.0.1:9000"
    assert settings.region == "eu-central-1"
    assert settings.chunk_size == 1048576
    assert settings.default_cache_control == "no-cache"
    assert settings.forbidden_as_not_found is True
    assert settings.read_timeout == 2.5
    assert settings.max_attempts == 5
    assert settings.cors_allow_origins == ("https://a.example", "https://b.example")
    assert settings.lambda_invoke_mode == "BUFFERED"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        pytest.param({}, "S3_PROXY_BUCKET: required", id="no-bucket"),
        pytest.param({"S3_PROXY_CHUNK_SIZE": "abc"}, "S3_PROXY_CHUNK_SIZE:", id="chunk-abc"),
        pytest.param({"S3_PROXY_CHUNK_SIZE": "-5"}, "S3_PROXY_CHUNK_SIZE:", id="chunk-negative"),
        pytest.param({"S3_PROXY_CHUNK_SIZE": "0"}, "S3_PROXY_CHUNK_SIZE:", id="chunk-zero"),
        pytest.param({"S3_PROXY_READ_TIMEOUT": "-1"}, "S3_PROXY_READ_TIMEOUT:", id="timeout-negative"),
        pytest.param({"S3_PROXY_READ_TIMEOUT": "nan"}, "S3_PROXY_READ_TIMEOUT:", id="timeout-nan"),
        pytest.param({"S3_PROXY_FORBIDDEN_AS_NOT_FOUND": "maybe"}, "FORBIDDEN_AS_NOT_FOUND", id="bool"),
        pytest.param({"S3_PROXY_ENDPOINT_URL": "localhost:9000"}, "S3_PROXY_ENDPOINT_URL:", id="url"),
        pytest.param({"S3_PROXY_DEFAULT_CACHE_CONTROL": "a\nb"}, "DEFAULT_CACHE_CONTROL", id="header-injection"),
        pytest.param({"S3_PROXY_LAMBDA_INVOKE_MODE": "stream"}, "LAMBDA_INVOKE_MODE", id="invoke-mode"),
        pytest.param({"S3_PROXY_RESUME_ATTEMPTS": "-1"}, "S3_PROXY_RESUME_ATTEMPTS:", id="resume-negative"),
    ],
)
def test_invalid_configuration_names_the_variable(environ: dict[str, str], message: str) -> None:
    full = {"S3_PROXY_BUCKET": "b-ok", **environ} if environ else {}
    with pytest.raises(ConfigError, match=message) as info:
        Settings.from_env(full)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("extra", "variable"),
    [
        pytest.param({}, "S3_PROXY_BUCKET", id="no-bucket"),
        pytest.param({"S3_PROXY_BUCKET": "media", "S3_PROXY_CHUNK_SIZE": "abc"}, "S3_PROXY_CHUNK_SIZE", id="abc"),
        pytest.param({"S3_PROXY_BUCKET": "media", "S3_PROXY_CHUNK_SIZE": "-1"}, "S3_PROXY_CHUNK_SIZE", id="negative"),
        pytest.param({"S3_PROXY_BUCKET": "media", "PORT": "abc"}, "PORT", id="port-not-a-number"),
    ],
)
def test_serve_with_invalid_configuration_exits_2_with_one_line(extra: dict[str, str], variable: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("S3_PROXY_") and k != "PORT"}
    env.update(extra)
    result = subprocess.run(
        [sys.executable, "-m", "service", "serve", *([] if "PORT" in extra else ["--port", "0"])],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert variable in lines[0]
    assert "Traceback" not in result.stderr


def test_to_env_round_trips() -> None:
    settings = Settings(
        bucket="media",
        key_prefix="public/",
        endpoint_url="http://127.0.0.1:9000",
        region="eu-west-1",
        forbidden_as_not_found=True,
        cors_allow_origins=("https://a.example", "https://b.example"),
        lambda_invoke_mode="BUFFERED",
        read_timeout=2.5,
    )
    environ = settings.to_env()
    assert environ["S3_PROXY_FORBIDDEN_AS_NOT_FOUND"] == "true"
    assert environ["AWS_REGION"] == "eu-west-1"
    assert Settings.from_env(environ) == settings


def test_limits_for_clients_are_read() -> None:
    settings = Settings.from_env(
        {
            "S3_PROXY_BUCKET": "media",
            "S3_PROXY_HEADER_TIMEOUT": "2.5",
            "S3_PROXY_IDLE_TIMEOUT": "30",
            "S3_PROXY_MAX_CONNECTIONS": "10",
            "S3_PROXY_SHUTDOWN_TIMEOUT": "0",
        }
    )
    assert (settings.header_timeout, settings.idle_timeout) == (2.5, 30.0)
    assert (settings.max_connections, settings.shutdown_timeout) == (10, 0.0)


def test_resume_attempts_default_to_two_and_zero_turns_resuming_off() -> None:
    assert Settings.from_env({"S3_PROXY_BUCKET": "media"}).resume_attempts == 2
    assert Settings.from_env({"S3_PROXY_BUCKET": "media", "S3_PROXY_RESUME_ATTEMPTS": "0"}).resume_attempts == 0


SECRET = "s" * 32
OLD_SECRET = "o" * 40


def test_signing_secrets_current_then_previous_and_round_trip() -> None:
    environ = {"S3_PROXY_BUCKET": "media", "S3_PROXY_SIGNING_SECRET": SECRET}
    assert Settings.from_env(environ).signing_secrets == (SECRET,)
    both = Settings.from_env({**environ, "S3_PROXY_SIGNING_SECRET_PREVIOUS": OLD_SECRET})
    assert both.signing_secrets == (SECRET, OLD_SECRET)
    assert Settings.from_env(both.to_env()) == both
    assert SECRET not in repr(both) and OLD_SECRET not in repr(both)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        pytest.param(
            {"S3_PROXY_SIGNING_SECRET": "short-secret"},
            "S3_PROXY_SIGNING_SECRET: expected a secret of at least 32 characters",
            id="too-short",
        ),
        pytest.param(
            {"S3_PROXY_SIGNING_SECRET_PREVIOUS": OLD_SECRET},
            "S3_PROXY_SIGNING_SECRET_PREVIOUS: set, but S3_PROXY_SIGNING_SECRET is not",
            id="previous-alone",
        ),
    ],
)
def test_signing_secret_errors_never_repeat_the_secret(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"S3_PROXY_BUCKET": "media", **environ})
    assert str(caught.value) == message
