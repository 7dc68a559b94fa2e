"""The credit ledger: cycles, balances, grants and spends."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from perilune.api.errors import InsufficientCredits
from perilune.auth import admin
from perilune.auth.admin import AdminError
from perilune.clock import FrozenClock
from perilune.metering import credits
from perilune.metering.credits import Balance, add_months, credit_cycle
from perilune.metering.plans import CREDIT_TYPES, PLANS, resolve_plan
from perilune.models import CreditLedgerEntry, Team
from perilune.runtime import Runtime
from tests.conftest import Database, Tenant, make_tenant
from tests.conftest import spend_credits as spend


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------
# add_months and credit_cycle


@pytest.mark.parametrize(
    ("months", "expected"),
    [
        (0, at(2026, 1, 31, 8, 15)),
        (1, at(2026, 2, 28, 8, 15)),
        (2, at(2026, 3, 31, 8, 15)),
        (3, at(2026, 4, 30, 8, 15)),
        (11, at(2026, 12, 31, 8, 15)),
        (12, at(2027, 1, 31, 8, 15)),
        (25, at(2028, 2, 29, 8, 15)),  # a leap year
        (-1, at(2025, 12, 31, 8, 15)),
        (-2, at(2025, 11, 30, 8, 15)),
        (-11, at(2025, 2, 28, 8, 15)),
        (-12, at(2025, 1, 31, 8, 15)),
        (-13, at(2024, 12, 31, 8, 15)),
    ],
)
def test_add_months_clamps_to_the_month_end(months: int, expected: datetime) -> None:
    assert add_months(at(2026, 1, 31, 8, 15), months) == expected


def test_add_months_keeps_time_and_zone() -> None:
    start = datetime(2026, 5, 17, 23, 59, 58, 123456, tzinfo=UTC)
    moved = add_months(start, 1)
    assert moved == datetime(2026, 6, 17, 23, 59, 58, 123456, tzinfo=UTC)
    assert moved.tzinfo is UTC


def test_add_months_from_a_leap_day() -> None:
    leap = at(2028, 2, 29)
    assert add_months(leap, 12) == at(2029, 2, 28)
    assert add_months(leap, 48) == at(2032, 2, 29)
    assert add_months(leap, 1) == at(2028, 3, 29)


@pytest.mark.parametrize(
    ("now", "start", "end"),
    [
        (at(2026, 1, 31, 0, 0), at(2026, 1, 31), at(2026, 2, 28)),
        (at(2026, 2, 15), at(2026, 1, 31), at(2026, 2, 28)),
        (at(2026, 2, 27, 23, 59), at(2026, 1, 31), at(2026, 2, 28)),
        (at(2026, 2, 28), at(2026, 2, 28), at(2026, 3, 31)),
        (at(2026, 3, 30, 23, 59), at(2026, 2, 28), at(2026, 3, 31)),
        # No drift: after February's 28th the cycle is back on the 31st.
        (at(2026, 3, 31), at(2026, 3, 31), at(2026, 4, 30)),
        (at(2026, 5, 1), at(2026, 4, 30), at(2026, 5, 31)),
        (at(2028, 2, 29, 12), at(2028, 2, 29), at(2028, 3, 31)),
        (at(2028, 2, 28, 12), at(2028, 1, 31), at(2028, 2, 29)),
    ],
)
def test_credit_cycle_anchored_on_jan_31(now: datetime, start: datetime, end: datetime) -> None:
    assert credit_cycle(at(2026, 1, 31), now) == (start, end)


def test_credit_cycle_respects_the_anchors_time_of_day() -> None:
    anchor = at(2026, 1, 15, 12)
    assert credit_cycle(anchor, at(2026, 2, 15, 11, 59)) == (anchor, at(2026, 2, 15, 12))
    assert credit_cycle(anchor, at(2026, 2, 15, 12)) == (at(2026, 2, 15, 12), at(2026, 3, 15, 12))
    assert credit_cycle(anchor, anchor) == (anchor, at(2026, 2, 15, 12))


def test_credit_cycle_before_the_anchor() -> None:
    anchor = at(2026, 1, 15, 12)
    assert credit_cycle(anchor, at(2025, 12, 20)) == (at(2025, 12, 15, 12), anchor)
    assert credit_cycle(anchor, at(2026, 1, 15, 11, 59)) == (at(2025, 12, 15, 12), anchor)
    assert credit_cycle(anchor, at(2025, 12, 15, 11, 59)) == (at(2025, 11, 15, 12), at(2025, 12, 15, 12))
    assert credit_cycle(anchor, at(2024, 3, 1)) == (at(2024, 2, 15, 12), at(2024, 3, 15, 12))


def test_credit_cycle_with_a_non_utc_now() -> None:
    anchor = at(2026, 1, 15, 12)
    # 2026-02-15 13:30 at +02:00 is 11:30 UTC: still the first cycle.
    local = datetime(2026, 2, 15, 13, 30, tzinfo=timezone(timedelta(hours=2)))
    assert credit_cycle(anchor, local) == (anchor, at(2026, 2, 15, 12))


def test_credit_cycle_when_now_is_in_another_month_locally() -> None:
    anchor = at(2026, 1, 31, 23, 30)
    # 2026-02-01 01:00 at +02:00 is 2026-01-31 23:00 UTC: half an hour before the anchor.
    local = datetime(2026, 2, 1, 1, 0, tzinfo=timezone(timedelta(hours=2)))
    start, end = credit_cycle(anchor, local)
    assert start <= local < end
    assert (start, end) == (at(2025, 12, 31, 23, 30), anchor)
    # And the other way: 2026-02-28 20:00 at -05:00 is 2026-03-01 01:00 UTC, after Feb 28 23:30.
    behind = datetime(2026, 2, 28, 20, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert credit_cycle(anchor, behind) == (at(2026, 2, 28, 23, 30), at(2026, 3, 31, 23, 30))


def test_credit_cycles_tile_time_without_gaps_or_drift() -> None:
    rng = random.Random(20260131)
    anchors = [at(2026, 1, 31, 6), at(2025, 8, 30), at(2024, 2, 29, 23, 59), at(2026, 3, 1)]
    for anchor in anchors:
        # Consecutive cycles meet end to start, and every start is the anchor's day clamped.
        start, end = credit_cycle(anchor, anchor)
        for _ in range(40):
            next_start, next_end = credit_cycle(anchor, end)
            assert next_start == end
            assert next_start.day == min(anchor.day, _month_length(next_start))
            assert (next_start.hour, next_start.minute) == (anchor.hour, anchor.minute)
            start, end = next_start, next_end
        for _ in range(300):
            now = anchor + timedelta(seconds=rng.randint(-3 * 365 * 86400, 5 * 365 * 86400))
            start, end = credit_cycle(anchor, now)
            assert start <= now < end
            assert 28 <= (end - start).days <= 31


def _month_length(when: datetime) -> int:
    return (add_months(when.replace(day=1), 1) - when.replace(day=1)).days


def test_balance_arithmetic() -> None:
    balance = Balance(limit=100, consumed=30)
    assert balance.left_over == 70
    assert balance.as_dict() == {"limit": 100, "consumed": 30, "left_over": 70}
    assert Balance(limit=0, consumed=0).as_dict() == {"limit": 0, "consumed": 0, "left_over": 0}


# ---------------------------------------------------------------------------------------------
# the ledger, on SQLite and PostgreSQL


async def ledger_rows(runtime: Runtime, team_id: str) -> int:
    async with runtime.sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(CreditLedgerEntry).where(CreditLedgerEntry.team_id == team_id)
        )
        return int(count or 0)


async def load_balances(
    runtime: Runtime, clock: FrozenClock, team_id: str, user_id: str | None = None
) -> dict[str, Balance]:
    async with runtime.sessions() as session:
        team = await session.get(Team, team_id)
        assert team is not None
        plan = resolve_plan(team.plan, team.plan_overrides)
        return await credits.balances(session, team, plan, clock.now(), user_id=user_id)


async def test_fresh_balances_are_the_plans_allowance(
    runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    found = await load_balances(runtime, clock, tenant.team_id)
    assert list(found) == list(CREDIT_TYPES)
    for credit_type, balance in found.items():
        assert balance == Balance(PLANS["professional"].credit_limit(credit_type), 0)


async def test_spend_records_a_negative_ledger_entry(
    runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    await spend(runtime, clock, tenant.team_id, "lead_credit", 7, user_id=tenant.user_id)
    async with runtime.sessions() as session:
        entries = (
            (
                await session.execute(
                    select(CreditLedgerEntry).where(CreditLedgerEntry.team_id == tenant.team_id)
                )
            )
            .scalars()
            .all()
        )
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.credit_type, entry.amount, entry.user_id) == ("lead_credit", -7, tenant.user_id)
    assert entry.endpoint == "api/v1/people/match"
    assert entry.note == "test"
    assert entry.created_at == clock.now()
    assert (await load_balances(runtime, clock, tenant.team_id))["lead_credit"] == Balance(10000, 7)


async def test_spend_up_to_the_last_credit_then_refuse(
    runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    await admin_grant(runtime, clock, tenant.team_id, "direct_dial_credit", 5)
    await spend(runtime, clock, tenant.team_id, "direct_dial_credit", 1000, user_id=tenant.user_id)
    await spend(runtime, clock, tenant.team_id, "direct_dial_credit", 5)
    assert (await load_balances(runtime, clock, tenant.team_id))["direct_dial_credit"] == Balance(1005, 1005)
    rows = await ledger_rows(runtime, tenant.team_id)

    with pytest.raises(InsufficientCredits) as raised:
        await spend(runtime, clock, tenant.team_id, "direct_dial_credit", 1)
    assert raised.value.status_code == 422
    assert raised.value.body() == {"error": "Insufficient credits. Please upgrade your plan."}
    assert await ledger_rows(runtime, tenant.team_id) == rows
    assert (await load_balances(runtime, clock, tenant.team_id))["direct_dial_credit"] == Balance(1005, 1005)


async def test_overspending_records_nothing(runtime: Runtime, clock: FrozenClock, tenant: Tenant) -> None:
    await spend(runtime, clock, tenant.team_id, "ai_credit", 1500)
    before = await ledger_rows(runtime, tenant.team_id)
    # 501 asked, 500 left: refused whole, nothing partial is charged.
    with pytest.raises(InsufficientCredits):
        await spend(runtime, clock, tenant.team_id, "ai_credit", 501, user_id=tenant.user_id)
    assert await ledger_rows(runtime, tenant.team_id) == before
    assert (await load_balances(runtime, clock, tenant.team_id))["ai_credit"] == Balance(2000, 1500)
    # Refused even within one session that goes on to commit.
    async with runtime.sessions() as session, session.begin():
        team = await session.get(Team, tenant.team_id)
        assert team is not None
        with pytest.raises(InsufficientCredits):
            await credits.spend(
                session, team, resolve_plan(team.plan), clock.now(), credit_type="ai_credit", amount=10_000
            )
    assert await ledger_rows(runtime, tenant.team_id) == before


async def test_spending_a_type_the_plan_lacks_is_refused(runtime: Runtime, clock: FrozenClock) -> None:
    free = await make_tenant(runtime, clock, name="Freebie", plan="free")
    with pytest.raises(InsufficientCredits):
        await spend(runtime, clock, free.team_id, "power_up_credit", 1)
    assert await ledger_rows(runtime, free.team_id) == 0


async def test_spending_nothing_is_a_no_op(runtime: Runtime, clock: FrozenClock, tenant: Tenant) -> None:
    await spend(runtime, clock, tenant.team_id, "lead_credit", 0)
    await spend(runtime, clock, tenant.team_id, "lead_credit", -5)
    assert await ledger_rows(runtime, tenant.team_id) == 0


async def test_balances_per_user(runtime: Runtime, clock: FrozenClock, tenant: Tenant) -> None:
    async with runtime.sessions() as session, session.begin():
        team = await admin.find_team(session, tenant.team_id)
        other = await admin.create_user(
            session, team, email="other@acme.test", first_name="O", last_name="T", now=clock.now()
        )
        other_id = other.id
    await spend(runtime, clock, tenant.team_id, "lead_credit", 3, user_id=tenant.user_id)
    await spend(runtime, clock, tenant.team_id, "lead_credit", 4, user_id=other_id)
    await spend(runtime, clock, tenant.team_id, "export_credit", 9, user_id=other_id)
    await admin_grant(runtime, clock, tenant.team_id, "lead_credit", 10)

    team_view = await load_balances(runtime, clock, tenant.team_id)
    mine = await load_balances(runtime, clock, tenant.team_id, tenant.user_id)
    theirs = await load_balances(runtime, clock, tenant.team_id, other_id)
    assert team_view["lead_credit"] == Balance(10010, 7)
    # A user's view keeps the team's limit, with that user's consumption.
    assert mine["lead_credit"] == Balance(10010, 3)
    assert mine["export_credit"] == Balance(5000, 0)
    assert theirs["lead_credit"] == Balance(10010, 4)
    assert theirs["export_credit"] == Balance(5000, 9)


async def test_grants_and_spends_count_in_their_cycle_only(
    runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    # The tenant's anchor is 2026-01-15 12:00.
    await admin_grant(runtime, clock, tenant.team_id, "lead_credit", 100)
    await spend(runtime, clock, tenant.team_id, "lead_credit", 10)
    clock.set(at(2026, 2, 15, 11, 59))
    await spend(runtime, clock, tenant.team_id, "lead_credit", 1)
    assert (await load_balances(runtime, clock, tenant.team_id))["lead_credit"] == Balance(10100, 11)
    clock.set(at(2026, 2, 15, 12))
    assert (await load_balances(runtime, clock, tenant.team_id))["lead_credit"] == Balance(10000, 0)
    await spend(runtime, clock, tenant.team_id, "lead_credit", 2)
    assert (await load_balances(runtime, clock, tenant.team_id))["lead_credit"] == Balance(10000, 2)
    # Looking back at the first cycle still sees it as it was.
    clock.set(at(2026, 1, 20))
    assert (await load_balances(runtime, clock, tenant.team_id))["lead_credit"] == Balance(10100, 11)


async def test_another_teams_ledger_is_invisible(
    runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    other = await make_tenant(runtime, clock, name="Beta")
    await admin_grant(runtime, clock, other.team_id, "lead_credit", 10)
    await spend(runtime, clock, other.team_id, "lead_credit", 10_005)
    assert (await load_balances(runtime, clock, tenant.team_id))["lead_credit"] == Balance(10000, 0)
    assert (await load_balances(runtime, clock, other.team_id))["lead_credit"] == Balance(10010, 10_005)


async def test_custom_plan_allowances_apply(runtime: Runtime, clock: FrozenClock, tenant: Tenant) -> None:
    async with runtime.sessions() as session, session.begin():
        team = await admin.find_team(session, tenant.team_id)
        await admin.set_plan(session, team, "custom", {"credits": {"lead_credit": 3, "dialer": 0}})
    found = await load_balances(runtime, clock, tenant.team_id)
    assert found["lead_credit"] == Balance(3, 0)
    assert found["dialer"] == Balance(0, 0)
    assert found["export_credit"] == Balance(5000, 0)
    await spend(runtime, clock, tenant.team_id, "lead_credit", 3)
    with pytest.raises(InsufficientCredits):
        await spend(runtime, clock, tenant.team_id, "lead_credit", 1)


@pytest.mark.parametrize(
    ("credit_type", "amount", "message"),
    [
        ("gold_coins", 5, "unknown credit type"),
        ("lead_credit", 0, "positive"),
        ("lead_credit", -3, "positive"),
    ],
)
async def test_bad_grants_are_refused(
    runtime: Runtime, clock: FrozenClock, tenant: Tenant, credit_type: str, amount: int, message: str
) -> None:
    with pytest.raises(AdminError, match=message):
        await admin_grant(runtime, clock, tenant.team_id, credit_type, amount)
    assert await ledger_rows(runtime, tenant.team_id) == 0


async def admin_grant(
    runtime: Runtime, clock: FrozenClock, team_id: str, credit_type: str, amount: int
) -> None:
    async with runtime.sessions() as session, session.begin():
        team = await admin.find_team(session, team_id)
        await admin.grant_credits(session, team, credit_type, amount, clock.now(), None)


async def test_concurrent_spends_never_overdraw(
    runtime: Runtime, clock: FrozenClock, tenant: Tenant, database: Database
) -> None:
    await spend(runtime, clock, tenant.team_id, "lead_credit", 9990)  # 10 left
    release = asyncio.Event()
    spent: list[str] = []

    async def spend_six(name: str, hold: asyncio.Event | None) -> None:
        async with runtime.sessions() as session, session.begin():
            team = await session.get(Team, tenant.team_id)
            assert team is not None
            await credits.spend(
                session, team, resolve_plan(team.plan), clock.now(), credit_type="lead_credit", amount=6
            )
            await session.flush()
            if hold is not None:
                await hold.wait()
        spent.append(name)

    first = asyncio.create_task(spend_six("first", release))
    await asyncio.sleep(0.2)  # the first spend is made, not yet committed
    second = asyncio.create_task(spend_six("second", None))
    await asyncio.sleep(0.3)
    release.set()
    outcomes = await asyncio.gather(first, second, return_exceptions=True)

    assert outcomes[0] is None
    assert spent == ["first"]
    if database.kind == "postgres":
        # The second spend waited for the first and then saw too little left.
        assert isinstance(outcomes[1], InsufficientCredits)
    else:
        # SQLite refuses the second writer's stale transaction outright, if not already refused.
        assert isinstance(outcomes[1], InsufficientCredits | OperationalError)
    assert (await load_balances(runtime, clock, tenant.team_id))["lead_credit"] == Balance(10000, 9996)
