"""The demo's sample files are valid files of their type, deterministic, and survive S3 intact."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import re
import shutil
import struct
import subprocess
import wave
import zlib
from array import array
from pathlib import Path

import boto3
import pytest
from pypdf import PdfReader

from s3proxy_dev.demo import manifest, pdf, png, pseudorandom, wav
from s3proxy_dev.demo.embedded_s3 import DEMO_REGION, DUMMY_CREDENTIALS, EmbeddedS3, ensure_credentials, seed_bucket
from s3proxy_dev.demo.samples import MIB, TEXT_KEY, Sample, demo_samples, sample_manifest, size_label

REPO = Path(__file__).resolve().parents[1]
SMALL_BINARY = 3 * MIB + 12_345  # crosses block boundaries and ends mid-block


@pytest.fixture(scope="module")
def samples() -> dict[str, Sample]:
    return {sample.content_type: sample for sample in demo_samples(SMALL_BINARY)}


def read_all(sample: Sample) -> bytes:
    with sample.open_stream() as stream:
        return stream.read()


@pytest.fixture(scope="module")
def pdf_bytes(samples: dict[str, Sample]) -> bytes:
    return read_all(samples["application/pdf"])


# --- PDF -----------------------------------------------------------------------------------


def parse_xref(data: bytes) -> tuple[dict[int, int], int]:
    """Object number -> byte offset from the classic xref table, and the trailer's /Size."""
    tail = re.search(rb"startxref\n(\d+)\n%%EOF\n$", data)
    assert tail is not None, "the file must end with startxref and %%EOF"
    start = int(tail.group(1))
    header = re.compile(rb"xref\n0 (\d+)\n").match(data, start)
    assert header is not None, "startxref does not point at an xref table"
    count, table = int(header.group(1)), header.end()
    entries = [data[table + 20 * n : table + 20 * (n + 1)] for n in range(count)]
    assert entries[0] == b"0000000000 65535 f\r\n"
    offsets = {}
    for number, entry in enumerate(entries[1:], start=1):
        assert re.fullmatch(rb"\d{10} 00000 n\r\n", entry), entry
        offsets[number] = int(entry[:10])
    size = re.compile(rb"trailer\n<< /Size (\d+) ").match(data, table + 20 * count)
    assert size is not None, "no trailer right after the xref table"
    return offsets, int(size.group(1))


def test_pdf_is_large_and_every_xref_offset_points_at_its_object(pdf_bytes: bytes) -> None:
    assert len(pdf_bytes) >= 10_000_000
    assert pdf_bytes.startswith(b"%PDF-1.4\n")
    offsets, size = parse_xref(pdf_bytes)
    assert size == len(offsets) + 1
    for number, offset in offsets.items():
        assert pdf_bytes.startswith(b"%d 0 obj\n" % number, offset), number


def test_pdf_stream_lengths_are_exact(pdf_bytes: bytes) -> None:
    streams = list(re.finditer(rb"/Length (\d+) [^>]*>>\nstream\n", pdf_bytes))
    assert len(streams) == 2 * pdf.PAGE_COUNT
    for match in streams:
        end = match.end() + int(match.group(1))
        assert pdf_bytes.startswith(b"\nendstream\nendobj\n", end)


def test_pdf_pages_parse_with_pypdf_in_strict_mode(pdf_bytes: bytes) -> None:
    reader = PdfReader(io.BytesIO(pdf_bytes), strict=True)
    assert len(reader.pages) == pdf.PAGE_COUNT
    assert reader.metadata is not None
    assert reader.metadata.title == pdf.TITLE
    first, last = reader.pages[0].extract_text(), reader.pages[-1].extract_text()
    assert f"Page 1 of {pdf.PAGE_COUNT}" in first
    assert f"Page {pdf.PAGE_COUNT} of {pdf.PAGE_COUNT}" in last
    image = reader.pages[-1]["/Resources"]["/XObject"]["/Im1"].get_object()
    assert (image["/Width"], image["/Height"]) == (pdf.IMAGE_WIDTH, pdf.IMAGE_HEIGHT)
    assert len(image.get_data()) == 3 * pdf.IMAGE_WIDTH * pdf.IMAGE_HEIGHT


PDFJS_CHECK = """
import { getDocument } from "pdfjs-dist/legacy/build/pdf.mjs";
import { readFileSync } from "node:fs";
const standardFontDataUrl = process.cwd() + "/node_modules/pdfjs-dist/standard_fonts/";
const data = new Uint8Array(readFileSync(process.argv[1]));
const doc = await getDocument({ data, stopAtErrors: true, verbosity: 1, standardFontDataUrl }).promise;
const pages = [];
for (const number of [1, doc.numPages]) {
  const page = await doc.getPage(number);
  const text = await page.getTextContent();
  const operators = await page.getOperatorList();
  pages.push({ text: text.items.map((item) => item.str).join(" "), operators: operators.fnArray.length });
}
console.log(JSON.stringify({ numPages: doc.numPages, pages }));
"""


@pytest.mark.skipif(
    shutil.which("node") is None or not (REPO / "node_modules/pdfjs-dist").is_dir(),
    reason="needs Node.js and `npm ci` (pdfjs-dist)",
)
def test_pdf_opens_in_pdfjs_without_warnings(pdf_bytes: bytes, tmp_path: Path) -> None:
    path = tmp_path / "handbook.pdf"
    path.write_bytes(pdf_bytes)
    result = subprocess.run(
        ["node", "--input-type=module", "-e", PDFJS_CHECK, str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    *warnings, summary = result.stdout.strip().splitlines()
    assert warnings == [], warnings
    assert result.stderr == ""
    report = json.loads(summary)
    assert report["numPages"] == pdf.PAGE_COUNT
    first, last = report["pages"]
    assert f"Page 1 of {pdf.PAGE_COUNT}" in first["text"]
    assert f"Page {pdf.PAGE_COUNT} of {pdf.PAGE_COUNT}" in last["text"]
    assert first["operators"] > 0
    assert last["operators"] > 0


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs pdftoppm (Debian package poppler-utils)")
def test_pdf_first_and_last_pages_render_with_poppler(pdf_bytes: bytes, tmp_path: Path) -> None:
    path = tmp_path / "handbook.pdf"
    path.write_bytes(pdf_bytes)
    renders = [render_page(path, number) for number in (1, pdf.PAGE_COUNT)]
    for pixels in renders:
        assert len(set(pixels)) > 2, "page rendered blank"
    assert renders[0] != renders[1], "first and last page look the same"


def render_page(path: Path, number: int) -> bytes:
    """RGB pixels of one page rendered by pdftoppm at 20 dpi; poppler must not complain."""
    result = subprocess.run(
        ["pdftoppm", "-r", "20", "-f", str(number), "-l", str(number), str(path)],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    assert result.stderr == b"", result.stderr
    header = re.match(rb"P6\s+(\d+)\s+(\d+)\s+255\s", result.stdout)
    assert header is not None
    width, height = int(header.group(1)), int(header.group(2))
    pixels = result.stdout[header.end() :]
    assert len(pixels) == 3 * width * height
    return pixels


# --- PNG -----------------------------------------------------------------------------------


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, data) of each chunk, checking every CRC-32 on the way."""
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    chunks, position = [], 8
    while position < len(data):
        (length,) = struct.unpack_from(">I", data, position)
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack_from(">I", data, position + 8 + length)
        assert crc == zlib.crc32(kind + body), f"bad CRC in {kind!r}"
        chunks.append((kind, body))
        position += 12 + length
    assert position == len(data)
    return chunks


def test_png_chunks_have_valid_crcs_and_decode_to_a_picture(samples: dict[str, Sample]) -> None:
    chunks = png_chunks(read_all(samples["image/png"]))
    assert [kind for kind, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (width, height, depth, colour) == (png.WIDTH, png.HEIGHT, 8, 2)
    assert (compression, filtering, interlace) == (0, 0, 0)
    raw = zlib.decompress(chunks[1][1])
    stride = 1 + 3 * width
    assert len(raw) == height * stride
    assert all(raw[row * stride] == 0 for row in range(height))
    pixels = {raw[offset : offset + 3] for offset in range(1, len(raw), 3) if offset % stride}
    assert len(pixels) > 10_000, "expected a colourful picture"


def test_png_rejects_empty_dimensions() -> None:
    with pytest.raises(ValueError, match="dimensions"):
        png.build_pattern_png(0, 10)


# --- WAV -----------------------------------------------------------------------------------


def test_wav_reads_back_with_the_claimed_format_and_duration(samples: dict[str, Sample]) -> None:
    with wave.open(io.BytesIO(read_all(samples["audio/wav"]))) as reader:
        assert (reader.getnchannels(), reader.getsampwidth()) == (1, 2)
        assert reader.getframerate() == wav.SAMPLE_RATE
        assert reader.getnframes() / reader.getframerate() == wav.DURATION_SECONDS
        frames = array("h", reader.readframes(reader.getnframes()))
    assert max(frames) > 10_000, "too quiet to hear"
    assert min(frames) > -32_768 and max(frames) < 32_767, "clipped"


def test_wav_melody_climbs_so_a_seek_is_audible(samples: dict[str, Sample]) -> None:
    with wave.open(io.BytesIO(read_all(samples["audio/wav"]))) as reader:
        frames = array("h", reader.readframes(reader.getnframes()))
    window = 8 * wav.SAMPLE_RATE  # one full chord progression

    def crossings(start_seconds: int) -> int:
        start = start_seconds * wav.SAMPLE_RATE
        part = frames[start : start + window]
        return sum(1 for a, b in itertools.pairwise(part) if a < 0 <= b)

    # Two sections later the melody is two octaves up: four times the frequency.
    ratio = crossings(2 * wav.SECTION_SECONDS) / crossings(0)
    assert 3.8 < ratio < 4.2


# --- Text ----------------------------------------------------------------------------------


def test_text_sample_has_a_non_ascii_key_and_utf8_content(samples: dict[str, Sample]) -> None:
    sample = samples["text/plain; charset=utf-8"]
    assert sample.key == TEXT_KEY
    assert " " in sample.key
    assert not sample.key.isascii()
    content = read_all(sample)
    assert len(content) == sample.size
    text = content.decode("utf-8", errors="strict")
    assert "Größe und Maße" in text
    assert text.encode("utf-8") == content


# --- Binary --------------------------------------------------------------------------------


def test_binary_has_the_requested_size_and_a_key_that_names_it(samples: dict[str, Sample]) -> None:
    sample = samples["application/octet-stream"]
    assert sample.key == f"data/random-{SMALL_BINARY}B.bin"
    assert sample.size == len(read_all(sample)) == SMALL_BINARY
    assert size_label(256 * MIB) == "256MiB"
    assert demo_samples()[-1].key == "data/random-256MiB.bin"


def test_binary_reads_in_full_parts_as_multipart_upload_needs(samples: dict[str, Sample]) -> None:
    sample = samples["application/octet-stream"]
    part = MIB + 1
    with sample.open_stream() as stream:
        sizes = [len(chunk) for chunk in iter(lambda: stream.read(part), b"")]
    assert sizes == [part] * (SMALL_BINARY // part) + [SMALL_BINARY % part]


def test_any_byte_range_of_the_binary_can_be_recomputed(samples: dict[str, Sample]) -> None:
    content = read_all(samples["application/octet-stream"])
    for start, length in [(0, 10), (MIB - 5, 10), (2 * MIB + 77, MIB), (SMALL_BINARY - 3, 3)]:
        assert pseudorandom.byte_range(start, length) == content[start : start + length]
    assert content[:MIB] != content[MIB : 2 * MIB], "blocks must differ"


def test_pseudorandom_rejects_negative_arguments() -> None:
    with pytest.raises(ValueError, match="negative"):
        pseudorandom.byte_range(-1, 5)
    with pytest.raises(ValueError, match="negative"):
        pseudorandom.open_stream(-1)
    with pytest.raises(ValueError, match="negative"):
        demo_samples(-1)


# --- Manifest and S3 -----------------------------------------------------------------------


def test_manifest_is_deterministic_and_matches_the_content(samples: dict[str, Sample]) -> None:
    manifest = sample_manifest(demo_samples(SMALL_BINARY))
    assert manifest == sample_manifest(tuple(samples.values()))
    for info, sample in zip(manifest, samples.values(), strict=True):
        assert (info.key, info.content_type, info.size) == (sample.key, sample.content_type, sample.size)
        assert info.sha256 == hashlib.sha256(read_all(sample)).hexdigest()


def test_manifest_command_prints_sha256sum_lines(
    samples: dict[str, Sample], capsys: pytest.CaptureFixture[str]
) -> None:
    assert manifest.main(["--binary-size", str(SMALL_BINARY)]) == 0
    expected = [f"{info.sha256}  {info.key}" for info in sample_manifest(tuple(samples.values()))]
    assert capsys.readouterr().out.splitlines() == expected


def test_manifest_command_rejects_a_bad_size(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        manifest.main(["--binary-size", "-3"])
    assert exited.value.code == 2
    assert "expected a non-negative number of bytes, got '-3'" in capsys.readouterr().err


def test_seeded_objects_round_trip_through_s3(samples: dict[str, Sample]) -> None:
    manifest = {info.key: info for info in sample_manifest(tuple(samples.values()))}
    with EmbeddedS3() as s3:
        assert s3.endpoint_url.startswith("http://127.0.0.1:")
        seconds = seed_bucket(s3.endpoint_url, "demo-bucket", samples.values())
        assert seconds > 0
        client = boto3.client("s3", endpoint_url=s3.endpoint_url, region_name=DEMO_REGION)
        listed = client.list_objects_v2(Bucket="demo-bucket")["Contents"]
        assert {item["Key"] for item in listed} == set(manifest)
        for key, info in manifest.items():
            response = client.get_object(Bucket="demo-bucket", Key=key)
            assert response["ContentType"] == info.content_type
            assert response["ContentLength"] == info.size
            assert hashlib.sha256(response["Body"].read()).hexdigest() == info.sha256
    with pytest.raises(RuntimeError, match="not running"):
        _ = s3.endpoint_url


def test_dummy_credentials_are_set_only_when_none_are() -> None:
    empty: dict[str, str] = {}
    ensure_credentials(empty)
    assert empty == {**DUMMY_CREDENTIALS, "AWS_DEFAULT_REGION": DEMO_REGION}
    real = {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "eu-west-1"}
    ensure_credentials(real)
    assert real == {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "eu-west-1"}
