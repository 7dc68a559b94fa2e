"""Countries, subdivisions, cities and time zones from fields or free text."""

from __future__ import annotations

import pytest

from perilune.repository.normalize.countries import find_subdivisions, resolve_country
from perilune.repository.normalize.locations import (
    ADMIN1_TO_ISO,
    EMPTY_LOCATION,
    Location,
    find_cities,
    is_gdpr_country,
    resolve_location,
)

US = ("United States", "US")
SF = Location("San Francisco", "California", "CA", *US, "America/Los_Angeles")
BERLIN = Location("Berlin", "Berlin", "BE", "Germany", "DE", "Europe/Berlin")
LONDON = Location("London", "England", "ENG", "United Kingdom", "GB", "Europe/London")


@pytest.mark.parametrize(
    ("value", "code", "name"),
    [
        ("US", "US", "United States"),
        ("us", "US", "United States"),
        ("USA", "US", "United States"),
        ("U.S.A.", "US", "United States"),
        ("United States of America", "US", "United States"),
        ("United States", "US", "United States"),
        ("UK", "GB", "United Kingdom"),
        ("Great Britain", "GB", "United Kingdom"),
        ("GBR", "GB", "United Kingdom"),
        ("Deutschland", "DE", "Germany"),
        ("germany", "DE", "Germany"),
        ("DEU", "DE", "Germany"),
        ("Holland", "NL", "Netherlands"),
        ("The Netherlands", "NL", "Netherlands"),
        ("Korea, Republic of", "KR", "South Korea"),
        ("South Korea", "KR", "South Korea"),
        ("Russian Federation", "RU", "Russia"),
        ("Viet Nam", "VN", "Vietnam"),
        ("Côte d'Ivoire", "CI", "Ivory Coast"),
        ("Türkiye", "TR", "Turkey"),
        ("UAE", "AE", "United Arab Emirates"),
        ("España", "ES", "Spain"),
        ("Czech Republic", "CZ", "Czechia"),
        ("Kosovo", "XK", "Kosovo"),
    ],
)
def test_resolve_country(value: str, code: str, name: str) -> None:
    country = resolve_country(value)
    assert country is not None
    assert (country.code, country.name) == (code, name)


@pytest.mark.parametrize("value", [None, "", "Narnia", "Remote", "x" * 10_000, "🚀"])
def test_resolve_country_unknown(value: str | None) -> None:
    assert resolve_country(value) is None


@pytest.mark.parametrize(
    ("value", "country", "code", "name"),
    [
        ("CA", None, "US-CA", "California"),
        ("California", None, "US-CA", "California"),
        ("ny", None, "US-NY", "New York"),
        ("ON", None, "CA-ON", "Ontario"),
        ("NSW", None, "AU-NSW", "New South Wales"),
        ("Bavaria", None, "DE-BY", "Bavaria"),
        ("Bayern", "DE", "DE-BY", "Bavaria"),
        ("BY", "DE", "DE-BY", "Bavaria"),
        ("England", None, "GB-ENG", "England"),
        ("Maharashtra", None, "IN-MH", "Maharashtra"),
        ("Madrid", "ES", "ES-MD", "Comunidad de Madrid"),
        ("Beijing", "CN", "CN-BJ", "Beijing"),
        ("Virgin Islands, U.S.", "US", "US-VI", "U.S. Virgin Islands"),
    ],
)
def test_find_subdivisions(value: str, country: str | None, code: str, name: str) -> None:
    best = find_subdivisions(value, country)[0]
    assert (best.code, best.name) == (code, name)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("San Francisco, CA", SF),
        ("San Francisco, California, United States", SF),
        ("San Francisco, California, USA", SF),
        ("1 Market St, San Francisco, CA 94105, USA", SF),
        ("San Francisco Bay Area", SF),
        ("san francisco ca", SF),
        ("California, US", Location(None, "California", "CA", *US, "America/Los_Angeles")),
        ("Berlin, Germany", BERLIN),
        ("Berlin, DE", BERLIN),
        ("10115 Berlin, Deutschland", BERLIN),
        ("London", LONDON),
        ("London, England", LONDON),
        ("Shoreditch, London, United Kingdom", LONDON),
        ("London, ON", Location("London", "Ontario", "ON", "Canada", "CA", "America/Toronto")),
        ("New York, NY", Location("New York", "New York", "NY", *US, "America/New_York")),
        ("NYC", Location("New York", "New York", "NY", *US, "America/New_York")),
        (
            "Cologne, Germany",
            Location("Cologne", "North Rhine-Westphalia", "NW", "Germany", "DE", "Europe/Berlin"),
        ),
        ("Köln", Location("Cologne", "North Rhine-Westphalia", "NW", "Germany", "DE", "Europe/Berlin")),
        ("Thane, India", Location("Thane", None, None, "India", "IN", "Asia/Kolkata")),
        ("sw1a 1aa, London", LONDON),
        ("Atlanta, Georgia", Location("Atlanta", "Georgia", "GA", *US, "America/New_York")),
        ("Tbilisi, Georgia", Location("Tbilisi", None, None, "Georgia", "GE", "Asia/Tbilisi")),
        ("Paris", Location("Paris", None, None, "France", "FR", "Europe/Paris")),
        ("Paris, TX", Location("Paris", "Texas", "TX", *US, "America/Chicago")),
        ("Springfield, IL", Location("Springfield", "Illinois", "IL", *US, "America/Chicago")),
        ("Portland, Maine", Location("Portland", "Maine", "ME", *US, "America/New_York")),
        ("Menlo Park, CA", Location("Menlo Park", "California", "CA", *US, "America/Los_Angeles")),
        ("St. Louis, MO", Location("St. Louis", "Missouri", "MO", *US, "America/Chicago")),
        ("Saint Louis", Location("St. Louis", "Missouri", "MO", *US, "America/Chicago")),
        ("Sydney NSW", Location("Sydney", "New South Wales", "NSW", "Australia", "AU", "Australia/Sydney")),
        ("Toronto, Ontario, Canada", Location("Toronto", "Ontario", "ON", "Canada", "CA", "America/Toronto")),
        ("Munich, Bavaria", Location("Munich", "Bavaria", "BY", "Germany", "DE", "Europe/Berlin")),
        ("München", Location("Munich", "Bavaria", "BY", "Germany", "DE", "Europe/Berlin")),
        ("Frankfurt", Location("Frankfurt am Main", "Hesse", "HE", "Germany", "DE", "Europe/Berlin")),
        ("Bangalore, India", Location("Bengaluru", None, None, "India", "IN", "Asia/Kolkata")),
        ("Kiev, Ukraine", Location("Kyiv", None, None, "Ukraine", "UA", "Europe/Kyiv")),
        ("Dubai, UAE", Location("Dubai", None, None, "United Arab Emirates", "AE", "Asia/Dubai")),
        (
            "Amsterdam, North Holland, Netherlands",
            Location("Amsterdam", None, None, "Netherlands", "NL", "Europe/Amsterdam"),
        ),
        ("Smallville, Kansas, United States", Location("Smallville", "Kansas", "KS", *US, "America/Chicago")),
        ("United States", Location(None, None, None, *US, "America/New_York")),
        ("USA", Location(None, None, None, *US, "America/New_York")),
        ("Georgia", Location(None, None, None, "Georgia", "GE", "Asia/Tbilisi")),
        ("CA", Location(None, None, None, "Canada", "CA", "America/Toronto")),
        ("Texas", Location(None, "Texas", "TX", *US, "America/Chicago")),
        ("Remote", EMPTY_LOCATION),
        ("", EMPTY_LOCATION),
        (",,,", EMPTY_LOCATION),
        ("x" * 10_000, EMPTY_LOCATION),
        ("🚀, 🚀", EMPTY_LOCATION),
    ],
)
def test_resolve_raw(raw: str, expected: Location) -> None:
    assert resolve_location(raw=raw) == expected


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"city": "San Francisco", "state": "CA"}, SF),
        ({"city": "San Francisco", "state": "California", "country": "USA"}, SF),
        ({"city": "san francisco", "country": "United States"}, SF),
        (
            {"city": "London", "country": "Canada"},
            Location("London", "Ontario", "ON", "Canada", "CA", "America/Toronto"),
        ),
        (
            {"city": "Springfield", "state": "Massachusetts"},
            Location("Springfield", "Massachusetts", "MA", *US, "America/New_York"),
        ),
        ({"city": "Berlin"}, BERLIN),
        ({"country": "US"}, Location(None, None, None, *US, "America/New_York")),
        ({"state": "California"}, Location(None, "California", "CA", *US, "America/Los_Angeles")),
        ({"state": "NSW"}, Location(None, "New South Wales", "NSW", "Australia", "AU", "Australia/Sydney")),
        (
            {"state": "Bavaria", "country": "Germany"},
            Location(None, "Bavaria", "BY", "Germany", "DE", "Europe/Berlin"),
        ),
        # unknown explicit city/state are kept as text, an unknown country is dropped
        (
            {"city": "Smallville", "state": "Kansas"},
            Location("Smallville", "Kansas", "KS", *US, "America/Chicago"),
        ),
        ({"state": "CA", "country": "Canada"}, Location(None, "CA", None, "Canada", "CA", "America/Toronto")),
        ({"country": "Narnia"}, EMPTY_LOCATION),
        ({"city": "  "}, EMPTY_LOCATION),
        ({}, EMPTY_LOCATION),
        # explicit fields win over the free text
        (
            {"city": "Oakland", "raw": "San Francisco, CA"},
            Location("Oakland", "California", "CA", *US, "America/Los_Angeles"),
        ),
        (
            {"country": "Canada", "raw": "London"},
            Location("London", "Ontario", "ON", "Canada", "CA", "America/Toronto"),
        ),
    ],
)
def test_resolve_fields(fields: dict[str, str], expected: Location) -> None:
    assert resolve_location(**fields) == expected


def test_city_lookup_prefers_state_then_population() -> None:
    assert find_cities("Springfield")[0].subdivision_code == "US-MO"
    assert find_cities("Cambridge")[0].country_code == "GB"
    assert find_cities("Cambridge", "US")[0].subdivision_code == "US-MA"
    assert find_cities("Springfield", "US", find_subdivisions("CA")[0]) == []
    assert find_cities("") == []


def test_admin1_tables_agree_with_capitals() -> None:
    capitals = {
        "CA": {"Toronto": "ON", "Vancouver": "BC", "Edmonton": "AB", "Halifax": "NS", "Regina": "SK"},
        "AU": {"Sydney": "NSW", "Melbourne": "VIC", "Brisbane": "QLD", "Perth": "WA", "Hobart": "TAS"},
        "DE": {"Munich": "BY", "Hamburg": "HH", "Dresden": "SN", "Stuttgart": "BW", "Mainz": "RP"},
    }
    for country, cities in capitals.items():
        assert country in ADMIN1_TO_ISO
        for city, state in cities.items():
            assert find_cities(city, country)[0].subdivision_code == f"{country}-{state}", city


@pytest.mark.parametrize(
    ("value", "gdpr"),
    [
        ("DE", True),
        ("fr", True),
        ("GB", True),
        ("CH", True),
        ("NO", True),
        ("Germany", True),
        ("US", False),
        ("CA", False),
        ("IN", False),
        ("", False),
        (None, False),
        ("XX", False),
    ],
)
def test_is_gdpr_country(value: str | None, gdpr: bool) -> None:
    assert is_gdpr_country(value) is gdpr
