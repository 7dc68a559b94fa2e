"""match_person and match_organization against a repository imported through the importer, on
SQLite and PostgreSQL: every kind of noise a client sends, absent people, ambiguity, and the
confidence bar."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from perilune.matching import (
    DEFAULT_MIN_CONFIDENCE,
    OrganizationQuery,
    PersonQuery,
    match_organization,
    match_person,
    rank_people,
)
from tests.matching.conftest import (
    ACME,
    APOLLO,
    CATHERINE,
    JOHN_A,
    JOSE,
    MARIA,
    NORTHWIND_BIG,
    NORTHWIND_SMALL,
    ROBERT,
    STONEBRIDGE,
    TIM,
)


def md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


FOUND: dict[str, tuple[PersonQuery, str]] = {
    "clean name and domain": (PersonQuery(first_name="Tim", last_name="Zheng", domain="apollo.io"), TIM),
    "email alone, upper-case and padded": (PersonQuery(email="  TIM@Apollo.IO "), TIM),
    "personal email": (PersonQuery(email="Tim.Zheng@gmail.com"), TIM),
    "md5 of the work email": (PersonQuery(hashed_email=md5("tim@apollo.io")), TIM),
    "sha256 of the personal email, upper-case": (
        PersonQuery(hashed_email=sha256("tim.zheng@gmail.com").upper()),
        TIM,
    ),
    "linkedin country host, capitals, query string": (
        PersonQuery(linkedin_url="https://uk.linkedin.com/in/Tim-Zheng-677ba010/?originalSubdomain=uk"),
        TIM,
    ),
    "linkedin without scheme, trailing path": (
        PersonQuery(linkedin_url="linkedin.com/in/tim-zheng-677ba010/details/experience/"),
        TIM,
    ),
    "id alone": (PersonQuery(id=TIM), TIM),
    "nickname": (
        PersonQuery(first_name="Bob", last_name="Mueller", domain="stonebridge-logistics.de"),
        ROBERT,
    ),
    "typo in the last name": (
        PersonQuery(first_name="Robert", last_name="Muelelr", domain="stonebridge-logistics.de"),
        ROBERT,
    ),
    "typo in the first name": (
        PersonQuery(first_name="Catherien", last_name="Kowalski", domain="apollo.io"),
        CATHERINE,
    ),
    "respelled first name": (
        PersonQuery(first_name="Kathryn", last_name="Kowalski", domain="apollo.io"),
        CATHERINE,
    ),
    "respelled last name": (
        PersonQuery(first_name="Catherine", last_name="Kowalsky", domain="apollo.io"),
        CATHERINE,
    ),
    "swapped names": (PersonQuery(first_name="Zheng", last_name="Tim", domain="apollo.io"), TIM),
    "full name, last name first": (PersonQuery(name="Zheng, Tim", domain="apollo.io"), TIM),
    "accents dropped, one surname of two": (
        PersonQuery(first_name="Jose", last_name="Garcia", domain="stonebridge-logistics.de"),
        JOSE,
    ),
    "accents added": (PersonQuery(first_name="Tím", last_name="Zhéng", domain="apollo.io"), TIM),
    "domain as a website URL": (
        PersonQuery(first_name="Tim", last_name="Zheng", domain="https://www.Apollo.io/about"),
        TIM,
    ),
    "company by name only, with a legal form": (
        PersonQuery(first_name="Robert", last_name="Mueller", organization_name="Stonebridge Logistics AG"),
        ROBERT,
    ),
    "former employer by domain": (
        PersonQuery(first_name="Tim", last_name="Zheng", domain="braingenie.com"),
        TIM,
    ),
    "former employer by a name the repository has no organization for": (
        PersonQuery(first_name="Tim", last_name="Zheng", organization_name="Citadel Investment Group LLC"),
        TIM,
    ),
    "former employer by name, current one elsewhere": (
        PersonQuery(name="Maria Sanchez", organization_name="Apollo.io"),
        MARIA,
    ),
    "work email's domain names the employer": (
        PersonQuery(first_name="Catherine", last_name="Kowalski", email="ckowalski@apollo.io"),
        CATHERINE,
    ),
    "a missing first name is made up by the email": (
        PersonQuery(last_name="Zheng", email="tim@apollo.io"),
        TIM,
    ),
    "everything, the way the reference shows it": (
        PersonQuery(
            first_name="Tim",
            last_name="Zheng",
            organization_name="Apollo",
            email="tim@apollo.io",
            hashed_email="8d935115b9ff4489f2d1f9249503cadf",
            domain="apollo.io",
            linkedin_url="http://www.linkedin.com/in/tim-zheng-677ba010",
        ),
        TIM,
    ),
}


@pytest.mark.parametrize("case", list(FOUND))
async def test_noisy_queries_find_the_person(repository: AsyncEngine, case: str) -> None:
    query, expected = FOUND[case]
    async with repository.connect() as connection:
        match = await match_person(connection, query)
    assert match is not None, case
    assert match.person_id == expected
    assert DEFAULT_MIN_CONFIDENCE <= match.confidence <= 1.0
    assert match.reasons


NOT_FOUND: dict[str, PersonQuery] = {
    "nothing given": PersonQuery(),
    "only junk": PersonQuery(email="not an email", linkedin_url="https://example.com/in/x", id="123"),
    "a name alone is not enough": PersonQuery(first_name="Tim", last_name="Zheng"),
    "an employer alone names nobody": PersonQuery(domain="apollo.io"),
    "someone else at a known company": PersonQuery(first_name="Priya", last_name="Raman", domain="apollo.io"),
    "a known name at another company": PersonQuery(
        first_name="Tim", last_name="Zheng", domain="microsoft.com"
    ),
    "an unknown email": PersonQuery(email="someone@example.org"),
    "an unknown hash": PersonQuery(hashed_email=md5("someone@example.org")),
    "an unknown profile": PersonQuery(linkedin_url="https://www.linkedin.com/in/nobody-here-123"),
    "an unknown id": PersonQuery(id="5f0000000000000000000000"),
    "two John Smiths at one company": PersonQuery(
        first_name="John", last_name="Smith", domain="acmewidgets.com"
    ),
    "a last name alone at a company": PersonQuery(last_name="Kowalski", domain="apollo.io"),
}


@pytest.mark.parametrize("case", list(NOT_FOUND))
async def test_weak_absent_or_ambiguous_queries_find_nobody(repository: AsyncEngine, case: str) -> None:
    async with repository.connect() as connection:
        assert await match_person(connection, NOT_FOUND[case]) is None


async def test_ambiguity_shares_the_confidence_and_more_evidence_resolves_it(repository: AsyncEngine) -> None:
    john = PersonQuery(first_name="John", last_name="Smith", domain="acmewidgets.com")
    async with repository.connect() as connection:
        ranked = await rank_people(connection, john)
        assert [r.candidate.id for r in ranked[:2]].count(JOHN_A) == 1
        assert ranked[0].confidence == pytest.approx(ranked[1].confidence)
        assert ranked[0].confidence < 0.5
        match = await match_person(
            connection, PersonQuery(first_name="John", last_name="Smith", email="john.smith@acmewidgets.com")
        )
    assert match is not None and match.person_id == JOHN_A


async def test_conflicting_strong_evidence_is_no_match(repository: AsyncEngine) -> None:
    # Tim's email with Robert's profile: two different people, so neither.
    query = PersonQuery(
        email="tim@apollo.io", linkedin_url="https://www.linkedin.com/in/robert-mueller-4411aa"
    )
    async with repository.connect() as connection:
        assert await match_person(connection, query) is None


async def test_reasons_name_the_fields_that_agreed(repository: AsyncEngine) -> None:
    query = PersonQuery(first_name="Bob", last_name="Mueller", organization_name="Stonebridge Logistics")
    async with repository.connect() as connection:
        match = await match_person(connection, query)
    assert match is not None
    assert set(match.reasons) == {"first_name:nickname", "last_name", "organization:current"}
    async with repository.connect() as connection:
        former = await match_person(
            connection, PersonQuery(first_name="Tim", last_name="Zheng", domain="braingenie.com")
        )
    assert former is not None and "organization:former" in former.reasons


async def test_min_confidence_raises_the_bar_and_never_lowers_it(repository: AsyncEngine) -> None:
    nickname = PersonQuery(first_name="Bob", last_name="Mueller", domain="stonebridge-logistics.de")
    async with repository.connect() as connection:
        plain = await match_person(connection, nickname)
        assert plain is not None and plain.confidence < 0.999
        assert await match_person(connection, nickname, min_confidence=0.999) is None
        assert await match_person(connection, nickname, min_confidence=0.0) == plain
        weak = PersonQuery(last_name="Kowalski", domain="apollo.io")
        best = (await rank_people(connection, weak))[0]
        assert 0.0 < best.confidence < DEFAULT_MIN_CONFIDENCE
        assert await match_person(connection, weak, min_confidence=0.0) is None


ORGANIZATIONS_FOUND: dict[str, tuple[OrganizationQuery, str]] = {
    "domain": (OrganizationQuery(domain="apollo.io"), APOLLO),
    "domain with www and capitals": (OrganizationQuery(domain="WWW.Apollo.io"), APOLLO),
    "website URL": (OrganizationQuery(website="https://blog.apollo.io/some/post"), APOLLO),
    "linkedin company page": (
        OrganizationQuery(linkedin_url="https://www.linkedin.com/company/apolloio/about/"),
        APOLLO,
    ),
    "name with a legal form": (OrganizationQuery(name="stonebridge logistics ag"), STONEBRIDGE),
    "name and domain": (OrganizationQuery(name="Acme Widgets", domain="acmewidgets.com"), ACME),
    "id": (OrganizationQuery(id=ACME), ACME),
    "one of two namesakes, by domain": (
        OrganizationQuery(name="Northwind", domain="northwind.io"),
        NORTHWIND_SMALL,
    ),
}


@pytest.mark.parametrize("case", list(ORGANIZATIONS_FOUND))
async def test_organizations_match_by_domain_linkedin_or_name(repository: AsyncEngine, case: str) -> None:
    query, expected = ORGANIZATIONS_FOUND[case]
    async with repository.connect() as connection:
        match = await match_organization(connection, query)
    assert match is not None, case
    assert match.organization_id == expected
    assert match.reasons


@pytest.mark.parametrize(
    "query",
    [
        OrganizationQuery(),
        OrganizationQuery(domain="unknown-company.com"),
        OrganizationQuery(name="Umbrella Corporation"),
        OrganizationQuery(domain="gmail.com"),
        OrganizationQuery(name="Acme Widgets", domain="othercompany.com"),
        OrganizationQuery(name="Northwind"),  # two organizations of that name
    ],
)
async def test_organizations_not_found(repository: AsyncEngine, query: OrganizationQuery) -> None:
    async with repository.connect() as connection:
        assert await match_organization(connection, query) is None


async def test_organization_namesakes_rank_by_size(repository: AsyncEngine) -> None:
    from perilune.matching import rank_organizations

    async with repository.connect() as connection:
        ranked = await rank_organizations(connection, OrganizationQuery(name="Northwind Inc"))
    assert [r.candidate.id for r in ranked] == [NORTHWIND_BIG, NORTHWIND_SMALL]
    assert ranked[0].confidence > ranked[1].confidence


async def test_works_on_a_session_too(repository: AsyncEngine) -> None:
    from sqlalchemy.ext.asyncio import async_sessionmaker

    sessions = async_sessionmaker(repository)
    async with sessions() as session:
        match = await match_person(session, PersonQuery(email="tim@apollo.io"))
    assert match is not None and match.person_id == TIM
