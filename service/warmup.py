"""Warm the S3 client at start-up, so the first request does not pay for what every request shares.

The first S3 call of a fresh aiobotocore client resolves credentials, evaluates the S3 endpoint
ruleset, builds the SigV4 signer and creates the aiohttp connection pool with its TLS context,
loading the CA bundle (about 0.1 s of the first Lambda invocation, measured on this project's
test machine). Lambda's runtime runs the app's start-up in the init phase, before its first
``/next`` (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html, "Init
phase"), which is where AWS advises initialising SDK clients
(https://docs.aws.amazon.com/lambda/latest/dg/best-practices.html, "Take advantage of execution
environment reuse"). Nothing here sends a request to S3.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

logger = logging.getLogger("service.warmup")

WARM_UP_KEY = "_s3proxy/warm-up"
"""The key of the URL presigned at start-up; the URL is never used."""


async def warm_up(client: S3Client, bucket: str) -> None:
    """Prepare ``client`` for its first call to ``bucket`` without calling S3.

    Presigning a ``GetObject`` URL (signed locally, as the S3 user guide's "Sharing objects with
    presigned URLs" says) resolves the credentials and the endpoint and signs; then the
    connection pool is created. Failures are logged and left to the first request, which
    reports them as it would have anyway (missing credentials are a 502 there, not an init error).
    """
    try:
        await client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": WARM_UP_KEY}, ExpiresIn=60)
    except BotoCoreError as exc:
        logger.info("S3 client warm-up skipped: %s", exc)
        return
    await _open_pool(client)


async def _open_pool(client: S3Client) -> None:
    """Create the client's aiohttp session and connector (its TLS context) for the endpoint.

    aiobotocore 2.x makes them on the first request (``AIOHTTPSession._get_session``, not a
    public API); with another layout this does nothing and the first request makes them.
    """
    endpoint: Any = getattr(client, "_endpoint", None)
    http_session: Any = getattr(endpoint, "http_session", None)
    get_session = getattr(http_session, "_get_session", None)
    proxies = getattr(http_session, "_proxy_config", None)
    if get_session is None or proxies is None:
        return
    await get_session(proxies.proxy_url_for(endpoint.host))
