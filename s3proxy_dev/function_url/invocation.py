"""Invocations waiting for an execution environment, and the identifiers each one carries."""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections import deque
from dataclasses import dataclass, field

from s3proxy_dev.function_url.outcome import InvocationFailure, OutcomeChannel


def new_trace_root() -> str:
    """Return a fresh X-Ray trace id, ``Root=1-<8 hex epoch s>-<24 hex>`` (X-Ray docs)."""
    return f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}"


@dataclass(eq=False)
class Invocation:
    """One client request on its way through the function.

    ``event`` is the serialised payload-2.0 JSON; ``deadline`` (epoch seconds) is set when an
    execution environment takes the invocation.
    """

    event: bytes
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    trace_root: str = field(default_factory=new_trace_root)
    channel: OutcomeChannel = field(default_factory=OutcomeChannel)
    deadline: float | None = None

    @property
    def runtime_trace_header(self) -> str:
        """The ``Lambda-Runtime-Trace-Id`` value: root, a parent segment id, not sampled."""
        return f"{self.trace_root};Parent={secrets.token_hex(8)};Sampled=0"


class InvocationQueue:
    """Invocations not yet taken by a runtime, oldest first (Lambda queues none, but a local
    emulator with a few runtime processes must hold concurrent requests somewhere)."""

    def __init__(self) -> None:
        self._items: deque[Invocation] = deque()
        self._changed = asyncio.Condition()

    def __len__(self) -> int:
        """How many invocations wait for a runtime to take them."""
        return len(self._items)

    async def submit(self, invocation: Invocation) -> None:
        """Add ``invocation`` at the back of the queue."""
        async with self._changed:
            self._items.append(invocation)
            self._changed.notify_all()

    async def take(self) -> Invocation:
        """Remove and return the oldest invocation, waiting until there is one."""
        async with self._changed:
            await self._changed.wait_for(lambda: bool(self._items))
            return self._items.popleft()

    async def put_back(self, invocation: Invocation) -> None:
        """Return an invocation that could not be delivered to the front of the queue."""
        async with self._changed:
            self._items.appendleft(invocation)
            self._changed.notify_all()

    async def wait_for_work(self) -> None:
        """Wait until at least one invocation is queued."""
        async with self._changed:
            await self._changed.wait_for(lambda: bool(self._items))

    async def fail_oldest(self, failure: InvocationFailure) -> bool:
        """Fail and drop the oldest queued invocation; return False if none was queued.

        Used when a runtime dies during init: Lambda fails the invocation that caused the init.
        """
        async with self._changed:
            if not self._items:
                return False
            invocation = self._items.popleft()
        await invocation.channel.fail(failure)
        return True
