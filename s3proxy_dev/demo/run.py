"""``s3-stream-proxy demo``: the proxy in front of a seeded embedded S3, under uvicorn or the Lambda path.

Order matters: the listening socket is bound first (a port in use fails at once), then
the samples are generated and uploaded to moto, then the proxy serves and prints the
banner once it is ready.  Under uvicorn the proxy serves on the bound socket itself; the
Lambda path's Function URL emulator binds its own, so the demo's socket only holds the
port until then.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Sequence

from s3proxy_dev.demo.banner import base_url, format_banner, format_lambda_banner, format_size
from s3proxy_dev.demo.embedded_s3 import DEMO_REGION, EmbeddedS3, ensure_credentials, seed_bucket
from s3proxy_dev.demo.errors import ServeError
from s3proxy_dev.demo.lambda_path import LambdaPath, serve_lambda_path
from s3proxy_dev.demo.listen import ListenError, open_listener
from s3proxy_dev.demo.samples import DEFAULT_BINARY_SIZE, Sample, demo_samples
from s3proxy_dev.demo.signals import signals_ignored, stop_signals_interrupt
from s3proxy_dev.demo.uvicorn_path import serve_uvicorn
from service.settings import Settings

DEMO_BUCKET = "demo-bucket"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080

_PROG = "s3-stream-proxy demo"


def run_demo(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    binary_size: int = DEFAULT_BINARY_SIZE,
    lambda_path: LambdaPath | None = None,
) -> int:
    """Run the demo until SIGINT (Ctrl-C) or SIGTERM; return the process exit status.

    Starts moto's S3 on a free loopback port, seeds :data:`DEMO_BUCKET` with the
    samples of :func:`s3proxy_dev.demo.samples.demo_samples` (``binary_size`` bytes for the
    binary, 256 MiB by default), serves the proxy on ``host``:``port`` (0 picks a free
    port) and prints a banner with the URLs to try.  The proxy runs under uvicorn, or,
    given ``lambda_path``, as our Lambda runtime behind the local Function URL emulator.
    If no AWS credentials are set, dummy ones are put in ``os.environ`` (moto accepts any).

    Returns 0 after a clean stop by either signal, even during seeding; 1 if the
    address cannot be listened on or the proxy fails to start (one line on stderr).
    Must be called from the main thread, which owns signal handling.
    """
    with stop_signals_interrupt():
        s3 = EmbeddedS3()
        listener: socket.socket | None = None
        try:
            listener = open_listener(host, port)
            samples = _seed(s3, binary_size)
            _serve(listener, host, samples, s3, lambda_path)
        except (ListenError, ServeError) as exc:
            print(f"{_PROG}: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            pass
        finally:
            with signals_ignored():
                s3.stop()
                if listener is not None:
                    listener.close()
    return 0


def _seed(s3: EmbeddedS3, binary_size: int) -> tuple[Sample, ...]:
    """Start ``s3`` and upload the samples to :data:`DEMO_BUCKET`, reporting progress."""
    ensure_credentials()
    print(f"{_PROG}: generating the sample files...", flush=True)
    samples = demo_samples(binary_size)
    s3.start()
    total = format_size(sum(sample.size for sample in samples))
    print(f"{_PROG}: uploading {len(samples)} objects ({total}) to an embedded S3 (moto)...", flush=True)
    seconds = seed_bucket(s3.endpoint_url, DEMO_BUCKET, samples)
    print(f"{_PROG}: uploaded in {seconds:.1f} s", flush=True)
    return samples


def _serve(
    listener: socket.socket, host: str, samples: Sequence[Sample], s3: EmbeddedS3, lambda_path: LambdaPath | None
) -> None:
    # Text logs, also from the Lambda runtime child (whose own default is JSON): read by a person.
    settings = Settings(bucket=DEMO_BUCKET, endpoint_url=s3.endpoint_url, region=DEMO_REGION, log_format="text")
    port: int = listener.getsockname()[1]
    base = base_url(host, port)
    if lambda_path is None:
        serve_uvicorn(listener, settings, format_banner(base, DEMO_BUCKET, s3.endpoint_url, samples))
        return
    banner = format_lambda_banner(base, DEMO_BUCKET, s3.endpoint_url, samples, lambda_path.limits)
    # The emulator binds the address itself: free it first (the kernel's port 0 choice is kept).
    listener.close()
    serve_lambda_path(host, port, settings, banner, lambda_path)
