"""The object endpoint: ``GET``, ``HEAD`` and ``OPTIONS`` on ``/{key}``."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from starlette.requests import Request
from starlette.responses import Response

from service.keys import object_key
from service.representation import representation_headers
from service.s3 import ObjectBody, ObjectStore
from service.settings import Settings
from service.streaming import ObjectStreamResponse

ALLOW = "GET, HEAD, OPTIONS"


async def endpoint(request: Request) -> Response:
    """Answer one request for an object.

    Raises:
        ProxyError: a subclass for every non-success answer (bad key, S3 errors).
    """
    if request.method == "OPTIONS":
        return Response(status_code=204, headers={"allow": ALLOW})
    settings: Settings = request.app.state.settings
    store: ObjectStore = request.app.state.store
    key = object_key(request.scope, settings.key_prefix)
    if request.method == "HEAD":
        return await _head(store, key, settings)
    return await _get(store, key, settings)


async def _head(store: ObjectStore, key: str, settings: Settings) -> Response:
    meta = await store.head(key)
    headers = representation_headers(meta, key, settings.default_cache_control)
    headers["content-length"] = str(meta.size)
    return Response(status_code=200, headers=headers)


async def _get(store: ObjectStore, key: str, settings: Settings) -> Response:
    result = await store.get(key)
    headers = representation_headers(result.meta, key, settings.default_cache_control)
    headers["content-length"] = str(result.meta.size)
    return ObjectStreamResponse(_read(result.body, settings.chunk_size), 200, headers)


async def _read(body: ObjectBody, chunk_size: int) -> AsyncGenerator[bytes, None]:
    """Yield ``body`` in chunks of at most ``chunk_size`` bytes; always close it."""
    try:
        async for chunk in body.chunks(chunk_size):
            yield chunk
    finally:
        body.close()
