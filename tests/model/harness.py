"""What the HTTP tests share: sample objects, seeding them, transports, and one raw fetch.

Not part of the model proper (which is pure); this is the glue that puts the model's inputs in
a real fake S3 and takes a real response off the wire.
"""

from __future__ import annotations

import gzip
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import httpx

from service.settings import Settings
from tests.model.compare import Reply
from tests.model.expected import Representation
from tests.support.backends import Backend
from tests.support.servers import serve_function_url, serve_proxy


@dataclass(frozen=True)
class Transport:
    """A door to the proxy: ``transport(settings)`` serves it, the context yields its base URL.

    ``declares_length`` is False for the Lambda path: a Function URL frames the answer
    itself (chunked) and sends no ``Content-Length``.
    """

    serve: Callable[[Settings], AbstractContextManager[str]]
    declares_length: bool

    def __call__(self, settings: Settings) -> AbstractContextManager[str]:
        return self.serve(settings)


TRANSPORTS: dict[str, Transport] = {
    "uvicorn": Transport(serve_proxy, declares_length=True),
    "function-url": Transport(serve_function_url, declares_length=False),
}
"""Every way the proxy is served; HTTP tests run once per entry."""

DEFAULT_CACHE_CONTROL = Settings.default_cache_control
EXPIRES = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)


def _random_bytes(size: int) -> bytes:
    return random.Random(size).randbytes(size)


@dataclass(frozen=True)
class Sample:
    """An object to seed: its key, bytes, and the standard metadata to store with it."""

    key: str
    data: bytes
    content_type: str
    stored: Mapping[str, Any] = field(default_factory=dict)
    """Extra ``put_object`` arguments (``CacheControl``, ``Expires``, ``ContentEncoding``)."""

    def representation(self, s3_fields: Mapping[str, str]) -> Representation:
        """The model's view of this object, from S3's response fields (lower-case names) verbatim."""
        metadata = {"cache-control": s3_fields.get("cache-control", DEFAULT_CACHE_CONTROL)}
        metadata.update({name: s3_fields[name] for name in ("expires", "content-encoding") if name in s3_fields})
        return Representation(self.data, s3_fields["etag"], s3_fields["last-modified"], self.content_type, metadata)


SAMPLES = (
    Sample("empty.bin", b"", "application/x-empty"),
    Sample("one.bin", _random_bytes(1), "application/x-one"),
    Sample("ten.txt", b"0123456789", "text/plain; charset=us-ascii"),
    Sample("kilo.bin", _random_bytes(1000), "application/x-kilo"),
    Sample(
        "cached.bin",
        _random_bytes(300),
        "application/x-cached",
        {"CacheControl": "max-age=60, must-revalidate", "Expires": EXPIRES},
    ),
    Sample("large.bin", _random_bytes(150_000), "video/mp4"),
    Sample(
        "page.html",
        gzip.compress(b"<p>stored compressed</p>\n" * 200, mtime=0),
        "text/html; charset=utf-8",
        {"ContentEncoding": "gzip"},
    ),
)
"""Sizes 0, 1, 10, 1,000 and 150,000 bytes (the last spans several 64 KiB chunks), one object with
caching metadata and one stored gzip-compressed."""


@dataclass(frozen=True)
class Site:
    """A bucket seeded with samples on one backend, and the model's view of each object by key."""

    backend: Backend
    bucket: str
    objects: Mapping[str, Representation]

    def __repr__(self) -> str:
        return f"Site({self.backend.name}, {self.bucket}, {len(self.objects)} objects)"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # Hypothesis pretty-prints the arguments of a failing example, dataclasses field by
        # field, through this IPython protocol; the objects' bytes would run to hundreds of
        # kilobytes, past its size limit (a warning, which this project's tests treat as an error).
        printer.text(repr(self))

    def settings(self, **overrides: Any) -> Settings:
        """Proxy settings for this bucket, S3 reached directly; ``overrides`` replace fields."""
        fields: dict[str, Any] = {"bucket": self.bucket, "endpoint_url": self.backend.endpoint_url}
        fields.update(region="us-east-1", **overrides)
        return Settings(**fields)


def seed(backend: Backend, bucket: str, samples: Sequence[Sample]) -> Site:
    """Create ``bucket`` on ``backend``, store ``samples`` and read back each one's S3 fields."""
    s3 = boto3.client("s3", endpoint_url=backend.endpoint_url, region_name="us-east-1")
    s3.create_bucket(Bucket=bucket)
    objects = {}
    for sample in samples:
        s3.put_object(Bucket=bucket, Key=sample.key, Body=sample.data, ContentType=sample.content_type, **sample.stored)
        head = s3.head_object(Bucket=bucket, Key=sample.key)
        objects[sample.key] = sample.representation(head["ResponseMetadata"]["HTTPHeaders"])
    return Site(backend, bucket, objects)


@contextmanager
def http_client() -> Iterator[httpx.Client]:
    """One keep-alive client for many requests; no redirects, short timeouts."""
    with httpx.Client(timeout=httpx.Timeout(10.0), follow_redirects=False) as client:
        yield client


def fetch(client: httpx.Client, method: str, url: str, headers: Mapping[str, str] | None = None) -> Reply:
    """Send one request and take the response as sent: raw fields and undecoded body bytes.

    The body is read raw so a stored ``Content-Encoding: gzip`` object is compared as stored.
    """
    with client.stream(method, url, headers=headers) as response:
        body = b"".join(response.iter_raw())
    fields = [(name.decode("latin-1").lower(), value.decode("latin-1")) for name, value in response.headers.raw]
    return Reply(response.status_code, fields, body)
