"""Bind the demo's listening socket before anything else starts, with a readable error.

Binding first means a port already in use is reported at once, before seconds of
seeding, and port 0 (any free port) works: the real port is known for the banner.
"""

from __future__ import annotations

import socket


class ListenError(OSError):
    """The address cannot be listened on; the message is one readable line."""


def open_listener(host: str, port: int) -> socket.socket:
    """Return a TCP socket bound to ``host``:``port`` and listening.

    ``host`` is an IPv4 or IPv6 address or a host name (its first address is used);
    ``port`` 0 lets the kernel choose.  ``SO_REUSEADDR`` is set, as uvicorn does, so a
    restart does not wait for old connections in TIME_WAIT.

    Raises:
        ListenError: the port is out of range, the host name does not resolve, or the
        address is in use or not local.
    """
    if not 0 <= port <= 65535:
        raise ListenError(f"port {port} is out of range (0-65535)")
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise ListenError(f"cannot resolve host {host!r}: {_reason(exc)}") from None
    listener = socket.socket(family, kind, protocol)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen()
    except OSError as exc:
        listener.close()
        raise ListenError(f"cannot listen on {display_address(host, port)}: {_reason(exc)}") from None
    return listener


def _reason(exc: OSError) -> str:
    """The OS's text for the error, in lower case, e.g. ``address already in use``."""
    return (exc.strerror or str(exc)).lower()


def display_address(host: str, port: int) -> str:
    """``host:port``, with an IPv6 address in brackets (RFC 3986 §3.2.2)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
