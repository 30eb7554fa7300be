"""Signed links (service.signing): authentic grants only, every constraint enforced."""

from __future__ import annotations

import ipaddress
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.signing import CIDR, EXPIRES, METHODS, SIGNATURE, Grant, parse_methods, parse_network, read_grant

SECRET = b"current-secret"
PREVIOUS = b"previous-secret"
NOW = 1_800_000_000


def _query(grant: Grant, secret: bytes = SECRET) -> list[tuple[str, str]]:
    return parse_qsl(grant.query(secret), keep_blank_values=True)


def test_a_signed_grant_reads_back_and_allows_get_and_head() -> None:
    grant = Grant("docs/report.pdf", NOW + 60)
    read = read_grant("docs/report.pdf", _query(grant), [SECRET])
    assert read == grant
    assert read.allows("GET", "198.51.100.7", NOW) and read.allows("HEAD", None, NOW)
    assert not read.allows("POST", None, NOW)


def test_the_query_names_its_parameters_and_a_43_character_signature() -> None:
    query = dict(_query(Grant("a", NOW, ("GET",), ipaddress.ip_network("203.0.113.0/24"))))
    assert query[EXPIRES] == str(NOW)
    assert query[METHODS] == "GET"
    assert query[CIDR] == "203.0.113.0/24"
    assert len(query[SIGNATURE]) == 43


def test_expired_at_the_second_of_expiry() -> None:
    grant = Grant("a", NOW)
    assert grant.allows("GET", None, NOW - 1)
    assert not grant.allows("GET", None, NOW)


def test_methods_constraint() -> None:
    grant = read_grant("a", _query(Grant("a", NOW + 1, ("HEAD",))), [SECRET])
    assert grant is not None
    assert grant.allows("HEAD", None, NOW) and not grant.allows("GET", None, NOW)


@pytest.mark.parametrize(
    ("client", "allowed"),
    [("203.0.113.9", True), ("203.0.114.1", False), ("2001:db8::1", False), ("not-an-ip", False), (None, False)],
)
def test_client_network_constraint(client: str | None, allowed: bool) -> None:
    grant = Grant("a", NOW + 1, (), parse_network("203.0.113.0/24"))
    assert grant.allows("GET", client, NOW) is allowed


def test_previous_secret_is_accepted_during_rotation_and_unknown_secrets_are_not() -> None:
    query = _query(Grant("a", NOW + 1), PREVIOUS)
    assert read_grant("a", query, [SECRET, PREVIOUS]) is not None
    assert read_grant("a", query, [SECRET]) is None


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda q: {**q, EXPIRES: str(NOW + 10_000)}, id="later-expiry"),
        pytest.param(lambda q: {**q, METHODS: "GET,HEAD"}, id="wider-methods"),
        pytest.param(lambda q: {k: v for k, v in q.items() if k != METHODS}, id="dropped-methods"),
        pytest.param(lambda q: {**q, CIDR: "0.0.0.0/0"}, id="wider-network"),
        pytest.param(lambda q: {**q, SIGNATURE: q[SIGNATURE][:-1] + "A"}, id="changed-signature"),
        pytest.param(lambda q: {k: v for k, v in q.items() if k != SIGNATURE}, id="no-signature"),
        pytest.param(lambda q: {k: v for k, v in q.items() if k != EXPIRES}, id="no-expiry"),
        pytest.param(lambda q: {**q, EXPIRES: "1e9"}, id="malformed-expiry"),
        pytest.param(lambda q: {**q, EXPIRES: "9" * 13}, id="huge-expiry"),
        pytest.param(lambda q: {**q, SIGNATURE: "é" * 43}, id="non-ascii-signature"),
    ],
)
def test_tampered_links_are_refused(tamper: object) -> None:
    signed = dict(_query(Grant("a", NOW + 1, ("GET",), parse_network("203.0.113.0/24"))))
    changed = tamper(signed)  # type: ignore[operator]
    assert read_grant("a", list(changed.items()), [SECRET]) is None


def test_a_link_is_for_its_own_key_only() -> None:
    query = _query(Grant("a/b", NOW + 1))
    assert read_grant("a/c", query, [SECRET]) is None
    assert read_grant("a/b/", query, [SECRET]) is None


def test_a_repeated_parameter_is_refused() -> None:
    query = _query(Grant("a", NOW + 1))
    assert read_grant("a", [*query, (EXPIRES, str(NOW + 1))], [SECRET]) is None


def test_other_query_parameters_are_ignored() -> None:
    query = [("download", "x.pdf"), *_query(Grant("a", NOW + 1))]
    assert read_grant("a", query, [SECRET]) is not None


@pytest.mark.parametrize(
    ("text", "methods"), [("GET", ("GET",)), ("head, get", ("HEAD", "GET")), ("GET,GET", ("GET",))]
)
def test_parse_methods(text: str, methods: tuple[str, ...]) -> None:
    assert parse_methods(text) == methods


@pytest.mark.parametrize("text", ["", ",", "PUT", "GET,DELETE"])
def test_parse_methods_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="GET and HEAD"):
        parse_methods(text)


@pytest.mark.parametrize("text", ["203.0.113.1/24", "300.0.0.0/8", "example.com"])
def test_parse_network_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_network(text)


@given(key=st.text(), other=st.text(), expires=st.integers(0, 10**12 - 1))
def test_no_two_keys_share_a_signature(key: str, other: str, expires: int) -> None:
    query = _query(Grant(key, expires))
    assert (read_grant(other, query, [SECRET]) is not None) == (key == other)


@given(query=st.lists(st.tuples(st.sampled_from([EXPIRES, METHODS, CIDR, SIGNATURE, "x"]), st.text())))
def test_arbitrary_query_strings_never_raise(query: list[tuple[str, str]]) -> None:
    assert read_grant("a", query, [SECRET]) is None
