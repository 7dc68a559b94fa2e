"""Documents and filters on plain values: no database, no index."""

from __future__ import annotations

import orjson

from perilune.search.documents import (
    OrganizationColumns,
    PersonColumns,
    PreparedOrganization,
    city_key,
    email_status,
    location_facet,
    organization_document,
    organization_fields,
    person_document,
    person_json,
)
from perilune.search.filters import (
    Facets,
    OrganizationFilter,
    PeopleFilter,
    Range,
    Ranges,
    Terms,
    Within,
    Words,
    matches,
    resolve_within,
)
from perilune.search.schema import MAX_QUERY_WORDS, sort_key, text_tokens

ORG = OrganizationColumns(
    id="65f0a1b2c3d4e5f600012345",
    name="Kraftwerk Logistik GmbH",
    name_key="kraftwerk logistik",
    primary_domain="kraftwerk.de",
    industry="Logistics & Supply Chain",
    estimated_num_employees=1200,
    annual_revenue=3.1e8,
    founded_year=1998,
    city="Köln",
    state="Nordrhein-Westfalen",
    country="Germany",
    country_code="DE",
    data=orjson.dumps(
        {
            "keywords": [" Freight ", "Logistics"],
            "industries": ["logistics & supply chain"],
            "current_technologies": [{"uid": "sap", "name": "SAP"}],
            "technology_names": ["SAP", "Google Tag Manager"],
            "latest_funding_stage": "Series C",
            "total_funding": 12_000_000,
        }
    ).decode(),
)


def person(**overrides: object) -> PersonColumns:
    values: dict[str, object] = {
        "id": "65f0a1b2c3d4e5f600099999",
        "organization_id": ORG.id,
        "name": "Zoë Øster",
        "title": "Sr. Software Engineers",
        "seniority": None,
        "email": "zoe@kraftwerk.de",
        "email_status": "verified",
        "city": "Berlin",
        "state": None,
        "country": "Germany",
        "country_code": "DE",
        "classification": None,
    }
    values.update(overrides)
    return PersonColumns(**values)  # type: ignore[arg-type]


def test_places() -> None:
    assert location_facet("US", "California", "San Francisco") == "/us/california/san francisco"
    assert location_facet("de", None, "Köln") == "/de/_/koln"
    assert location_facet("FR") == "/fr"
    assert location_facet(None, "California", "San Francisco") is None
    assert city_key("US", "St. Louis") == "us:st louis"
    assert city_key(None, "Paris") is None


def test_email_statuses() -> None:
    assert email_status(None, "verified") == "unavailable"
    assert email_status("a@b.test", "verified") == "verified"
    assert email_status("a@b.test", "guessed") == "extrapolated"
    assert email_status("a@b.test", None) == "extrapolated"
    assert email_status("a@b.test", "bounced") == "unavailable"


def test_organization_document() -> None:
    doc = organization_document(ORG)
    assert doc["kind"] == "organization"
    assert doc["org_keywords"] == ["freight", "logistics"]
    assert doc["org_technologies"] == ["sap", "google tag manager"]  # uids, then folded names
    assert doc["org_industry"] == ["logistics & supply chain"]
    assert doc["org_location"] == "/de/nordrhein westfalen/koln"
    assert (doc["org_employees"], doc["org_revenue"], doc["org_total_funding"]) == (1200, 3.1e8, 12e6)
    assert doc["org_funding_stage"] == "series c"
    assert "Freight" in doc["q_keywords"]
    assert (doc["org_name_key"], doc["org_city"]) == ("kraftwerk logistik", "de:koln")
    # People carry the organization's main fields and technologies, not its tags and the rest.
    shared = organization_fields(ORG)
    assert set(shared) == {
        "org_id",
        "org_name",
        "org_domain",
        "org_industry",
        "org_technologies",
        "org_location",
        "org_employees",
        "org_revenue",
        "org_founded_year",
    }


def test_person_document_and_its_json_agree() -> None:
    fields = organization_fields(ORG)
    doc = person_document(person(), fields)
    assert orjson.loads(person_json(person(), PreparedOrganization.of(fields))) == doc
    assert doc["title_words"] == "engineer senior software"
    assert doc["title_key"] == "sr software engineers"
    # No stored classification: the title's.
    assert (doc["seniority"], doc["departments"]) == (
        "senior",
        ["engineering_technical", "software_development"],
    )
    assert doc["person_location"] == "/de/_/berlin"
    assert "person_country" not in doc
    assert doc["person_city"] == "de:berlin"
    assert doc["email_status"] == "verified"
    assert doc["org_employees"] == 1200
    assert doc["q_keywords"] == "Zoë Øster Sr. Software Engineers Kraftwerk Logistik GmbH kraftwerk.de"
    assert doc["sort_key"] == int("65f0a1b2c3d4e5f6", 16)
    alone = person_document(person(organization_id=None), None)
    assert not any(key.startswith("org_") for key in alone)


def test_a_stored_classification_wins_over_the_title() -> None:
    stored = orjson.dumps([["sales"], ["sales_operations", "sales"], ["sales"], "director"]).decode()
    doc = person_document(person(classification=stored, seniority=None), None)
    assert (doc["seniority"], doc["departments"], doc["functions"]) == (
        "director",
        ["sales", "sales_operations"],
        ["sales"],
    )
    # A column value wins over both.
    assert person_document(person(classification=stored, seniority="vp"), None)["seniority"] == "vp"


def test_sort_keys() -> None:
    assert sort_key("ffffffffffffffff00000000") == 2**64 - 1
    assert sort_key("not-hex-at-all") == 0
    assert sort_key("-1") == 0
    assert sort_key("") == 0


def test_text_tokens() -> None:
    assert text_tokens("José GARCÍA-lópez, josé") == ["jose", "garcia", "lopez"]
    assert text_tokens("x" * 41 + " ok") == ["ok"]
    assert len(text_tokens(" ".join(f"w{i}" for i in range(500)), MAX_QUERY_WORDS)) == MAX_QUERY_WORDS
    assert text_tokens("!!! ...") == []


def test_empty_filters_constrain_nothing() -> None:
    assert PeopleFilter().clauses() == []
    assert OrganizationFilter().clauses() == []
    assert PeopleFilter(titles=("",), q_keywords="  ", person_locations=("", "/")).clauses() == []
    # An open-ended alternative admits every value.
    assert OrganizationFilter(employees=(Range(1, 10), Range())).clauses() == []


def test_filter_normalisation() -> None:
    clauses = PeopleFilter(
        seniorities=(" VP ",),
        person_locations=("/US/California/", "/us/ca/../x"),
        organization=OrganizationFilter(industries=("Computer Software",), employees=(Range(5, 50),)),
    ).clauses()
    assert Terms("seniority", ("vp",)) in clauses
    assert Facets("person_location", ("/us/california",)) in clauses  # ".." names no place
    assert Terms("org_industry", ("computer software",)) in clauses
    assert Ranges("org_employees", (Range(5, 50),)) in clauses


def test_organization_tags_become_one_within_clause_for_people() -> None:
    org_filter = OrganizationFilter(
        keyword_tags=("SaaS",), technologies=("Google Analytics",), countries=("us",)
    )
    clauses = PeopleFilter(organization=org_filter).clauses()
    assert Facets("org_location", ("/us",)) in clauses  # countries are facet prefixes
    # Technologies are on people's documents too: a plain clause, not resolved through orgs.
    assert Terms("org_technologies", ("google analytics",)) in clauses
    [within] = [c for c in clauses if isinstance(c, Within)]
    assert within.clauses == (Terms("org_keywords", ("saas",)),)
    resolved = resolve_within(clauses, lambda w: ["a" * 24])
    assert Terms("org_id", ("a" * 24,)) in resolved
    # On organizations themselves the same fields are plain clauses.
    assert not any(isinstance(c, Within) for c in org_filter.clauses())


def test_clauses_match_plain_documents() -> None:
    doc = {
        "title_words": "manager sales",
        "q_keywords": "Zoë Øster",
        "org_employees": 40,
        "org_location": "/de/_/koln",
    }
    assert matches([Words("title_words", (frozenset({"sales"}),), "whitespace")], doc)
    assert matches([Words("q_keywords", (frozenset({"zoe", "oster"}),))], doc)
    assert matches([Facets("org_location", ("/de",))], doc)
    assert not matches([Facets("org_location", ("/d",))], doc)
    assert not matches([Ranges("org_employees", (Range(41, None),))], doc)
    assert not matches([Ranges("org_revenue", (Range(0, None),))], doc)
