"""Every normaliser takes whatever an import file holds (None, empty, huge, binary-looking,
any script) and answers without raising, quickly."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

import pytest

from perilune.repository import normalize as n

NASTY: list[str | None] = [
    None,
    "",
    " ",
    "\t\n\r",
    "\x00",
    "\x00" * 100,
    "\ufeff",
    "\u200b\u200d",
    "'; DROP TABLE people; --",
    "%s%s%s%n",
    "%00%ff%zz",
    "null",
    "NaN",
    "0",
    "-1",
    "🚀" * 50,
    "\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "Ω≈ç√∫\u02dcµ≤≥÷",
    "田中さんにあげて下さい",
    "مرحبا بالعالم",
    "Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇",
    "\ud800",  # a lone surrogate: not encodable as UTF-8
    "tim\udcff@apollo.io",
    "a" * 10_000,
    "é" * 10_000,
    "a," * 5_000,
    "a." * 5_000,
    "a@" * 5_000,
    "/" * 10_000,
    "+" + "9" * 10_000,
    "https://" + "x" * 10_000 + ".com",
    "https://www.linkedin.com/in/" + "é" * 10_000,
    " ".join(["Senior"] * 2_000),
]

FUNCTIONS: dict[str, Callable[[Any], object]] = {
    "registrable_domain": n.registrable_domain,
    "linkedin_slug": n.linkedin_slug,
    "linkedin_company_slug": n.linkedin_company_slug,
    "split_name": n.split_name,
    "name_key": n.name_key,
    "first_name_variants": n.first_name_variants,
    "phonetic_key": n.phonetic_key,
    "normalize_email": n.normalize_email,
    "hashed_email_kind": n.hashed_email_kind,
    "email_domain": n.email_domain,
    "is_personal_domain": n.is_personal_domain,
    "to_e164": n.to_e164,
    "to_e164_hinted": lambda v: n.to_e164(v, "US"),
    "hint_only": lambda v: n.to_e164("415 555 2671", v),
    "resolve_country": n.resolve_country,
    "find_subdivisions": n.find_subdivisions,
    "resolve_location_raw": lambda v: n.resolve_location(raw=v),
    "resolve_location_fields": lambda v: n.resolve_location(city=v, state=v, country=v),
    "is_gdpr_country": n.is_gdpr_country,
    "classify_title": n.classify_title,
    "title_key": n.title_key,
    "title_matches": lambda v: n.title_matches(v, v),
    "fold": n.fold,
}


@pytest.fixture(scope="module", autouse=True)
def _tables_built() -> None:
    """Lazily built tables (gazetteer ~2 s, nicknames, suffix list) are built before the loop,
    so the guard below times the lookups, not the loading."""
    n.locations.preload()
    n.first_name_variants("bob")
    n.registrable_domain("apollo.io")
    n.classify_title("CEO")


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_nasty_inputs_never_raise(name: str) -> None:
    function = FUNCTIONS[name]
    for value in NASTY:
        started = time.perf_counter()
        function(value)
        elapsed = time.perf_counter() - started
        # Not a speed test: a guard against pathological (quadratic, backtracking) inputs.
        assert elapsed < 5, (name, (value or "")[:40], elapsed)


@pytest.mark.parametrize("name", ["website_url", "linkedin_url", "linkedin_company_url"])
def test_url_builders_take_any_string(name: str) -> None:
    function: Callable[[str], str] = getattr(n, name)
    for value in NASTY:
        assert function(value or "x").isascii() or name == "website_url"


def test_public_api_is_exported() -> None:
    for name in n.__all__:
        assert getattr(n, name) is not None


def test_email_hashes_raise_only_value_error() -> None:
    for value in NASTY:
        with contextlib.suppress(ValueError):
            n.email_hashes(value or "")
