"""Erasing a person on request: the person, their employment history, phone numbers, personal
emails and every team's reveal of them leave the repository, the change log says so (the search
index drops them), and a suppression stops any later import from bringing them back.

Suppressions hold SHA-256 digests of the normalised email addresses and of the LinkedIn slug,
never the clear values: the repository keeps no trace of who was erased that could be read
back, only what is needed to recognise them again."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from perilune.clock import Clock, SystemClock
from perilune.db.dialect import insert_ignoring_conflicts, write_transaction
from perilune.db.ids import is_valid_id, new_id
from perilune.models import (
    EmploymentHistory,
    Person,
    PersonalEmail,
    PersonPhoneNumber,
    PersonReveal,
    RepositoryChange,
    Suppression,
)
from perilune.repository.importer.people import EMAIL_SUPPRESSION, LINKEDIN_SUPPRESSION, sha256
from perilune.repository.normalize import linkedin_slug, normalize_email


class ErasureError(ValueError):
    """The request names nobody (no identifier, or one that is not valid)."""


@dataclass
class ErasedPerson:
    id: str
    employment_history: int
    phone_numbers: int
    personal_emails: int
    reveals: int


@dataclass
class ErasureReport:
    people: list[ErasedPerson] = field(default_factory=list)
    # (kind, SHA-256 digest) of every suppression the request stands for; ``new`` counts the
    # ones not recorded before.
    suppressions: list[tuple[str, str]] = field(default_factory=list)
    new_suppressions: int = 0


async def erase_person(
    engine: AsyncEngine,
    *,
    email: str | None = None,
    linkedin_url: str | None = None,
    person_id: str | None = None,
    clock: Clock | None = None,
) -> ErasureReport:
    """Erase everyone the identifiers name (a work or personal email, a LinkedIn profile URL or
    slug, an id) and suppress them, in one transaction. Suppression happens even when nobody
    matches today, so a later import cannot add them."""
    address, slug = _identifiers(email, linkedin_url, person_id)
    now = (clock or SystemClock()).now()
    report = ErasureReport()
    async with write_transaction(engine) as connection:
        ids = await _matching_people(connection, address, slug, person_id)
        keys = {(EMAIL_SUPPRESSION, sha256(address))} if address else set()
        if slug:
            keys.add((LINKEDIN_SUPPRESSION, sha256(slug)))
        keys |= await _identities(connection, ids)
        for person in ids:
            report.people.append(await _erase(connection, person))
        if ids:
            await connection.execute(
                sa.insert(RepositoryChange),
                [{"entity": "person", "record_id": i, "op": "delete", "created_at": now} for i in ids],
            )
        report.suppressions = sorted(keys)
        report.new_suppressions = await _suppress(connection, report.suppressions, now)
    return report


def _identifiers(
    email: str | None, linkedin_url: str | None, person_id: str | None
) -> tuple[str | None, str | None]:
    if not (email or linkedin_url or person_id):
        raise ErasureError("name the person by email, LinkedIn URL or id")
    address = normalize_email(email) if email else None
    if email and address is None:
        raise ErasureError(f"'{email}' is not a valid email address")
    slug = linkedin_slug(linkedin_url) if linkedin_url else None
    if linkedin_url and slug is None:
        raise ErasureError(f"'{linkedin_url}' is not a LinkedIn profile URL")
    if person_id and not is_valid_id(person_id):
        raise ErasureError(f"'{person_id}' is not a 24-hex-digit id")
    return address, slug


async def _matching_people(
    connection: AsyncConnection, address: str | None, slug: str | None, person_id: str | None
) -> list[str]:
    conditions: list[sa.ColumnElement[bool]] = []
    if person_id:
        conditions.append(Person.id == person_id)
    if address:
        conditions.append(Person.email == address)
        conditions.append(
            Person.id.in_(sa.select(PersonalEmail.person_id).where(PersonalEmail.email == address))
        )
    if slug:
        conditions.append(Person.linkedin_slug == slug)
    rows = await connection.execute(sa.select(Person.id).where(sa.or_(*conditions)).order_by(Person.id))
    return list(rows.scalars())


async def _identities(connection: AsyncConnection, ids: list[str]) -> set[tuple[str, str]]:
    """Suppression keys of the people about to be erased: every address and profile they had."""
    if not ids:
        return set()
    keys: set[tuple[str, str]] = set()
    people = await connection.execute(sa.select(Person.email, Person.linkedin_slug).where(Person.id.in_(ids)))
    for email, slug in people:
        if email:
            keys.add((EMAIL_SUPPRESSION, sha256(email)))
        if slug:
            keys.add((LINKEDIN_SUPPRESSION, sha256(slug)))
    personal = await connection.execute(
        sa.select(PersonalEmail.email).where(PersonalEmail.person_id.in_(ids))
    )
    keys.update((EMAIL_SUPPRESSION, sha256(email)) for email in personal.scalars())
    return keys


async def _erase(connection: AsyncConnection, person_id: str) -> ErasedPerson:
    counts = []
    for model in (EmploymentHistory, PersonPhoneNumber, PersonalEmail, PersonReveal):
        result = await connection.execute(sa.delete(model).where(model.person_id == person_id))
        counts.append(result.rowcount)
    await connection.execute(sa.delete(Person).where(Person.id == person_id))
    return ErasedPerson(person_id, *counts)


async def _suppress(connection: AsyncConnection, keys: Iterable[tuple[str, str]], now: datetime) -> int:
    keys = list(keys)
    if not keys:
        return 0
    existing = await connection.execute(
        sa.select(Suppression.kind, Suppression.value).where(Suppression.value.in_([v for _, v in keys]))
    )
    known = {(kind, value) for kind, value in existing}
    rows = [
        {"id": new_id(), "kind": kind, "value": value, "created_at": now}
        for kind, value in keys
        if (kind, value) not in known
    ]
    if rows:
        dialect = connection.dialect.name
        await connection.execute(insert_ignoring_conflicts(dialect, Suppression.__table__), rows)  # type: ignore[arg-type]
    return len(rows)
