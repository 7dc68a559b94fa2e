"""Blocking on SQLite and PostgreSQL: bounded candidate sets at a big company, the tiers, and
matching a generated repository loaded through the importer."""

from __future__ import annotations

import random
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from perilune.matching import PersonQuery, match_person, person_keys
from perilune.matching.blocking import (
    GLOBAL_NAME_LIMIT,
    NAME_LIMIT,
    person_candidates,
    person_rules,
    shape_of,
)
from perilune.repository.generator import Generator
from perilune.repository.generator.loading import load_into
from perilune.repository.importer import import_records

BIG = "5f0000000000000000000001"
FIRST_NAMES = ("Ann", "Ben", "Cara", "Dev", "Eli", "Fay", "Gus", "Hal", "Ivy", "Jo", "Kim", "Lou")


def _smiths() -> list[dict[str, Any]]:
    """A company with 72 Smiths (six of each first name), 40 others, and one Zelda Smith."""
    people = [
        {"first_name": first, "last_name": "Smith", "email": f"{first.lower()}.smith{n}@bigcorp.com"}
        for first in FIRST_NAMES
        for n in range(6)
    ]
    people += [
        {"first_name": "Ann", "last_name": f"Other{n}", "email": f"ann{n}@bigcorp.com"} for n in range(40)
    ]
    people.append({"first_name": "Zelda", "last_name": "Smith", "email": "zelda@bigcorp.com"})
    for person in people:
        person["organization_id"] = BIG
    return people


@pytest.fixture
async def big_company(engine: AsyncEngine) -> AsyncEngine:
    organization = {"id": BIG, "name": "Bigcorp", "primary_domain": "bigcorp.com"}
    await import_records(engine, "organizations", [(1, organization)])
    report = await import_records(engine, "people", enumerate(_smiths(), 1))
    assert report.created == 113
    return engine


async def test_a_common_name_at_a_big_company_is_bounded(big_company: AsyncEngine) -> None:
    keys = person_keys(PersonQuery(last_name="Smith", domain="bigcorp.com"))
    async with big_company.connect() as connection:
        for tier in (1, 2):
            rules = len(person_rules(shape_of(keys, tier)))
            found = await person_candidates(connection, keys, tier)
            assert len(found) <= rules * max(NAME_LIMIT, GLOBAL_NAME_LIMIT)
        first_tier = await person_candidates(connection, keys, 1)
        assert len(first_tier) == NAME_LIMIT  # 73 Smiths there; the limit holds
        assert all(c.last == "smith" for c in first_tier)
        assert await match_person(connection, PersonQuery(last_name="Smith", domain="bigcorp.com")) is None


async def test_the_whole_name_is_never_cut_off_by_the_last_names_limit(big_company: AsyncEngine) -> None:
    async with big_company.connect() as connection:
        match = await match_person(
            connection, PersonQuery(first_name="Zelda", last_name="Smith", domain="bigcorp.com")
        )
        assert match is not None
        candidates = await person_candidates(
            connection,
            person_keys(PersonQuery(first_name="Zelda", last_name="Smith", domain="bigcorp.com")),
            1,
        )
    assert "zelda" in {c.first for c in candidates}
    assert len(candidates) <= NAME_LIMIT + 1


async def test_six_namesakes_are_ambiguous_but_an_email_tells_them_apart(big_company: AsyncEngine) -> None:
    async with big_company.connect() as connection:
        assert (
            await match_person(
                connection, PersonQuery(first_name="Ben", last_name="Smith", domain="bigcorp.com")
            )
            is None
        )
        match = await match_person(
            connection, PersonQuery(first_name="Ben", last_name="Smith", email="Ben.Smith3@bigcorp.com")
        )
    assert match is not None and "email" in match.reasons


async def test_the_second_tier_runs_only_without_a_confident_first(big_company: AsyncEngine) -> None:
    typo = person_keys(PersonQuery(first_name="Zelda", last_name="Smiht", domain="bigcorp.com"))
    async with big_company.connect() as connection:
        assert await person_candidates(connection, typo, 1) == []  # no Smiht at Bigcorp
        second = await person_candidates(connection, typo, 2)
        assert "zelda" in {c.first for c in second}
        match = await match_person(
            connection, PersonQuery(first_name="Zelda", last_name="Smiht", domain="bigcorp.com")
        )
    assert match is not None and "last_name:typo" in match.reasons


SAMPLE = 40


async def test_a_generated_repository_matches_its_own_people(engine: AsyncEngine) -> None:
    generator = Generator(people=400, organizations=30, seed=5)
    await load_into(engine, generator)
    domains = {o["id"]: o["primary_domain"] for o in generator.organizations()}
    people = random.Random(5).sample(list(generator.people()), SAMPLE)
    found = 0
    async with engine.connect() as connection:
        for person in people:
            by_email = PersonQuery(email=person["email"].upper()) if person["email"] else None
            by_profile = PersonQuery(linkedin_url=person["linkedin_url"]) if person["linkedin_url"] else None
            for query in (by_email, by_profile):
                if query is not None:
                    match = await match_person(connection, query)
                    assert match is not None and match.person_id == person["id"]
            by_name = PersonQuery(name=person["name"], domain=domains[person["organization_id"]])
            match = await match_person(connection, by_name)
            assert match is None or match.person_id == person["id"]
            found += match is not None
    assert found >= SAMPLE * 0.9  # the rest share their name with a colleague
