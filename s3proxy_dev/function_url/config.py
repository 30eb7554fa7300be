"""Settings of the local Function URL emulator: the emulated function, its URL and the limits."""

from __future__ import annotations

import os
import secrets
import sys
from dataclasses import dataclass, field
from typing import Literal

UrlInvokeMode = Literal["RESPONSE_STREAM", "BUFFERED"]
"""The Function URL's ``InvokeMode`` (docs config-rs-invoke-furls.html)."""

EventFormat = Literal["function-url", "rest"]
"""The event the front hands the runtime: a Function URL's payload 2.0, or the REST API proxy
event (payload 1.0) of an API Gateway REST API with a streaming Lambda proxy integration."""

MIB = 1024 * 1024
MAX_FUNCTION_TIMEOUT = 900.0
"""Lambda's largest function timeout, in seconds (docs configuration-timeout.html)."""


@dataclass(frozen=True)
class PlatformLimits:
    """The limits Lambda puts on one Function URL invocation; sizes in bytes, rates in bytes/s.

    Defaults follow docs configuration-response-streaming.html (first 6 MB uncapped, then
    2 MB/s; 200 MB streamed), config-rs-invoke-furls.html (6 MB buffered) and RAPID's defaults
    in the runtime interface emulator (interop/model.go: 6 MiB burst, 2 MiB/s average).
    """

    burst_bytes: int = 6 * MIB
    rate_bytes_per_second: int = 2 * MIB
    max_streamed_bytes: int = 200 * MIB
    max_buffered_bytes: int = 6 * MIB
    max_request_bytes: int = 6 * MIB
    enforce_timeout: bool = True


@dataclass(frozen=True)
class FunctionIdentity:
    """Who the emulated function is: the values Lambda puts in the runtime's environment."""

    name: str = "s3-stream-proxy"
    version: str = "$LATEST"
    memory_mb: int = 1024
    region: str = "us-east-1"
    account_id: str = "123456789012"
    handler: str = "service.app:app"
    url_id: str = field(default_factory=lambda: secrets.token_hex(16))

    @property
    def arn(self) -> str:
        """The invoked function ARN sent in ``Lambda-Runtime-Invoked-Function-Arn``."""
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.name}"

    @property
    def domain_name(self) -> str:
        """The URL's host name, ``<url-id>.lambda-url.<region>.on.aws`` (docs urls-invocation)."""
        return f"{self.url_id}.lambda-url.{self.region}.on.aws"


def default_command() -> tuple[str, ...]:
    """The runtime started by default: this project's own custom runtime."""
    return (sys.executable, "-m", "service", "lambda")


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything the emulator needs.

    ``timeout`` is the function timeout in seconds (it sets ``Lambda-Runtime-Deadline-Ms``);
    ``limits`` is ``None`` to switch all platform limits off.  ``port`` 0 picks a free port.
    The HTTP front's own limits hold either way: a client's request head must be complete
    within ``header_timeout`` seconds (else ``408``), a kept-alive connection is closed after
    ``idle_timeout`` seconds without a new request, and at most ``max_connections`` client
    connections are served at once (``503`` past that).
    """

    host: str = "127.0.0.1"
    port: int = 9000
    timeout: float = 60.0
    limits: PlatformLimits | None = field(default_factory=PlatformLimits)
    command: tuple[str, ...] = field(default_factory=default_command)
    pool_size: int = 1
    # Invocations each runtime process serves at once, as on Lambda Managed Instances: above
    # 1 the runtime gets AWS_LAMBDA_MAX_CONCURRENCY and may hold that many /next calls open.
    concurrency: int = 1
    # SnapStart: the runtime starts with AWS_LAMBDA_INITIALIZATION_TYPE=snap-start and may
    # call /runtime/restore/next once its init is done (see environment.restore_next).
    snap_start: bool = False
    invoke_mode: UrlInvokeMode = "RESPONSE_STREAM"
    # "rest" presents each request as an API Gateway REST API would, on stage `rest_stage`.
    event_format: EventFormat = "function-url"
    rest_stage: str = "live"
    function: FunctionIdentity = field(default_factory=FunctionIdentity)
    task_root: str = field(default_factory=os.getcwd)
    extra_env: tuple[tuple[str, str], ...] = ()
    # Where the runtime's stdout and stderr go, both (Lambda sends both to CloudWatch Logs):
    # a file appended to, or None for the emulator's own.
    runtime_output: str | None = None
    # A real Function URL front protects itself from slow, idle and excess clients, but AWS
    # does not document how (no header, idle or connection limit appears in the Lambda
    # docs or quotas); the emulator models such protections with the defaults of `serve`
    # (service.settings.Settings), so both doors behave alike.
    header_timeout: float = 10.0
    idle_timeout: float = 15.0
    max_connections: int = 1024
