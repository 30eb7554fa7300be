"""CORS (Fetch standard) from settings: Starlette's middleware plus an always-on ``Vary: Origin``.

Starlette's ``CORSMiddleware`` does preflights, the allow/expose headers and error
responses, but adds ``Vary: Origin`` only to answers for requests that carry an allowed
``Origin``. A shared cache could then store the answer to a request without ``Origin``
and hand it to a cross-origin page, which would miss ``Access-Control-Allow-Origin``.
So every response of a proxy with specific allowed origins varies on ``Origin``.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.settings import Settings

EXPOSED = (
    "Accept-Ranges",
    "Content-Range",
    "Content-Length",
    "Content-Encoding",
    "Content-Disposition",
    "Content-Language",
    "ETag",
    "Last-Modified",
    "X-Request-Id",
    "x-amzn-Remapped-content-length",
)
"""Response headers scripts may read: PDF.js and media players need the range ones; through a
Lambda Function URL the size arrives as ``x-amzn-Remapped-content-length`` (README, "What a
client sees through a Function URL")."""

REQUEST_HEADERS = ("Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "If-Range")


def cors_middleware(settings: Settings) -> list[Middleware]:
    """The middleware stack for ``settings.cors_allow_origins``; empty when none are allowed."""
    origins = list(settings.cors_allow_origins)
    if not origins:
        return []
    stack = [
        Middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "HEAD", "OPTIONS"],
            allow_headers=list(REQUEST_HEADERS),
            expose_headers=list(EXPOSED),
            max_age=settings.cors_max_age,
        )
    ]
    if "*" not in origins:
        stack.insert(0, Middleware(VaryOriginMiddleware))
    return stack


class VaryOriginMiddleware:
    """Pure ASGI middleware adding ``Origin`` to every response's ``Vary`` (once)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_varying(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                varies = {item.strip().lower() for item in ",".join(headers.getlist("vary")).split(",")}
                if "origin" not in varies:
                    headers.add_vary_header("Origin")
            await send(message)

        await self.app(scope, receive, send_varying)
