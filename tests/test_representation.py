"""Representation headers: metadata passed through, content type guessed, nothing from x-amz-*."""

from __future__ import annotations

import httpx
import pytest

from tests.support.http import assert_declared_length


def test_object_metadata_is_passed_through(target: str, transport: str, s3: object, bucket: str) -> None:
    s3.put_object(  # type: ignore[attr-defined]
        Bucket=bucket,
        Key="report.pdf",
        Body=b"%PDF-1.4 tiny",
        ContentType="application/pdf",
        CacheControl="private, max-age=60",
        ContentEncoding="identity",
        ContentLanguage="de-DE",
        ContentDisposition='inline; filename="report.pdf"',
        Metadata={"owner": "finance"},
    )
    stored = s3.head_object(Bucket=bucket, Key="report.pdf")  # type: ignore[attr-defined]
    raw = stored["ResponseMetadata"]["HTTPHeaders"]
    for method in ("GET", "HEAD"):
        response = httpx.request(method, f"{target}/report.pdf")
        headers = response.headers
        assert response.status_code == 200
        assert headers["content-type"] == "application/pdf"
        if method == "GET":
            assert response.content == b"%PDF-1.4 tiny"
            assert_declared_length(response, transport, 13)
        assert headers["etag"] == raw["etag"]
        assert headers["etag"].startswith('"')
        assert headers["last-modified"] == raw["last-modified"]
        assert headers["accept-ranges"] == "bytes"
        assert headers["cache-control"] == "private, max-age=60"
        assert headers["content-encoding"] == "identity"
        assert headers["content-language"] == "de-DE"
        assert headers["content-disposition"] == 'inline; filename="report.pdf"'
        assert not [name for name in headers if name.lower().startswith("x-amz-")]  # S3's own headers


def test_default_cache_control_applies_when_the_object_has_none(start_target: object, s3: object, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="plain.txt", Body=b"x", ContentType="text/plain")  # type: ignore[attr-defined]
    url = start_target(default_cache_control="public, max-age=31536000, immutable")  # type: ignore[operator]
    assert httpx.get(f"{url}/plain.txt").headers["cache-control"] == "public, max-age=31536000, immutable"
    assert httpx.head(f"{url}/plain.txt").headers["cache-control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize(
    ("key", "stored", "served"),
    [
        pytest.param("book.pdf", None, "application/pdf", id="none-stored-guess-pdf"),
        pytest.param("clip.mp4", "binary/octet-stream", "video/mp4", id="binary-octet-guess"),
        pytest.param("photo.png", "application/octet-stream", "image/png", id="octet-stream-guess"),
        pytest.param("blob.unknownext", None, "application/octet-stream", id="unknown-extension"),
        pytest.param("noextension", "binary/octet-stream", "application/octet-stream", id="no-extension"),
        pytest.param("data.pdf", "text/csv; charset=utf-8", "text/csv; charset=utf-8", id="stored-type-wins"),
    ],
)
def test_content_type(key: str, stored: str | None, served: str, target: str, s3: object, bucket: str) -> None:
    extra = {"ContentType": stored} if stored else {}
    s3.put_object(Bucket=bucket, Key=key, Body=b"bytes", **extra)  # type: ignore[attr-defined]
    assert httpx.get(f"{target}/{key}").headers["content-type"] == served
    assert httpx.head(f"{target}/{key}").headers["content-type"] == served


def test_empty_object(target: str, transport: str, s3: object, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="empty.txt", Body=b"")  # type: ignore[attr-defined]
    response = httpx.get(f"{target}/empty.txt")
    assert response.status_code == 200
    assert_declared_length(response, transport, 0)
    assert response.content == b""
