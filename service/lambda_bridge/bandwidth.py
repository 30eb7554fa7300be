"""How fast Lambda passes a streamed response on, and when the bytes already posted will be out.

Lambda sends "the first 6 MB" of a streamed response uncapped and the rest at "a maximum
of 2 MBps" (docs configuration-response-streaming.html, "Bandwidth limits for response
streaming"; RAPID's defaults in the runtime interface emulator, interop/model.go, are a
6 MiB burst refilled at 2 MiB/s).  Error trailers are read after every body byte posted
before them, so a stream that must end before the invocation's deadline has to stop posting
body bytes while what it posted can still drain in time.  :class:`DrainSchedule` keeps that
account for one stream.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import anyio

STREAM_BURST_BYTES = 6_000_000
"""Bytes at the start of a streamed response that Lambda passes on uncapped.

The docs say "the first 6 MB"; read as decimal megabytes (RAPID uses 6 MiB), the smaller
reading, so the account errs towards stopping early rather than late."""

STREAM_RATE_BYTES_PER_SECOND = 2_000_000
"""Lambda's bandwidth cap for the rest of a streamed response, in bytes per second.

The docs say "2 MBps" (RAPID: 2 MiB/s); the smaller, decimal reading, as for the burst."""


class DrainSchedule:
    """When the platform will have passed on every byte posted on one stream.

    Times are on ``clock`` (default ``anyio.current_time()``, seconds).  The model is the
    documented one, taken strictly: the first ``burst_bytes`` bytes leave at once, every
    later byte joins a queue drained at ``rate_bytes_per_second``.  RAPID's token bucket
    refills while a function sends slowly, so it never drains later than this model says;
    a client reading slower than the cap can still hold the platform back (the bytes in
    flight on the runtime's side are kept small for that case, see
    :data:`service.lambda_bridge.runtime_api.STREAM_SEND_BUFFER_BYTES`).
    """

    def __init__(
        self,
        burst_bytes: int = STREAM_BURST_BYTES,
        rate_bytes_per_second: int = STREAM_RATE_BYTES_PER_SECOND,
        clock: Callable[[], float] = anyio.current_time,
    ) -> None:
        self._uncapped_left = burst_bytes
        self._rate = rate_bytes_per_second
        self._clock = clock
        self._drained_at = -math.inf
        self.posted = 0
        """Bytes posted so far (prelude included), as counted by :meth:`post`."""

    @property
    def drained_at(self) -> float:
        """The time by which every posted byte will have left the platform (now, if all have)."""
        return max(self._drained_at, self._clock())

    def fitting(self, size: int, by: float) -> int:
        """How many of the next ``size`` bytes may be posted now and still drain by ``by``.

        Returns ``size`` when they all fit, 0 when ``by`` has passed.
        """
        if by == math.inf:
            return size
        now = self._clock()
        if now >= by:
            return 0
        uncapped = min(size, self._uncapped_left)
        spare_seconds = by - max(self._drained_at, now)
        capped = max(0, math.floor(spare_seconds * self._rate)) if spare_seconds > 0 else 0
        return uncapped + min(size - uncapped, capped)

    def post(self, size: int) -> None:
        """Count ``size`` more bytes as posted now."""
        uncapped = min(size, self._uncapped_left)
        self._uncapped_left -= uncapped
        self.posted += size
        capped = size - uncapped
        if capped:
            self._drained_at = max(self._drained_at, self._clock()) + capped / self._rate
