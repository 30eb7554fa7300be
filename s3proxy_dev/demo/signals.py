"""How the demo reacts to SIGINT (Ctrl-C) and SIGTERM: stop where it is, then clean up undisturbed."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def stop_signals_interrupt() -> AbstractContextManager[None]:
    """Make SIGTERM, like SIGINT, raise :class:`KeyboardInterrupt` in the main thread.

    Outside a server that stops seeding where it is (boto3's transfer manager cancels
    its queued parts on KeyboardInterrupt).  While serving, uvicorn and the Function URL
    path catch both signals themselves and stop gracefully.  Main thread only.
    """
    return _stop_signals_handled_by(signal.default_int_handler)


def signals_ignored() -> AbstractContextManager[None]:
    """Ignore a second Ctrl-C while stopping, so cleanup is not cut short by a traceback."""
    return _stop_signals_handled_by(signal.SIG_IGN)


@contextmanager
def _stop_signals_handled_by(handler: signal.Handlers | Callable[..., object]) -> Iterator[None]:
    previous = {number: signal.signal(number, handler) for number in STOP_SIGNALS}
    try:
        yield
    finally:
        for number, restored in previous.items():
            signal.signal(number, restored)


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
