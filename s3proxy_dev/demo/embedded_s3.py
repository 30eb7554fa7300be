"""An S3 endpoint inside this process: moto's server on loopback, and seeding a bucket.

moto implements the S3 REST API in memory, so the demo needs no AWS account and
sends nothing off the machine.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, MutableMapping
from types import TracebackType
from typing import TYPE_CHECKING

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

from s3proxy_dev.demo.samples import MIB, Sample

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer
    from mypy_boto3_s3 import S3Client

DEMO_REGION = "us-east-1"
# moto accepts any credentials; these are not secrets.
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}  # nosec B105

# Parts of 16 MiB, four in flight: measured fastest against moto on two cores
# (a 256 MiB object in about 7 s; larger parts or more threads gain nothing).
_TRANSFER = TransferConfig(multipart_chunksize=16 * MIB, max_concurrency=4)
_IN_MEMORY_OBJECT_LIMIT = 1 << 30  # bytes: objects up to 1 GiB stay in moto's memory


class EmbeddedS3:
    """moto's S3 server on 127.0.0.1, on a port the kernel picks; a context manager.

    :attr:`endpoint_url` is e.g. ``http://127.0.0.1:41871``.  :meth:`stop` is safe
    to call more than once, or before :meth:`start`.  Starting sets moto's
    ``MOTO_S3_DEFAULT_KEY_BUFFER_SIZE`` in ``os.environ`` (unless already set) so that
    objects up to 1 GiB are held in memory rather than in temporary files.
    """

    def __init__(self) -> None:
        self._server: ThreadedMotoServer | None = None
        self._endpoint_url = ""

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:PORT`` of the running server.

        Raises:
            RuntimeError: the server has not been started.
        """
        if not self._endpoint_url:
            raise RuntimeError("the embedded S3 server is not running")
        return self._endpoint_url

    def start(self) -> None:
        """Start serving; returns once the socket is bound and listening."""
        # Imported here: moto is in the ``demo`` extra, not a runtime dependency.
        from moto.server import ThreadedMotoServer

        # moto's server logs every request through werkzeug at INFO; the proxy's own
        # access log already shows what the demo is doing.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        # moto spills object data above ~5 MB to temporary files and reads the whole
        # object back for every GET, ranged or not; keeping the samples in memory makes
        # seeding about a quarter faster and range requests much cheaper.
        os.environ.setdefault("MOTO_S3_DEFAULT_KEY_BUFFER_SIZE", str(_IN_MEMORY_OBJECT_LIMIT))
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        self._server, self._endpoint_url = server, f"http://{host}:{port}"

    def stop(self) -> None:
        """Stop serving and wait for the server thread (about half a second at most)."""
        server, self._server, self._endpoint_url = self._server, None, ""
        if server is not None:
            server.stop()

    def __enter__(self) -> EmbeddedS3:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def ensure_credentials(environ: MutableMapping[str, str] = os.environ) -> None:
    """Give boto3 dummy credentials and a region if the environment has none.

    moto accepts any credentials; real ones, if set, are left alone (they only sign
    requests to the loopback server).
    """
    if not (environ.get("AWS_ACCESS_KEY_ID") or environ.get("AWS_SECRET_ACCESS_KEY")):
        environ.update(DUMMY_CREDENTIALS)
    if not (environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")):
        environ["AWS_DEFAULT_REGION"] = DEMO_REGION


def seed_bucket(endpoint_url: str, bucket: str, samples: Iterable[Sample]) -> float:
    """Create ``bucket`` and upload every sample; return the time taken, in seconds.

    Objects go up one after another with boto3's managed transfer
    (``upload_fileobj``): multipart above 8 MiB, parts sent by worker threads.  The
    calling thread waits on each transfer, so a ``KeyboardInterrupt`` there cancels
    the parts not yet sent instead of waiting for the whole upload.

    Raises:
        botocore.exceptions.ClientError: S3 refused a request (e.g. the bucket exists).
    """
    started = time.perf_counter()
    client = _client(endpoint_url)
    client.create_bucket(Bucket=bucket)
    for sample in samples:
        _upload(client, bucket, sample)
    return time.perf_counter() - started


def _upload(client: S3Client, bucket: str, sample: Sample) -> None:
    with sample.open_stream() as stream:
        client.upload_fileobj(
            stream,
            bucket,
            sample.key,
            ExtraArgs={"ContentType": sample.content_type},
            Config=_TRANSFER,
        )


def _client(endpoint_url: str) -> S3Client:
    # Path-style addressing: a bucket name cannot be a subdomain of 127.0.0.1.
    config = Config(s3={"addressing_style": "path"})
    return boto3.session.Session().client("s3", endpoint_url=endpoint_url, region_name=DEMO_REGION, config=config)
