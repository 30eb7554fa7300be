"""Response safety through both doors: nosniff always, active types never run as the proxy's pages.

HTML, SVG, XML and JavaScript objects get ``Content-Security-Policy: sandbox`` (or, with
``active_content="attachment"``, are downloads); stored metadata and query strings can
never add or split a header.
"""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

OBJECTS = {
    "site/page.html": ("text/html; charset=utf-8", True),
    "site/logo.svg": ("binary/octet-stream", True),  # type guessed from the extension: image/svg+xml
    "site/feed.atom": ("application/atom+xml", True),
    "site/app.js": ("text/javascript", True),
    "site/data.xml": ("application/xml", True),
    "docs/report.pdf": ("application/pdf", False),
    "media/clip.mp4": ("video/mp4", False),
    "notes/plain.txt": ("text/plain", False),
}


@pytest.fixture
def seeded(s3: object, bucket: str) -> None:
    for key, (content_type, _) in OBJECTS.items():
        s3.put_object(Bucket=bucket, Key=key, Body=b"<x/>", ContentType=content_type)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("key", "active"), [(key, active) for key, (_, active) in OBJECTS.items()])
def test_active_types_are_sandboxed_and_nothing_is_sniffed(seeded: None, target: str, key: str, active: bool) -> None:
    for response in (httpx.get(f"{target}/{key}"), httpx.head(f"{target}/{key}")):
        assert response.status_code == 200
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers.get("content-security-policy") == ("sandbox" if active else None)
        assert "content-disposition" not in response.headers


def test_with_active_content_attachment_active_types_are_downloads(seeded: None, start_target: object) -> None:
    url = start_target(active_content="attachment")  # type: ignore[operator]
    page = httpx.get(f"{url}/site/page.html")
    assert page.headers["content-disposition"].startswith('attachment; filename="page.html"')
    assert "content-security-policy" not in page.headers
    pdf = httpx.get(f"{url}/docs/report.pdf")
    assert "content-disposition" not in pdf.headers


def test_errors_and_health_are_nosniff_too(target: str) -> None:
    assert httpx.get(f"{target}/no/such/key").headers["x-content-type-options"] == "nosniff"
    assert httpx.get(f"{target}/_s3proxy/health").headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "name",
    ["a\r\nSet-Cookie: stolen=1", "a\nLocation: https://evil.example", "a\rb", "a\x00b", "\r\n\r\n<html>"],
)
def test_a_download_name_can_never_split_a_header(seeded: None, target: str, name: str) -> None:
    response = httpx.get(f"{target}/docs/report.pdf?download={quote(name)}")
    assert response.status_code == 200
    assert "set-cookie" not in response.headers and "location" not in response.headers
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert not any(char in disposition for char in "\r\n\x00")
    assert response.content == b"<x/>"
