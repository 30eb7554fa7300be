"""The ASGI lifespan protocol, run once per process (ASGI lifespan spec 2.0).

Startup runs at init, before the first ``/next``; shutdown runs once when Lambda sends
SIGTERM.  Running them per invocation (as Mangum does, Kludex/mangum issue #342) would rebuild
the app's S3 client on every request.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.types import ASGIApp, Message

from service.lambda_bridge.errors import LifespanStartupError

logger = logging.getLogger("service.lambda_bridge")


class Lifespan:
    """Drive one app's lifespan.  ``state`` is the lifespan scope's state dict; each request
    scope gets a shallow copy of it, as uvicorn does."""

    def __init__(self, app: ASGIApp) -> None:
        self.state: dict[str, Any] = {}
        self._app = app
        self._messages: asyncio.Queue[Message] = asyncio.Queue()
        self._startup_done = asyncio.Event()
        self._shutdown_done = asyncio.Event()
        self._failure: str | None = None
        self._task: asyncio.Task[None] | None = None

    async def startup(self) -> None:
        """Send ``lifespan.startup`` and wait for the app's answer.

        An app that raises before answering does not support lifespan; per the spec the server
        then continues without it.

        Raises:
            LifespanStartupError: the app sent ``lifespan.startup.failed``.
        """
        self._task = asyncio.create_task(self._main())
        await self._messages.put({"type": "lifespan.startup"})
        await self._startup_done.wait()
        if self._failure is not None:
            raise LifespanStartupError(self._failure or "lifespan startup failed")

    async def shutdown(self) -> None:
        """Send ``lifespan.shutdown`` and wait until the app has finished; failures are logged."""
        if self._task is None or self._task.done():
            return
        await self._messages.put({"type": "lifespan.shutdown"})
        await self._shutdown_done.wait()
        await self._task
        if self._failure is not None:
            logger.error("lifespan shutdown failed: %s", self._failure)

    async def _main(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": self.state}
        try:
            await self._app(scope, self._messages.get, self._send)
        except Exception:
            if self._startup_done.is_set():
                logger.exception("the ASGI lifespan raised")
            else:
                logger.info("the ASGI app does not support lifespan; continuing without it", exc_info=True)
        finally:
            self._startup_done.set()
            self._shutdown_done.set()

    async def _send(self, message: Message) -> None:
        kind = message["type"]
        if kind.endswith(".failed"):
            self._failure = message.get("message", "")
        if kind.startswith("lifespan.startup."):
            self._startup_done.set()
        elif kind.startswith("lifespan.shutdown."):
            self._shutdown_done.set()
