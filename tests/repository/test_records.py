"""Import lines -> normalised columns and Apollo-shaped data (pure functions, no database)."""

from __future__ import annotations

import hashlib
import random
from typing import Any

import pytest
from cleanco import basename  # type: ignore[import-untyped]

from perilune.repository import records
from perilune.repository.records import (
    EMPLOYMENT_FIELDS,
    ORGANIZATION_FIELDS,
    ORGANIZATION_GROUPS,
    PERSON_FIELDS,
    PERSON_GROUPS,
    RecordError,
    company_basename,
    filled_raw,
    merged_raw,
    organization_key,
    organization_record,
    person_record,
    printed_amount,
)

PERSON_ID = "6453e9bd8f50d40001f1e348"
ORGANIZATION_ID = "5e66b6381e05b4008c8331b8"
TIM: dict[str, Any] = {
    "first_name": "Tim",
    "last_name": "Zheng",
    "title": "Founder & CEO",
    "email": " Tim@Apollo.IO ",
    "linkedin_url": "https://uk.linkedin.com/in/Tim-Zheng-677ba010/?originalSubdomain=uk",
    "city": "San Francisco",
    "state": "CA",
    "phone_numbers": [{"raw_number": "(415) 640-9303", "type": "work_hq"}],
    "organization": {"name": "Apollo Inc.", "website_url": "https://www.apollo.io/about"},
    "employment_history": [
        {"organization_name": "Apollo", "title": "Founder & CEO", "start_date": "2016"},
        {
            "organization_name": "Braingenie",
            "title": "Founder & CEO",
            "start_date": "2011-01-01",
            "end_date": "2015-01-01T00:00:00Z",
        },
    ],
}


# -- organizations ---------------------------------------------------------------------------


def test_organization_columns_are_normalised() -> None:
    record = organization_record(
        {
            "name": "Apollo Inc.",
            "website_url": "https://blog.Apollo.io/about",
            "linkedin_url": "https://www.linkedin.com/company/apolloio/about/",
            "phone": "+1 415-640-9303",
            "raw_address": "535 Mission St, San Francisco, CA 94105",
            "industry": "Information Technology & Services",
            "estimated_num_employees": "1,200",
            "annual_revenue": 345_600_000,
            "founded_year": "2015",
        }
    )
    assert (record.name, record.name_key) == ("Apollo Inc.", "apollo")
    assert record.primary_domain == "apollo.io"
    assert record.linkedin_slug == "apolloio"
    assert (record.city, record.state, record.country, record.country_code) == (
        "San Francisco",
        "California",
        "United States",
        "US",
    )
    assert record.industry == "information technology & services"
    assert (record.estimated_num_employees, record.annual_revenue, record.founded_year) == (
        1200,
        345_600_000.0,
        2015,
    )
    assert record.complete and record.id is None


def test_organization_data_is_apollo_shaped() -> None:
    data = organization_record(
        {
            "name": "Apollo.io",
            "primary_domain": "apollo.io",
            "linkedin_url": "linkedin.com/company/apolloio",
            "phone": "+1 415-640-9303",
            "keywords": "sales engagement; lead generation;sales engagement",
            "annual_revenue": "345600000",
            "total_funding": 251_200_000,
            "funding_events": '[{"type": "Series D", "amount": "100M"}]',
        }
    ).data
    assert tuple(data) == ORGANIZATION_FIELDS
    assert data["website_url"] == "http://www.apollo.io"
    assert data["linkedin_url"] == "http://www.linkedin.com/company/apolloio"
    assert data["sanitized_phone"] == "+14156409303"
    assert data["primary_phone"] == {"number": "+1 415-640-9303", "sanitized_number": "+14156409303"}
    assert data["keywords"] == ["sales engagement", "lead generation"]
    assert data["annual_revenue_printed"] == "345.6M"
    assert data["total_funding_printed"] == "251.2M"
    assert data["funding_events"] == [{"type": "Series D", "amount": "100M"}]
    for key in ("languages", "industries", "technology_names", "current_technologies", "suborganizations"):
        assert data[key] == []
    for key in ("industry_tag_hash", "departmental_head_count"):
        assert data[key] == {}


def test_an_organization_with_only_a_domain_is_named_after_it() -> None:
    record = organization_record({"domain": "https://www.acme.com"})
    assert (record.name, record.name_key, record.primary_domain) == ("acme.com", "acme com", "acme.com")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ({}, "an organization needs a name or a domain"),
        ({"industry": "software"}, "an organization needs a name or a domain"),
        ({"name": "Acme", "website_url": "localhost"}, "website_url 'localhost' is not a valid domain"),
        ({"name": "Acme", "linkedin_url": "https://x.com/acme"}, "is not a LinkedIn company page"),
        ({"name": "Acme", "linkedin_url": "linkedin.com/in/tim"}, "is not a LinkedIn company page"),
        ({"name": "Acme", "id": "123"}, "id '123' is not a 24-hex-digit id"),
        ({"name": "Acme", "estimated_num_employees": "many"}, "'many' is not a whole number"),
        ({"name": "Acme", "annual_revenue": "lots"}, "annual_revenue 'lots' is not a number"),
        ({"name": "Acme", "keywords": {"a": 1}}, "keywords must be a list"),
        ({"name": "x" * 501}, "name is longer than 500 characters"),
        ({"name": ["Acme"]}, "name must be text"),
    ],
)
def test_organization_errors(raw: dict[str, Any], reason: str) -> None:
    with pytest.raises(RecordError) as caught:
        organization_record(raw)
    assert reason in caught.value.reason


def test_a_partial_organization_may_only_update() -> None:
    record = organization_record({"id": ORGANIZATION_ID, "industry": "Software"}, partial=True)
    assert not record.complete
    assert record.id == ORGANIZATION_ID
    with pytest.raises(RecordError):
        organization_record({"industry": "Software"}, partial=True)


def test_company_basename_agrees_with_cleanco() -> None:
    names = [
        "Apollo Inc.", "Apollo.io", "Acme GmbH", "Société Générale S.A.", "Acme Co., Ltd",
        "The Boston Consulting Group", "Inc.", "", "Foo, Inc.", "Big Co Holdings Ltd.",
        "Müller & Söhne GmbH & Co. KG", "Oy Finland Ab", "Acme Widgets (UK) Limited", "K.K. Sony",
        "  Foo   Bar  ", "Foo!!", "AB Volvo", "Nestlé S.A.", "Banco do Brasil S/A", "LLC LLC",
    ]  # fmt: skip
    rng = random.Random(3)
    words = [
        "Acme",
        "Global",
        "Co",
        "Ltd",
        "Inc",
        "GmbH",
        "S.A.",
        "&",
        "Partners",
        "AG",
        "LLP",
        "Oy",
        "Corp.",
    ]
    names += [" ".join(rng.choice(words) for _ in range(rng.randint(1, 5))) for _ in range(500)]
    for name in names:
        assert company_basename(name) == basename(name), name


@pytest.mark.parametrize(
    ("name", "key"),
    [("Apollo Inc.", "apollo"), ("APOLLO, INC", "apollo"), ("Société Générale S.A.", "societe generale"),
     ("Inc.", "inc"), ("", ""), (None, "")],
)  # fmt: skip
def test_organization_key(name: str | None, key: str) -> None:
    assert organization_key(name) == key


@pytest.mark.parametrize(
    ("value", "printed"),
    [
        (345_600_000, "345.6M"),
        (10_000_000, "10M"),
        (2_200_000, "2.2M"),
        (1_500_000_000, "1.5B"),
        (950, "950"),
    ],
)
def test_printed_amount(value: float, printed: str) -> None:
    assert printed_amount(value) == printed


# -- people ----------------------------------------------------------------------------------


def test_person_columns_are_normalised() -> None:
    record = person_record(TIM)
    assert (record.first_name, record.last_name, record.name) == ("Tim", "Zheng", "Tim Zheng")
    assert (record.first_name_key, record.last_name_key) == ("tim", "zheng")
    assert record.email == "tim@apollo.io"
    # Apollo's documented hashed_email for this address.
    assert record.email_md5 == "8d935115b9ff4489f2d1f9249503cadf"
    assert record.email_sha256 == hashlib.sha256(b"tim@apollo.io").hexdigest()
    assert record.linkedin_slug == "tim-zheng-677ba010"
    assert (record.city, record.state, record.country, record.country_code, record.time_zone) == (
        "San Francisco",
        "California",
        "United States",
        "US",
        "America/Los_Angeles",
    )
    assert (record.title, record.seniority) == ("Founder & CEO", "founder")
    assert record.email_status == "unverified"
    assert record.organization is not None
    assert (record.organization.primary_domain, record.organization.name_key) == ("apollo.io", "apollo")


def test_person_data_is_apollo_shaped() -> None:
    record = person_record(TIM)
    record.bind(PERSON_ID, ORGANIZATION_ID, "Apollo Inc.")
    data = record.data
    assert tuple(data) == PERSON_FIELDS
    assert data["id"] == PERSON_ID
    assert data["organization_id"] == ORGANIZATION_ID
    assert data["linkedin_url"] == "http://www.linkedin.com/in/tim-zheng-677ba010"
    assert data["headline"] == "Founder & CEO at Apollo Inc."
    assert data["phone_numbers"] == [
        {
            "raw_number": "(415) 640-9303",
            "sanitized_number": "+14156409303",
            "type": "work_hq",
            "position": 0,
            "status": "no_status",
        }
    ]
    assert data["sanitized_phone"] == "+14156409303"
    assert (data["departments"], data["subdepartments"], data["functions"], data["seniority"]) == (
        ["c_suite"],
        ["executive", "founder"],
        ["entrepreneurship"],
        "founder",
    )
    assert data["personal_emails"] == []
    current, past = data["employment_history"]
    assert tuple(current) == EMPLOYMENT_FIELDS
    assert current["_id"] == current["id"] == current["key"]
    assert len(current["_id"]) == 24
    assert (current["start_date"], current["end_date"], current["current"]) == ("2016-01-01", None, True)
    # the current job at the employer (by name) gains the employer's id
    assert current["organization_id"] == ORGANIZATION_ID
    assert (past["end_date"], past["current"], past["organization_id"]) == ("2015-01-01", False, None)


def test_derived_ids_are_stable() -> None:
    first, second = person_record(TIM), person_record(TIM)
    first.bind(PERSON_ID, None, None)
    second.bind(PERSON_ID, None, None)
    assert first.data == second.data
    assert first.phone_rows() == second.phone_rows()
    assert first.employment_rows()[0]["id"] == first.data["employment_history"][0]["_id"]


def test_given_classification_and_ids_are_kept() -> None:
    raw = {
        "name": "Ada Lovelace",
        "title": "Analyst",
        "seniority": "vp",
        "departments": "engineering_technical;data_science",
        "headline": "Poet of numbers",
        "employment_history": [{"_id": "651e57392998d400013ac5bd", "organization_name": "Engines"}],
    }
    record = person_record(raw)
    record.bind(PERSON_ID, ORGANIZATION_ID, "Engines")
    assert record.seniority == "vp"
    assert record.data["departments"] == ["engineering_technical", "data_science"]
    assert record.data["headline"] == "Poet of numbers"
    assert record.data["employment_history"][0]["id"] == "651e57392998d400013ac5bd"


def test_an_explicit_empty_classification_is_kept() -> None:
    record = person_record(
        {"first_name": "Ada", "title": "President", "functions": [], "seniority": "c_suite"}
    )
    assert (record.seniority, record.data["departments"], record.data["functions"]) == (
        "c_suite",
        ["c_suite"],
        [],
    )
    derived = person_record(
        {"first_name": "Ada", "title": "VP of Sales", "functions": ""}
    )  # an empty CSV cell
    assert derived.data["functions"] == ["sales"]


def test_a_full_name_is_split_only_when_no_parts_are_given(monkeypatch: pytest.MonkeyPatch) -> None:
    record = person_record({"name": "Dr. Ada King Lovelace"})
    assert (record.first_name, record.last_name, record.name) == ("Ada", "Lovelace", "Ada King Lovelace")

    def refuse(_: str | None) -> None:
        raise AssertionError("nameparser must not run when first/last names are given")

    monkeypatch.setattr(records.people, "split_name", refuse)
    record = person_record({"first_name": "Ada", "last_name": "Lovelace", "name": "Ada King Lovelace"})
    assert (record.first_name, record.last_name, record.name) == ("Ada", "Lovelace", "Ada King Lovelace")


def test_personal_emails_and_email_status() -> None:
    record = person_record(
        {
            "first_name": "Ada",
            "email": "email_not_unlocked@domain.com",
            "email_status": "Verified",
            "personal_emails": "Ada@Gmail.com; ada@gmail.com",
        }
    )
    assert record.email is None
    assert record.personal_emails == ["ada@gmail.com"]
    assert record.email_status == "verified"
    record.bind(PERSON_ID, None, None)
    (row,) = record.personal_email_rows()
    assert row["email_sha256"] == hashlib.sha256(b"ada@gmail.com").hexdigest()
    assert person_record({"first_name": "Ada"}).email_status == "unavailable"


def test_phones_in_every_form() -> None:
    record = person_record(
        {
            "first_name": "Ada",
            "country": "Germany",
            "phone_numbers": "030 901820; +44 20 7946 0018; not a phone",
        }
    )
    numbers = [(p["raw_number"], p["sanitized_number"], p["position"]) for p in record.data["phone_numbers"]]
    assert numbers == [
        ("030 901820", "+4930901820", 0),
        ("+44 20 7946 0018", "+442079460018", 1),
        ("not a phone", None, 2),
    ]
    given = person_record(
        {
            "first_name": "Ada",
            "phone_numbers": [{"raw_number": "+1 (415) 640-9303", "sanitized_number": "+14156409303"}],
        }
    )
    assert given.data["sanitized_phone"] == "+14156409303"
    assert (
        person_record({"first_name": "Ada", "phone": "+1 415.640.9303"}).data["sanitized_phone"]
        == "+14156409303"
    )


def test_organization_name_is_a_nested_organization() -> None:
    record = person_record({"first_name": "Ada", "organization_name": "Analytical Engines Ltd"})
    assert record.organization is not None
    assert record.organization.name_key == "analytical engines"
    assert record.organization_raw == {"name": "Analytical Engines Ltd"}


def test_organization_id_binds_the_nested_organization() -> None:
    record = person_record(
        {"first_name": "Ada", "organization_id": ORGANIZATION_ID, "organization": {"name": "X"}}
    )
    assert record.organization is not None and record.organization.id == ORGANIZATION_ID
    with pytest.raises(RecordError, match=r"organization_id and organization\.id differ"):
        person_record(
            {
                "first_name": "Ada",
                "organization_id": ORGANIZATION_ID,
                "organization": {"id": PERSON_ID, "name": "X"},
            }
        )


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ({}, "a person needs a name (first_name, last_name or name)"),
        ({"email": "ada@example.com"}, "a person needs a name"),
        ({"first_name": "Ada", "email": "x@"}, "email 'x@' is not a valid address"),
        ({"first_name": "Ada", "personal_emails": ["nope"]}, "personal email 'nope' is not a valid address"),
        ({"first_name": "Ada", "linkedin_url": "https://example.com/in/ada"}, "is not a LinkedIn profile"),
        ({"first_name": "Ada", "id": "6453e9bd8f50d40001f1e34"}, "is not a 24-hex-digit id"),
        ({"first_name": "Ada", "id": "6453E9BD8F50D40001F1E348"}, "is not a 24-hex-digit id"),
        ({"first_name": "Ada", "organization_id": "nope"}, "organization_id 'nope' is not a 24-hex-digit id"),
        ({"first_name": "Ada", "seniority": "boss"}, "seniority 'boss' is not one of"),
        ({"first_name": "Ada", "organization": {"industry": "x"}}, "organization: an organization needs"),
        ({"first_name": "Ada", "organization": "Acme"}, "organization must be an object"),
        (
            {"first_name": "Ada", "employment_history": [{}, {"start_date": "someday"}]},
            "employment_history[1]: start_date 'someday' is not a date",
        ),
        ({"first_name": "Ada", "employment_history": [{"start_date": "2020-13-01"}]}, "is not a date"),
        ({"first_name": "Ada", "employment_history": "Acme"}, "employment_history must be a list of objects"),
        ({"first_name": "Ada", "show_intent": "maybe"}, "show_intent 'maybe' is not true or false"),
    ],
)
def test_person_errors(raw: dict[str, Any], reason: str) -> None:
    with pytest.raises(RecordError) as caught:
        person_record(raw)
    assert reason in caught.value.reason


def test_a_partial_person_may_only_update() -> None:
    record = person_record({"email": "ada@example.com", "title": "CTO"}, partial=True)
    assert not record.complete
    with pytest.raises(RecordError):
        person_record({"title": "CTO"}, partial=True)


def test_text_is_cleaned() -> None:
    record = person_record({"first_name": " Ada\x00 ", "last_name": "", "title": 42})
    assert (record.first_name, record.last_name, record.title) == ("Ada", None, "42")


# -- merging ---------------------------------------------------------------------------------


def test_stored_data_reads_back_to_itself() -> None:
    """An update merges a line into the stored ``data``, re-read as a line: it must come out
    unchanged, or every re-import would rewrite every record."""
    person = person_record(TIM)
    person.bind(PERSON_ID, ORGANIZATION_ID, "Apollo Inc.")
    again = person_record(merged_raw(person.data, {}, PERSON_GROUPS))
    again.bind(PERSON_ID, ORGANIZATION_ID, "Apollo Inc.")
    assert again.data == person.data
    assert again.columns() == person.columns()

    organization = organization_record(
        {
            "name": "Apollo",
            "website_url": "apollo.io",
            "phone": "415 640 9303",
            "city": "Berlin",
            "annual_revenue": 1e7,
        }
    )
    organization.bind(ORGANIZATION_ID)
    again_organization = organization_record(merged_raw(organization.data, {}, ORGANIZATION_GROUPS))
    again_organization.bind(ORGANIZATION_ID)
    assert again_organization.data == organization.data
    assert again_organization.columns() == organization.columns()


def test_merging_replaces_whole_groups() -> None:
    stored = {
        "city": "Berlin",
        "state": "Berlin",
        "country": "Germany",
        "title": "CEO",
        "seniority": "c_suite",
    }
    merged = merged_raw(stored, {"city": "Paris", "title": "Engineer"}, PERSON_GROUPS)
    assert merged == {"city": "Paris", "title": "Engineer"}
    assert merged_raw(stored, {"email": "a@b.co"}, PERSON_GROUPS) == {**stored, "email": "a@b.co"}


def test_filling_only_adds_what_is_missing() -> None:
    stored = {"name": "Apollo Inc.", "primary_domain": "apollo.io", "website_url": None, "industry": None}
    raw = {"name": "Apollo", "website_url": "apollo.com", "industry": "software", "founded_year": 2015}
    assert filled_raw(stored, raw, ORGANIZATION_GROUPS) == {
        **stored,
        "industry": "software",
        "founded_year": 2015,
    }
