"""How the demo reacts to SIGINT (Ctrl-C) and SIGTERM: stop where it is, then clean up undisturbed."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from contextlib import contextmanager

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def stop_signals_interrupt() -> Iterator[None]:
    """Make SIGTERM, like SIGINT, raise :class:`KeyboardInterrupt` in the main thread.

    Outside a server that stops seeding where it is (boto3's transfer manager cancels
    its queued parts on KeyboardInterrupt).  While serving, uvicorn and the Function URL
    path catch both signals themselves and stop gracefully.  Main thread only.
    """
    previous = {number: signal.signal(number, signal.default_int_handler) for number in STOP_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@contextmanager
def signals_ignored() -> Iterator[None]:
    """Ignore a second Ctrl-C while stopping, so cleanup is not cut short by a traceback."""
    previous = {number: signal.signal(number, signal.SIG_IGN) for number in STOP_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@contextmanager
def stop_signals_set(stop: asyncio.Event) -> Iterator[None]:
    """While the block runs, SIGINT and SIGTERM set ``stop`` instead of interrupting.

    The handlers run in the running event loop (``loop.add_signal_handler``), so a signal
    never lands in the middle of a coroutine; the previous handlers come back afterwards
    (asyncio alone would leave SIGTERM at its default, which kills the process).
    """
    loop = asyncio.get_running_loop()
    previous = {number: signal.getsignal(number) for number in STOP_SIGNALS}
    for number in STOP_SIGNALS:
        loop.add_signal_handler(number, stop.set)
    try:
        yield
    finally:
        for number, handler in previous.items():
            loop.remove_signal_handler(number)
            signal.signal(number, signal.SIG_DFL if handler is None else handler)
