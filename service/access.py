"""Access control: with signing secrets set, every object request needs a valid signed link.

A pure ASGI middleware in front of the object endpoint. Paths under ``/_s3proxy/`` (the
health check) and ``OPTIONS`` (CORS preflight, which browsers send without credentials and
which reveals no object) pass; every other request is answered ``403`` unless its query
string carries a link (:mod:`service.signing`) for its key that still allows its method
and client address. Missing, expired, tampered and misused links all get the same 403, so
a client cannot tell which check failed. The link parameters are never sent to S3 (the
proxy forwards no query string) nor logged (the access log records the path only).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from service.errors import BadRequest, error_response
from service.keys import RESERVED_PREFIX, object_key
from service.signing import read_grant

DENIED = "a valid signed link is required"


class SignedLinkMiddleware:
    """Refuse object requests without a valid signed link (403), when ``secrets`` is non-empty.

    Args:
        app: the ASGI app to protect.
        secrets: the signing secrets, current first (``Settings.signing_secrets``).
        clock: the current Unix time in seconds (tests pass their own).
    """

    def __init__(self, app: ASGIApp, secrets: Sequence[str], clock: Callable[[], float] = time.time) -> None:
        self.app = app
        self._secrets = [secret.encode() for secret in secrets]
        self._clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._secrets or self._exempt(scope) or self._granted(scope):
            await self.app(scope, receive, send)
            return
        response = error_response(Request(scope), 403, DENIED, {"cache-control": "no-store"})
        await response(scope, receive, send)

    @staticmethod
    def _exempt(scope: Scope) -> bool:
        return scope["method"] == "OPTIONS" or str(scope["path"]).startswith(RESERVED_PREFIX)

    def _granted(self, scope: Scope) -> bool:
        try:
            key = object_key(scope, "")
        except BadRequest:
            return True  # the endpoint answers 400 without asking S3
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        grant = read_grant(key, query, self._secrets)
        client = scope.get("client")
        return grant is not None and grant.allows(scope["method"], client[0] if client else None, self._clock())
