"""Configuration: every ``S3_PROXY_*`` environment variable, read once into one typed object."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Literal, TypeVar

PREFIX = "S3_PROXY_"
SECRET_VARIABLES = ("SIGNING_SECRET", "SIGNING_SECRET_PREVIOUS")
"""The signing secrets, current first (see :mod:`service.signing`)."""

InvokeMode = Literal["RESPONSE_STREAM", "BUFFERED"]
ActiveContent = Literal["sandbox", "attachment"]
"""How types a browser runs (HTML, SVG, XML, JavaScript) are served; see :mod:`service.representation`."""
LogFormat = Literal["json", "text"]
"""How log records are written; see :mod:`service.logformat`."""
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
"""The least severe log records written (names of the :mod:`logging` levels)."""
TracingMode = Literal["off", "otel"]
"""``off``: the X-Ray header is passed on to S3, no spans; ``otel``: OpenTelemetry spans too
(:mod:`service.tracing`)."""

T = TypeVar("T")


class ConfigError(ValueError):
    """An environment variable is missing or malformed.

    The message is one readable line that names the variable, e.g.
    ``S3_PROXY_CHUNK_SIZE: expected a positive integer (bytes), got 'abc'``.
    """


@dataclass(frozen=True)
class Settings:
    """All run-time settings of the proxy.

    Sizes are in bytes, durations in seconds.  Build one with :meth:`from_env`
    (which validates) or directly in tests.

    ``chunk_size`` (``S3_PROXY_CHUNK_SIZE``) is the most bytes of S3's body handed on in one
    body message; a chunk is what has arrived from S3, up to that size
    (:meth:`service.s3.ObjectBody.chunks`), so it does not change how much each stream
    buffers. At 128 KiB (aiohttp's own buffer limit) single streams cost about the CPU per
    GiB of 1 MiB chunks, while 64 streams at once stay near the memory of 64 KiB reads;
    256 KiB measured no less CPU and 10-20 MiB more peak memory at 64 streams.
    """

    bucket: str
    key_prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None
    chunk_size: int = 128 * 1024
    default_cache_control: str = "public, max-age=3600"
    forbidden_as_not_found: bool = False
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_attempts: int = 3
    max_pool_connections: int = 64
    retry_after: int = 1
    max_ranges: int = 16
    cors_allow_origins: tuple[str, ...] = field(default_factory=tuple)
    cors_max_age: int = 600
    log_format: LogFormat | None = None
    log_level: LogLevel | None = None
    trust_request_id: bool = False
    tracing: TracingMode = "off"
    lambda_invoke_mode: InvokeMode = "RESPONSE_STREAM"
    lambda_deadline_margin: float = 1.0
    header_timeout: float = 10.0
    idle_timeout: float = 15.0
    max_connections: int = 1024
    shutdown_timeout: float = 10.0
    signing_secrets: tuple[str, ...] = field(default=(), repr=False)
    active_content: ActiveContent = "sandbox"
    resume_attempts: int = 2
    redirect_over_bytes: int | None = None
    redirect_expires: int = 900
    presign_endpoint_url: str | None = None
    metrics: bool | None = None
    """Request metrics (:mod:`service.metrics`); None: the door's default, on for ``serve``, off on Lambda."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate every ``S3_PROXY_*`` variable.

        ``environ`` defaults to :data:`os.environ`.  The region falls back to the
        standard ``AWS_REGION`` / ``AWS_DEFAULT_REGION``.

        Raises:
            ConfigError: a variable is missing or malformed.
        """
        env = _Env(os.environ if environ is None else environ)
        return cls(
            bucket=env.get("BUCKET", _bucket_name, required=True),
            key_prefix=env.get("KEY_PREFIX", str, ""),
            endpoint_url=env.get("ENDPOINT_URL", _url, None),
            region=env.region(),
            chunk_size=env.get("CHUNK_SIZE", _positive_int, cls.chunk_size),
            default_cache_control=env.get("DEFAULT_CACHE_CONTROL", _header_value, cls.default_cache_control),
            forbidden_as_not_found=env.get("FORBIDDEN_AS_NOT_FOUND", _boolean, False),
            connect_timeout=env.get("CONNECT_TIMEOUT", _positive_float, cls.connect_timeout),
            read_timeout=env.get("READ_TIMEOUT", _positive_float, cls.read_timeout),
            max_attempts=env.get("MAX_ATTEMPTS", _positive_int, cls.max_attempts),
            max_pool_connections=env.get("MAX_POOL_CONNECTIONS", _positive_int, cls.max_pool_connections),
            retry_after=env.get("RETRY_AFTER", _positive_int, cls.retry_after),
            max_ranges=env.get("MAX_RANGES", _positive_int, cls.max_ranges),
            cors_allow_origins=env.get("CORS_ALLOW_ORIGINS", _origins, ()),
            cors_max_age=env.get("CORS_MAX_AGE", _non_negative_int, cls.cors_max_age),
            log_format=env.get("LOG_FORMAT", parse_log_format, None),
            log_level=env.get("LOG_LEVEL", parse_log_level, None),
            trust_request_id=env.get("TRUST_REQUEST_ID", _boolean, False),
            tracing=env.get("TRACING", _tracing_mode, "off"),
            lambda_invoke_mode=env.get("LAMBDA_INVOKE_MODE", _invoke_mode, "RESPONSE_STREAM"),
            lambda_deadline_margin=env.get("LAMBDA_DEADLINE_MARGIN", _non_negative_float, cls.lambda_deadline_margin),
            header_timeout=env.get("HEADER_TIMEOUT", _positive_float, cls.header_timeout),
            idle_timeout=env.get("IDLE_TIMEOUT", _positive_float, cls.idle_timeout),
            max_connections=env.get("MAX_CONNECTIONS", _positive_int, cls.max_connections),
            shutdown_timeout=env.get("SHUTDOWN_TIMEOUT", _non_negative_float, cls.shutdown_timeout),
            signing_secrets=env.signing_secrets(),
            active_content=env.get("ACTIVE_CONTENT", _active_content, "sandbox"),
            resume_attempts=env.get("RESUME_ATTEMPTS", _non_negative_int, cls.resume_attempts),
            redirect_over_bytes=env.redirect_over_bytes(),
            redirect_expires=env.get("REDIRECT_EXPIRES", _presign_lifetime, cls.redirect_expires),
            presign_endpoint_url=env.get("PRESIGN_ENDPOINT_URL", _url, None),
            metrics=env.get("METRICS", _on_off, None),
        )

    def to_env(self) -> dict[str, str]:
        """These settings as the variables :meth:`from_env` reads back to an equal object.

        Each field becomes ``S3_PROXY_<FIELD>`` (booleans ``true``/``false``, tuples joined
        by commas), except the signing secrets (``S3_PROXY_SIGNING_SECRET`` and
        ``_PREVIOUS``); ``None`` fields are left out, and the region is ``AWS_REGION``, the
        variable Lambda itself sets. Used to configure a runtime child process, e.g.
        ``{"S3_PROXY_BUCKET": "demo-bucket", "AWS_REGION": "us-east-1", ...}``.
        """
        environment: dict[str, str] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name not in {"region", "signing_secrets"} and value is not None:
                environment[PREFIX + item.name.upper()] = _as_text(value)
        for name, secret in zip(SECRET_VARIABLES, self.signing_secrets, strict=False):
            environment[PREFIX + name] = secret
        if self.region:
            environment["AWS_REGION"] = self.region
        return environment


def read_signing_secrets(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Only the signing secrets of ``environ`` (default :data:`os.environ`), current first.

    What ``s3-stream-proxy sign`` needs, without the bucket and the rest of :class:`Settings`.

    Raises:
        ConfigError: as for :meth:`Settings.from_env`.
    """
    return _Env(os.environ if environ is None else environ).signing_secrets()


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)


class _Env:
    """Typed reads of ``S3_PROXY_*`` variables; each error names its variable."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def get(
        self,
        name: str,
        parse: Callable[[str], T],
        default: T | None = None,
        *,
        required: bool = False,
    ) -> T:
        variable = PREFIX + name
        raw = self._environ.get(variable, "").strip()
        if not raw:
            if required:
                raise ConfigError(f"{variable}: required, but not set")
            return default  # type: ignore[return-value]
        try:
            return parse(raw)
        except ValueError as exc:
            raise ConfigError(f"{variable}: {exc}, got {raw!r}") from None

    def signing_secrets(self) -> tuple[str, ...]:
        """``SIGNING_SECRET``, then ``SIGNING_SECRET_PREVIOUS`` (accepted while links signed
        with it are still in use); empty when signing is off.

        Raises:
            ConfigError: a previous secret without a current one, or a secret too short.
        """
        current, previous = (self._secret(name) for name in SECRET_VARIABLES)
        if previous and not current:
            raise ConfigError(f"{PREFIX}{SECRET_VARIABLES[1]}: set, but {PREFIX}{SECRET_VARIABLES[0]} is not")
        return tuple(secret for secret in (current, previous) if secret)

    def _secret(self, name: str) -> str:
        """A secret's value; unlike :meth:`get`, an error never repeats what was given."""
        raw = self._environ.get(PREFIX + name, "").strip()
        if raw and len(raw) < MIN_SECRET_LENGTH:
            raise ConfigError(f"{PREFIX}{name}: expected a secret of at least {MIN_SECRET_LENGTH} characters")
        return raw

    def redirect_over_bytes(self) -> int | None:
        """``REDIRECT_OVER_BYTES``: bytes, or None for ``off``; when unset, the default of
        :meth:`lambda_redirect_default`."""
        if self._environ.get(PREFIX + "REDIRECT_OVER_BYTES", "").strip():
            return self.get("REDIRECT_OVER_BYTES", _bytes_or_off)
        return self.lambda_redirect_default()

    def lambda_redirect_default(self) -> int | None:
        """On Lambda (``AWS_LAMBDA_RUNTIME_API`` set), the size past which an answer would
        break the invoke mode's response limit; elsewhere None (never redirect)."""
        if not self._environ.get("AWS_LAMBDA_RUNTIME_API", "").strip():
            return None
        buffered = self._environ.get(PREFIX + "LAMBDA_INVOKE_MODE", "").strip().upper() == "BUFFERED"
        return LAMBDA_BUFFERED_REDIRECT_OVER if buffered else LAMBDA_STREAM_REDIRECT_OVER

    def region(self) -> str | None:
        for variable in ("AWS_REGION", "AWS_DEFAULT_REGION"):
            value = self._environ.get(variable, "").strip()
            if value:
                return value
        return None


def _positive_int(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit() or int(raw) == 0:
        raise ValueError("expected a positive integer")
    return int(raw)


LAMBDA_STREAM_REDIRECT_OVER = 190_000_000
"""Bytes past which a streamed Lambda answer is redirected to S3 by default. Lambda streams
"payloads up to 200 MB" (docs.aws.amazon.com/lambda/latest/dg/configuration-response-streaming.html);
the documentation does not say whether MB means 10**6 or 2**20 bytes, nor whether the prelude
counts, so the default stays 5 % under the smaller reading."""

LAMBDA_BUFFERED_REDIRECT_OVER = 4_000_000
"""The same for ``BUFFERED`` answers, whose JSON result may be 6 MB: a binary body travels in
base64 (4 bytes per 3), so 4,000,000 bytes become about 5.3 MB, leaving room for the headers."""

MAX_PRESIGN_LIFETIME = 7 * 24 * 3600
"""The longest a SigV4 presigned URL can be valid, seconds (S3 user guide, "Sharing objects with
presigned URLs": up to 7 days)."""


def _bytes_or_off(raw: str) -> int | None:
    if raw.lower() == "off":
        return None
    try:
        return _positive_int(raw)
    except ValueError:
        raise ValueError("expected a positive integer (bytes) or 'off'") from None


def _presign_lifetime(raw: str) -> int:
    seconds = _positive_int(raw)
    if seconds > MAX_PRESIGN_LIFETIME:
        raise ValueError(f"expected at most {MAX_PRESIGN_LIFETIME} seconds (7 days)")
    return seconds


def _non_negative_int(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit():
        raise ValueError("expected a non-negative integer")
    return int(raw)


def _positive_float(raw: str) -> float:
    value = _non_negative_float(raw)
    if value == 0:
        raise ValueError("expected a positive number of seconds")
    return value


def _non_negative_float(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError("expected a number of seconds") from None
    if not value >= 0 or value == float("inf"):
        raise ValueError("expected a finite, non-negative number of seconds")
    return value


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _boolean(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError("expected true or false")


def _on_off(raw: str) -> bool:
    try:
        return _boolean(raw)
    except ValueError:
        raise ValueError("expected on or off") from None


MIN_SECRET_LENGTH = 32
"""Characters a signing secret needs at least: 32 random characters carry well over the
128 bits an HMAC-SHA256 key should have (RFC 2104 §3)."""


def _bucket_name(raw: str) -> str:
    if not (3 <= len(raw) <= 63) or any(c in raw for c in "/ \t"):
        raise ValueError("expected an S3 bucket name (3-63 characters, no '/' or spaces)")
    return raw


def _url(raw: str) -> str:
    if not raw.startswith(("http://", "https://")):
        raise ValueError("expected an http:// or https:// URL")
    return raw


def _header_value(raw: str) -> str:
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in raw):
        raise ValueError("control characters are not allowed in a header value")
    return raw


def _origins(raw: str) -> tuple[str, ...]:
    origins = tuple(item.strip() for item in raw.split(",") if item.strip())
    for origin in origins:
        if origin != "*" and not origin.startswith(("http://", "https://")):
            raise ValueError("expected '*' or comma-separated http(s) origins")
    return origins


def _active_content(raw: str) -> ActiveContent:
    lower = raw.lower()
    if lower == "sandbox":
        return "sandbox"
    if lower == "attachment":
        return "attachment"
    raise ValueError("expected sandbox or attachment")


def parse_log_format(raw: str) -> LogFormat:
    """``json`` or ``text``, in any case (Lambda's ``AWS_LAMBDA_LOG_FORMAT`` says ``JSON`` / ``Text``).

    Raises:
        ValueError: anything else.
    """
    lower = raw.strip().lower()
    if lower == "json":
        return "json"
    if lower == "text":
        return "text"
    raise ValueError("expected json or text")


def parse_log_level(raw: str) -> LogLevel:
    """``DEBUG``, ``INFO``, ``WARNING`` (or ``WARN``) or ``ERROR``, in any case.

    Raises:
        ValueError: anything else.
    """
    level = _LOG_LEVELS.get(raw.strip().upper())
    if level is None:
        raise ValueError("expected DEBUG, INFO, WARNING or ERROR")
    return level


_LOG_LEVELS: dict[str, LogLevel] = {
    "DEBUG": "DEBUG",
    "INFO": "INFO",
    "WARN": "WARNING",
    "WARNING": "WARNING",
    "ERROR": "ERROR",
}


def _invoke_mode(raw: str) -> InvokeMode:
    upper = raw.upper()
    if upper == "RESPONSE_STREAM":
        return "RESPONSE_STREAM"
    if upper == "BUFFERED":
        return "BUFFERED"
    raise ValueError("expected RESPONSE_STREAM or BUFFERED")


def _tracing_mode(raw: str) -> TracingMode:
    lower = raw.lower()
    if lower == "off":
        return "off"
    if lower == "otel":
        return "otel"
    raise ValueError("expected off or otel")
