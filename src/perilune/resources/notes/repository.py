"""Every SQL statement of the notes endpoints. Each one filters on the caller's team."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from perilune.models import Note


@dataclass(frozen=True)
class NoteFilter:
    """Notes on any of the records named (a union); records Perilune does not keep notes on
    (calendar events, conversations) match none. ``created_from`` is inclusive."""

    team_id: str
    contact_ids: list[str] = field(default_factory=list)
    account_ids: list[str] = field(default_factory=list)
    opportunity_ids: list[str] = field(default_factory=list)
    created_from: datetime | None = None
    sort_by: str = "created_at"
    ascending: bool = False

    def where(self) -> list[ColumnElement[bool]]:
        related: list[ColumnElement[bool]] = [false()]
        for column, ids in (
            (Note.contact_id, self.contact_ids),
            (Note.account_id, self.account_ids),
            (Note.opportunity_id, self.opportunity_ids),
        ):
            if ids:
                related.append(column.in_(ids))
        conditions: list[ColumnElement[bool]] = [Note.team_id == self.team_id, or_(*related)]
        if self.created_from is not None:
            conditions.append(Note.created_at >= self.created_from)
        return conditions


async def notes(session: AsyncSession, where: NoteFilter, *, offset: int, limit: int) -> Sequence[Note]:
    column = Note.updated_at if where.sort_by == "updated_at" else Note.created_at
    order = (column.asc(), Note.id.asc()) if where.ascending else (column.desc(), Note.id.desc())
    statement = select(Note).where(and_(*where.where())).order_by(*order).offset(offset).limit(limit)
    return (await session.execute(statement)).scalars().all()
