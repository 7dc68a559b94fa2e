"""Every SQL statement of the accounts endpoints. Each one filters on the caller's team."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from perilune.models import Account, AccountStage, Label, LabelMembership
from perilune.repository.normalize import fold


async def stages(session: AsyncSession, team_id: str) -> Sequence[AccountStage]:
    rows = await session.execute(
        select(AccountStage)
        .where(AccountStage.team_id == team_id)
        .order_by(AccountStage.display_order, AccountStage.created_at, AccountStage.id)
    )
    return rows.scalars().all()


async def stage_names(session: AsyncSession, team_id: str, stage_ids: list[str]) -> dict[str, str]:
    rows = await session.execute(
        select(AccountStage.id, AccountStage.name).where(
            AccountStage.team_id == team_id, AccountStage.id.in_(stage_ids)
        )
    )
    return {str(key): str(value) for key, value in rows}


async def label_names(session: AsyncSession, team_id: str, label_ids: list[str]) -> dict[str, str]:
    rows = await session.execute(
        select(Label.id, Label.name).where(Label.team_id == team_id, Label.id.in_(label_ids))
    )
    return {str(key): str(value) for key, value in rows}


async def _first(session: AsyncSession, team_id: str, condition: ColumnElement[bool]) -> Account | None:
    found: Account | None = await session.scalar(
        select(Account)
        .where(Account.team_id == team_id, condition)
        .order_by(Account.created_at, Account.id)
        .limit(1)
    )
    return found


async def by_crm_ids(
    session: AsyncSession, team_id: str, salesforce_id: str | None, hubspot_id: str | None
) -> Account | None:
    conditions = [
        column == value
        for column, value in ((Account.salesforce_id, salesforce_id), (Account.hubspot_id, hubspot_id))
        if value
    ]
    return await _first(session, team_id, or_(*conditions)) if conditions else None


async def by_domain(session: AsyncSession, team_id: str, domain: str) -> Account | None:
    return await _first(session, team_id, Account.domain == domain)


async def by_organization(session: AsyncSession, team_id: str, organization_id: str) -> Account | None:
    return await _first(session, team_id, Account.organization_id == organization_id)


async def by_name(session: AsyncSession, team_id: str, name: str) -> Account | None:
    key = fold(name)
    return await _first(session, team_id, Account.name_key == key) if key else None


@dataclass(frozen=True)
class AccountFilter:
    """An accounts search. Empty lists and no name filter nothing; stage and label ids match
    any of those given; every word of q_organization_name must begin a word of the name."""

    team_id: str
    name_words: list[str] = field(default_factory=list)
    stage_ids: list[str] = field(default_factory=list)
    label_ids: list[str] = field(default_factory=list)
    sort_column: str | None = None
    ascending: bool = False

    def where(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [Account.team_id == self.team_id]
        # Folded words are [a-z0-9] only: nothing in them is a LIKE wildcard.
        conditions += [
            or_(
                Account.name_key.startswith(word, autoescape=True),
                Account.name_key.contains(f" {word}", autoescape=True),
            )
            for word in self.name_words
        ]
        if self.stage_ids:
            conditions.append(Account.account_stage_id.in_(self.stage_ids))
        if self.label_ids:
            member = select(LabelMembership.entity_id).where(
                LabelMembership.team_id == self.team_id, LabelMembership.label_id.in_(self.label_ids)
            )
            conditions.append(Account.id.in_(member))
        return conditions

    def ordered(self, statement: Select[Any]) -> Select[Any]:
        if self.sort_column is None:
            return statement.order_by(Account.created_at.desc(), Account.id.desc())
        column = getattr(Account, self.sort_column)
        direction = column.asc() if self.ascending else column.desc()
        tiebreak = Account.id.asc() if self.ascending else Account.id.desc()
        # Accounts without the date come last either way.
        return statement.order_by(column.is_(None), direction, tiebreak)


async def search(
    session: AsyncSession, where: AccountFilter, *, offset: int, limit: int
) -> Sequence[Account]:
    statement = where.ordered(select(Account).where(and_(*where.where()))).offset(offset).limit(limit)
    found: Sequence[Account] = (await session.execute(statement)).scalars().all()
    return found


async def count(session: AsyncSession, where: AccountFilter) -> int:
    total = await session.scalar(select(func.count()).select_from(Account).where(and_(*where.where())))
    return int(total or 0)
