"""Serve the demo's proxy under uvicorn, on a socket the demo has already bound."""

from __future__ import annotations

import socket

import uvicorn

from s3proxy_dev.demo.errors import ServeError
from service.app import create_app
from service.settings import Settings

# On Ctrl-C, responses still streaming get this long to finish before they are cut.
_GRACEFUL_SHUTDOWN_SECONDS = 3


def serve_uvicorn(listener: socket.socket, settings: Settings, banner: str) -> None:
    """Serve ``create_app(settings)`` on ``listener`` until SIGINT or SIGTERM.

    ``banner`` is printed once the app has started.  uvicorn catches both signals, lets
    streaming responses finish for up to 3 s, then re-raises the signal to the previous
    handlers (so the caller sees it as its own, e.g. :class:`KeyboardInterrupt`).

    Raises:
        ServeError: the app's lifespan startup failed (uvicorn has logged why).
    """
    config = uvicorn.Config(
        create_app(settings),
        # Logging is the command line's (service.cli); the app writes its own access log.
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=_GRACEFUL_SHUTDOWN_SECONDS,
    )
    try:
        _BannerServer(config, banner).run(sockets=[listener])
    except SystemExit:
        # uvicorn exits this way when the app's lifespan startup fails.
        raise ServeError("the proxy failed to start") from None


class _BannerServer(uvicorn.Server):
    """A uvicorn server that prints the demo banner once the app has started."""

    def __init__(self, config: uvicorn.Config, banner: str) -> None:
        super().__init__(config)
        self._banner = banner

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            print(self._banner, flush=True)
