"""Email normalization (and proof that its fast path agrees with email-validator), hashes,
domains and personal mailbox providers."""

from __future__ import annotations

import hashlib
import random
import string

import pytest

from perilune.repository.normalize.domains import hostname
from perilune.repository.normalize.emails import (
    PERSONAL_DOMAINS,
    _fast_accepts,
    _validated,
    email_domain,
    email_hashes,
    hashed_email_kind,
    is_personal_domain,
    normalize_email,
)

VALID = [
    ("tim@apollo.io", "tim@apollo.io"),
    ("  Tim.Zheng@Apollo.IO \n", "tim.zheng@apollo.io"),
    ("first.last+tag@sub.example.co.uk", "first.last+tag@sub.example.co.uk"),
    ("o'brien@example.com", "o'brien@example.com"),
    ("a_b-c=d?e^f`g{h|i}j~k!l#m$n%o&p*q/r@example.com", "a_b-c=d?e^f`g{h|i}j~k!l#m$n%o&p*q/r@example.com"),
    ("x@a.io", "x@a.io"),
    ("x@example.c", "x@example.c"),  # one-letter TLD: valid syntax, slow path
    ("x@xn--mnchen-3ya.de", "x@xn--mnchen-3ya.de"),
    ("x@MÜNCHEN.de", "x@xn--mnchen-3ya.de"),
    ("josé@example.com", "josé@example.com"),
    ("jose\u0301@example.com", "josé@example.com"),  # NFC
    ("用户@例子.广告", "用户@xn--fsqu00a.xn--4rr70v"),
    ("x@sub-domain.example-site.com", "x@sub-domain.example-site.com"),
    ("1234567890@example.com", "1234567890@example.com"),
    ("x@123.example.com", "x@123.example.com"),
    ("a" * 64 + "@example.com", "a" * 64 + "@example.com"),
    ("a" * 65 + "@example.com", "a" * 65 + "@example.com"),  # over 64 is accepted (non-strict)
    ("INFO@Example.com", "info@example.com"),
]
INVALID = [
    None,
    "",
    "   ",
    "tim",
    "tim@",
    "@apollo.io",
    "tim@apollo",
    "tim@@apollo.io",
    "tim@apollo..io",
    "tim.@apollo.io",
    ".tim@apollo.io",
    "ti..m@apollo.io",
    "tim zheng@apollo.io",
    "tim@apollo io",
    "tim@-apollo.io",
    "tim@apollo-.io",
    "tim@apollo.123",
    "tim@localhost",
    "tim@server.local",
    "tim@example.test",
    "tim@example.invalid",
    "tim@1.1.1.1.in-addr.arpa",
    "tim@[127.0.0.1]",
    '"tim zheng"@apollo.io',
    "Tim Zheng <tim@apollo.io>",
    "tim@ab--cd.com",
    "tim@xn--garbage-.com",
    "tim@" + "a" * 64 + ".com",
    "a" * 250 + "@example.com",
    "tim@apollo.io\x00",
    "tim\u200b@apollo.io",
    "x" * 10_000,
    "a@" + "b." * 5_000 + "com",
]


@pytest.mark.parametrize(("value", "expected"), VALID)
def test_normalize_email_valid(value: str, expected: str) -> None:
    assert normalize_email(value) == expected


@pytest.mark.parametrize("value", INVALID)
def test_normalize_email_invalid(value: str | None) -> None:
    assert normalize_email(value) is None


def _slow(value: str) -> str | None:
    return _validated(value.strip().lower())


@pytest.mark.parametrize("value", [v for v, _ in VALID] + [v for v in INVALID if v and len(v) < 1024])
def test_fast_path_agrees_with_email_validator_on_tricky_cases(value: str) -> None:
    assert normalize_email(value) == _slow(value)


def test_fast_path_agrees_with_email_validator_on_random_addresses() -> None:
    rng = random.Random(20240601)
    local_chars = string.ascii_lowercase + string.digits + ".-_+'!#$%&*/=?^`{|}~\"(),:;<>@[\\] "
    domain_chars = string.ascii_lowercase + string.digits + ".-"
    accepted = 0
    for _ in range(20_000):
        local = "".join(rng.choice(local_chars) for _ in range(rng.randint(0, 12)))
        domain = "".join(rng.choice(domain_chars) for _ in range(rng.randint(0, 14)))
        tld = rng.choice(["com", "io", "co.uk", "c", "123", "local", "test", "xn--p1ai", "a-b", ""])
        address = f"{local}@{domain}.{tld}" if rng.random() < 0.9 else f"{local}{domain}"
        if _fast_accepts(address):
            accepted += 1
            assert _validated(address) == address, address
    assert accepted > 1_000  # the fast path was really exercised


def test_email_hashes() -> None:
    md5, sha256 = email_hashes("  Tim@Apollo.io ")
    assert md5 == hashlib.md5(b"tim@apollo.io", usedforsecurity=False).hexdigest()
    assert sha256 == hashlib.sha256(b"tim@apollo.io").hexdigest()
    assert hashed_email_kind(md5) == "md5"
    assert hashed_email_kind(sha256) == "sha256"
    assert email_hashes("josé@example.com")[1] == hashlib.sha256("josé@example.com".encode()).hexdigest()


def test_email_hashes_refuse_invalid_addresses() -> None:
    with pytest.raises(ValueError, match="not a valid email address"):
        email_hashes("not an email")


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("d41d8cd98f00b204e9800998ecf8427e", "md5"),
        ("D41D8CD98F00B204E9800998ECF8427E", "md5"),
        (" d41d8cd98f00b204e9800998ecf8427e\n", "md5"),
        ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "sha256"),
        ("d41d8cd98f00b204e9800998ecf8427", None),  # 31
        ("d41d8cd98f00b204e9800998ecf8427ef", None),  # 33
        ("g41d8cd98f00b204e9800998ecf8427e", None),
        ("tim@apollo.io", None),
        ("", None),
        (None, None),
        ("a" * 10_000, None),
    ],
)
def test_hashed_email_kind(value: str | None, kind: str | None) -> None:
    assert hashed_email_kind(value) == kind


@pytest.mark.parametrize(
    ("email", "domain"),
    [
        ("tim@apollo.io", "apollo.io"),
        ("Tim@Mail.Apollo.IO", "mail.apollo.io"),
        ("x@münchen.de", "xn--mnchen-3ya.de"),
        ("nope", None),
        (None, None),
    ],
)
def test_email_domain(email: str | None, domain: str | None) -> None:
    assert email_domain(email) == domain


@pytest.mark.parametrize(
    "domain",
    [
        "gmail.com",
        "GMAIL.COM",
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.co.jp",
        "outlook.com",
        "outlook.de",
        "hotmail.com",
        "hotmail.fr",
        "icloud.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.de",
        "gmx.net",
        "yandex.ru",
        "yandex.com",
        "mail.ru",
        "qq.com",
        "163.com",
        "web.de",
        "tim@gmail.com",
        "https://mail.yahoo.com/",
    ],
)
def test_personal_domains(domain: str) -> None:
    assert is_personal_domain(domain)


@pytest.mark.parametrize(
    "domain",
    [
        "apollo.io",
        "google.com",
        "microsoft.com",
        "yahooinc.com",
        "mail.apollo.io",
        "gmail.co",
        "",
        None,
        "x" * 10_000,
    ],
)
def test_business_domains(domain: str | None) -> None:
    assert not is_personal_domain(domain)


def test_personal_domain_list_is_normalized() -> None:
    for domain in PERSONAL_DOMAINS:
        assert domain == domain.lower().strip()
        assert is_personal_domain(domain), domain


@pytest.mark.parametrize("email", ["x@MÜNCHEN.de", "用户@例子.广告", "x@bücher.example.de"])
def test_email_domain_matches_domains_module(email: str) -> None:
    assert email_domain(email) == hostname(email)
