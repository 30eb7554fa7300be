"""Size-aware redirect: answers too large to stream become a 307 to an S3 presigned URL.

On Lambda a streamed answer may carry at most 200 MB, at 2 MB/s after the first 6 MB
(docs.aws.amazon.com/lambda/latest/dg/configuration-response-streaming.html), and the
function is billed for every second of it. Past ``S3_PROXY_REDIRECT_OVER_BYTES`` the proxy
answers ``307 Temporary Redirect`` (RFC 9110 §15.4.8: the client repeats the request with
the same method; browsers and HTTP libraries also repeat ``Range``) to a short-lived presigned ``GetObject`` URL,
and S3 sends the bytes itself. The URL carries the headers this proxy would have sent as
S3's response overrides: the content type, the disposition (``?download``) and the cache
policy. S3 cannot send ``Content-Security-Policy``, so a type a browser runs, which would
be sandboxed here, is made an attachment instead.

What it costs in S3 requests: a plain GET of a large object costs two ``GetObject``
requests (the proxy's, closed once its headers arrive, and the client's); when the proxy
asked ``HeadObject`` first (revalidation, several ranges), it sends no ``GetObject`` at all.
HEAD requests are never redirected: they cost one ``HeadObject`` and give the size, which a
presigned GET URL cannot (S3 answers HEAD on it with 403).
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.responses import Response

from service.http import disposition
from service.s3 import ObjectMeta, ObjectStore, ResponseOverrides


@dataclass(frozen=True)
class RedirectPolicy:
    """When answers go to S3 instead of through the proxy.

    Attributes:
        over_bytes: body sizes above this many bytes are redirected; None never redirects.
        expires: how long each presigned URL is valid (seconds, 1 to 604800).
    """

    over_bytes: int | None = None
    expires: int = 900

    def applies(self, body_length: int) -> bool:
        """Whether an answer whose body is ``body_length`` bytes is redirected."""
        return self.over_bytes is not None and body_length > self.over_bytes


async def to_s3(store: ObjectStore, meta: ObjectMeta, key: str, headers: dict[str, str], expires: int) -> Response:
    """The 307 to a presigned ``GetObject`` of ``key``, in the version ``meta`` describes.

    ``headers`` are the representation headers the proxy would have sent; their type,
    disposition and cache policy travel as S3 response overrides. The 307 itself is not
    to be stored (``Cache-Control: no-store``): its URL expires.
    """
    location = await store.presigned_get(key, expires, meta.version_id, _overrides(headers, key))
    return Response(
        status_code=307,
        headers={"location": location, "cache-control": "no-store", "x-content-type-options": "nosniff"},
    )


def _overrides(headers: dict[str, str], key: str) -> ResponseOverrides:
    overrides: ResponseOverrides = {"ResponseContentType": headers["content-type"]}
    if "content-disposition" in headers:
        overrides["ResponseContentDisposition"] = headers["content-disposition"]
    elif "content-security-policy" in headers:
        overrides["ResponseContentDisposition"] = disposition.attachment(disposition.key_basename(key))
    if "cache-control" in headers:
        overrides["ResponseCacheControl"] = headers["cache-control"]
    return overrides
