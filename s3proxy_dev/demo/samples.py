"""The demo's sample objects: S3 key, content type, size and content of each.

All content is generated at start and deterministic, so each object's SHA-256 is
fixed and a download can be checked against :func:`sample_manifest`.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from s3proxy_dev.demo import pdf, png, pseudorandom, wav

MIB = 1 << 20
DEFAULT_BINARY_SIZE = 256 * MIB
"""Size of the generated binary sample, in bytes (256 MiB)."""

TEXT_KEY = "notes/Größe und Maße \u2013 résumé.txt"
"""A key with spaces and non-ASCII characters (\u2013 is an en dash, three bytes in UTF-8),
to show how keys are percent-encoded in URLs."""

_HASH_CHUNK = 8 * MIB


@dataclass(frozen=True)
class Sample:
    """One object to seed.

    ``key`` is the S3 object key (also the URL path, percent-encoded), ``content_type``
    the ``Content-Type`` stored with it, ``size`` its length in bytes, ``description``
    a few words for the banner, and ``open_stream`` returns a fresh readable binary
    stream of exactly ``size`` bytes each time it is called.
    """

    key: str
    content_type: str
    size: int
    description: str
    open_stream: Callable[[], BinaryIO]

    def sha256(self) -> str:
        """Hex SHA-256 of the content, read in 8 MiB chunks (the binary is never held whole)."""
        digest = hashlib.sha256()
        with self.open_stream() as stream:
            while chunk := stream.read(_HASH_CHUNK):
                digest.update(chunk)
        return digest.hexdigest()


@dataclass(frozen=True)
class SampleInfo:
    """What a client can check after a download: key, content type, size (bytes), hex SHA-256."""

    key: str
    content_type: str
    size: int
    sha256: str


def demo_samples(binary_size: int = DEFAULT_BINARY_SIZE) -> tuple[Sample, ...]:
    """Build the sample objects: a PDF, a PNG, a WAV, a UTF-8 text and a binary.

    ``binary_size`` is the size of the pseudo-random binary in bytes (tests use a
    small one); its key names the size, e.g. ``data/random-256MiB.bin``.

    Raises:
        ValueError: ``binary_size`` is negative.
    """
    if binary_size < 0:
        raise ValueError("binary_size must not be negative")
    return (
        _in_memory(
            "docs/handbook.pdf",
            "application/pdf",
            f"{pdf.PAGE_COUNT}-page PDF",
            pdf.build_handbook_pdf(),
        ),
        _in_memory(
            "images/pattern.png",
            "image/png",
            f"{png.WIDTH}x{png.HEIGHT} PNG",
            png.build_pattern_png(),
        ),
        _in_memory(
            "media/tone.wav",
            "audio/wav",
            f"{wav.DURATION_SECONDS} s WAV melody",
            wav.build_melody_wav(),
        ),
        _in_memory(TEXT_KEY, "text/plain; charset=utf-8", "UTF-8 text", _text().encode()),
        Sample(
            key=f"data/random-{size_label(binary_size)}.bin",
            content_type="application/octet-stream",
            size=binary_size,
            description="pseudo-random bytes",
            open_stream=lambda: pseudorandom.open_stream(binary_size),
        ),
    )


def sample_manifest(samples: tuple[Sample, ...]) -> tuple[SampleInfo, ...]:
    """Key, content type, size and SHA-256 of each sample, in order.

    Hashing reads every byte: about a second for the 256 MiB binary.
    """
    return tuple(SampleInfo(sample.key, sample.content_type, sample.size, sample.sha256()) for sample in samples)


def size_label(size: int) -> str:
    """``256MiB`` for whole mebibytes, otherwise the byte count, e.g. ``1000B``."""
    if size and size % MIB == 0:
        return f"{size // MIB}MiB"
    return f"{size}B"


def _in_memory(key: str, content_type: str, description: str, data: bytes) -> Sample:
    return Sample(key, content_type, len(data), description, lambda: io.BytesIO(data))


def _text() -> str:
    return (
        "Größe und Maße \u2013 résumé\n"
        "=======================\n\n"
        "This object's key has spaces and characters outside ASCII. In a URL the key is\n"
        "UTF-8, then percent-encoded (RFC 3986 §2.5): 'ö' is %C3%B6, a space is %20.\n\n"
        "Some UTF-8 to check that nothing was mangled on the way:\n"
        "  Deutsch: Größe, Maße, Straße, Übergröße\n"
        "  Français: résumé, déjà vu, garçon, œuvre\n"
        "  Ελληνικά: Καλημέρα κόσμε\n"
        "  Русский: Съешь же ещё этих мягких французских булок\n"
        "  日本語: いろはにほへと\n"
        "  Symbols: € £ ¥ → ✓ ∞\n"
    )
