"""An ASGI response that streams chunks from S3 and stops at once when the client leaves.

Why not Starlette's ``StreamingResponse``: it never closes its body iterator, so an S3
body abandoned on disconnect stays open (and keeps its connection) until garbage
collection. Here the body's producer is always closed before ``__call__`` returns.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Mapping

import anyio
from starlette.responses import Response
from starlette.types import Receive, Scope, Send


class ObjectStreamResponse(Response):
    """Send ``chunks`` as the body, racing them against ``http.disconnect``.

    ``chunks`` is an async generator whose ``finally`` closes its S3 bodies; it is
    closed (``aclose``) however the response ends. An exception from it (an S3 failure
    mid-body) propagates, so the server aborts the connection and the client sees a
    body short of its ``Content-Length``.
    """

    def __init__(
        self,
        chunks: AsyncGenerator[bytes, None],
        status_code: int,
        headers: Mapping[str, str],
    ) -> None:
        self.chunks = chunks
        self.status_code = status_code
        self.background = None
        self.init_headers(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        pump = asyncio.ensure_future(self._pump(send))
        watcher = asyncio.ensure_future(_disconnected(receive))
        try:
            await asyncio.wait({pump, watcher}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (pump, watcher):
                task.cancel()
            # Shielded: when the server cancels this response (the Lambda bridge does at the
            # deadline), the S3 body must still be closed now, not when it is garbage-collected.
            with anyio.CancelScope(shield=True):
                await asyncio.gather(pump, watcher, return_exceptions=True)
                await self.chunks.aclose()
        if not pump.cancelled() and pump.exception() is not None:
            raise pump.exception()  # type: ignore[misc]

    async def _pump(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        async for chunk in self.chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _disconnected(receive: Receive) -> None:
    """Return when the client has gone away (ASGI ``http.disconnect``)."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
