from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from perilune.models import (
    EmploymentHistory,
    Organization,
    Person,
    PersonalEmail,
    PersonPhoneNumber,
    PersonReveal,
)


async def get_person(session: AsyncSession, person_id: str) -> Person | None:
    return await session.get(Person, person_id)


async def get_organization(session: AsyncSession, organization_id: str) -> Organization | None:
    return await session.get(Organization, organization_id)


async def employment_history(session: AsyncSession, person_id: str) -> Sequence[EmploymentHistory]:
    """Current jobs first, then the most recent; jobs without dates last."""
    history = EmploymentHistory
    query = (
        select(history)
        .where(history.person_id == person_id)
        .order_by(
            history.current.desc(),
            history.start_date.is_(None),
            history.start_date.desc(),
            history.id,
        )
    )
    return (await session.execute(query)).scalars().all()


async def phone_numbers(session: AsyncSession, person_id: str) -> Sequence[PersonPhoneNumber]:
    query = (
        select(PersonPhoneNumber)
        .where(PersonPhoneNumber.person_id == person_id)
        .order_by(PersonPhoneNumber.position, PersonPhoneNumber.id)
    )
    return (await session.execute(query)).scalars().all()


async def personal_emails(session: AsyncSession, person_id: str) -> list[str]:
    query = select(PersonalEmail.email).where(PersonalEmail.person_id == person_id).order_by(PersonalEmail.id)
    return list((await session.execute(query)).scalars().all())


async def team_reveal(session: AsyncSession, team_id: str, person_id: str) -> PersonReveal | None:
    """The team's reveal of the person (what kinds it unlocked), None before any."""
    query = select(PersonReveal).where(PersonReveal.team_id == team_id, PersonReveal.person_id == person_id)
    return await session.scalar(query)
