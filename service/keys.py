"""Map a request path to an S3 key, byte-exact.

Why not Starlette's path parameter: ``scope["path"]`` has already been percent-decoded
by the server, so ``%2F`` and ``/`` are indistinguishable there and a literal ``%25``
would be decoded twice if we decoded again. We decode the raw path exactly once.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote_to_bytes

from starlette.types import Scope

from service.errors import BadRequest

RESERVED_PREFIX = "/_s3proxy/"
"""Paths under this prefix belong to the proxy itself (health); they never name an object."""

MAX_KEY_BYTES = 1024
"""S3's limit on a key's length, in UTF-8 bytes (S3 docs, "Naming Amazon S3 objects")."""

_DOT_SEGMENTS = frozenset({".", ".."})


def object_key(scope: Scope, prefix: str) -> str:
    """Return the S3 key a request names: ``prefix`` + the path, percent-decoded once.

    The path is taken from ``raw_path`` as sent (falling back to ``path``), decoded as
    strict UTF-8, without its one leading ``/``. ``+`` stays a literal plus; doubled
    and trailing slashes are kept.

    A ``.`` or ``..`` segment, however it was encoded (``%2e``, ``%2E%2e``, or made one by
    a decoded ``%2F``), is refused: CDNs and browsers normalise such paths (RFC 3986
    §5.2.4), so the same URL could name one key here and another in front of us.

    Raises:
        BadRequest: the key is empty, not UTF-8, has ``.``/``..`` segments, is longer than
            1,024 UTF-8 bytes, or contains control characters.
    """
    return key_from_path(scope.get("raw_path") or scope["path"].encode("utf-8"), prefix)


def key_from_path(raw: bytes, prefix: str) -> str:
    """The S3 key a percent-encoded request path (``b"/docs/a%20b.pdf"``) names; see :func:`object_key`.

    Raises:
        BadRequest: as for :func:`object_key`.
    """
    try:
        path = unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the path is not valid UTF-8 once percent-decoded") from None
    name = path[1:] if path.startswith("/") else path
    if not name:
        raise BadRequest("no object key in the path")
    if not _DOT_SEGMENTS.isdisjoint(name.split("/")):
        raise BadRequest("the path has '.' or '..' segments")
    key = prefix + name
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise BadRequest(f"the object key is longer than {MAX_KEY_BYTES} bytes")
    if any(unicodedata.category(char) == "Cc" for char in key):
        raise BadRequest("the object key contains control characters")
    return key
