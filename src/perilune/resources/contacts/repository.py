"""Every SQL statement of the contacts endpoints. Each one filters on the caller's team."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from perilune.models import Account, Contact, ContactStage, Label, LabelMembership
from perilune.repository.normalize import fold


async def stages(session: AsyncSession, team_id: str) -> Sequence[ContactStage]:
    rows = await session.execute(
        select(ContactStage)
        .where(ContactStage.team_id == team_id)
        .order_by(ContactStage.display_order, ContactStage.created_at, ContactStage.id)
    )
    return rows.scalars().all()


async def stage_names(session: AsyncSession, team_id: str, stage_ids: list[str]) -> dict[str, str]:
    rows = await session.execute(
        select(ContactStage.id, ContactStage.name).where(
            ContactStage.team_id == team_id, ContactStage.id.in_(stage_ids)
        )
    )
    return {str(key): str(value) for key, value in rows}


async def label_names(session: AsyncSession, team_id: str, label_ids: list[str]) -> dict[str, str]:
    rows = await session.execute(
        select(Label.id, Label.name).where(Label.team_id == team_id, Label.id.in_(label_ids))
    )
    return {str(key): str(value) for key, value in rows}


async def account_for_domain(session: AsyncSession, team_id: str, domain: str) -> Account | None:
    """The team's account on this domain (the oldest, if several)."""
    found: Account | None = await session.scalar(
        select(Account)
        .where(Account.team_id == team_id, Account.domain == domain)
        .order_by(Account.created_at, Account.id)
        .limit(1)
    )
    return found


async def _first(session: AsyncSession, team_id: str, condition: ColumnElement[bool]) -> Contact | None:
    found: Contact | None = await session.scalar(
        select(Contact)
        .where(Contact.team_id == team_id, condition)
        .order_by(Contact.created_at, Contact.id)
        .limit(1)
    )
    return found


async def by_crm_ids(
    session: AsyncSession,
    team_id: str,
    salesforce_lead_id: str | None,
    salesforce_contact_id: str | None,
    hubspot_vid: str | None,
) -> Contact | None:
    conditions = [
        column == value
        for column, value in (
            (Contact.salesforce_lead_id, salesforce_lead_id),
            (Contact.salesforce_contact_id, salesforce_contact_id),
            (Contact.hubspot_vid, hubspot_vid),
        )
        if value
    ]
    return await _first(session, team_id, or_(*conditions)) if conditions else None


async def by_person(session: AsyncSession, team_id: str, person_id: str) -> Contact | None:
    return await _first(session, team_id, Contact.person_id == person_id)


async def by_email(session: AsyncSession, team_id: str, email: str) -> Contact | None:
    return await _first(session, team_id, Contact.email == email)


async def by_name(session: AsyncSession, team_id: str, first_name: str, last_name: str) -> Sequence[Contact]:
    """Contacts with this first and last name, case-insensitively (the company is compared by
    the caller: it may match on email domain, organization or company name)."""
    rows = await session.execute(
        select(Contact)
        .where(
            Contact.team_id == team_id,
            func.lower(Contact.first_name) == first_name.lower(),
            func.lower(Contact.last_name) == last_name.lower(),
        )
        .order_by(Contact.created_at, Contact.id)
        .limit(50)
    )
    return rows.scalars().all()


@dataclass(frozen=True)
class ContactFilter:
    """A contacts search, compiled from its parameters. Empty lists and no keywords filter
    nothing; stage and label ids match any of those given."""

    team_id: str
    keywords: list[str] = field(default_factory=list)
    stage_ids: list[str] = field(default_factory=list)
    label_ids: list[str] = field(default_factory=list)
    sort_column: str | None = None
    ascending: bool = False

    def where(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [Contact.team_id == self.team_id]
        # Words are folded to [a-z0-9] only, so nothing in them is a LIKE wildcard.
        conditions += [Contact.keywords.contains(f" {word}", autoescape=True) for word in self.keywords]
        if self.stage_ids:
            conditions.append(Contact.contact_stage_id.in_(self.stage_ids))
        if self.label_ids:
            member = select(LabelMembership.entity_id).where(
                LabelMembership.team_id == self.team_id, LabelMembership.label_id.in_(self.label_ids)
            )
            conditions.append(Contact.id.in_(member))
        return conditions

    def ordered(self, statement: Select[Contact]) -> Select[Contact]:
        if self.sort_column is None:
            return statement.order_by(Contact.created_at.desc(), Contact.id.desc())
        column = getattr(Contact, self.sort_column)
        direction = column.asc() if self.ascending else column.desc()
        tiebreak = Contact.id.asc() if self.ascending else Contact.id.desc()
        # Records without the date come last either way, as Apollo lists them.
        return statement.order_by(column.is_(None), direction, tiebreak)


def keyword_words(q_keywords: str | None) -> list[str]:
    return list(dict.fromkeys(fold(q_keywords).split()))


async def search(
    session: AsyncSession, where: ContactFilter, *, offset: int, limit: int
) -> Sequence[Contact]:
    statement = where.ordered(select(Contact).where(and_(*where.where()))).offset(offset).limit(limit)
    return (await session.execute(statement)).scalars().all()


async def count(session: AsyncSession, where: ContactFilter) -> int:
    total = await session.scalar(select(func.count()).select_from(Contact).where(and_(*where.where())))
    return int(total or 0)
