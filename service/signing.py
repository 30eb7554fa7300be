"""Signed links: an HMAC-SHA256 token in the query string grants one key until an expiry.

A link carries four query parameters::

    /docs/report.pdf?s3proxy-expires=1767225600&s3proxy-methods=GET,HEAD
        &s3proxy-cidr=203.0.113.0/24&s3proxy-signature=<43 base64url characters>

``s3proxy-expires`` (Unix time, seconds) and ``s3proxy-signature`` are required; the
methods and the client network are optional constraints. The signature is HMAC-SHA256
(RFC 2104) over the JSON array ``["s3proxy-link-v1", key, expires, methods, cidr]``, so no
choice of key can make two different grants sign the same bytes. Signatures are compared
in constant time, against the current secret and, during a rotation, the previous one.

Unlike S3 presigned URLs, a link is not tied to temporary AWS credentials (it lives as
long as its expiry says) and it works for ``HEAD`` as well as ``GET``. Why our own code:
no maintained library signs URLs with these constraints; ``hmac`` and ``ipaddress`` from
the standard library do the cryptography and the address matching.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlencode, urlsplit

from service.errors import BadRequest
from service.keys import key_from_path

EXPIRES = "s3proxy-expires"
METHODS = "s3proxy-methods"
CIDR = "s3proxy-cidr"
SIGNATURE = "s3proxy-signature"
PARAMETERS = (EXPIRES, METHODS, CIDR, SIGNATURE)
"""Every query parameter a signed link uses; none of them is ever sent to S3 or logged."""

_VERSION = "s3proxy-link-v1"
_MAX_EXPIRES_DIGITS = 12
_ALLOWED_METHODS = frozenset({"GET", "HEAD"})

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Grant:
    """What one signed link allows.

    Attributes:
        key: the object's key as it appears in the request path, decoded (without the
            proxy's ``S3_PROXY_KEY_PREFIX``).
        expires: Unix time (seconds) after which the link is refused.
        methods: the methods allowed, a subset of ``GET``/``HEAD``; empty allows both.
        client_network: the only client addresses allowed, or None for any.
    """

    key: str
    expires: int
    methods: tuple[str, ...] = ()
    client_network: Network | None = None

    def query(self, secret: bytes) -> str:
        """The link's query string (without ``?``), signed with ``secret``."""
        parameters = {EXPIRES: str(self.expires)}
        if self.methods:
            parameters[METHODS] = ",".join(self.methods)
        if self.client_network is not None:
            parameters[CIDR] = str(self.client_network)
        parameters[SIGNATURE] = _signature(self, secret)
        return urlencode(parameters, safe=",/:")

    def allows(self, method: str, client_ip: str | None, now: float) -> bool:
        """Whether a request by ``method`` from ``client_ip`` at Unix time ``now`` may proceed."""
        if now >= self.expires or method not in (self.methods or _ALLOWED_METHODS):
            return False
        if self.client_network is None:
            return True
        try:
            return client_ip is not None and ipaddress.ip_address(client_ip) in self.client_network
        except ValueError:
            return False


def signed_url(base_url: str, grant: Grant, secret: str) -> str:
    """The whole link: ``base_url``, the key percent-encoded as a path, and the signed query.

    ``"https://files.example.com"`` + ``Grant("a b/c.pdf", ...)`` →
    ``"https://files.example.com/a%20b/c.pdf?s3proxy-expires=...&s3proxy-signature=..."``.

    Raises:
        ValueError: ``base_url`` is not http(s) or has a query, or the proxy would refuse
            the key (empty, ``.``/``..`` segments, control characters, too long).
    """
    split = urlsplit(base_url)
    if split.scheme not in {"http", "https"} or not split.netloc or split.query or split.fragment:
        raise ValueError(f"expected an http(s) base URL without query or fragment, got {base_url!r}")
    path = "/" + quote(grant.key, safe="/")
    try:
        key_from_path(path.encode("ascii"), "")
    except BadRequest as exc:
        raise ValueError(f"the proxy would refuse this key: {exc.reason}") from None
    return f"{base_url.rstrip('/')}{path}?{grant.query(secret.encode())}"


def read_grant(key: str, query: Sequence[tuple[str, str]], secrets: Sequence[bytes]) -> Grant | None:
    """The grant a request's signed query parameters carry, or None unless it is authentic.

    ``query`` is the decoded (name, value) list of the request's query string. None when
    a parameter is missing, repeated or malformed, or when the signature matches none of
    ``secrets`` (each compared in constant time). Whether the grant still holds is
    :meth:`Grant.allows`'s question.
    """
    values = _signed_values(query)
    if values is None:
        return None
    grant = _parse_grant(key, values)
    if grant is None:
        return None
    offered = values[SIGNATURE].encode("ascii", "replace")
    matches = [hmac.compare_digest(offered, _signature(grant, secret).encode("ascii")) for secret in secrets]
    return grant if any(matches) else None


def parse_methods(text: str) -> tuple[str, ...]:
    """``"GET,HEAD"`` → ``("GET", "HEAD")``.

    Raises:
        ValueError: a method other than GET or HEAD, or an empty list.
    """
    methods = tuple(dict.fromkeys(part.strip().upper() for part in text.split(",") if part.strip()))
    if not methods or not set(methods) <= _ALLOWED_METHODS:
        raise ValueError("expected a comma-separated list of GET and HEAD")
    return methods


def parse_network(text: str) -> Network:
    """``"203.0.113.0/24"`` or a single address → the network it names.

    Raises:
        ValueError: not an IPv4 or IPv6 network with its host bits clear.
    """
    return ipaddress.ip_network(text.strip(), strict=True)


def _signed_values(query: Sequence[tuple[str, str]]) -> dict[str, str] | None:
    values: dict[str, str] = {}
    for name, value in query:
        if name in PARAMETERS:
            if name in values:
                return None
            values[name] = value
    if EXPIRES not in values or SIGNATURE not in values:
        return None
    return values


def _parse_grant(key: str, values: Mapping[str, str]) -> Grant | None:
    expires = values[EXPIRES]
    if not (expires.isascii() and expires.isdigit() and len(expires) <= _MAX_EXPIRES_DIGITS):
        return None
    try:
        methods = parse_methods(values[METHODS]) if METHODS in values else ()
        network = parse_network(values[CIDR]) if CIDR in values else None
    except ValueError:
        return None
    return Grant(key, int(expires), methods, network)


def _signature(grant: Grant, secret: bytes) -> str:
    cidr = "" if grant.client_network is None else str(grant.client_network)
    message = json.dumps([_VERSION, grant.key, grant.expires, list(grant.methods), cidr], ensure_ascii=False)
    digest = hmac.new(secret, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
