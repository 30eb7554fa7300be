"""s3-stream-proxy: stream objects from Amazon S3 to HTTP clients."""

from __future__ import annotations

__version__ = "0.1.0"
