"""Company names, domains and LinkedIn company slugs: coherent with the industry (its name style
and nouns: "Stonebridge Logistics", "Baker & Whitfield", "Flowstack AI", "Denver Family
Dentistry"), and unique — a domain and a slug are never handed out twice, and a name is retried
until its ``name_key`` is new, because duplicate names would make enrichment by company name
ambiguous in a way real data rarely is."""

from __future__ import annotations

import random
import string
from typing import NamedTuple

from perilune.repository.generator.picking import Weighted, skewed
from perilune.repository.generator.reference import City, Country, Industry, Kind, Reference
from perilune.repository.normalize import fold, registrable_domain

_NAME_TRIES = 12
_MAX_LABEL = 20
_DROPPED = frozenset({"the", "and", "of", "co", "inc", "llc", "ltd"})
_ALTERNATE_TLDS = ("com", "co", "net", "io")
_LABEL_SUFFIXES = ("hq", "group", "global", "inc", "online", "co")
_LABEL_PREFIXES = ("get", "the", "go", "team")


class CompanyName(NamedTuple):
    name: str
    domain: str
    linkedin_slug: str


class Namer:
    """Hands out company names, domains and slugs; remembers what it gave (O(companies))."""

    def __init__(self, ref: Reference) -> None:
        self._ref = ref
        self._names: set[str] = set()
        self._domains: set[str] = set()
        self._slugs: set[str] = set()
        self._tlds: dict[tuple[str, str], Weighted[str]] = {}

    def company(self, rng: random.Random, industry: Industry, country: Country, city: City) -> CompanyName:
        base = self._unique_base(rng, industry, country, city)
        name = base
        if rng.random() < 0.18:
            name = f"{base} {country.legal.pick(rng)}"
        self._names.add(fold(name))
        words = [w for w in fold(base).split() if w not in _DROPPED] or ["company"]
        domain = self._domain(rng, words, self._tld_choice(country, industry.kind))
        return CompanyName(name, domain, self._slug(words, country))

    def _unique_base(self, rng: random.Random, industry: Industry, country: Country, city: City) -> str:
        base = ""
        for _ in range(_NAME_TRIES):
            base = self._base(rng, industry.kind.styles.pick(rng), industry, country, city)
            if fold(base) not in self._names:
                return base
        number = 2
        while fold(f"{base} {number}") in self._names:
            number += 1
        return f"{base} {number}"

    def _base(self, rng: random.Random, style: str, industry: Industry, country: Country, city: City) -> str:
        words = self._ref.words
        noun = rng.choice(industry.nouns)
        if style == "brand":
            core = rng.choice(words.brand_heads) + rng.choice(words.brand_tails)
            return core if rng.random() < 0.65 else f"{core} {noun}"
        if style == "syllables":
            core = "".join(rng.choice(words.syllables) for _ in range(rng.choice((2, 2, 3)))).capitalize()
            return core if rng.random() < 0.5 else f"{core} {noun}"
        if style == "compound":
            core = rng.choice(words.compound_heads) + rng.choice(words.compound_tails)
            return f"{core} {noun}" if rng.random() < 0.7 else core
        if style == "surname_noun":
            return f"{_surname(rng, country)} {noun}"
        if style == "surname_pair":
            first, second = _surname(rng, country), _surname(rng, country)
            return f"{first} & {second}" if first != second else f"{first} {noun}"
        if style == "family":
            return rng.choice(words.family_forms).format(surname=_surname(rng, country))
        if style == "place_noun" and len(city.name.split()) <= 2:
            return f"{city.name} {noun}"
        if style == "initials":
            letters = "".join(rng.choice(string.ascii_uppercase) for _ in range(rng.choice((2, 3))))
            return f"{letters} {noun}"
        return f"{rng.choice(words.words)} {noun}"

    def _tld_choice(self, country: Country, kind: Kind) -> Weighted[str]:
        key = (country.code, kind.name)
        found = self._tlds.get(key)
        if found is None:
            weights = dict(zip(country.tlds.items, country.tlds.weights(), strict=True))
            for tld, boost in kind.tld_boost.items():
                weights[tld] = weights.get(tld, 0.0) + boost
            found = self._tlds[key] = Weighted.of(weights)
        return found

    def _domain(self, rng: random.Random, words: list[str], tlds: Weighted[str]) -> str:
        kept = list(words)
        while len("".join(kept)) > _MAX_LABEL and len(kept) > 1:
            kept.pop()
        joiner = "-" if len(kept) > 1 and rng.random() < 0.12 else ""
        label = joiner.join(kept)[:60].strip("-")
        tld = tlds.pick(rng)
        candidates = [f"{label}.{tld}"]
        candidates += [f"{label}.{alt}" for alt in (*tlds.items, *_ALTERNATE_TLDS) if alt != tld]
        candidates += [f"{label}{suffix}.{tld}" for suffix in _LABEL_SUFFIXES]
        candidates += [f"{prefix}{label}.{tld}" for prefix in _LABEL_PREFIXES]
        for candidate in candidates:
            if candidate not in self._domains and _registrable(candidate):
                self._domains.add(candidate)
                return candidate
        number = 2
        while f"{label}{number}.{tld}" in self._domains or not _registrable(f"{label}{number}.{tld}"):
            number += 1
        self._domains.add(f"{label}{number}.{tld}")
        return f"{label}{number}.{tld}"

    def _slug(self, words: list[str], country: Country) -> str:
        base = "-".join(words)[:80]
        for candidate in (base, f"{base}-{country.code.lower()}", f"{base}-inc", f"{base}-hq"):
            if candidate not in self._slugs:
                self._slugs.add(candidate)
                return candidate
        number = 2
        while f"{base}-{number}" in self._slugs:
            number += 1
        self._slugs.add(f"{base}-{number}")
        return f"{base}-{number}"


def _surname(rng: random.Random, country: Country) -> str:
    return skewed(rng, country.company_names.last).text


def _registrable(domain: str) -> bool:
    """A company can own it: not itself a public suffix (``reggiocalabria.it`` is one, like
    ``co.uk``), so the importer's domain normalisation keeps it as it is."""
    return registrable_domain(domain) == domain
