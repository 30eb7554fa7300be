"""Per-request ids: minted once per request and shown in error bodies, the ``X-Request-Id`` field
and every log record written while the request runs."""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Iterator
from contextvars import ContextVar

from starlette.types import Scope

SCOPE_KEY = "s3proxy.request_id"
"""ASGI scope key of the request id; a server in front of the app (the Lambda bridge) may
set it first, e.g. to the invocation's request id, so both logs tell the same story."""

CLIENT_HEADER = b"x-request-id"
"""The request header a client (or a proxy in front) sends its own id in, taken only when
``S3_PROXY_TRUST_REQUEST_ID`` is on; the same name the answer carries the id in."""

_SAFE_ID = re.compile(r"[A-Za-z0-9._~:+/=-]{1,128}")
"""What a client id may be: 1-128 characters, letters, digits and ``._~:+/=-``. No space,
quote, control character or separator, so the id can neither forge a log line nor a header."""

_current: ContextVar[str | None] = ContextVar("s3proxy_request_id", default=None)


def request_id(scope: Scope) -> str:
    """Return the request id of ``scope`` (16 hex characters), minting it on first use."""
    existing = scope.get(SCOPE_KEY)
    if isinstance(existing, str):
        return existing
    rid = secrets.token_hex(8)
    scope[SCOPE_KEY] = rid
    return rid


def adopt_client_id(scope: Scope) -> None:
    """Take the client's ``X-Request-Id`` as the request id of ``scope``, if it is a safe one.

    Nothing changes when a server in front already set the id (the Lambda request id wins),
    when the header is absent or sent more than once, or when its value is not 1-128
    characters of the safe set; :func:`request_id` then mints a fresh id.
    """
    if isinstance(scope.get(SCOPE_KEY), str):
        return
    values = [value for name, value in scope.get("headers", []) if name.lower() == CLIENT_HEADER]
    if len(values) != 1:
        return
    text = values[0].decode("latin-1")
    if _SAFE_ID.fullmatch(text):
        scope[SCOPE_KEY] = text


def current() -> str | None:
    """The id of the request being served in this context (see :func:`bound`), else None."""
    return _current.get()


@contextlib.contextmanager
def bound(rid: str) -> Iterator[None]:
    """Make ``rid`` the :func:`current` request id for the ``with`` block (and the tasks it
    starts, which copy the context), so every log record written meanwhile names it."""
    token = _current.set(rid)
    try:
        yield
    finally:
        _current.reset(token)
