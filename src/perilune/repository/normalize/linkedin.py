"""LinkedIn profile and company slugs from every URL form that circulates in CRM exports.

A slug is the stable key of a LinkedIn identity: ``tim-zheng-677ba010`` for
``https://uk.linkedin.com/in/Tim-Zheng-677ba010/?originalSubdomain=uk``. Forms understood:

- any scheme or none, ``www.``/country/mobile hosts (``uk.linkedin.com``, ``m.linkedin.com``),
  the mobile-lite path prefix (``/mwlite/in/...``), trailing slashes, extra path segments
  (``/in/x/en``, ``/in/x/details/experience``), query strings and fragments;
- percent-encoding, decoded, then NFC-normalized and lowercased (``j%C3%B6rg`` -> ``jörg``);
- the legacy public form ``/pub/<name>/<a>/<b>/<c>``, mapped the way LinkedIn's own redirect
  does to ``<name>-<c><b><a>`` with ``b`` and ``c`` zero-padded to three hex digits
  (``/pub/krzysztof-marzec/a7/576/b50`` -> ``krzysztof-marzec-b50576a7``);
- Sales Navigator ``/sales/lead/<id>,...`` and ``/sales/people/<id>,...`` (member ids) and
  ``/sales/company/<id>``; member ids (``ACwAA...``/``ACoAA...``) keep their case, because
  LinkedIn treats them as case-sensitive;
- bare slugs (``tim-zheng-677ba010``, ``in/tim-zheng``) only when unambiguous: one path segment
  of letters, digits, ``-`` and ``_``, at least three characters and not all digits.

Anything else (other sites, ``/pub/dir/...`` directory pages, ``/profile/view?id=``, short links)
gives ``None``.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal
from urllib.parse import quote, unquote

_Kind = Literal["person", "company"]

# "https://", "http:/" (a common typo), "//" (scheme-relative); not "linkedin.com:443".
_SCHEME = re.compile(r"^(?:https?:/{0,3}|[a-z][a-z0-9+.\-]*://|//)", re.IGNORECASE)
_SLUG = re.compile(r"^[\w\-]{1,200}$")
_HEX = re.compile(r"^[0-9a-f]{1,3}$")
_MEMBER_ID = re.compile(r"^AC[ow]AA[\w\-]+$")
_MOBILE_PREFIXES = frozenset({"m", "mwlite", "mobile"})
_PERSON_KINDS = frozenset({"in"})
_COMPANY_KINDS = frozenset({"company", "school", "showcase", "company-beta", "companies", "edu"})
_MAX_INPUT = 2048


def linkedin_slug(url: str | None) -> str | None:
    """The person slug of a LinkedIn profile URL (``/in/<slug>`` or a legacy form), else None."""
    return _slug(url, "person")


def linkedin_company_slug(url: str | None) -> str | None:
    """The company slug of a LinkedIn company, school or showcase page URL, else None."""
    return _slug(url, "company")


def linkedin_url(slug: str) -> str:
    """Apollo's form of a profile URL: ``"http://www.linkedin.com/in/<slug>"``, percent-encoded."""
    return f"http://www.linkedin.com/in/{quote(slug, safe='-_', errors='replace')}"


def linkedin_company_url(slug: str) -> str:
    """Apollo's form of a company page URL: ``"http://www.linkedin.com/company/<slug>"``."""
    return f"http://www.linkedin.com/company/{quote(slug, safe='-_', errors='replace')}"


def _slug(value: str | None, want: _Kind) -> str | None:
    if not value or len(value) > _MAX_INPUT:
        return None
    segments, on_linkedin = _path_segments(value.strip())
    if segments is None:
        return None
    if segments and segments[0].lower() in _MOBILE_PREFIXES:
        segments = segments[1:]
    if not segments:
        return None
    if len(segments) == 1 and not on_linkedin:
        return _bare(segments[0])
    kind, raw = _classify(segments)
    if kind != want or raw is None:
        return None
    return _clean(raw)


def _path_segments(text: str) -> tuple[list[str] | None, bool]:
    """The path segments of a URL on a LinkedIn host, or of a host-less path; (None, _) when
    the URL names some other host."""
    text = _SCHEME.sub("", text, count=1).lstrip("/")
    text = re.split(r"[?#]", text, maxsplit=1)[0]
    head, _, rest = text.partition("/")
    if "." in head:
        host = head.rpartition("@")[2].partition(":")[0].lower().rstrip(".")
        if not _is_linkedin_host(host):
            return None, False
        return [s for s in rest.split("/") if s], True
    return [s for s in text.split("/") if s], False


def _is_linkedin_host(host: str) -> bool:
    return any(host == root or host.endswith("." + root) for root in ("linkedin.com", "linkedin.cn"))


def _classify(segments: list[str]) -> tuple[_Kind | None, str | None]:
    kind = segments[0].lower()
    second = segments[1] if len(segments) > 1 else None
    if kind in _PERSON_KINDS:
        return "person", second
    if kind in _COMPANY_KINDS:
        return "company", second
    if kind == "pub":
        return "person", _legacy_pub(segments)
    if kind == "sales" and len(segments) > 2:
        ident = segments[2].split(",", 1)[0]
        section = segments[1].lower()
        if section in ("lead", "people"):
            return "person", ident
        if section in ("company", "accounts"):
            return "company", ident
    return None, None


def _legacy_pub(segments: list[str]) -> str | None:
    if len(segments) < 2 or segments[1].lower() == "dir":
        return None
    name = segments[1]
    parts = [s.lower() for s in segments[2:5]]
    if len(parts) == 3 and all(_HEX.match(p) for p in parts):
        first, middle, last = parts
        return f"{name}-{last.zfill(3)}{middle.zfill(3)}{first}"
    return name


def _bare(segment: str) -> str | None:
    slug = _clean(segment)
    if slug is None or len(slug) < 3 or slug.isdigit():
        return None
    return slug


def _clean(raw: str) -> str | None:
    slug = unicodedata.normalize("NFC", unquote(raw, errors="replace")).strip()
    if not _SLUG.match(slug):
        return None
    if _MEMBER_ID.match(slug):
        return slug
    return slug.lower()
