"""The SQL of people search: one page's people and everything their objects show, in a handful
of queries for the whole page (not a handful per person)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from perilune.models import (
    EmploymentHistory,
    Organization,
    Person,
    PersonalEmail,
    PersonPhoneNumber,
    PersonReveal,
)
from perilune.resources.mixed_companies.repository import organizations_by_ids
from perilune.resources.people.schemas import PUBLIC_PHONE_TYPES, PersonView


class LeanRow(NamedTuple):
    """What ``api_search`` shows of a person and their employer (``org_id`` None: none)."""

    id: str
    first_name: str | None
    last_name: str | None
    title: str | None
    updated_at: datetime
    email: str | None
    email_status: str | None
    city: str | None
    state: str | None
    country: str | None
    direct_phone: bool
    org_id: str | None
    org_name: str | None
    org_industry: str | None
    org_phone: str | None
    org_city: str | None
    org_state: str | None
    org_country: str | None
    org_postal_code: str | None
    org_revenue: float | None
    org_employees: int | None


def _lean_columns() -> tuple[object, ...]:
    phone = PersonPhoneNumber
    direct = exists().where(
        phone.person_id == Person.id, func.coalesce(phone.type, "").not_in(sorted(PUBLIC_PHONE_TYPES))
    )
    org = Organization
    return (
        Person.id, Person.first_name, Person.last_name, Person.title, Person.updated_at, Person.email,
        Person.email_status, Person.city, Person.state, Person.country, direct.label("direct_phone"),
        org.id, org.name, org.industry,
        func.coalesce(org.data["phone"].as_string(), org.data["sanitized_phone"].as_string()),
        org.city, org.state, org.country, org.data["postal_code"].as_string(), org.annual_revenue,
        org.estimated_num_employees,
    )  # fmt: skip


async def lean_rows(session: AsyncSession, ids: Sequence[str]) -> list[LeanRow]:
    """The page's people for ``api_search``, in order, in one query: the few columns the lean
    object needs, not the stored objects."""
    if not ids:
        return []
    query = (
        select(*_lean_columns())  # type: ignore[call-overload]
        .select_from(Person)
        .outerjoin(Organization, Organization.id == Person.organization_id)
        .where(Person.id.in_(ids))
    )
    found = {row[0]: LeanRow._make(row) for row in await session.execute(query)}
    return [found[i] for i in ids if i in found]


async def people_by_ids(session: AsyncSession, ids: Sequence[str]) -> list[Person]:
    """The people, in the order of ``ids`` (an id no longer in the database is left out)."""
    if not ids:
        return []
    rows = await session.execute(select(Person).where(Person.id.in_(ids)))
    found = {person.id: person for person in rows.scalars()}
    return [found[i] for i in ids if i in found]


async def employers(session: AsyncSession, people: Sequence[Person]) -> dict[str, Organization]:
    ids = list(dict.fromkeys(p.organization_id for p in people if p.organization_id))
    return {org.id: org for org in await organizations_by_ids(session, ids)}


async def phone_numbers(
    session: AsyncSession, person_ids: Sequence[str]
) -> dict[str, list[PersonPhoneNumber]]:
    query = (
        select(PersonPhoneNumber)
        .where(PersonPhoneNumber.person_id.in_(person_ids))
        .order_by(PersonPhoneNumber.person_id, PersonPhoneNumber.position, PersonPhoneNumber.id)
    )
    grouped: dict[str, list[PersonPhoneNumber]] = defaultdict(list)
    for phone in (await session.execute(query)).scalars():
        grouped[phone.person_id].append(phone)
    return grouped


async def revealed(session: AsyncSession, team_id: str, person_ids: Sequence[str]) -> set[str]:
    """Which of the people the team has unlocked."""
    query = select(PersonReveal.person_id).where(
        PersonReveal.team_id == team_id, PersonReveal.person_id.in_(person_ids)
    )
    return set((await session.execute(query)).scalars())


async def employment_histories(
    session: AsyncSession, person_ids: Sequence[str]
) -> dict[str, list[EmploymentHistory]]:
    """Each person's jobs, current first, then the most recent (as ``GET /people/{id}``)."""
    history = EmploymentHistory
    query = (
        select(history)
        .where(history.person_id.in_(person_ids))
        .order_by(
            history.person_id,
            history.current.desc(),
            history.start_date.is_(None),
            history.start_date.desc(),
            history.id,
        )
    )
    grouped: dict[str, list[EmploymentHistory]] = defaultdict(list)
    for job in (await session.execute(query)).scalars():
        grouped[job.person_id].append(job)
    return grouped


async def personal_emails(session: AsyncSession, person_ids: Sequence[str]) -> dict[str, list[str]]:
    """Each person's personal emails (for those who may see them: enrichment's reveals)."""
    grouped: dict[str, list[str]] = defaultdict(list)
    if not person_ids:
        return grouped
    query = (
        select(PersonalEmail.person_id, PersonalEmail.email)
        .where(PersonalEmail.person_id.in_(person_ids))
        .order_by(PersonalEmail.person_id, PersonalEmail.id)
    )
    for person_id, email in await session.execute(query):
        grouped[person_id].append(email)
    return grouped


async def person_views(session: AsyncSession, team_id: str, ids: Sequence[str]) -> list[PersonView]:
    """The page's people as ``GET /people/{id}`` renders them for ``team_id``, in order."""
    people = await people_by_ids(session, ids)
    if not people:
        return []
    person_ids = [p.id for p in people]
    organizations = await employers(session, people)
    histories = await employment_histories(session, person_ids)
    phones = await phone_numbers(session, person_ids)
    unlocked = await revealed(session, team_id, person_ids)
    # Search shows the work email a team revealed, never its direct numbers or personal emails
    # (PersonView's other reveal kinds stay off), as Apollo's search does.
    return [
        PersonView(
            person=person,
            organization=organizations.get(person.organization_id or ""),
            employment_history=histories.get(person.id, []),
            phone_numbers=phones.get(person.id, []),
            revealed=person.id in unlocked,
        )
        for person in people
    ]
