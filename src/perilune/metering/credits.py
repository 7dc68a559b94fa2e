"""The credit ledger: grants and spends per team and credit type, counted within the team's
current monthly credit cycle. Spending more than is left raises Apollo's insufficient-credits
answer and records nothing.

Every grant and spend also moves its cycle's running totals (``credit_balances``), which is
what balances are read from: a charge costs a constant few statements however long the ledger
grows. The ledger stays the history, and the source of per-user consumption."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, func, insert, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from perilune.api.errors import InsufficientCredits
from perilune.auth.context import Caller
from perilune.db.dialect import insert_ignoring_conflicts
from perilune.metering.plans import CREDIT_TYPES, Plan
from perilune.models import CreditBalance, CreditLedgerEntry, Team
from perilune.observability.metrics import CREDITS_SPENT

_BALANCES: Table = cast(Table, CreditBalance.__table__)
_LEDGER: Table = cast(Table, CreditLedgerEntry.__table__)


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
    c = _BALANCES.c
    rows = await session.execute(
        select(c.credit_type, c.granted, c.spent).where(c.team_id == team.id, c.cycle_start == start)
    )
    granted: dict[str, int] = {}
    consumed: dict[str, int] = {}
    for credit_type, granted_in_cycle, spent_in_cycle in rows:
        granted[credit_type], consumed[credit_type] = granted_in_cycle, spent_in_cycle
    if user_id is not None:
        consumed = await _spent_by(session, team, user_id, start, end)
    return {
        kind: Balance(limit=plan.credit_limit(kind) + granted.get(kind, 0), consumed=consumed.get(kind, 0))
        for kind in CREDIT_TYPES
    }


async def _spent_by(
    session: AsyncSession, team: Team, user_id: str, start: datetime, end: datetime
) -> dict[str, int]:
    """What one user spent in the cycle, per credit type: the counters are per team only, so
    this sums that user's ledger rows."""
    ledger = CreditLedgerEntry
    rows = await session.execute(
        select(ledger.credit_type, func.sum(ledger.amount))
        .where(
            ledger.team_id == team.id,
            ledger.created_at >= start,
            ledger.created_at < end,
            ledger.amount < 0,
            ledger.user_id == user_id,
        )
        .group_by(ledger.credit_type)
    )
    return {credit_type: -int(total or 0) for credit_type, total in rows}


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
    _known(credit_type)
    start, _ = credit_cycle(team.credit_cycle_anchor, now)
    allowance = plan.credit_limit(credit_type)
    # The counter exists after a team's first charge of a cycle: try the spend first and create
    # the counter only when the spend found nothing to update (first charge, or too few left).
    if not await _take(session, team, start, credit_type, amount, allowance):
        await _counter(session, team, now, credit_type)
        if not await _take(session, team, start, credit_type, amount, allowance):
            raise InsufficientCredits()
    row = {
        "team_id": team.id,
        "user_id": user_id,
        "credit_type": credit_type,
        "amount": -amount,
        "endpoint": endpoint,
        "note": note,
        "created_at": now,
    }
    # A Core insert, not session.add: a charge is on every enrichment's path, and the ORM's
    # unit of work costs several times the statement.
    await session.execute(insert(_LEDGER), [row])
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
    """Add ``amount`` credits to the cycle that contains ``now``."""
    _known(credit_type)
    if amount <= 0:
        raise ValueError("a grant must be a positive number of credits")
    start = await _counter(session, team, now, credit_type)
    c = _BALANCES.c
    await session.execute(
        update(_BALANCES).where(*_key(team, start, credit_type)).values(granted=c.granted + amount)
    )
    session.add(
        CreditLedgerEntry(team_id=team.id, credit_type=credit_type, amount=amount, note=note, created_at=now)
    )


async def _counter(session: AsyncSession, team: Team, now: datetime, credit_type: str) -> datetime:
    """Make sure the counter of ``credit_type`` in the cycle containing ``now`` exists (a
    concurrent first charge may be creating it too), and return that cycle's start."""
    start, _ = credit_cycle(team.credit_cycle_anchor, now)
    fresh = {"team_id": team.id, "cycle_start": start, "credit_type": credit_type, "granted": 0, "spent": 0}
    dialect = session.get_bind().dialect.name
    await session.execute(insert_ignoring_conflicts(dialect, _BALANCES), [fresh])
    return start


async def _take(
    session: AsyncSession, team: Team, start: datetime, credit_type: str, amount: int, allowance: int
) -> bool:
    """Add ``amount`` to the cycle's spent if ``allowance`` + granted still covers it."""
    # One conditional UPDATE both checks and spends, so no team lock is needed: on PostgreSQL a
    # concurrent spend of the same counter waits for this transaction's row lock and then
    # re-evaluates the WHERE against the committed row (READ COMMITTED), so it sees this spend and
    # cannot overdraw; SQLite has a single writer. Counters of other credit types stay free, and
    # a transaction charging several types locks them in the order it charges them (enrichment:
    # email before phone, always).
    c = _BALANCES.c
    taken = await session.execute(
        update(_BALANCES)
        .where(*_key(team, start, credit_type), c.spent + amount <= c.granted + allowance)
        .values(spent=c.spent + amount)
    )
    # execute()'s type hides that an UPDATE's result is a CursorResult, with a rowcount.
    return cast("CursorResult[Any]", taken).rowcount == 1


def _known(credit_type: str) -> None:
    if credit_type not in CREDIT_TYPES:
        raise ValueError(f"unknown credit type {credit_type!r}; one of {', '.join(CREDIT_TYPES)}")


def _key(team: Team, cycle_start: datetime, credit_type: str) -> tuple[ColumnElement[bool], ...]:
    c = _BALANCES.c
    return (c.team_id == team.id, c.cycle_start == cycle_start, c.credit_type == credit_type)


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
