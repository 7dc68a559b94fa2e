"""The credit ledger: grants and spends per team and credit type, counted within the team's
current monthly credit cycle. Spending more than is left raises Apollo's insufficient-credits
answer and records nothing."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from perilune.api.errors import InsufficientCredits
from perilune.auth.context import Caller
from perilune.metering.plans import CREDIT_TYPES, Plan
from perilune.models import CreditLedgerEntry, Team
from perilune.observability.metrics import CREDITS_SPENT


@dataclass(frozen=True)
class Balance:
    limit: int
    consumed: int

    @property
    def left_over(self) -> int:
        return self.limit - self.consumed

    def as_dict(self) -> dict[str, int]:
        return {"limit": self.limit, "consumed": self.consumed, "left_over": self.left_over}


def add_months(when: datetime, months: int) -> datetime:
    month_index = when.month - 1 + months
    year, month = when.year + month_index // 12, month_index % 12 + 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return when.replace(year=year, month=month, day=day)


def credit_cycle(anchor: datetime, now: datetime) -> tuple[datetime, datetime]:
    """The monthly cycle, counted from ``anchor``, that contains ``now``."""
    # Count months on the anchor's calendar: another zone's date may lie in another month.
    now = now.astimezone(anchor.tzinfo)
    months = (now.year - anchor.year) * 12 + (now.month - anchor.month)
    if add_months(anchor, months) > now:
        months -= 1
    # Both ends come from the anchor, so a cycle anchored on the 31st never drifts to the 28th.
    return add_months(anchor, months), add_months(anchor, months + 1)


async def balances(
    session: AsyncSession, team: Team, plan: Plan, now: datetime, *, user_id: str | None = None
) -> dict[str, Balance]:
    """Every credit type's balance this cycle. With ``user_id``, ``consumed`` is that user's."""
    start, end = credit_cycle(team.credit_cycle_anchor, now)
    ledger = CreditLedgerEntry
    in_cycle = (ledger.team_id == team.id, ledger.created_at >= start, ledger.created_at < end)
    granted = await _sum_by_type(session, *in_cycle, ledger.amount > 0)
    spent_filter = [*in_cycle, ledger.amount < 0]
    if user_id is not None:
        spent_filter.append(ledger.user_id == user_id)
    spent = await _sum_by_type(session, *spent_filter)
    return {
        kind: Balance(limit=plan.credit_limit(kind) + granted.get(kind, 0), consumed=-spent.get(kind, 0))
        for kind in CREDIT_TYPES
    }


async def _sum_by_type(session: AsyncSession, *where: ColumnElement[bool]) -> dict[str, int]:
    ledger = CreditLedgerEntry
    rows = await session.execute(
        select(ledger.credit_type, func.sum(ledger.amount)).where(*where).group_by(ledger.credit_type)
    )
    return {credit_type: int(total or 0) for credit_type, total in rows}


async def spend(
    session: AsyncSession,
    team: Team,
    plan: Plan,
    now: datetime,
    *,
    credit_type: str,
    amount: int,
    user_id: str | None = None,
    endpoint: str | None = None,
    note: str | None = None,
) -> None:
    if amount <= 0:
        return
    # Serialise a team's spends (a row lock on PostgreSQL, a no-op on SQLite, whose single writer
    # already refuses a stale transaction) so two concurrent spends cannot both see the same
    # balance and overdraw it. The lock is held until the caller's transaction ends.
    await session.execute(select(Team.id).where(Team.id == team.id).with_for_update())
    balance = (await balances(session, team, plan, now))[credit_type]
    if balance.left_over < amount:
        raise InsufficientCredits()
    session.add(
        CreditLedgerEntry(
            team_id=team.id,
            user_id=user_id,
            credit_type=credit_type,
            amount=-amount,
            endpoint=endpoint,
            note=note,
            created_at=now,
        )
    )
    CREDITS_SPENT.labels(credit_type=credit_type).inc(amount)


async def grant(
    session: AsyncSession,
    team: Team,
    now: datetime,
    *,
    credit_type: str,
    amount: int,
    note: str | None = None,
) -> None:
    if credit_type not in CREDIT_TYPES:
        raise ValueError(f"unknown credit type {credit_type!r}; one of {', '.join(CREDIT_TYPES)}")
    if amount <= 0:
        raise ValueError("a grant must be a positive number of credits")
    session.add(
        CreditLedgerEntry(team_id=team.id, credit_type=credit_type, amount=amount, note=note, created_at=now)
    )


async def charge(
    session: AsyncSession,
    caller: Caller,
    now: datetime,
    endpoint: str,
    *,
    credit_type: str = "lead_credit",
    amount: int = 1,
) -> None:
    """Spend the caller's team's credits for ``endpoint``, on behalf of the key's user (Apollo's
    422 when too few are left)."""
    await spend(
        session,
        caller.team,
        caller.plan,
        now,
        credit_type=credit_type,
        amount=amount,
        user_id=caller.user.id if caller.user else None,
        endpoint=endpoint,
    )
