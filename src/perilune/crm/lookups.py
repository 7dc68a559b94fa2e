"""Team-scoped lookups: every id a caller sends is looked up within the caller's team, so another
team's id answers exactly as an id that does not exist ("not found", never data)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from perilune.api.errors import Unprocessable
from perilune.db.ids import is_valid_id
from perilune.models import User

R = TypeVar("R")


def invalid_id(value: object) -> Unprocessable:
    """Apollo's 422 for an id parameter that names nothing the team has."""
    return Unprocessable(f"Parameters misconfigured. {value} is not a valid ID")


async def find_in_team(
    session: AsyncSession, model: type[R], team_id: str, record_id: str | None
) -> R | None:
    """The team's record with this id, or None (malformed ids and other teams' ids included)."""
    if not record_id or not is_valid_id(record_id):
        return None
    table: Any = model
    found: R | None = await session.scalar(
        select(model).where(table.team_id == team_id, table.id == record_id)
    )
    return found


async def require_in_team(session: AsyncSession, model: type[R], team_id: str, record_id: str) -> R:
    """The team's record, or Apollo's "is not a valid ID" 422 (for ids given as parameters)."""
    found = await find_in_team(session, model, team_id, record_id)
    if found is None:
        raise invalid_id(record_id)
    return found


async def find_many_in_team(
    session: AsyncSession, model: type[R], team_id: str, record_ids: Collection[str]
) -> list[R]:
    """The team's records among ``record_ids``, in the order the ids were given; ids that name
    nothing of the team's are left out."""
    wanted = [record_id for record_id in dict.fromkeys(record_ids) if is_valid_id(record_id)]
    if not wanted:
        return []
    table: Any = model
    rows: Sequence[R] = (
        (await session.execute(select(model).where(table.team_id == team_id, table.id.in_(wanted))))
        .scalars()
        .all()
    )
    found: list[Any] = list(rows)
    by_id = {record.id: record for record in found}
    return [by_id[record_id] for record_id in wanted if record_id in by_id]


async def team_user_ids(session: AsyncSession, team_id: str, user_ids: Collection[str]) -> set[str]:
    """Which of ``user_ids`` are (not deleted) users of the team."""
    wanted = [user_id for user_id in set(user_ids) if is_valid_id(user_id)]
    if not wanted:
        return set()
    rows = await session.execute(
        select(User.id).where(User.team_id == team_id, User.id.in_(wanted), User.deleted.is_(False))
    )
    return set(rows.scalars().all())


async def validate_owner(session: AsyncSession, team_id: str, owner_id: str | None) -> str | None:
    """An owner must be a user of the caller's team: returns the id (None stays None), or raises
    Apollo's 422 "Parameters misconfigured. <id> is not a valid ID"."""
    if owner_id is None:
        return None
    if owner_id not in await team_user_ids(session, team_id, [owner_id]):
        raise invalid_id(owner_id)
    return owner_id
