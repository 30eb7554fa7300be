"""Response headers for an object's representation, built from S3's metadata (RFC 9110 §8).

Two safety rules apply to every object answer. ``X-Content-Type-Options: nosniff`` stops
browsers from reading a body as a type other than the one sent (Fetch standard, "should
response to request be blocked due to nosniff"). And an *active* type, one a browser runs
(HTML, SVG and other XML, JavaScript), is never rendered as a page of the proxy's origin:
it gets ``Content-Security-Policy: sandbox`` (CSP Level 3 §6.3.2: no scripts, no same-origin
access) or, with ``S3_PROXY_ACTIVE_CONTENT=attachment``, is served as a download.
"""

from __future__ import annotations

import mimetypes

from service.http import disposition
from service.s3 import ObjectMeta
from service.settings import ActiveContent

ACTIVE_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "text/xsl",
        "text/javascript",
        "application/javascript",
        "application/x-javascript",
        "application/ecmascript",
        "text/ecmascript",
    }
)
"""Media types a browser executes or renders as a document; every ``+xml`` type counts too."""

SANDBOX = "sandbox"
"""The ``Content-Security-Policy`` of an active type served inline."""

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
    if stored.lower() not in GENERIC_TYPES and _safe(stored):
        return stored
    guessed, _ = mimetypes.guess_type(key, strict=False)
    return guessed or "application/octet-stream"


def is_active(media_type: str) -> bool:
    """Whether a ``Content-Type`` value names a type browsers execute or render as a document.

    ``"text/html; charset=utf-8"`` → True; ``"image/svg+xml"`` → True; ``"application/pdf"`` → False.
    """
    essence = media_type.split(";", 1)[0].strip().lower()
    return essence in ACTIVE_TYPES or essence.endswith("+xml")


def representation_headers(
    meta: ObjectMeta, key: str, default_cache_control: str, active_content: ActiveContent = "sandbox"
) -> dict[str, str]:
    """Headers describing the object, without ``Content-Length`` (it depends on the range).

    Validators and caching headers are copied verbatim from S3, except a value holding CR,
    LF or NUL, which is dropped so that no stored metadata can split a header; ``x-amz-*``
    headers are never included. ``Cache-Control`` falls back to ``default_cache_control``
    when the object has none (an empty default means no header). ``nosniff`` is always
    set; an active type is sandboxed or made an attachment, as ``active_content`` says.
    """
    headers = {name: meta.headers[name] for name in _PASSED_THROUGH if _safe(meta.headers.get(name))}
    if "cache-control" not in headers and default_cache_control:
        headers["cache-control"] = default_cache_control
    headers["content-type"] = content_type(meta, key)
    headers["accept-ranges"] = "bytes"
    headers["x-content-type-options"] = "nosniff"
    if is_active(headers["content-type"]):
        if active_content == "attachment":
            headers["content-disposition"] = disposition.attachment(disposition.key_basename(key))
        else:
            headers["content-security-policy"] = SANDBOX
    return headers


def _safe(value: str | None) -> bool:
    return value is not None and not any(char in value for char in "\r\n\0")
