"""A large, multi-page sample PDF, written byte by byte.

We write the file ourselves rather than depend on a PDF library: the demo needs only
text in a standard font and uncompressed images, the output must be byte-for-byte
deterministic (so its SHA-256 can be published), and the few dozen lines below keep
the ``demo`` extra free of another dependency.  The structure follows ISO 32000-1
(PDF 1.7) §7.5: header, indirect objects, a classic cross-reference table whose
entries hold the exact byte offset of each ``N 0 obj``, trailer, ``startxref``.
"""

from __future__ import annotations

PAGE_COUNT = 40
"""Pages in the handbook; every page shows its number in large type."""

IMAGE_WIDTH = 360
IMAGE_HEIGHT = 300
"""Pixels of each page's uncompressed RGB image (324,000 bytes, which makes the file large)."""

TITLE = "s3-stream-proxy demo handbook"

_PAGE_WIDTH_PT = 612
_PAGE_HEIGHT_PT = 792
_STRIPE_PX = 24
_FONT_OBJECT = 3
_INFO_OBJECT = 4
_FIRST_PAGE_OBJECT = 5
_OBJECTS_PER_PAGE = 3  # page dictionary, content stream, image XObject


def build_handbook_pdf(page_count: int = PAGE_COUNT) -> bytes:
    """Return a valid PDF 1.4 document of ``page_count`` US Letter pages.

    Each page has a title line, a 360x300 px uncompressed image of diagonal stripes
    in a colour of its own, its page number in 160 pt type, and a footer
    ``Page N of M``.  With 40 pages the file is about 13 MB (13,000,000 bytes).

    Raises:
        ValueError: ``page_count`` is less than 1.
    """
    if page_count < 1:
        raise ValueError("a PDF needs at least one page")
    writer = _PdfWriter()
    page_numbers = [_page_object(index) for index in range(page_count)]
    kids = " ".join(f"{number} 0 R" for number in page_numbers)
    writer.write_object(1, b"<< /Type /Catalog /Pages 2 0 R >>")
    writer.write_object(2, f"<< /Type /Pages /Kids [{kids}] /Count {page_count} >>".encode())
    writer.write_object(_FONT_OBJECT, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    writer.write_object(_INFO_OBJECT, f"<< /Title {_text(TITLE)} /Producer (s3-stream-proxy) >>".encode())
    for index in range(page_count):
        _write_page(writer, index, page_count)
    return writer.finish(root=1, info=_INFO_OBJECT)


def _page_object(index: int) -> int:
    return _FIRST_PAGE_OBJECT + _OBJECTS_PER_PAGE * index


def _write_page(writer: _PdfWriter, index: int, page_count: int) -> None:
    page = _page_object(index)
    contents, image = page + 1, page + 2
    writer.write_object(
        page,
        (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {_PAGE_WIDTH_PT} {_PAGE_HEIGHT_PT}]"
            f" /Resources << /Font << /F1 {_FONT_OBJECT} 0 R >> /XObject << /Im1 {image} 0 R >> >>"
            f" /Contents {contents} 0 R >>"
        ).encode(),
    )
    writer.write_stream(contents, "", _page_content(index + 1, page_count))
    writer.write_stream(
        image,
        f"/Type /XObject /Subtype /Image /Width {IMAGE_WIDTH} /Height {IMAGE_HEIGHT}"
        " /ColorSpace /DeviceRGB /BitsPerComponent 8",
        _stripes(index),
    )


def _page_content(number: int, page_count: int) -> bytes:
    """The page's content stream (ISO 32000-1 §8.2 operators): image, then three lines of text."""
    image_width_pt = _PAGE_WIDTH_PT - 2 * 72
    image_height_pt = image_width_pt * IMAGE_HEIGHT // IMAGE_WIDTH
    footer = f"Page {number} of {page_count}: each page carries an uncompressed image, so this file"
    footer2 = "is large enough to show byte-range requests and streaming at work."
    lines = [
        f"q {image_width_pt} 0 0 {image_height_pt} 72 330 cm /Im1 Do Q",
        f"BT /F1 28 Tf 72 740 Td {_text(TITLE)} Tj ET",
        f"BT /F1 160 Tf 72 150 Td {_text(str(number))} Tj ET",
        f"BT /F1 11 Tf 72 96 Td {_text(footer)} Tj 0 -14 Td {_text(footer2)} Tj ET",
    ]
    return "\n".join(lines).encode("ascii")


def _stripes(index: int) -> bytes:
    """RGB samples of diagonal stripes; the hue depends on the page so pages look different.

    Each image row is a window into one longer row, shifted by one pixel per row; that
    makes the stripes diagonal and costs one slice per row instead of a loop per pixel.
    """
    red, green, blue = (37 * index) % 256, (91 * index + 80) % 256, (53 * index + 160) % 256
    light = bytes((red, green, blue))
    dark = bytes((red // 3, green // 3, blue // 3))
    period = 2 * _STRIPE_PX
    base = b"".join(light if pixel % period < _STRIPE_PX else dark for pixel in range(IMAGE_WIDTH + IMAGE_HEIGHT))
    row_bytes = 3 * IMAGE_WIDTH
    return b"".join(base[3 * row : 3 * row + row_bytes] for row in range(IMAGE_HEIGHT))


def _text(value: str) -> str:
    """A PDF literal string (ISO 32000-1 §7.3.4.2) for ASCII ``value``.

    Raises:
        ValueError: ``value`` is not ASCII (the standard Helvetica encoding used here
        covers only ASCII reliably).
    """
    if not value.isascii():
        raise ValueError(f"PDF text must be ASCII: {value!r}")
    escaped = value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return f"({escaped})"


class _PdfWriter:
    """Appends indirect objects to one buffer and remembers where each begins."""

    def __init__(self) -> None:
        # The second line is the binary comment of ISO 32000-1 §7.5.2, which tells file
        # transfer tools that the file holds binary data.
        self._buffer = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        self._offsets: dict[int, int] = {}

    def write_object(self, number: int, body: bytes) -> None:
        self._offsets[number] = len(self._buffer)
        self._buffer += b"%d 0 obj\n%s\nendobj\n" % (number, body)

    def write_stream(self, number: int, entries: str, data: bytes) -> None:
        dictionary = f"<< /Length {len(data)} {entries}>>".encode()
        self.write_object(number, dictionary + b"\nstream\n" + data + b"\nendstream")

    def finish(self, root: int, info: int) -> bytes:
        """Append the cross-reference table and trailer (ISO 32000-1 §7.5.4, §7.5.5)."""
        size = max(self._offsets) + 1
        if sorted(self._offsets) != list(range(1, size)):
            raise ValueError("object numbers must be 1..N without gaps")
        xref_offset = len(self._buffer)
        # Every entry is exactly 20 bytes: 10-digit offset, 5-digit generation, type, CR LF.
        entries = [b"0000000000 65535 f\r\n"]
        entries += [b"%010d 00000 n\r\n" % self._offsets[number] for number in range(1, size)]
        self._buffer += b"xref\n0 %d\n" % size + b"".join(entries)
        self._buffer += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\n" % (size, root, info)
        self._buffer += b"startxref\n%d\n%%%%EOF\n" % xref_offset
        return bytes(self._buffer)
