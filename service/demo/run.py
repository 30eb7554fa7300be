"""``s3-stream-proxy demo``: the proxy under uvicorn, in front of a seeded embedded S3.

Order matters: the listening socket is bound first (a port in use fails at once),
then the samples are generated and uploaded to moto, then uvicorn serves the app on
the already-bound socket and prints the banner once the app has started.
"""

from __future__ import annotations

import signal
import socket
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import uvicorn

from service.app import create_app
from service.demo.banner import base_url, format_banner, format_size
from service.demo.embedded_s3 import DEMO_REGION, EmbeddedS3, ensure_credentials, seed_bucket
from service.demo.listen import ListenError, open_listener
from service.demo.samples import DEFAULT_BINARY_SIZE, Sample, demo_samples
from service.settings import Settings

DEMO_BUCKET = "demo-bucket"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080

_PROG = "s3-stream-proxy demo"
# On Ctrl-C, responses still streaming get this long to finish before they are cut.
_GRACEFUL_SHUTDOWN_SECONDS = 3
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def run_demo(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *, binary_size: int = DEFAULT_BINARY_SIZE) -> int:
    """Run the demo until SIGINT (Ctrl-C) or SIGTERM; return the process exit status.

    Starts moto's S3 on a free loopback port, seeds :data:`DEMO_BUCKET` with the
    samples of :func:`service.demo.samples.demo_samples` (``binary_size`` bytes for the
    binary, 256 MiB by default), serves the proxy on ``host``:``port`` (0 picks a free
    port) and prints a banner with the URLs to try.  If no AWS credentials are set,
    dummy ones are put in ``os.environ`` (moto accepts any).

    Returns 0 after a clean stop by either signal, even during seeding; 1 if the
    address cannot be listened on (one line on stderr) or the app fails to start.
    Must be called from the main thread, which owns signal handling.
    """
    with _stop_signals_interrupt():
        s3 = EmbeddedS3()
        listener: socket.socket | None = None
        try:
            listener = open_listener(host, port)
            return _seed_and_serve(listener, host, s3, binary_size)
        except ListenError as exc:
            print(f"{_PROG}: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            return 0
        finally:
            with _signals_ignored():
                s3.stop()
                if listener is not None:
                    listener.close()


def _seed_and_serve(listener: socket.socket, host: str, s3: EmbeddedS3, binary_size: int) -> int:
    ensure_credentials()
    print(f"{_PROG}: generating the sample files...", flush=True)
    samples = demo_samples(binary_size)
    s3.start()
    total = format_size(sum(sample.size for sample in samples))
    print(f"{_PROG}: uploading {len(samples)} objects ({total}) to an embedded S3 (moto)...", flush=True)
    seconds = seed_bucket(s3.endpoint_url, DEMO_BUCKET, samples)
    print(f"{_PROG}: uploaded in {seconds:.1f} s", flush=True)
    settings = Settings(bucket=DEMO_BUCKET, endpoint_url=s3.endpoint_url, region=DEMO_REGION)
    return _serve(listener, settings, _banner(listener, host, s3, samples))


def _banner(listener: socket.socket, host: str, s3: EmbeddedS3, samples: Sequence[Sample]) -> str:
    port: int = listener.getsockname()[1]
    return format_banner(base_url(host, port), DEMO_BUCKET, s3.endpoint_url, samples)


def _serve(listener: socket.socket, settings: Settings, banner: str) -> int:
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
        # uvicorn exits this way when the app's lifespan startup fails; it has logged why.
        print(f"{_PROG}: the proxy failed to start", file=sys.stderr)
        return 1
    return 0


class _BannerServer(uvicorn.Server):
    """A uvicorn server that prints the demo banner once the app has started."""

    def __init__(self, config: uvicorn.Config, banner: str) -> None:
        super().__init__(config)
        self._banner = banner

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            print(self._banner, flush=True)


@contextmanager
def _stop_signals_interrupt() -> Iterator[None]:
    """Make SIGTERM, like SIGINT, raise :class:`KeyboardInterrupt` in the main thread.

    Outside uvicorn that stops seeding where it is (boto3's transfer manager cancels
    its queued parts on KeyboardInterrupt).  While serving, uvicorn catches both
    signals itself, shuts down gracefully, then re-raises the signal to these handlers.
    """
    previous = {number: signal.signal(number, signal.default_int_handler) for number in _STOP_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@contextmanager
def _signals_ignored() -> Iterator[None]:
    """Ignore a second Ctrl-C while stopping, so cleanup is not cut short by a traceback."""
    previous = {number: signal.signal(number, signal.SIG_IGN) for number in _STOP_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
