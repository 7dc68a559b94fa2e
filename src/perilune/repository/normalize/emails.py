"""Email addresses: the normalized form, its hashes, its domain, and whether that domain is a
personal mailbox provider (gmail.com) rather than an employer (apollo.io).

The normalized form is ``local@domain``, lowercase, syntax-checked by email-validator with no DNS
(``check_deliverability=False``), the domain in ASCII (Punycode), the same form
``registrable_domain`` gives. The whole address is lowercased: mailbox names are case-insensitive
at every real provider, and one form per address is what deduplication needs. Provider-specific
rewriting (gmail dots, ``+tags``) is not applied: those addresses can be distinct mailboxes.

Plain ASCII addresses take a fast path (a regular expression and a few checks) that accepts only
addresses email-validator accepts, with the same result; everything else goes to email-validator.
tests/repository/test_normalize_emails.py proves the agreement over tricky and random inputs.
"""

from __future__ import annotations

import hashlib
import re
from typing import Literal

from email_validator import EmailNotValidError, validate_email

from perilune.repository.normalize.domains import registrable_domain

_ATEXT = r"a-z0-9_!#$%&'*+/=?^`{|}~\-"
# Dot-atom local part (RFC 5322 3.2.3); LDH labels; a letters-only TLD. Lowercase input only.
_FAST = re.compile(
    rf"[{_ATEXT}]+(?:\.[{_ATEXT}]+)*@(?:[a-z0-9](?:[a-z0-9\-]{{0,61}}[a-z0-9])?\.)+[a-z]{{2,63}}"
)
_MAX_ADDRESS = 254
_MAX_DOMAIN = 253
# email-validator rejects these (RFC 6761 and friends); the fast path leaves them to it.
_SPECIAL_USE_TLDS = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})
_HEX32 = re.compile(r"[0-9a-f]{32}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
# Inputs longer than this cannot be valid addresses; refuse them before any parsing.
_MAX_INPUT = 1024


def normalize_email(value: str | None) -> str | None:
    """The normalized address (see the module docstring), or None when it is not a valid one."""
    if not value or len(value) > _MAX_INPUT:
        return None
    address = value.strip().lower()
    if _fast_accepts(address):
        return address
    return _validated(address)


def _fast_accepts(address: str) -> bool:
    if len(address) > _MAX_ADDRESS or not _FAST.fullmatch(address):
        return False
    domain = address.rpartition("@")[2]
    # "--" could be an invalid R-LDH label or Punycode to verify: email-validator decides.
    return (
        len(domain) <= _MAX_DOMAIN
        and "--" not in domain
        and domain.rpartition(".")[2] not in _SPECIAL_USE_TLDS
    )


def _validated(address: str) -> str | None:
    try:
        result = validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return None
    return f"{result.local_part}@{result.ascii_domain}"


def email_hashes(email: str) -> tuple[str, str]:
    """``(md5_hex, sha256_hex)`` of the normalized address, as Apollo's ``hashed_email`` matching
    expects. Raises ValueError when ``email`` is not a valid address."""
    normalized = normalize_email(email)
    if normalized is None:
        raise ValueError(f"not a valid email address: {email[:100]!r}")
    data = normalized.encode("utf-8")
    return hashlib.md5(data, usedforsecurity=False).hexdigest(), hashlib.sha256(data).hexdigest()


def hashed_email_kind(value: str | None) -> Literal["md5", "sha256"] | None:
    """``"md5"`` for 32 hex digits, ``"sha256"`` for 64, else None (surrounding space and case
    are ignored)."""
    if not value:
        return None
    text = value.strip().lower()
    if len(text) == 32 and _HEX32.fullmatch(text):
        return "md5"
    if len(text) == 64 and _HEX64.fullmatch(text):
        return "sha256"
    return None


def email_domain(email: str | None) -> str | None:
    """The domain of the normalized address (``"tim@mail.apollo.io"`` -> ``"mail.apollo.io"``),
    or None when invalid. ``registrable_domain(email)`` gives the organization's domain."""
    normalized = normalize_email(email)
    return normalized.rpartition("@")[2] if normalized else None


# Personal (consumer) mailbox providers: an address here says nothing about the employer.
# Exact registrable domains, by region; plus provider families that own one domain per country
# (yahoo.co.uk, gmx.de, yandex.ru ...), matched on the label before the public suffix.
PERSONAL_DOMAINS: frozenset[str] = frozenset(
    {
        # global
        "gmail.com", "googlemail.com", "icloud.com", "me.com", "mac.com", "msn.com", "live.com",
        "ymail.com", "rocketmail.com", "proton.me", "protonmail.com", "protonmail.ch", "pm.me",
        "tutanota.com", "tutanota.de", "tuta.io", "fastmail.com", "fastmail.fm", "hey.com",
        "zoho.com", "zohomail.com", "mail.com", "email.com", "inbox.com", "hushmail.com",
        "mailfence.com", "posteo.de", "posteo.net", "runbox.com", "duck.com",
        # North America
        "comcast.net", "verizon.net", "att.net", "sbcglobal.net", "bellsouth.net", "cox.net",
        "charter.net", "earthlink.net", "juno.com", "optonline.net", "shaw.ca", "rogers.com",
        "sympatico.ca", "videotron.ca", "telus.net",
        # Europe
        "web.de", "t-online.de", "freenet.de", "arcor.de", "mail.de", "orange.fr", "wanadoo.fr",
        "free.fr", "sfr.fr", "laposte.net", "neuf.fr", "libero.it", "virgilio.it", "tiscali.it",
        "alice.it", "tin.it", "btinternet.com", "sky.com", "virginmedia.com", "ntlworld.com",
        "blueyonder.co.uk", "talktalk.net", "live.co.uk", "live.fr", "live.nl", "live.de",
        "live.it", "live.be", "telenet.be", "skynet.be", "ziggo.nl", "kpnmail.nl", "home.nl",
        "planet.nl", "bluewin.ch", "seznam.cz", "centrum.cz", "wp.pl", "o2.pl", "interia.pl",
        "onet.pl", "mail.ru", "bk.ru", "list.ru", "inbox.ru", "rambler.ru", "ya.ru", "ukr.net",
        "i.ua", "abv.bg", "sapo.pt", "terra.es", "telefonica.net",
        # Asia-Pacific, Latin America, Africa
        "qq.com", "163.com", "126.com", "yeah.net", "sina.com", "sina.cn", "sohu.com",
        "aliyun.com", "foxmail.com", "naver.com", "daum.net", "hanmail.net", "nate.com",
        "rediffmail.com", "bigpond.com", "bigpond.net.au", "optusnet.com.au", "xtra.co.nz",
        "uol.com.br", "bol.com.br", "terra.com.br", "ig.com.br", "live.com.mx", "prodigy.net.mx",
        "live.com.au", "live.ca", "mweb.co.za",
    }
)  # fmt: skip
PERSONAL_FAMILIES: frozenset[str] = frozenset(
    {"yahoo", "hotmail", "outlook", "aol", "gmx", "yandex", "windowslive"}
)


def is_personal_domain(domain: str | None) -> bool:
    """Whether a domain (or a URL or email address) belongs to a personal mailbox provider:
    one of PERSONAL_DOMAINS, or any country domain of PERSONAL_FAMILIES (``yahoo.co.jp``)."""
    registrable = registrable_domain(domain)
    if registrable is None:
        return False
    return registrable in PERSONAL_DOMAINS or registrable.partition(".")[0] in PERSONAL_FAMILIES
