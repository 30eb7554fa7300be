"""Pure RFC 9110 building blocks: byte ranges, preconditions, downloads and multipart bodies.

Nothing here performs I/O or imports Starlette or the S3 client, so every rule can be
tested on its own and reused by both the uvicorn app and the Lambda runtime.

Modules:
    ranges: the ``Range`` header (RFC 9110 §14.1-§14.4).
    dates: HTTP-date parsing (RFC 9110 §5.6.7).
    etags: entity tags and their comparison (RFC 9110 §8.8.3).
    preconditions: conditional requests (RFC 9110 §13).
    disposition: ``Content-Disposition: attachment`` (RFC 6266, RFC 8187).
    multipart: ``multipart/byteranges`` bodies (RFC 9110 §14.6).
"""

from __future__ import annotations
