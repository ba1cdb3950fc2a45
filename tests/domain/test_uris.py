"""Registered URIs (docs/architecture.md §5, RFC 9700 §2.1, OIDC Core §3.1.2.1 and §8.1)."""

from __future__ import annotations

import pytest

from idp.domain.errors import DomainError
from idp.domain.uris import check_https_uri, check_redirect_uri, sector_identifier


@pytest.mark.parametrize(
    "uri",
    [
        "https://portal.example.vn/callback",
        "https://portal.example.vn/cb?tenant=hanoi&x=%20",  # a query is allowed (RFC 6749 §3.1.2)
        "https://portal.example.vn:8443/cb",
        "https://portal.example.vn",
        "https://203.162.4.190/cb",
        "http://127.0.0.1:8080/cb",
        "http://localhost/cb",
        "http://LOCALHOST:3000/cb",
        "http://[::1]:3000/cb",
        "https://xn--cng-dch-v-cng-1hb.vn/cb",  # IDN in its ASCII (punycode) form
    ],
)
def test_accepted_unchanged(uri: str) -> None:
    assert check_redirect_uri(uri) == uri
    assert check_https_uri(uri) == uri


@pytest.mark.parametrize(
    ("uri", "code"),
    [
        ("http://example.com/cb", "uri.scheme"),
        ("http://127.0.0.1.evil.example/cb", "uri.scheme"),  # not a loopback host
        ("http://localhost.evil.example/cb", "uri.scheme"),
        ("http://0177.0.0.1/cb", "uri.scheme"),
        ("http://[::2]/cb", "uri.scheme"),
        ("HTTPS://portal.example.vn/cb", "uri.scheme"),  # exact matching later: lower case only
        ("javascript:alert(1)", "uri.scheme"),
        ("javascript://portal.example.vn/%0aalert(1)", "uri.scheme"),
        ("data:text/html,<script>", "uri.format"),  # "<" is not a URI character at all
        ("data:text/html;base64,PHNjcmlwdD4=", "uri.scheme"),
        ("vn.gov.portal:/callback", "uri.scheme"),  # custom (native-app) schemes not offered
        ("ftp://portal.example.vn/cb", "uri.scheme"),
        ("https://portal.example.vn/cb#top", "uri.fragment"),
        ("https://portal.example.vn/cb#", "uri.fragment"),
        ("http://127.0.0.1/cb#x", "uri.fragment"),
        ("https://user@portal.example.vn/cb", "uri.userinfo"),
        ("https://user:pass@portal.example.vn/cb", "uri.userinfo"),
        ("https://evil.example@portal.example.vn/cb", "uri.userinfo"),
        ("/callback", "uri.format"),
        ("callback", "uri.format"),
        ("//portal.example.vn/cb", "uri.format"),
        ("https:/portal.example.vn/cb", "uri.format"),
        ("https:portal.example.vn", "uri.format"),
        ("https:///cb", "uri.format"),
        ("", "uri.format"),
        (" https://portal.example.vn/cb", "uri.format"),
        ("https://portal.example.vn/cb ", "uri.format"),
        ("https://portal.example.vn/cb\n", "uri.format"),
        ("https://portal.example.vn/c b", "uri.format"),
        ("https://portal.example.vn/cb\x00", "uri.format"),
        ("https://portal.example.vn/cb\x7f", "uri.format"),
        ("https://portal.example.vn/cb\u00a0", "uri.format"),
        ("https://cổng.vn/cb", "uri.format"),  # IRIs must be registered in punycode
        ("https://portal.example.vn\\@evil.example/", "uri.format"),
        ("https://*.example.vn/cb", "uri.format"),
        ("https://portal.example.vn/*", "uri.format"),
        ("https://portal_x.example.vn/cb", "uri.format"),
        ("https://-portal.example.vn/cb", "uri.format"),
        ("https://portal.example.vn:99999/cb", "uri.format"),
        ("https://portal.example.vn:x/cb", "uri.format"),
        ("https://portal.example.vn:/cb", "uri.format"),
        ("https://[::1]x/cb", "uri.format"),
        ("https://[fe80::1%25eth0]/cb", "uri.format"),
        ("https://[not-ip]/cb", "uri.format"),
        ("https://portal.example.vn/a[1]", "uri.format"),
        ("https://portal.example.vn/%zz", "uri.format"),
        ("https://portal.example.vn/" + "a" * 2023, "uri.too_long"),
    ],
)
def test_refused(uri: str, code: str) -> None:
    for check in (check_redirect_uri, check_https_uri):
        with pytest.raises(DomainError) as caught:
            check(uri)
        assert caught.value.code == code


def test_length_limit_is_2048_characters() -> None:
    prefix = "https://portal.example.vn/"
    exactly = prefix + "a" * (2048 - len(prefix))
    assert check_redirect_uri(exactly) == exactly
    with pytest.raises(DomainError) as caught:
        check_redirect_uri(exactly + "a")
    assert caught.value.code == "uri.too_long"


def test_sector_is_the_one_host_whatever_the_port_path_or_case() -> None:
    uris = ["https://Portal.example.vn/a", "https://portal.example.vn:8443/b?x=1"]
    assert sector_identifier(uris) == "portal.example.vn"
    assert sector_identifier(["http://[::1]:3000/cb"]) == "::1"


@pytest.mark.parametrize(
    "uris",
    [
        ["https://a.example.vn/cb", "https://b.example.vn/cb"],
        ["https://example.vn/cb", "https://www.example.vn/cb"],
        [],
    ],
)
def test_sector_refuses_several_hosts(uris: list[str]) -> None:
    with pytest.raises(DomainError) as caught:
        sector_identifier(uris)
    assert caught.value.code == "uri.sector"
