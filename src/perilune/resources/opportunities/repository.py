"""Every SQL statement of the deal endpoints. Each one filters on the caller's team."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from perilune.db.ids import new_id
from perilune.models import Account, Contact, Opportunity, OpportunityContactRole, OpportunityStage


async def stages(session: AsyncSession, team_id: str) -> Sequence[OpportunityStage]:
    rows = await session.execute(
        select(OpportunityStage)
        .where(OpportunityStage.team_id == team_id)
        .order_by(OpportunityStage.display_order, OpportunityStage.created_at, OpportunityStage.id)
    )
    return rows.scalars().all()


async def stages_by_id(
    session: AsyncSession, team_id: str, stage_ids: Collection[str]
) -> dict[str, OpportunityStage]:
    wanted = {stage_id for stage_id in stage_ids if stage_id}
    if not wanted:
        return {}
    rows = await session.execute(
        select(OpportunityStage).where(OpportunityStage.team_id == team_id, OpportunityStage.id.in_(wanted))
    )
    return {stage.id: stage for stage in rows.scalars()}


async def contact_roles(
    session: AsyncSession, team_id: str, deal_ids: Collection[str]
) -> dict[str, list[tuple[OpportunityContactRole, Contact]]]:
    """Each deal's contacts, oldest role first (the first is the primary contact)."""
    if not deal_ids:
        return {}
    rows = await session.execute(
        select(OpportunityContactRole, Contact)
        .join(Contact, Contact.id == OpportunityContactRole.contact_id)
        .where(
            OpportunityContactRole.team_id == team_id,
            Contact.team_id == team_id,
            OpportunityContactRole.opportunity_id.in_(list(deal_ids)),
        )
        .order_by(OpportunityContactRole.created_at, OpportunityContactRole.id)
    )
    found: dict[str, list[tuple[OpportunityContactRole, Contact]]] = defaultdict(list)
    for role, contact in rows:
        found[role.opportunity_id].append((role, contact))
    return dict(found)


async def accounts_by_id(session: AsyncSession, team_id: str, account_ids: Collection[str]) -> list[Account]:
    wanted = {account_id for account_id in account_ids if account_id}
    if not wanted:
        return []
    rows = await session.execute(select(Account).where(Account.team_id == team_id, Account.id.in_(wanted)))
    return list(rows.scalars())


async def replace_contacts(
    session: AsyncSession, team_id: str, deal_id: str, contact_ids: Sequence[str], now: datetime
) -> None:
    """The deal's contacts become exactly ``contact_ids`` (checked to be the team's): roles of
    contacts that stay are kept, with their role and age."""
    current = set(
        (
            await session.execute(
                select(OpportunityContactRole.contact_id).where(
                    OpportunityContactRole.team_id == team_id,
                    OpportunityContactRole.opportunity_id == deal_id,
                )
            )
        ).scalars()
    )
    dropped = current - set(contact_ids)
    if dropped:
        await session.execute(
            delete(OpportunityContactRole)
            .where(
                OpportunityContactRole.team_id == team_id,
                OpportunityContactRole.opportunity_id == deal_id,
                OpportunityContactRole.contact_id.in_(dropped),
            )
            .execution_options(synchronize_session=False)
        )
    for contact_id in contact_ids:
        if contact_id not in current:
            session.add(
                OpportunityContactRole(
                    id=new_id(now.timestamp()),
                    team_id=team_id,
                    opportunity_id=deal_id,
                    contact_id=contact_id,
                    created_at=now,
                )
            )
    await session.flush()


async def deals_of_contact(session: AsyncSession, team_id: str, contact_id: str) -> Sequence[Opportunity]:
    rows = await session.execute(
        select(Opportunity)
        .join(OpportunityContactRole, OpportunityContactRole.opportunity_id == Opportunity.id)
        .where(
            Opportunity.team_id == team_id,
            OpportunityContactRole.team_id == team_id,
            OpportunityContactRole.contact_id == contact_id,
        )
        .order_by(Opportunity.created_at.desc(), Opportunity.id.desc())
    )
    return rows.scalars().all()


@dataclass(frozen=True)
class DealFilter:
    """A deal search, compiled from its parameters. Empty lists filter nothing; each list
    matches any of its values."""

    team_id: str
    stage_ids: list[str] = field(default_factory=list)
    owner_ids: list[str] = field(default_factory=list)
    account_ids: list[str] = field(default_factory=list)
    sort_column: str | None = None
    ascending: bool = False

    def where(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [Opportunity.team_id == self.team_id]
        if self.stage_ids:
            conditions.append(Opportunity.opportunity_stage_id.in_(self.stage_ids))
        if self.owner_ids:
            conditions.append(Opportunity.owner_id.in_(self.owner_ids))
        if self.account_ids:
            conditions.append(Opportunity.account_id.in_(self.account_ids))
        return conditions

    def ordered(self, statement: Select[Opportunity]) -> Select[Opportunity]:
        if self.sort_column is None:
            return statement.order_by(Opportunity.created_at.desc(), Opportunity.id.desc())
        column = getattr(Opportunity, self.sort_column)
        direction = column.asc() if self.ascending else column.desc()
        # Deals without an amount come last either way.
        return statement.order_by(
            column.is_(None), direction, Opportunity.created_at.desc(), Opportunity.id.desc()
        )


async def search(
    session: AsyncSession, where: DealFilter, *, offset: int, limit: int
) -> Sequence[Opportunity]:
    statement = where.ordered(select(Opportunity).where(and_(*where.where()))).offset(offset).limit(limit)
    return (await session.execute(statement)).scalars().all()


async def count(session: AsyncSession, where: DealFilter) -> int:
    total = await session.scalar(select(func.count()).select_from(Opportunity).where(and_(*where.where())))
    return int(total or 0)
