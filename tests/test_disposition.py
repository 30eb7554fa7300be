"""Tests for Content-Disposition attachment values (RFC 6266, RFC 8187)."""

from __future__ import annotations

import email
import email.policy
import re
from urllib.parse import unquote

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from service.http.disposition import DEFAULT_FILENAME, attachment, key_basename

# RFC 6266 §4.1 with the ASCII fallback this module promises and RFC 8187 ext-value.
_SHAPE = re.compile(
    r"attachment; filename=\"(?P<fallback>[ !#$&-:<-\[\]-~]*)\"; "
    r"filename\*=UTF-8''(?P<encoded>(?:[A-Za-z0-9!#$&+\-.^_`|~]|%[0-9A-F]{2})+)"
)


def _filename_star(value: str) -> str | None:
    """Decode ``filename*`` with the standard library's RFC 2231 parameter parser."""
    star = value.rsplit("; ", maxsplit=1)[-1]
    message = email.message_from_string(f"Content-Disposition: attachment; {star}\n\n", policy=email.policy.default)
    return message.get_filename()


def _fallback(value: str) -> str | None:
    message = email.message_from_string(f"Content-Disposition: {value}\n\n", policy=email.policy.default)
    return message.get_filename()


@pytest.mark.parametrize(
    ("filename", "fallback", "encoded"),
    [
        pytest.param("report.pdf", "report.pdf", "report.pdf", id="ascii"),
        pytest.param("résumé.pdf", "resume.pdf", "r%C3%A9sum%C3%A9.pdf", id="accents-dropped"),
        pytest.param("日本語.txt", "___.txt", "%E6%97%A5%E6%9C%AC%E8%AA%9E.txt", id="cjk"),
        pytest.param("a b.txt", "a b.txt", "a%20b.txt", id="space"),
        pytest.param('say "hi".txt', "say _hi_.txt", "say%20%22hi%22.txt", id="quotes"),
        pytest.param("back\\slash", "back_slash", "back_slash", id="backslash-is-a-separator"),
        pytest.param("a;b.txt", "a_b.txt", "a%3Bb.txt", id="semicolon"),
        pytest.param("100%25.txt", "100_25.txt", "100%2525.txt", id="percent"),
        pytest.param("dir/name.txt", "dir_name.txt", "dir_name.txt", id="slash"),
        pytest.param("x\r\nSet-Cookie: a=b", "x__Set-Cookie: a=b", "x__Set-Cookie%3A%20a%3Db", id="crlf-injection"),
        pytest.param("tab\there", "tab_here", "tab_here", id="tab"),
        pytest.param("nul\x00del\x7fc1\x85", "nul_del_c1_", "nul_del_c1_", id="controls"),
        pytest.param("x\ud800y", "x_y", "x_y", id="lone-surrogate"),
        pytest.param("evil\u202etxt.exe", "evil_txt.exe", "evil_txt.exe", id="bidi-override"),
        pytest.param("!#$&+^`|~.txt", "!#$&+^`|~.txt", "!#$&+^`|~.txt", id="attr-char-punctuation"),
        pytest.param("it's (1).txt", "it's (1).txt", "it%27s%20%281%29.txt", id="non-attr-char-punctuation"),
        pytest.param("\ufb01le", "file", "%EF%AC%81le", id="compatibility-ligature"),
        pytest.param("  padded.txt  ", "padded.txt", "padded.txt", id="surrounding-whitespace"),
        pytest.param("._.", "._.", "._.", id="dots-around-underscore"),
        pytest.param(".hidden", ".hidden", ".hidden", id="leading-dot"),
        pytest.param("", DEFAULT_FILENAME, DEFAULT_FILENAME, id="empty"),
        pytest.param("   ", DEFAULT_FILENAME, DEFAULT_FILENAME, id="blank"),
        pytest.param(".", DEFAULT_FILENAME, DEFAULT_FILENAME, id="dot"),
        pytest.param("..", DEFAULT_FILENAME, DEFAULT_FILENAME, id="dot-dot"),
        pytest.param("/", DEFAULT_FILENAME, DEFAULT_FILENAME, id="only-separator"),
        pytest.param("\r\n", DEFAULT_FILENAME, DEFAULT_FILENAME, id="only-controls"),
        pytest.param("\u00b4", DEFAULT_FILENAME, "%C2%B4", id="fallback-decomposes-to-space"),
        pytest.param("\u05d0.\u05d1", "_._", "%D7%90.%D7%91", id="fallback-only-replacements"),
    ],
)
def test_attachment(filename: str, fallback: str, encoded: str) -> None:
    assert attachment(filename) == f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def test_standard_parser_reads_both_forms() -> None:
    value = attachment('naïve "plan" ü.pdf')
    assert _fallback(value) == "naive _plan_ u.pdf"
    assert _filename_star(value) == 'naïve "plan" ü.pdf'


@given(st.text())
def test_no_name_breaks_the_header_shape(filename: str) -> None:
    value = attachment(filename)
    match = _SHAPE.fullmatch(value)
    assert match is not None, value
    assert all(" " <= char <= "~" for char in value)
    assert match["fallback"].strip(" .")


_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_KEPT = st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="/\\" + _BIDI)


@given(st.text(alphabet=_KEPT, min_size=1))
def test_filename_star_round_trips_names_without_replaced_characters(filename: str) -> None:
    name = filename.strip()
    assume(name.strip("."))
    value = attachment(filename)
    match = _SHAPE.fullmatch(value)
    assert match is not None
    assert unquote(match["encoded"], errors="strict") == name
    assert _filename_star(value) == name


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        pytest.param("file.txt", "file.txt", id="no-prefix"),
        pytest.param("reports/2024/q1.pdf", "q1.pdf", id="nested"),
        pytest.param("reports/2024/", "2024", id="trailing-slash"),
        pytest.param("a//b//", "b", id="empty-segments"),
        pytest.param("/", "", id="only-slash"),
        pytest.param("", "", id="empty"),
        pytest.param("dir\\file.txt", "dir\\file.txt", id="backslash-is-not-a-separator-in-keys"),
    ],
)
def test_key_basename(key: str, expected: str) -> None:
    assert key_basename(key) == expected


def test_key_basename_feeds_attachment() -> None:
    assert attachment(key_basename("exports/")) == "attachment; filename=\"exports\"; filename*=UTF-8''exports"
    assert attachment(key_basename("///")).startswith(f'attachment; filename="{DEFAULT_FILENAME}"')
