"""The per-cycle running totals behind balances: they agree with the ledger, a charge costs the
same few statements however long the ledger is, concurrent spends cannot overdraw, cycles roll
over, and revision 0009 fills them from the ledger rows written before it."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from perilune.api.errors import InsufficientCredits
from perilune.auth import admin
from perilune.clock import FrozenClock
from perilune.db import migrate
from perilune.db.engine import create_engine, session_factory
from perilune.db.ids import new_id
from perilune.db.types import UTCDateTime
from perilune.metering import credits
from perilune.metering.credits import Balance, credit_cycle
from perilune.metering.plans import CREDIT_TYPES, Plan, resolve_plan
from perilune.models import CreditBalance, CreditLedgerEntry, Team
from perilune.runtime import Runtime
from tests.conftest import Database, Tenant
from tests.conftest import spend_credits as spend


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


async def ledger_balances(
    session: AsyncSession, team: Team, plan: Plan, now: datetime, user_id: str | None = None
) -> dict[str, Balance]:
    """The balances as the ledger alone has them: every row dated in the cycle summed, which is
    what balances() computed before the running totals."""
    start, end = credit_cycle(team.credit_cycle_anchor, now)
    ledger = CreditLedgerEntry
    rows = (
        await session.execute(
            select(ledger.credit_type, ledger.amount, ledger.user_id).where(
                ledger.team_id == team.id, ledger.created_at >= start, ledger.created_at < end
            )
        )
    ).all()
    granted = dict.fromkeys(CREDIT_TYPES, 0)
    consumed = dict.fromkeys(CREDIT_TYPES, 0)
    for credit_type, amount, spender in rows:
        if amount > 0:
            granted[credit_type] += amount
        elif user_id is None or spender == user_id:
            consumed[credit_type] -= amount
    return {kind: Balance(plan.credit_limit(kind) + granted[kind], consumed[kind]) for kind in CREDIT_TYPES}


async def both_views(
    sessions: async_sessionmaker[AsyncSession], team_id: str, now: datetime, user_id: str | None = None
) -> tuple[dict[str, Balance], dict[str, Balance]]:
    """(balances() from the counters, the ledger's own sums) at ``now``."""
    async with sessions() as session:
        team = await session.get(Team, team_id)
        assert team is not None
        plan = resolve_plan(team.plan, team.plan_overrides)
        counted = await credits.balances(session, team, plan, now, user_id=user_id)
        return counted, await ledger_balances(session, team, plan, now, user_id)


async def load_team(runtime: Runtime, team_id: str) -> Team:
    """A detached team: a spend made with it starts its transaction with the spend's own first
    statement (on SQLite a write, which waits its turn instead of holding a stale snapshot)."""
    async with runtime.sessions() as session:
        team = await session.get(Team, team_id)
        assert team is not None
        return team


async def counters(runtime: Runtime, team_id: str) -> dict[tuple[datetime, str], tuple[int, int]]:
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(
                CreditBalance.cycle_start,
                CreditBalance.credit_type,
                CreditBalance.granted,
                CreditBalance.spent,
            ).where(CreditBalance.team_id == team_id)
        )
        return {(start, kind): (granted, spent) for start, kind, granted, spent in rows}


async def grant(runtime: Runtime, clock: FrozenClock, team_id: str, credit_type: str, amount: int) -> None:
    async with runtime.sessions() as session, session.begin():
        team = await admin.find_team(session, team_id)
        await admin.grant_credits(session, team, credit_type, amount, clock.now(), None)


async def set_allowances(runtime: Runtime, team_id: str, allowances: dict[str, int]) -> None:
    async with runtime.sessions() as session, session.begin():
        team = await admin.find_team(session, team_id)
        await admin.set_plan(session, team, "custom", {"credits": allowances})


@asynccontextmanager
async def statements(session: AsyncSession) -> AsyncIterator[list[str]]:
    """Every SQL statement ``session`` sends while the block runs (not the app's background
    work on the same engine). Opens the session's transaction first: SQLite's BEGIN is a
    statement too."""
    connection = (await session.connection()).sync_connection
    engine = session.get_bind()
    sent: list[str] = []

    def record(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if conn is connection:
            sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


# ---------------------------------------------------------------------------------------------
# the counters agree with the ledger


async def test_counters_agree_with_the_ledger_through_random_grants_and_spends(
    runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    """Every spend is allowed exactly when the ledger's sums allow it, and every balance, the
    team's and each user's, is the ledger's, in every cycle visited."""
    await set_allowances(runtime, tenant.team_id, {"lead_credit": 40, "export_credit": 15, "ai_credit": 0})
    async with runtime.sessions() as session, session.begin():
        team = await admin.find_team(session, tenant.team_id)
        other = await admin.create_user(
            session, team, email="o@acme.test", first_name="O", last_name="T", now=clock.now()
        )
        users = [tenant.user_id, other.id, None]
    rng = random.Random(20260115)
    kinds = ("lead_credit", "export_credit", "ai_credit")
    visited = {clock.now()}
    for _ in range(120):
        # Mostly forward through four cycles, sometimes back into an earlier one.
        clock.set(clock.now() + timedelta(hours=rng.randint(-100, 150)))
        visited.add(clock.now())
        kind = rng.choice(kinds)
        if rng.random() < 0.15:
            await grant(runtime, clock, tenant.team_id, kind, rng.randint(1, 10))
            continue
        amount = rng.randint(1, 9)
        left = (await both_views(runtime.sessions, tenant.team_id, clock.now()))[1][kind].left_over
        try:
            await spend(runtime, clock, tenant.team_id, kind, amount, user_id=rng.choice(users))
        except InsufficientCredits:
            assert left < amount
        else:
            assert left >= amount
    for now in sorted(visited):
        for user_id in users:
            counted, summed = await both_views(runtime.sessions, tenant.team_id, now, user_id)
            assert counted == summed, (now, user_id)
    assert len({start for start, _ in await counters(runtime, tenant.team_id)}) >= 4


async def test_balances_read_one_statement(runtime: Runtime, clock: FrozenClock, tenant: Tenant) -> None:
    await spend(runtime, clock, tenant.team_id, "lead_credit", 3, user_id=tenant.user_id)
    team = await load_team(runtime, tenant.team_id)
    plan = resolve_plan(team.plan, team.plan_overrides)
    async with runtime.sessions() as session, session.begin():
        async with statements(session) as team_view:
            found = await credits.balances(session, team, plan, clock.now())
        async with statements(session) as user_view:
            mine = await credits.balances(session, team, plan, clock.now(), user_id=tenant.user_id)
    assert found["lead_credit"] == mine["lead_credit"] == Balance(10000, 3)
    assert len(team_view) == 1
    assert "credit_ledger" not in team_view[0]
    # A user's consumption is not counted per user: that variant also sums the user's ledger rows.
    assert len(user_view) == 2


# ---------------------------------------------------------------------------------------------
# a charge costs the same whatever the ledger holds


async def charge_statements(runtime: Runtime, clock: FrozenClock, team: Team) -> list[str]:
    plan = resolve_plan(team.plan, team.plan_overrides)
    async with runtime.sessions() as session, session.begin(), statements(session) as sent:
        await credits.spend(session, team, plan, clock.now(), credit_type="lead_credit", amount=1)
        await session.flush()
    return sent


async def test_a_charge_issues_the_same_statements_whatever_the_ledger_holds(
    runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    await set_allowances(runtime, tenant.team_id, {"lead_credit": 100_000})
    team = await load_team(runtime, tenant.team_id)
    first = await charge_statements(runtime, clock, team)  # creates the cycle's counter
    small = await charge_statements(runtime, clock, team)

    filled = 1_500
    async with runtime.sessions() as session, session.begin():
        plan = resolve_plan(team.plan, team.plan_overrides)
        for _ in range(filled):
            await credits.spend(session, team, plan, clock.now(), credit_type="lead_credit", amount=1)
    large = await charge_statements(runtime, clock, team)

    # Spend from the cycle's counter and record the ledger entry (the first charge of a cycle
    # also creates the counter and spends again): nothing reads the ledger.
    assert len(first) == 4
    assert len(small) == len(large) == 2
    assert small == large
    assert not any(s.lstrip().upper().startswith("SELECT") for s in large)
    async with runtime.sessions() as session:
        rows = await session.scalar(select(func.count()).select_from(CreditLedgerEntry))
    assert rows == filled + 3
    assert (await both_views(runtime.sessions, tenant.team_id, clock.now()))[0]["lead_credit"] == Balance(
        100_000, filled + 3
    )


# ---------------------------------------------------------------------------------------------
# concurrency


async def test_concurrent_spends_take_exactly_what_is_left(
    runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    """Twelve transactions, each holding its spend a moment before committing, race for the five
    credits left: five get one, seven are refused, nothing is overdrawn. PostgreSQL runs them at
    once (each waits on the counter's row lock); SQLite lets one writer in at a time."""
    await spend(runtime, clock, tenant.team_id, "lead_credit", 9_995)
    team = await load_team(runtime, tenant.team_id)
    plan = resolve_plan(team.plan, team.plan_overrides)

    async def spend_one() -> bool:
        async with runtime.sessions() as session, session.begin():
            try:
                await credits.spend(session, team, plan, clock.now(), credit_type="lead_credit", amount=1)
            except InsufficientCredits:
                return False
            await session.flush()
            await asyncio.sleep(0.05)
            return True

    outcomes = await asyncio.gather(*(spend_one() for _ in range(12)))
    assert outcomes.count(True) == 5
    counted, summed = await both_views(runtime.sessions, tenant.team_id, clock.now())
    assert counted["lead_credit"] == summed["lead_credit"] == Balance(10_000, 10_000)


async def test_a_spend_waits_for_a_concurrent_spend_of_its_type_only(
    runtime: Runtime, clock: FrozenClock, tenant: Tenant, database: Database
) -> None:
    """No team-wide lock: while one transaction holds its lead-credit spend, an export-credit
    spend of the same team goes through, and a lead-credit spend waits for the first to end."""
    if database.kind != "postgres":
        pytest.skip("SQLite has one writer at a time: every spend waits for the open one")
    team = await load_team(runtime, tenant.team_id)
    plan = resolve_plan(team.plan, team.plan_overrides)
    await spend(runtime, clock, tenant.team_id, "lead_credit", 1)  # the counter exists
    await spend(runtime, clock, tenant.team_id, "export_credit", 1)
    holding, release = asyncio.Event(), asyncio.Event()

    async def spend_of(kind: str, hold: bool = False) -> None:
        async with runtime.sessions() as session, session.begin():
            await credits.spend(session, team, plan, clock.now(), credit_type=kind, amount=1)
            if hold:
                holding.set()
                await release.wait()

    first = asyncio.create_task(spend_of("lead_credit", hold=True))
    await holding.wait()
    await asyncio.wait_for(spend_of("export_credit"), timeout=5)
    same_type = asyncio.create_task(spend_of("lead_credit"))
    await asyncio.sleep(0.3)
    assert not same_type.done()
    release.set()
    await asyncio.gather(first, same_type)
    found = (await both_views(runtime.sessions, tenant.team_id, clock.now()))[0]
    assert (found["lead_credit"].consumed, found["export_credit"].consumed) == (3, 2)


# ---------------------------------------------------------------------------------------------
# cycles and grants


async def test_a_new_cycle_starts_with_nothing_spent(
    runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    # The tenant's anchor is 2026-01-15 12:00: its first cycle ends 2026-02-15 12:00.
    await spend(runtime, clock, tenant.team_id, "lead_credit", 10_000)
    clock.set(at(2026, 2, 15, 11, 59))
    with pytest.raises(InsufficientCredits):
        await spend(runtime, clock, tenant.team_id, "lead_credit", 1)

    clock.set(at(2026, 2, 15, 12))
    assert (await both_views(runtime.sessions, tenant.team_id, clock.now()))[0]["lead_credit"] == Balance(
        10_000, 0
    )
    await spend(runtime, clock, tenant.team_id, "lead_credit", 10_000)
    with pytest.raises(InsufficientCredits):
        await spend(runtime, clock, tenant.team_id, "lead_credit", 1)
    # Every cycle keeps its own totals.
    assert await counters(runtime, tenant.team_id) == {
        (at(2026, 1, 15, 12), "lead_credit"): (0, 10_000),
        (at(2026, 2, 15, 12), "lead_credit"): (0, 10_000),
    }


async def test_a_grant_counts_in_the_cycle_it_falls_in(
    runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    await spend(runtime, clock, tenant.team_id, "export_credit", 5_000)
    await grant(runtime, clock, tenant.team_id, "export_credit", 7)
    await grant(runtime, clock, tenant.team_id, "export_credit", 3)
    await spend(runtime, clock, tenant.team_id, "export_credit", 10)
    with pytest.raises(InsufficientCredits):
        await spend(runtime, clock, tenant.team_id, "export_credit", 1)

    # A grant in the next cycle is not there to spend now, nor is this cycle's grant there later.
    clock.set(at(2026, 2, 20))
    await grant(runtime, clock, tenant.team_id, "export_credit", 100)
    clock.set(at(2026, 2, 1))
    with pytest.raises(InsufficientCredits):
        await spend(runtime, clock, tenant.team_id, "export_credit", 1)
    clock.set(at(2026, 2, 20))
    counted, summed = await both_views(runtime.sessions, tenant.team_id, clock.now())
    assert counted["export_credit"] == summed["export_credit"] == Balance(5_100, 0)
    assert await counters(runtime, tenant.team_id) == {
        (at(2026, 1, 15, 12), "export_credit"): (10, 5_010),
        (at(2026, 2, 15, 12), "export_credit"): (100, 0),
    }


async def test_a_spend_of_an_unknown_credit_type_is_a_mistake(
    runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    with pytest.raises(ValueError, match="unknown credit type"):
        await spend(runtime, clock, tenant.team_id, "gold_coins", 1)
    assert await counters(runtime, tenant.team_id) == {}


# ---------------------------------------------------------------------------------------------
# revision 0009 fills the counters from the ledger

# The tables as revision 0008 has them, so the test does not depend on later models.
_UTC = UTCDateTime(timezone=True)
_TEAMS_0008 = sa.table(
    "teams",
    sa.column("id", sa.String()),
    sa.column("name", sa.String()),
    sa.column("plan", sa.String()),
    sa.column("plan_overrides", sa.JSON()),
    sa.column("credit_cycle_anchor", _UTC),
    sa.column("created_at", _UTC),
)
_LEDGER_0008 = sa.table(
    "credit_ledger",
    sa.column("id", sa.String()),
    sa.column("team_id", sa.String()),
    sa.column("user_id", sa.String()),
    sa.column("credit_type", sa.String()),
    sa.column("amount", sa.Integer()),
    sa.column("created_at", _UTC),
)

# Team 1 is anchored on the 31st at 06:00: cycles start Jan 31, Feb 28, Mar 31, Apr 30 (06:00).
ANCHOR_31ST = at(2026, 1, 31, 6)
ONE_US = timedelta(microseconds=1)
LEDGER_31ST: list[tuple[str, int, datetime]] = [
    ("lead_credit", -4, at(2025, 12, 20)),  # before the anchor: the cycle from Nov 30
    ("lead_credit", 25, ANCHOR_31ST),  # exactly at the start
    ("lead_credit", -9_990, ANCHOR_31ST + timedelta(days=3)),
    ("lead_credit", -30, at(2026, 2, 28, 6) - ONE_US),  # the first cycle's last instant
    ("export_credit", -7, at(2026, 2, 28, 6)),  # the second cycle's first
    ("export_credit", 11, at(2026, 3, 15)),
    ("export_credit", -2, at(2026, 3, 31, 5, 59)),
    ("ai_credit", -40, at(2026, 3, 31, 6)),
    # Nothing in the cycle from Apr 30, then the one from May 31.
    ("lead_credit", -1, at(2026, 6, 1)),
    ("lead_credit", 2, at(2026, 6, 29)),
]
ANCHOR_MID = at(2025, 11, 5, 17, 45)
LEDGER_MID: list[tuple[str, int, datetime]] = [
    ("lead_credit", -12, at(2026, 1, 5, 17, 44)),
    ("lead_credit", -13, at(2026, 1, 5, 17, 45)),
    ("direct_dial_credit", 500, at(2026, 1, 20)),
    ("direct_dial_credit", -1_300, at(2026, 1, 21)),
]


async def _write_0008_ledger(url: str, schema: str | None) -> dict[str, datetime]:
    """Two teams with ledger rows and one without, as a database at 0008 has them."""
    anchors = {"t31": ANCHOR_31ST, "tmid": ANCHOR_MID, "tnone": at(2026, 1, 2)}
    ids = {name: new_id() for name in anchors}
    ledgers = {"t31": LEDGER_31ST, "tmid": LEDGER_MID, "tnone": []}
    engine = create_engine(url, schema=schema)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                _TEAMS_0008.insert(),
                [
                    {"id": ids[n], "name": n, "plan": "professional", "plan_overrides": {}}
                    | {"credit_cycle_anchor": anchor, "created_at": anchor}
                    for n, anchor in anchors.items()
                ],
            )
            rows = [
                {"id": new_id(), "team_id": ids[n], "user_id": None, "credit_type": kind}
                | {"amount": amount, "created_at": when}
                for n, ledger in ledgers.items()
                for kind, amount, when in ledger
            ]
            await connection.execute(_LEDGER_0008.insert(), rows)
    finally:
        await engine.dispose()
    return {ids[n]: anchors[n] for n in anchors}


def _moments(anchor: datetime, ledger: list[tuple[str, int, datetime]]) -> list[datetime]:
    """Each row's instant, the instant before, and a day into each cycle from the first row's
    to the cycle after the last."""
    moments = [when for _, _, when in ledger] + [when - ONE_US for _, _, when in ledger]
    first, last = min(moments, default=anchor), max(moments, default=anchor)
    start, end = credit_cycle(anchor, first)
    while start <= last + timedelta(days=40):
        moments.append(start + timedelta(days=1))
        start, end = credit_cycle(anchor, end)
    return moments


async def _compare_after_upgrade(url: str, schema: str | None, anchors: dict[str, datetime]) -> None:
    engine = create_engine(url, schema=schema)
    sessions = session_factory(engine)
    ledgers = dict(zip(anchors, (LEDGER_31ST, LEDGER_MID, []), strict=True))
    try:
        for team_id, anchor in anchors.items():
            for now in _moments(anchor, ledgers[team_id]):
                counted, summed = await both_views(sessions, team_id, now)
                assert counted == summed, (team_id, now)
        t31 = next(iter(anchors))
        # The figures themselves, for two cycles of the team anchored on the 31st.
        counted, _ = await both_views(sessions, t31, ANCHOR_31ST)
        assert counted["lead_credit"] == Balance(10_025, 10_020)
        counted, _ = await both_views(sessions, t31, at(2026, 3, 31, 5))
        assert (counted["lead_credit"], counted["export_credit"]) == (Balance(10_000, 0), Balance(5_011, 9))
        async with sessions() as session:
            rows = await session.execute(
                select(CreditBalance.team_id, func.count()).group_by(CreditBalance.team_id)
            )
            per_team = {team_id: int(count) for team_id, count in rows}
        # One row per type and cycle with entries: Nov 30, Jan 31 (lead), Feb 28 (export, three
        # entries), Mar 31 (ai), May 31 (lead); Dec 5 (lead), Jan 5 (lead, direct dial).
        assert per_team == {t31: 5, list(anchors)[1]: 3}
        # Spending carries on from the filled totals: 5 lead credits left in the first cycle.
        async with sessions() as session, session.begin():
            team = await session.get(Team, t31)
            assert team is not None
            plan = resolve_plan(team.plan, team.plan_overrides)
            now = ANCHOR_31ST + timedelta(days=10)
            await credits.spend(session, team, plan, now, credit_type="lead_credit", amount=5)
            with pytest.raises(InsufficientCredits):
                await credits.spend(session, team, plan, now, credit_type="lead_credit", amount=1)
    finally:
        await engine.dispose()


def test_revision_0009_fills_the_counters_from_the_ledger(database: Database) -> None:
    config = migrate.alembic_config(database.url, database.schema)
    command.downgrade(config, "0008")
    anchors = asyncio.run(_write_0008_ledger(database.url, database.schema))
    migrate.upgrade(database.url, database.schema)
    migrate.check(database.url, database.schema)
    asyncio.run(_compare_after_upgrade(database.url, database.schema, anchors))
