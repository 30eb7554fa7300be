"""Response headers for an object's representation, built from S3's metadata (RFC 9110 §8)."""

from __future__ import annotations

import mimetypes

from service.s3 import ObjectMeta

GENERIC_TYPES = frozenset({"binary/octet-stream", "application/octet-stream", ""})
"""Content types that say nothing; S3 stores ``binary/octet-stream`` when none was given."""

_PASSED_THROUGH = (
    "etag",
    "last-modified",
    "cache-control",
    "content-encoding",
    "content-language",
    "content-disposition",
    "expires",
)


def content_type(meta: ObjectMeta, key: str) -> str:
    """The object's ``Content-Type``, guessed from the key's extension when S3's is generic.

    Falls back to ``application/octet-stream`` when the extension is unknown.
    """
    stored = meta.headers.get("content-type", "").strip()
    if stored.lower() not in GENERIC_TYPES:
        return stored
    guessed, _ = mimetypes.guess_type(key, strict=False)
    return guessed or "application/octet-stream"


def representation_headers(meta: ObjectMeta, key: str, default_cache_control: str) -> dict[str, str]:
    """Headers describing the object, without ``Content-Length`` (it depends on the range).

    Validators and caching headers are copied verbatim from S3; ``x-amz-*`` headers are
    never included. ``Cache-Control`` falls back to ``default_cache_control`` when the
    object has none (an empty default means no header).
    """
    headers = {name: meta.headers[name] for name in _PASSED_THROUGH if name in meta.headers}
    if "cache-control" not in headers and default_cache_control:
        headers["cache-control"] = default_cache_control
    headers["content-type"] = content_type(meta, key)
    headers["accept-ranges"] = "bytes"
    return headers
