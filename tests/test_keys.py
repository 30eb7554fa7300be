"""Key mapping: the request path, percent-decoded once, is the S3 key, byte-exact."""

from __future__ import annotations

import http.client
from urllib.parse import quote, urlsplit

import httpx
import pytest

from service.errors import BadRequest
from service.keys import object_key
from tests.support.backends import Backend

DOT_SEGMENT_PATHS = [
    pytest.param(raw, id=f"dot-segment-{raw.decode()}")
    for raw in (
        b"/..",
        b"/.",
        b"/a/../b",
        b"/a/./b",
        b"/a/..",
        b"/../a",
        b"/a/%2e%2e/b",
        b"/a/%2E%2E/b",
        b"/a/.%2e/b",
        b"/a/%2e./b",
        b"/a/%2e/b",
        b"/a%2F..%2Fb",
        b"/a%2f%2e%2e%2fb",
        b"/a/..%2F",
    )
]
"""Every spelling of a ``.`` or ``..`` segment: literal, percent-encoded in either case, or
made a segment by an encoded slash."""


def scope(raw_path: bytes) -> dict[str, object]:
    return {"type": "http", "raw_path": raw_path, "path": raw_path.decode("latin-1")}


@pytest.mark.parametrize(
    ("raw", "prefix", "key"),
    [
        pytest.param(b"/plain.txt", "", "plain.txt", id="plain"),
        pytest.param(b"/with%20space.txt", "", "with space.txt", id="space"),
        pytest.param(b"/a+b.txt", "", "a+b.txt", id="literal-plus"),
        pytest.param(b"/a%2Bb.txt", "", "a+b.txt", id="encoded-plus"),
        pytest.param(b"/dir%2Ffile", "", "dir/file", id="encoded-slash"),
        pytest.param(b"/literal%252F", "", "literal%2F", id="decoded-once-only"),
        pytest.param(b"/a//b", "", "a//b", id="doubled-slash"),
        pytest.param(b"/dir/", "", "dir/", id="trailing-slash"),
        pytest.param(b"//leading", "", "/leading", id="leading-slash-kept"),
        pytest.param(b"/%C3%BC/%E6%96%87", "", "ü/文", id="non-ascii"),
        pytest.param(b"/x.pdf", "public/", "public/x.pdf", id="prefix"),
    ],
)
def test_object_key_decodes_raw_path_exactly_once(raw: bytes, prefix: str, key: str) -> None:
    assert object_key(scope(raw), prefix) == key


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"/", id="empty"),
        pytest.param(b"/a%00b", id="nul"),
        pytest.param(b"/a%0Ab", id="newline"),
        pytest.param(b"/a%7Fb", id="delete"),
        pytest.param(b"/a%C2%85b", id="c1-control"),
        pytest.param(b"/%FF%FE", id="not-utf8"),
        pytest.param(b"/" + b"k" * 1025, id="too-long"),
        pytest.param(b"/" + "é".encode() * 513, id="too-long-in-utf8-bytes"),
        *DOT_SEGMENT_PATHS,
    ],
)
def test_object_key_rejects_bad_keys(raw: bytes) -> None:
    with pytest.raises(BadRequest):
        object_key(scope(raw), "")


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        pytest.param(b"/a..b", "a..b", id="dots-inside-a-segment"),
        pytest.param(b"/.hidden", ".hidden", id="leading-dot"),
        pytest.param(b"/.../x", ".../x", id="three-dots"),
        pytest.param(b"/a/%252e%252e/b", "a/%2e%2e/b", id="double-encoded-is-literal"),
    ],
)
def test_dots_that_are_not_dot_segments_are_keys(raw: bytes, key: str) -> None:
    assert object_key(scope(raw), "") == key


def test_key_of_exactly_1024_bytes_is_allowed() -> None:
    assert object_key(scope(b"/" + b"k" * 1024), "") == "k" * 1024


def test_prefix_counts_toward_the_length_limit() -> None:
    with pytest.raises(BadRequest):
        object_key(scope(b"/" + b"k" * 1020), "12345/")


KEYS = [
    pytest.param("with space.txt", id="space"),
    pytest.param("a+b c.txt", id="plus"),
    pytest.param("Größe/naïve résumé 文件.txt", id="non-ascii"),
    pytest.param("literal%2Fpercent.txt", id="literal-percent-2F"),
    pytest.param("dir/sub/file.bin", id="nested"),
    pytest.param("a//b.txt", id="doubled-slash"),
    pytest.param("folder/", id="trailing-slash"),
]


@pytest.mark.parametrize("key", KEYS)
def test_every_key_form_round_trips_through_s3(
    key: str, backend: Backend, target: str, s3: object, bucket: str
) -> None:
    if backend.name == "s3rver" and "//" in key:
        pytest.skip("s3rver maps keys to file paths and cannot store empty path segments")
    body = f"content of {key!r}".encode()
    # A decoy at the key a double-decoding or plus-as-space proxy would ask for.
    decoy = key.replace("+", " ").replace("%2F", "/")
    if decoy != key:
        s3.put_object(Bucket=bucket, Key=decoy, Body=b"decoy")  # type: ignore[attr-defined]
    s3.put_object(Bucket=bucket, Key=key, Body=body)  # type: ignore[attr-defined]
    response = httpx.get(f"{target}/{quote(key, safe='/')}")
    assert response.status_code == 200
    assert response.content == body


def test_encoded_slash_reaches_the_nested_key(proxy: str, s3: object, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="dir/file.txt", Body=b"nested")  # type: ignore[attr-defined]
    assert httpx.get(f"{proxy}/dir%2Ffile.txt").content == b"nested"


def test_key_prefix_is_prepended(start_proxy: object, s3: object, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="public/doc.txt", Body=b"public")  # type: ignore[attr-defined]
    s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"outside the prefix")  # type: ignore[attr-defined]
    url = start_proxy(key_prefix="public/")  # type: ignore[operator]
    assert httpx.get(f"{url}/doc.txt").content == b"public"


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/", id="empty"),
        pytest.param("/a%00b", id="nul"),
        pytest.param("/a%0Db", id="carriage-return"),
        pytest.param("/" + "k" * 1025, id="too-long"),
        pytest.param("/%FF", id="not-utf8"),
    ],
)
def test_bad_keys_get_400_without_calling_s3(path: str, target: str, relay: object) -> None:
    before = relay.connections_made  # type: ignore[attr-defined]
    response = httpx.get(target + path)
    assert response.status_code == 400
    assert "request id:" in response.text
    assert relay.connections_made == before  # type: ignore[attr-defined]


@pytest.mark.parametrize("raw", DOT_SEGMENT_PATHS)
def test_dot_segments_get_400_without_calling_s3(raw: bytes, target: str, relay: object) -> None:
    """Sent verbatim (http.client does not normalise paths, unlike browsers and httpx)."""
    before = relay.connections_made  # type: ignore[attr-defined]
    url = urlsplit(target)
    connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=30)
    try:
        connection.request("GET", raw.decode())
        response = connection.getresponse()
        body = response.read().decode()
    finally:
        connection.close()
    assert response.status == 400
    assert "'.' or '..' segments" in body
    assert relay.connections_made == before  # type: ignore[attr-defined]
