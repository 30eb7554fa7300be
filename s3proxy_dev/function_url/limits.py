"""Response bandwidth and size limits of a Lambda invocation, applied as bytes arrive.

RAPID meters the bytes a runtime streams with a token bucket (the runtime interface emulator's
core/bandwidthlimiter: a 6 MiB burst refilled at 2 MiB/s) and cuts a response that exceeds
the size limit with ``Function.ResponseSizeTooLarge`` (fatalerror.go).
"""

from __future__ import annotations

import asyncio
import time

from s3proxy_dev.function_url.config import PlatformLimits


class ResponseTooLarge(Exception):
    """The response passed its size limit; ``limit`` is that limit in bytes."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"Response payload size exceeded maximum allowed payload size ({limit} bytes).")
        self.limit = limit


class ResponseMeter:
    """Counts one response's bytes; throttles streamed bytes to the platform's bandwidth.

    ``limits`` ``None`` means unlimited.  Use :meth:`admit` for each piece of the response.
    """

    def __init__(self, limits: PlatformLimits | None, *, streamed: bool) -> None:
        self._limits = limits
        self._max = self._cap(limits, streamed)
        self._throttle = limits is not None and streamed
        self._total = 0
        self._tokens = float(limits.burst_bytes) if limits else 0.0
        self._stamp = time.monotonic()

    @staticmethod
    def _cap(limits: PlatformLimits | None, streamed: bool) -> int | None:
        if limits is None:
            return None
        return limits.max_streamed_bytes if streamed else limits.max_buffered_bytes

    async def admit(self, size: int) -> None:
        """Account for ``size`` more bytes, sleeping as long as the bandwidth cap demands.

        Raises :class:`ResponseTooLarge` once the total passes the size limit.
        """
        self._total += size
        if self._max is not None and self._total > self._max:
            raise ResponseTooLarge(self._max)
        delay = self._debit(size)
        if delay > 0:
            await asyncio.sleep(delay)

    def _debit(self, size: int) -> float:
        """Take ``size`` tokens; return the seconds until the bucket is out of debt."""
        if not self._throttle or self._limits is None:
            return 0.0
        now = time.monotonic()
        rate = self._limits.rate_bytes_per_second
        self._tokens = min(float(self._limits.burst_bytes), self._tokens + (now - self._stamp) * rate)
        self._stamp = now
        self._tokens -= size
        return -self._tokens / rate if self._tokens < 0 else 0.0
