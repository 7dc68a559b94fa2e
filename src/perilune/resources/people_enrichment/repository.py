"""The SQL of people enrichment beyond matching (which ``perilune.matching`` does): the matched
people as ``GET /people/{id}`` loads them, their personal emails, and the team's reveals (and
which kinds of data each one unlocked)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.base import ReadOnlyColumnCollection
from sqlalchemy.sql.dml import Insert

from perilune.models import PersonReveal
from perilune.resources.mixed_people.repository import person_views, personal_emails
from perilune.resources.people.schemas import PersonView

__all__ = ["Reveal", "matched_views", "personal_emails", "reveal"]

# PersonReveal's flags: the kinds of data a reveal unlocks beyond the work email.
REVEAL_KINDS = ("phone_numbers", "personal_emails")


async def matched_views(
    session: AsyncSession, team_id: str, person_ids: Sequence[str]
) -> dict[str, PersonView]:
    """The people by id, with their organization, history and phones, as the team sees them
    now (before this request's reveal)."""
    return {view.person.id: view for view in await person_views(session, team_id, person_ids)}


@dataclass(frozen=True)
class Reveal:
    """What one request reveals of one person: the work email always, and the kinds it asked
    (and, for phones, paid) for."""

    person_id: str
    phone_numbers: bool = False
    personal_emails: bool = False


async def reveal(session: AsyncSession, team_id: str, reveals: Sequence[Reveal], now: datetime) -> None:
    """Unlock the people's emails, and the kinds each reveal names, for the team. An existing
    reveal keeps its time and only ever gains kinds: a later email-only match clears nothing."""
    if not reveals:
        return
    connection = await session.connection()
    rows = [
        {
            "team_id": team_id,
            "person_id": item.person_id,
            "revealed_at": now,
            "phone_numbers": item.phone_numbers,
            "personal_emails": item.personal_emails,
        }
        for item in reveals
    ]
    await connection.execute(_upsert_or_kinds(connection.dialect.name), rows)


@functools.cache
def _upsert_or_kinds(dialect_name: str) -> Insert:
    """INSERT ... ON CONFLICT (team, person) DO UPDATE SET kind = stored kind OR new kind, in
    each dialect's own insert construct (they spell it alike); the rows go as parameters, so
    the statement is compiled once."""
    table = cast(Table, PersonReveal.__table__)
    key = [table.c.team_id, table.c.person_id]
    if dialect_name == "postgresql":
        pg = postgresql.insert(table)
        return pg.on_conflict_do_update(index_elements=key, set_=_or_kinds(table, pg.excluded))
    if dialect_name == "sqlite":
        lite = sqlite.insert(table)
        return lite.on_conflict_do_update(index_elements=key, set_=_or_kinds(table, lite.excluded))
    raise NotImplementedError(f"unsupported database dialect {dialect_name}")


def _or_kinds(table: Table, new: ReadOnlyColumnCollection[str, Any]) -> dict[str, ColumnElement[bool]]:
    return {kind: or_(table.c[kind], new[kind]) for kind in REVEAL_KINDS}
