"""Registrable domains from URLs, bare hosts and email addresses.

The registrable domain (``apollo.io`` for ``https://blog.apollo.io/x``) is the key that joins
people to organizations and deduplicates organizations, so it must come out the same from every
spelling: scheme or none, ``www.`` or a deeper subdomain, a port, a path, userinfo, an email
address, a trailing dot, mixed case, Unicode or Punycode.

Decisions:

- The Public Suffix List comes from tldextract's bundled snapshot: one module-level extractor with
  no suffix-list URLs and no cache directory, so nothing ever touches the network or the disk.
- Private PSL suffixes count (``acme.github.io`` stays ``acme.github.io``, not ``github.io``), so
  organizations hosted on a shared platform do not collapse into one; a host that *is* a private
  suffix (``github.io``) falls back to its ICANN registrable domain.
- Internationalized domains come out as Punycode (``münchen.de`` -> ``xn--mnchen-3ya.de``): one
  ASCII form whatever the input, safe for indexes and URLs. ``normalize_email`` agrees.
- IP addresses, ``localhost``, unknown TLDs and anything that is not a hostname give ``None``.
"""

from __future__ import annotations

import functools
import re

import idna
import tldextract

_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)

_MAX_HOST = 253
# "http://", "https:/" (a common typo), "//" (scheme-relative) and "mailto:"; not "apollo.io:8080".
_SCHEME = re.compile(r"^(?:[a-z][a-z0-9+.\-]*:/{1,3}|mailto:|//)")
# Two or more LDH labels of 1-63 characters, no hyphen at either end of a label.
_HOST = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_PORT = re.compile(r":\d*$")
_AUTHORITY_END = re.compile(r"[/?#\\\s;,]")
# Ideographic and fullwidth full stops are label separators in IDNA (UTS #46).
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})


def registrable_domain(value: str | None) -> str | None:
    """The registrable domain (lowercase, Punycode) of a URL, host or email address, else None.

    ``"https://www.Apollo.io/about"`` -> ``"apollo.io"``; ``"tim@Sub.Apollo.io"`` -> ``"apollo.io"``;
    ``"http://blog.example.co.uk/x?y"`` -> ``"example.co.uk"``; ``"localhost"`` -> ``None``."""
    host = hostname(value)
    return None if host is None else _registrable(host)


# Hosts repeat (every person at a company shares one), and a PSL lookup costs ~8 µs where a
# cache hit costs ~0.1 µs; hosts are at most 253 characters, so the cache stays small.
@functools.lru_cache(maxsize=65536)
def _registrable(host: str) -> str | None:
    result = _EXTRACTOR.extract_str(host)
    if result.top_domain_under_public_suffix:
        return result.top_domain_under_public_suffix
    if result.is_private:
        icann = _EXTRACTOR.extract_str(host, include_psl_private_domains=False)
        return icann.top_domain_under_public_suffix or None
    return None


def hostname(value: str | None) -> str | None:
    """The lowercase ASCII host named by a URL, bare host or email address, without ``www``
    stripping or PSL checks; ``None`` when there is no syntactically valid hostname."""
    if not value:
        return None
    text = value.strip().lower()
    if "<" in text:  # "Tim Zheng <tim@apollo.io>"
        text = text.rpartition("<")[2].partition(">")[0].strip()
    if ":" in text or text.startswith("/"):
        text = _SCHEME.sub("", text, count=1).lstrip("/")
    end = _AUTHORITY_END.search(text)
    if end:
        text = text[: end.start()]
    if "@" in text:
        text = text.rpartition("@")[2]
    if ":" in text:
        text = _PORT.sub("", text)
    if not text.isascii():
        text = text.translate(_DOTS)
    return _valid_host(text.rstrip("."))


def _valid_host(host: str) -> str | None:
    if not host or len(host) > _MAX_HOST * 4:
        return None
    if not host.isascii():
        host = _punycode(host)
    if len(host) > _MAX_HOST or not _HOST.fullmatch(host):
        return None
    if host.rpartition(".")[2].isdigit():  # an IPv4 address or a numeric TLD
        return None
    return host


# IDNA encoding costs ~35 µs; the same few internationalized hosts come back again and again.
@functools.lru_cache(maxsize=4096)
def _punycode(host: str) -> str:
    """The ASCII (Punycode) form of a Unicode host, or "" when it is not a valid IDN."""
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        return ""


def website_url(domain: str) -> str:
    """The website URL Apollo shows for a registrable domain: ``"apollo.io"`` ->
    ``"http://www.apollo.io"``. A domain under a private suffix (``acme.github.io``) has no
    ``www`` host, so it gets none."""
    host = domain.strip().lower().rstrip(".")
    if _EXTRACTOR.extract_str(host).is_private:
        return f"http://{host}"
    return f"http://www.{host}"
