"""Speed of the hot-path normalisers: microseconds per call over 10,000 calls of realistic,
varied input, each beside the plain library call it stands in for (the baseline, measured in the
same run): ``.venv/bin/python -m bench.normalize_speed``."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import Any

import phonenumbers
from email_validator import validate_email
from nameparser import HumanName

from perilune.repository.normalize import (
    classify_title,
    name_key,
    normalize_email,
    registrable_domain,
    to_e164,
)
from perilune.repository.normalize.domains import _registrable
from perilune.repository.normalize.locations import _resolve, preload
from perilune.repository.normalize.titles import _classify

CALLS = 10_000
FIRST = [
    "Tim",
    "Mary-Ann",
    "José",
    "Zoë",
    "Bob",
    "Łukasz",
    "Aisha",
    "O'Neil",
    "Jean-Luc",
    "Wei",
    "Søren",
    "Priya",
]
LAST = [
    "Zheng",
    "García-López",
    "Smith",
    "Müller",
    "van der Berg",
    "O'Brien",
    "Nakamura",
    "Kowalski",
    "Ng",
    "Dubois",
]
DOMAINS = [
    "apollo.io",
    "Example.co.uk",
    "gmail.com",
    "sub.acme.com",
    "startup.ai",
    "bücher.de",
    "corp.example.com.au",
]
TITLES = [
    "Founder & CEO", "VP of Sales", "Senior Software Engineer", "Head of Growth Marketing",
    "Sales Development Representative", "Chief Revenue Officer", "Director, Human Resources",
    "Marketing Intern", "Account Executive", "Customer Success Manager", "Data Scientist",
    "Sr. Product Manager", "IT Director", "Gerente de Ventas", "Registered Nurse",
]  # fmt: skip


Args = list[tuple[Any, ...]]


def _inputs(rng: random.Random) -> dict[str, Args]:
    names: Args = [(f"{rng.choice(FIRST)} {rng.choice(LAST)}",) for _ in range(CALLS)]
    emails: Args = []
    for i in range(CALLS):
        local = name_key(f"{rng.choice(FIRST)} {rng.choice(LAST)}").replace(" ", ".")
        domain = rng.choice([d for d in DOMAINS if d.isascii()])
        emails.append(
            (
                rng.choice(["", " "]) + f"{local}{i}@{domain}".title()
                if i % 3 == 0
                else f"{local}{i}@{domain}",
            )
        )
    phones: Args = []
    for _ in range(CALLS):
        area = rng.choice(["415", "650", "212", "312", "617", "206", "512", "303", "404", "305"])
        local = f"{area}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
        roll = rng.random()
        if roll < 0.6:
            phones.append((f"+1{local}", ""))
        elif roll < 0.9:
            phones.append((f"({local[:3]}) {local[3:6]}-{local[6:]}", "US"))
        else:
            phones.append((f"020 7946 {rng.randint(0, 9999):04d}", "GB"))
    urls: Args = [
        (
            rng.choice(["https://www.", "http://", "", "tim@", "https://blog."])
            + rng.choice(DOMAINS[:5])
            + rng.choice(["", "/", "/about?x=1"]),
        )
        for _ in range(CALLS)
    ]
    titles: Args = [
        (f"{rng.choice(['', 'Senior ', 'Lead '])}{rng.choice(TITLES)}{rng.choice(['', ', EMEA'])}",)
        for _ in range(CALLS)
    ]
    return {"names": names, "emails": emails, "phones": phones, "urls": urls, "titles": titles}


def _micros(function: Callable[..., object], args: Sequence[tuple[Any, ...]]) -> float:
    for item in args[:100]:  # warm lazily built tables
        function(*item)
    started = time.perf_counter()
    for item in args:
        function(*item)
    return (time.perf_counter() - started) / len(args) * 1e6


def _library_email(value: str) -> str:
    return str(validate_email(value.strip(), check_deliverability=False).normalized.lower())


def _library_e164(raw: str, hint: str | None = None) -> str:
    number = phonenumbers.parse(raw, hint or None)
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def timing_report() -> dict[str, float]:
    preload()
    data = _inputs(random.Random(42))
    ascii_names = [(name_key(n),) for (n,) in data["names"]]
    unicode_emails = [(f"josé.garcía{i}@example.com",) for i in range(CALLS)]
    e164 = [p[:1] for p in data["phones"] if p[0].startswith("+")]
    return {
        "baseline: nameparser HumanName": _micros(HumanName, data["names"]),
        "name_key (mixed, ~40% non-ASCII)": _micros(name_key, data["names"]),
        "name_key (ASCII)": _micros(name_key, ascii_names),
        "baseline: email-validator": _micros(_library_email, data["emails"]),
        "normalize_email (ASCII, fast path)": _micros(normalize_email, data["emails"]),
        "normalize_email (Unicode local part)": _micros(normalize_email, unicode_emails),
        "baseline: phonenumbers parse + format": _micros(_library_e164, data["phones"]),
        "to_e164 (60% E.164, 40% national + hint)": _micros(
            lambda raw, hint: to_e164(raw, hint or None), data["phones"]
        ),
        "to_e164 (E.164 only, fast path)": _micros(to_e164, e164),
        "registrable_domain (hosts repeat, cached)": _micros(registrable_domain, data["urls"]),
        "registrable_domain (no cache)": _uncached(registrable_domain, _registrable, data["urls"]),
        "classify_title (titles repeat, cached)": _micros(classify_title, data["titles"]),
        "classify_title (no cache)": _micros(_classify.__wrapped__, data["titles"]),
        "resolve_location (no cache, free text)": _micros(
            _resolve.__wrapped__,
            [(None, None, None, raw) for raw in ["San Francisco, CA", "Berlin, Germany", "London"] * 3334],
        ),
    }


def _uncached(function: Callable[..., object], cached: Any, args: Sequence[tuple[Any, ...]]) -> float:
    started = time.perf_counter()
    for item in args:
        cached.cache_clear()
        function(*item)
    return (time.perf_counter() - started) / len(args) * 1e6


def _print(report: dict[str, float]) -> None:
    print(f"\nµs per call over {CALLS:,} calls")
    for label, micros in report.items():
        print(f"  {label:<44} {micros:8.2f}")


def main() -> None:
    _print(timing_report())


if __name__ == "__main__":
    main()
