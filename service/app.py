"""The Starlette application: ``GET``/``HEAD``/``OPTIONS`` on ``/{key}`` streams S3 objects."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession, get_session
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from service import metrics, objects
from service.access import SignedLinkMiddleware
from service.accesslog import AccessLogMiddleware
from service.cors import cors_middleware
from service.delivery import ResponseSettings
from service.errors import ProxyError, error_response
from service.keys import RESERVED_PREFIX
from service.redirect import RedirectPolicy
from service.s3 import ObjectStore, Refusals
from service.settings import Settings
from service.tracing import Tracing, TracingMiddleware, from_settings, register_s3_hooks
from service.warmup import warm_up

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client


def create_app(settings: Settings, door: metrics.Door = "serve", *, tracing: Tracing | None = None) -> Starlette:
    """Build the proxy for ``settings``, served through ``door`` (which decides how its
    metrics are exported, see :func:`service.metrics.for_door`).

    The aiobotocore S3 client is created once, in the ASGI lifespan startup, and shared by
    every request; it is closed at shutdown. What requests need of the process travels
    as the lifespan's state (:class:`service.objects.State`), which the server copies
    into each request. ``tracing`` defaults to what ``settings.tracing`` asks for
    (:func:`service.tracing.from_settings`).

    Raises:
        ConfigError: tracing is switched on but cannot be set up (the extra is missing).
    """
    chosen = tracing or from_settings(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[objects.State]:
        async with contextlib.AsyncExitStack() as stack:
            stack.callback(chosen.shutdown)
            # One session for both clients, so the second reuses the service model it loaded.
            session = get_session()
            client = await stack.enter_async_context(_s3_client(session, settings, settings.endpoint_url))
            await warm_up(client, settings.bucket)
            register_s3_hooks(client, chosen)
            signer = None
            if settings.presign_endpoint_url:
                signer = await stack.enter_async_context(_s3_client(session, settings, settings.presign_endpoint_url))
            yield _state(client, signer, settings, chosen)

    observer, metrics_routes = metrics.for_door(settings.metrics, door)
    return Starlette(
        routes=[
            Mount(
                RESERVED_PREFIX.rstrip("/"),
                routes=[Route("/health", _health, methods=["GET", "HEAD"]), *metrics_routes],
            ),
            Route("/{key:path}", objects.endpoint, methods=["GET", "HEAD", "OPTIONS"]),
        ],
        middleware=[
            Middleware(TracingMiddleware, tracing=chosen),
            Middleware(AccessLogMiddleware, trust_request_id=settings.trust_request_id, observer=observer),
            *cors_middleware(settings),
            Middleware(SignedLinkMiddleware, secrets=settings.signing_secrets),
        ],
        exception_handlers={ProxyError: _proxy_error, HTTPException: _http_error},
        lifespan=lifespan,
    )


def _state(client: S3Client, signer: S3Client | None, settings: Settings, tracing: Tracing) -> objects.State:
    """The per-process state: each part gets only the settings it uses. ``signer`` presigns
    redirect URLs for the public endpoint, when it is not the proxy's own."""
    responses = ResponseSettings(
        chunk_size=settings.chunk_size,
        default_cache_control=settings.default_cache_control,
        max_ranges=settings.max_ranges,
        active_content=settings.active_content,
        resume_attempts=settings.resume_attempts,
        redirect=RedirectPolicy(settings.redirect_over_bytes, settings.redirect_expires),
    )
    refusals = Refusals(forbidden_as_not_found=settings.forbidden_as_not_found, retry_after=settings.retry_after)
    store = ObjectStore(client, settings.bucket, refusals, signer, tracing)
    return {"store": store, "key_prefix": settings.key_prefix, "responses": responses}


def _s3_client(
    session: AioSession, settings: Settings, endpoint_url: str | None
) -> contextlib.AbstractAsyncContextManager[S3Client]:
    config = AioConfig(
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        retries={"total_max_attempts": settings.max_attempts, "mode": "standard"},
        max_pool_connections=settings.max_pool_connections,
        # SigV4 for presigned URLs too (botocore would presign with SigV2, which S3 is retiring).
        signature_version="s3v4",
        # Custom endpoints (moto, s3rver, MinIO) are addressed by IP or localhost, where
        # virtual-hosted bucket names cannot resolve.
        s3={"addressing_style": "path" if endpoint_url else "auto"},
    )
    # aiobotocore itself, not aioboto3: aioboto3 adds boto3's resource layer, which the proxy
    # never uses and whose import (boto3 with its docs machinery) cost about 0.15 s of INIT.
    return session.create_client("s3", endpoint_url=endpoint_url, region_name=settings.region, config=config)


async def _health(request: Request) -> Response:
    return JSONResponse({"status": "ok"}, headers={"cache-control": "no-store", "x-content-type-options": "nosniff"})


async def _proxy_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProxyError)
    return error_response(request, exc.status, exc.reason, exc.headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    reason = "no such path" if exc.status_code == 404 else exc.detail
    return error_response(request, exc.status_code, reason, exc.headers or {})
