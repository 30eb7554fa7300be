"""Per-request ids: minted once per request and shown in error bodies and the access log."""

from __future__ import annotations

import secrets

from starlette.types import Scope

SCOPE_KEY = "s3proxy.request_id"
"""ASGI scope key of the request id; a server in front of the app (the Lambda bridge) may
set it first, e.g. to the invocation's request id, so both logs tell the same story."""


def request_id(scope: Scope) -> str:
    """Return the request id of ``scope`` (16 hex characters), minting it on first use."""
    existing = scope.get(SCOPE_KEY)
    if isinstance(existing, str):
        return existing
    rid = secrets.token_hex(8)
    scope[SCOPE_KEY] = rid
    return rid
