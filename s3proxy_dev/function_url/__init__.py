"""A local Lambda Function URL: Runtime API emulator, HTTP front and runtime process manager.

``s3-stream-proxy function-url`` (:func:`main`) runs the Lambda path on a laptop without
Docker.  :class:`FunctionUrlEmulator` is the same thing for use from code and tests.
"""

from __future__ import annotations

from s3proxy_dev.function_url.cli import configure_parser, main, run
from s3proxy_dev.function_url.config import EmulatorConfig, FunctionIdentity, PlatformLimits
from s3proxy_dev.function_url.emulator import FunctionUrlEmulator

__all__ = [
    "EmulatorConfig",
    "FunctionIdentity",
    "FunctionUrlEmulator",
    "PlatformLimits",
    "configure_parser",
    "main",
    "run",
]
