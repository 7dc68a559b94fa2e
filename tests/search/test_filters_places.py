"""Place names, job postings, email statuses and the new document fields, on plain values: no
database, no index."""

from __future__ import annotations

import pytest

from perilune.search.documents import keyword_phrases, latest_funding, status_detail
from perilune.search.filters import (
    NOTHING,
    AnyOf,
    Facets,
    JobPostingFilter,
    Not,
    OrganizationFilter,
    PeopleFilter,
    Place,
    Terms,
    Within,
    email_status_clause,
    matches,
    place_clause,
    resolve_place,
    resolve_within,
)


@pytest.mark.parametrize(
    ("text", "facets", "cities"),
    [
        # A state with its country, a country, a state alone, a city alone.
        ("California, US", ("/us/california",), ()),
        ("United States", ("/us",), ()),
        ("USA", ("/us",), ()),
        ("texas", ("/us/texas",), ()),
        ("chicago", (), ("us:chicago",)),
        ("Chicago, US", (), ("us:chicago",)),
        # A city in a named state is that city only ("Kansas City, MO", not Kansas).
        ("Austin, TX", ("/us/texas/austin",), ()),
        ("Kansas City, MO", ("/us/missouri/kansas city",), ()),
        ("Berlin, Germany", (), ("de:berlin",)),
        # One name, several places.
        ("Georgia", ("/ge", "/us/georgia"), ()),
        ("Washington", ("/us/washington",), ("us:washington",)),
        ("tokyo", ("/jp/tokyo",), ("jp:tokyo",)),
        # Not Florida, Cuba: a namesake city counts only if it is big.
        ("Florida", ("/us/florida",), ()),
        ("San Francisco Bay Area", (), ("us:san francisco",)),
        ("!!!", (), ()),
        ("", (), ()),
    ],
)
def test_places(text: str, facets: tuple[str, ...], cities: tuple[str, ...]) -> None:
    assert resolve_place(text) == Place(facets, cities)


def test_an_unknown_name_is_a_city_of_that_name_anywhere() -> None:
    place = resolve_place("Tiburon")
    assert place.facets == ()
    assert {"us:tiburon", "fr:tiburon", "ge:tiburon"} <= set(place.cities)
    assert len(resolve_place("x" * 10_000).cities[0]) < 300  # long text is cut, not kept


def test_place_clauses() -> None:
    assert place_clause([], "person_location", "person_city", cities_within=False) is None
    assert place_clause(["  "], "person_location", "person_city", cities_within=False) is None
    # A value that names no place matches nothing: it never widens a search.
    assert place_clause(["!!!"], "person_location", "person_city", cities_within=False) == NOTHING
    both = place_clause(["texas", "chicago"], "org_location", "org_city", cities_within=True)
    assert both == AnyOf(
        ((Facets("org_location", ("/us/texas",)),), (Within((Terms("org_city", ("us:chicago",)),)),))
    )
    resolved = resolve_within([both] if both else [], lambda within: ["a" * 24])
    assert resolved == [AnyOf(((Facets("org_location", ("/us/texas",)),), (Terms("org_id", ("a" * 24,)),)))]


def test_people_at_organizations_in_a_city() -> None:
    clauses = PeopleFilter(organization=OrganizationFilter(places=("chicago",))).clauses()
    assert clauses == [Within((Terms("org_city", ("us:chicago",)),))]
    on_organizations = OrganizationFilter(places=("chicago",), not_places=("texas",)).clauses()
    assert on_organizations == [
        Terms("org_city", ("us:chicago",)),
        Not((Facets("org_location", ("/us/texas",)),)),
    ]


def test_combinations_match_plain_documents() -> None:
    doc = {"person_location": "/us/texas/austin", "person_city": "us:austin", "email_status": "verified"}
    assert matches(
        [AnyOf(((Facets("person_location", ("/de",)),), (Terms("person_city", ("us:austin",)),)))], doc
    )
    assert not matches([NOTHING], doc)
    assert not matches([Not((Facets("person_location", ("/us",)),))], doc)
    assert matches([Not((Terms("seniority", ("vp",)),))], doc)  # no value: not excluded


def test_email_statuses() -> None:
    assert email_status_clause([]) is None
    assert email_status_clause(["Verified", "unverified"]) == Terms(
        "email_status", ("verified", "extrapolated")
    )
    assert email_status_clause(["guessed", "Likely To Engage"]) == Terms("email_status", ("extrapolated",))
    assert email_status_clause(["bounced", "verified"]) == AnyOf(
        ((Terms("email_status", ("verified",)),), (Terms("email_status_detail", ("bounced",)),))
    )
    assert status_detail("Pending Manual Fulfillment") == "pending_manual_fulfillment"
    assert status_detail(None) is None


def test_job_postings() -> None:
    wanted = JobPostingFilter.of(["sales manager", "!!!"], ["atlanta", "Ireland"])
    assert wanted.constrains
    assert wanted.matches("Senior Sales Managers, EMEA", "Atlanta", "Georgia", "United States")
    assert wanted.matches("Sales Manager", "Dublin", None, "Ireland")
    assert not wanted.matches("Sales Manager", "Boston", "Massachusetts", "United States")
    assert not wanted.matches("Account Manager", "Atlanta", "Georgia", "United States")
    assert not wanted.matches(None, None, None, None)
    assert not JobPostingFilter.of(["!!!"], []).constrains
    assert not JobPostingFilter.of([], ["Atlantis"]).matches(
        "Sales Manager", "Atlanta", "Georgia", "United States"
    )


def test_keyword_tag_phrases() -> None:
    phrases = keyword_phrases("B2B Sales Strategy")
    assert set(phrases) == {"b2b", "sales", "strategy", "b2b sales", "sales strategy", "b2b sales strategy"}
    assert keyword_phrases("  ") == []
    assert len(keyword_phrases(" ".join(f"w{i}" for i in range(50)))) == 36  # the first 8 words
    [clause] = OrganizationFilter(keyword_phrases=("Sales  STRATEGY",)).clauses()
    assert clause == Terms("org_keyword_phrases", ("sales strategy",))


def test_latest_funding() -> None:
    events = [
        {"date": "2021-02-01T00:00:00.000+00:00", "amount": "10M"},
        {"date": "2023-05-01", "amount": "$2.5B"},
        {"date": None, "amount": "99B"},
        "not an event",
    ]
    assert latest_funding({"funding_events": events}) == (2.5e9, 20230501)
    assert latest_funding({"latest_funding_round_date": "2024-01-31T00:00:00Z"}) == (None, 20240131)
    assert latest_funding({"funding_events": [{"date": "2020-01-01", "amount": "1,250,000"}]}) == (
        1_250_000,
        20200101,
    )
    assert latest_funding({"funding_events": [{"date": "2020-01-01", "amount": "lots"}]}) == (None, 20200101)
    assert latest_funding({}) == (None, None)


def test_overlong_terms_match_nothing() -> None:
    [clause] = OrganizationFilter(domains=("x" * 5000,)).clauses()
    assert clause == Terms("org_domain", ())
    assert not matches([clause], {"org_domain": "x" * 5000})
