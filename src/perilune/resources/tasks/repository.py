"""Every SQL statement of the task endpoints. Each one filters on the caller's team."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from perilune.models import Contact, Task

# Apollo's priorities ranked, so "highest first" is a descending sort.
PRIORITY_RANK = case(
    (Task.priority == "high", 3), (Task.priority == "medium", 2), (Task.priority == "low", 1), else_=0
)
SORT_COLUMNS: dict[str, Any] = {
    "task_due_at": Task.due_at,
    "task_priority": PRIORITY_RANK,
    "task_created_at": Task.created_at,
}


@dataclass(frozen=True)
class TaskFilter:
    """A task search, compiled from its parameters. Empty lists filter nothing and each list
    matches any of its values; keywords must all appear (in the title, the note or the contact's
    name, title, company or email); the due range is half-open [due_from, due_before)."""

    team_id: str
    types: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    priorities: list[str] = field(default_factory=list)
    user_ids: list[str] = field(default_factory=list)
    contact_ids: list[str] = field(default_factory=list)
    account_ids: list[str] = field(default_factory=list)
    opportunity_ids: list[str] = field(default_factory=list)
    due_from: datetime | None = None
    due_before: datetime | None = None
    keywords: list[str] = field(default_factory=list)
    sort: str = "task_due_at"
    ascending: bool = False

    def without_types(self) -> TaskFilter:
        """The same search over every type: what the task_types facet counts."""
        return replace(self, types=[])

    def where(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [Task.team_id == self.team_id]
        for column, values in (
            (Task.type, self.types),
            (Task.status, self.statuses),
            (Task.priority, self.priorities),
            (Task.user_id, self.user_ids),
            (Task.contact_id, self.contact_ids),
            (Task.account_id, self.account_ids),
            (Task.opportunity_id, self.opportunity_ids),
        ):
            if values:
                conditions.append(column.in_(values))
        if self.due_from is not None:
            conditions.append(Task.due_at >= self.due_from)
        if self.due_before is not None:
            conditions.append(Task.due_at < self.due_before)
        conditions += [self._keyword(word) for word in self.keywords]
        return conditions

    def _keyword(self, word: str) -> ColumnElement[bool]:
        # Words are folded to [a-z0-9], so nothing in them is a LIKE wildcard; autoescape anyway.
        contacts = select(Contact.id).where(
            Contact.team_id == self.team_id, Contact.keywords.contains(f" {word}", autoescape=True)
        )
        return or_(
            func.lower(Task.title).contains(word, autoescape=True),
            func.lower(Task.note).contains(word, autoescape=True),
            Task.contact_id.in_(contacts),
        )

    def ordered(self, statement: Select[Task]) -> Select[Task]:
        column = SORT_COLUMNS[self.sort]
        direction = column.asc() if self.ascending else column.desc()
        tiebreak = (Task.id.asc(),) if self.ascending else (Task.id.desc(),)
        # Tasks without a due date come last either way.
        nulls = (Task.due_at.is_(None),) if self.sort == "task_due_at" else ()
        return statement.order_by(*nulls, direction, Task.created_at.desc(), *tiebreak)


async def search(session: AsyncSession, where: TaskFilter, *, offset: int, limit: int) -> Sequence[Task]:
    statement = where.ordered(select(Task).where(and_(*where.where()))).offset(offset).limit(limit)
    return (await session.execute(statement)).scalars().all()


async def count(session: AsyncSession, where: TaskFilter) -> int:
    total = await session.scalar(select(func.count()).select_from(Task).where(and_(*where.where())))
    return int(total or 0)


async def type_counts(session: AsyncSession, where: TaskFilter) -> list[tuple[str, bool, int]]:
    """(type, has a contact, how many) over the search."""
    has_contact = Task.contact_id.is_not(None)
    rows = await session.execute(
        select(Task.type, has_contact, func.count())
        .where(and_(*where.where()))
        .group_by(Task.type, has_contact)
    )
    return [(str(kind), bool(with_contact), int(total)) for kind, with_contact, total in rows]
