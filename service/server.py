"""uvicorn for ``serve``: the proxy's own limits on slow, idle and excess clients.

uvicorn already closes idle keep-alive connections (``timeout_keep_alive``), answers 503
past ``limit_concurrency`` connections and bounds graceful shutdown
(``timeout_graceful_shutdown``); this module sets them from :class:`~service.settings.Settings`.
What uvicorn lacks is a deadline for the request head: a client that sends nothing, half a
request line, or one header field every few seconds (slowloris) holds its connection for
ever. :func:`protocol_class` adds that deadline to uvicorn's own HTTP protocol, so the
parsing stays uvicorn's: the head must be complete within ``header_timeout`` seconds of the
connection opening or of the previous response ending, else the client gets ``408 Request
Timeout`` (RFC 9110 §15.5.9) and the connection is closed.
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.auto import AutoHTTPProtocol
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from service.settings import Settings

REQUEST_TIMEOUT = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"connection: close\r\ncontent-length: 40\r\n\r\n408 Request Timeout: the head came late\n"
)
"""Sent in place of a response when the request head is not complete in time."""


def uvicorn_config(app: Any, settings: Settings, host: str, port: int) -> uvicorn.Config:
    """The uvicorn configuration that serves ``app`` on ``host:port`` with the limits of ``settings``.

    Access logging is the app's own (one line per request), so uvicorn's is off.
    """
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol_class(settings.header_timeout),
        timeout_keep_alive=settings.idle_timeout,  # type: ignore[arg-type]  # uvicorn takes float seconds
        limit_concurrency=settings.max_connections,
        timeout_graceful_shutdown=settings.shutdown_timeout,  # type: ignore[arg-type]
        log_config=None,
        access_log=False,
        lifespan="on",
    )


class _HeadDeadline(asyncio.Protocol):
    """Close a connection whose request head is not complete within ``header_timeout`` seconds.

    Mixed into one of uvicorn's HTTP protocols; the clock runs from ``connection_made``
    and from each ``on_response_complete`` until the protocol reports a complete head.
    """

    header_timeout: float = 10.0
    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        if not self.transport.is_closing():
            self._arm()

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.transport.write(REQUEST_TIMEOUT)
            self.transport.close()


class _H11HeadDeadline(_HeadDeadline, H11Protocol):
    def handle_events(self) -> None:
        cycle = self.cycle
        super().handle_events()
        if self.cycle is not cycle:  # h11 produced a Request event: the head is complete
            self._disarm()


class _HttpToolsHeadDeadline(_HeadDeadline, HttpToolsProtocol):
    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()


def protocol_class(header_timeout: float) -> type[asyncio.Protocol]:
    """uvicorn's preferred HTTP protocol (httptools when installed, else h11) with a head deadline.

    Args:
        header_timeout: seconds a client has to send a complete request head.
    """
    base: type[_HeadDeadline] = (
        _HttpToolsHeadDeadline if issubclass(AutoHTTPProtocol, HttpToolsProtocol) else _H11HeadDeadline
    )
    return type(base.__name__.lstrip("_"), (base,), {"header_timeout": header_timeout})
