"""Every SQL statement of the call-record endpoints. Each one filters on the caller's team."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from perilune.models import Contact, LabelMembership, PhoneCall
from perilune.resources.phone_calls.schemas import ACTIVE_STATUSES


@dataclass(frozen=True)
class CallFilter:
    """A calls search, compiled from its parameters. Empty lists filter nothing and each list
    matches any of its values; the start range is half-open [started_from, started_before),
    the duration range inclusive; keywords must all appear (in the note, a number, or the
    contact's name, title, company or email)."""

    team_id: str
    started_from: datetime | None = None
    started_before: datetime | None = None
    min_duration: float | None = None
    max_duration: float | None = None
    inbound: bool | None = None
    user_ids: list[str] = field(default_factory=list)
    contact_ids: list[str] = field(default_factory=list)
    label_ids: list[str] = field(default_factory=list)
    purpose_ids: list[str] = field(default_factory=list)
    outcome_ids: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)

    def where(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [PhoneCall.team_id == self.team_id]
        if self.started_from is not None:
            conditions.append(PhoneCall.start_time >= self.started_from)
        if self.started_before is not None:
            conditions.append(PhoneCall.start_time < self.started_before)
        if self.min_duration is not None:
            conditions.append(PhoneCall.duration >= self.min_duration)
        if self.max_duration is not None:
            conditions.append(PhoneCall.duration <= self.max_duration)
        if self.inbound is not None:
            conditions.append(PhoneCall.inbound.is_(self.inbound))
        for column, values in (
            (PhoneCall.user_id, self.user_ids),
            (PhoneCall.contact_id, self.contact_ids),
            (PhoneCall.phone_call_purpose_id, self.purpose_ids),
            (PhoneCall.phone_call_outcome_id, self.outcome_ids),
        ):
            if values:
                conditions.append(column.in_(values))
        if self.label_ids:
            listed = select(LabelMembership.entity_id).where(
                LabelMembership.team_id == self.team_id, LabelMembership.label_id.in_(self.label_ids)
            )
            conditions.append(PhoneCall.contact_id.in_(listed))
        conditions += [self._keyword(word) for word in self.keywords]
        return conditions

    def _keyword(self, word: str) -> ColumnElement[bool]:
        contacts = select(Contact.id).where(
            Contact.team_id == self.team_id, Contact.keywords.contains(f" {word}", autoescape=True)
        )
        return or_(
            func.lower(PhoneCall.note).contains(word, autoescape=True),
            PhoneCall.to_number.contains(word, autoescape=True),
            PhoneCall.from_number.contains(word, autoescape=True),
            PhoneCall.contact_id.in_(contacts),
        )


async def search(session: AsyncSession, where: CallFilter, *, offset: int, limit: int) -> Sequence[PhoneCall]:
    statement = (
        select(PhoneCall)
        .where(and_(*where.where()))
        .order_by(PhoneCall.start_time.is_(None), PhoneCall.start_time.desc(), PhoneCall.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return (await session.execute(statement)).scalars().all()


async def count(session: AsyncSession, where: CallFilter) -> int:
    total = await session.scalar(select(func.count()).select_from(PhoneCall).where(and_(*where.where())))
    return int(total or 0)


async def outcome_counts(
    session: AsyncSession, where: CallFilter
) -> tuple[int, list[tuple[str | None, int]]]:
    """(active calls, [(outcome id or None, calls)]) over the search."""
    active = await session.scalar(
        select(func.count())
        .select_from(PhoneCall)
        .where(and_(*where.where()), PhoneCall.status.in_(ACTIVE_STATUSES))
    )
    rows = await session.execute(
        select(PhoneCall.phone_call_outcome_id, func.count())
        .where(and_(*where.where()))
        .group_by(PhoneCall.phone_call_outcome_id)
    )
    return int(active or 0), [(outcome, int(total)) for outcome, total in rows]
