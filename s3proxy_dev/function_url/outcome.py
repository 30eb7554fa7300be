"""What an invocation produces for the client, and the bounded channel that carries it.

The Runtime API side puts :data:`Outcome` items in; the HTTP front takes them out and writes
them to the client as they arrive, all that is queued at once (:meth:`OutcomeChannel.get_batch`).
The channel holds at most ``max_bytes`` of body, so a slow client slows the runtime down
through TCP, as a real stream would.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field

HeaderPairs = list[tuple[str, str]]


@dataclass(frozen=True)
class ClientResponseHead:
    """Status and header fields of the Function URL's response to its client, as the
    prelude or buffered result gave them (``Set-Cookie`` once per cookie)."""

    status: int
    headers: HeaderPairs = field(default_factory=list)


@dataclass(frozen=True)
class BodyChunk:
    """Bytes of response content, to be flushed to the client at once."""

    data: bytes


@dataclass(frozen=True)
class ResponseEnd:
    """The response finished cleanly."""


@dataclass(frozen=True)
class InvocationFailure:
    """The invocation failed; ``error_type`` is a Lambda error type such as ``Sandbox.Timeout``.

    Before the head is sent the client gets 502; after it, the connection is cut.
    """

    error_type: str
    message: str


Outcome = ClientResponseHead | BodyChunk | ResponseEnd | InvocationFailure


class ChannelClosed(Exception):
    """The invocation already has its final outcome; nothing more may be put."""


class OutcomeChannel:
    """An async single-producer, single-consumer queue of outcomes with byte back-pressure."""

    def __init__(self, max_bytes: int = 1024 * 1024) -> None:
        self._items: deque[Outcome] = deque()
        self._buffered = 0
        self._in_flight = 0
        """Body bytes of the last batch handed out, counted in ``_buffered`` until the next."""
        self._max_bytes = max_bytes
        self._final = False
        self._discarding = False
        self._changed = asyncio.Condition()

    @property
    def finished(self) -> bool:
        """True once a :class:`ResponseEnd` or :class:`InvocationFailure` went in."""
        return self._final

    async def put(self, item: Outcome) -> None:
        """Queue ``item``, waiting while too much body is buffered.

        Raises :class:`ChannelClosed` if a final outcome was already queued.
        """
        async with self._changed:
            if self._final:
                raise ChannelClosed
            size = len(item.data) if isinstance(item, BodyChunk) else 0
            await self._changed.wait_for(
                lambda: self._discarding or self._final or self._buffered + size <= self._max_bytes or not self._items
            )
            if self._final:
                raise ChannelClosed
            self._append(item, size)

    def _append(self, item: Outcome, size: int) -> None:
        if self._discarding and isinstance(item, BodyChunk):
            return
        self._items.append(item)
        self._buffered += size
        self._final = isinstance(item, ResponseEnd | InvocationFailure)
        self._changed.notify_all()

    async def fail(self, failure: InvocationFailure) -> bool:
        """Queue ``failure`` without waiting for space; return False if already finished."""
        async with self._changed:
            if self._final:
                return False
            self._append(failure, 0)
            return True

    async def get(self) -> Outcome:
        """Return the next outcome, waiting until there is one."""
        async with self._changed:
            await self._changed.wait_for(lambda: bool(self._items))
            item = self._items.popleft()
            if isinstance(item, BodyChunk):
                self._buffered -= len(item.data)
            self._changed.notify_all()
            return item

    async def get_batch(self) -> list[Outcome]:
        """Return every queued outcome, oldest first, waiting until there is at least one.

        One wake-up of the consumer then covers all the pieces the producer queued meanwhile.
        The batch's body bytes still count against ``max_bytes`` until the next call, which
        says the consumer has written them: the channel bounds what is queued and being
        written together, as :meth:`get` does for one piece.
        """
        async with self._changed:
            self._buffered -= self._in_flight
            self._in_flight = 0
            self._changed.notify_all()
            await self._changed.wait_for(lambda: bool(self._items))
            items = list(self._items)
            self._items.clear()
            self._in_flight = self._buffered
            self._changed.notify_all()
            return items

    async def discard_body(self) -> None:
        """Stop keeping body bytes (the client left); the runtime may stream on unhindered.

        Lambda does not tell the function that a Function URL client went away
        (aws-lambda-nodejs-runtime-interface-client issue #145).
        """
        async with self._changed:
            self._discarding = True
            kept = [item for item in self._items if not isinstance(item, BodyChunk)]
            self._items = deque(kept)
            self._buffered = self._in_flight = 0
            self._changed.notify_all()
