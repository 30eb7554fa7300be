"""Developer tools for s3-stream-proxy, installed with the project but never deployed.

- :mod:`s3proxy_dev.function_url`: a local Lambda Function URL (Runtime API emulator,
  HTTP front, runtime process manager), because ``sam local`` cannot stream;
- :mod:`s3proxy_dev.demo`: the proxy on an embedded S3 seeded with sample files.

The Lambda zip and the container image hold only the :mod:`service` package; this package
imports from it, never the other way round. ``s3-stream-proxy function-url`` and
``s3-stream-proxy demo`` reach these tools lazily.
"""

from __future__ import annotations
