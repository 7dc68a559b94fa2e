"""Registrable domains from URLs, hosts and email addresses; Apollo's website URL form."""

from __future__ import annotations

import socket

import pytest
import tldextract

from perilune.repository.normalize import domains
from perilune.repository.normalize.domains import hostname, registrable_domain, website_url


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://www.Apollo.io/about", "apollo.io"),
        ("http://blog.example.co.uk/x?y", "example.co.uk"),
        ("tim@Sub.Apollo.io", "apollo.io"),
        ("apollo.io.", "apollo.io"),
        ("  apollo.io \n", "apollo.io"),
        ("APOLLO.IO", "apollo.io"),
        ("mailto:tim@apollo.io", "apollo.io"),
        ("mailto:tim@apollo.io?subject=hi", "apollo.io"),
        ("Tim Zheng <tim@apollo.io>", "apollo.io"),
        ("apollo.io/about", "apollo.io"),
        ("apollo.io:8080/x", "apollo.io"),
        ("http://user:pw@www.apollo.io:443/a#b", "apollo.io"),
        ("https:/apollo.io", "apollo.io"),  # a common typo
        ("//cdn.apollo.io/app.js", "apollo.io"),
        ("ftp://files.apollo.io", "apollo.io"),
        ("https://www.bbc.co.uk#news", "bbc.co.uk"),
        ("www.amazon.co.jp", "amazon.co.jp"),
        ("https://shop.example.com.au/", "example.com.au"),
        ("medium.com/@apollo", "medium.com"),
        ("https://apollo.io\\evil.com", "apollo.io"),
        # private PSL suffixes keep tenants apart; the platform itself stays itself
        ("acme.github.io", "acme.github.io"),
        ("https://waiterrant.blogspot.com/post", "waiterrant.blogspot.com"),
        ("github.io", "github.io"),
        # IDN: one Punycode form whatever the input
        ("münchen.de", "xn--mnchen-3ya.de"),
        ("https://www.MÜNCHEN.de/", "xn--mnchen-3ya.de"),
        ("xn--mnchen-3ya.de", "xn--mnchen-3ya.de"),
        ("info@bücher.example.de", "example.de"),
        ("https://bücher.de", "xn--bcher-kva.de"),
        ("例え.jp", "xn--r8jz45g.jp"),
        ("apollo\u3002io", "apollo.io"),  # ideographic full stop
    ],
)
def test_registrable_domain(value: str, expected: str) -> None:
    assert registrable_domain(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "   ",
        "localhost",
        "http://localhost:8000/x",
        "127.0.0.1",
        "http://192.168.0.1/admin",
        "http://[::1]:80/",
        "[2001:db8::1]",
        "apollo",
        "not a url at all",
        "foo.invalidtld",
        "http://-bad-.com",
        "apollo..io",
        "a b.com",
        "@",
        "tim@",
        "http://",
        "x" * 10_000,
        "a." * 5_000 + "com",
        "🚀.com",
    ],
)
def test_registrable_domain_rejects(value: str | None) -> None:
    assert registrable_domain(value) is None


def test_hostname_keeps_subdomains() -> None:
    assert hostname("https://Blog.Apollo.io:443/x") == "blog.apollo.io"
    assert hostname("tim@mail.apollo.io") == "mail.apollo.io"
    assert hostname("nope") is None


@pytest.mark.parametrize(
    ("domain", "url"),
    [
        ("apollo.io", "http://www.apollo.io"),
        ("example.co.uk", "http://www.example.co.uk"),
        (" Apollo.io. ", "http://www.apollo.io"),
        ("acme.github.io", "http://acme.github.io"),
    ],
)
def test_website_url(domain: str, url: str) -> None:
    assert website_url(domain) == url
    assert registrable_domain(url) == registrable_domain(domain)


def test_public_suffix_list_is_the_bundled_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    """No suffix-list URL, no disk cache: a fresh extractor built like ours answers with every
    socket refused and an environment that asks for a download."""
    assert domains._EXTRACTOR.suffix_list_urls == ()
    assert domains._EXTRACTOR._cache.enabled is False

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setenv("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "https://example.invalid/psl.dat")
    fresh = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)
    assert fresh.extract_str("blog.example.co.uk").top_domain_under_public_suffix == "example.co.uk"
