"""Apollo-shaped ids and the UTC datetime column type."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from perilune.db.engine import create_engine
from perilune.db.ids import ID_PATTERN, is_valid_id, new_id
from perilune.db.types import UTCDateTime
from perilune.models import Team
from tests.conftest import Database

POSTGRES: Dialect = create_async_engine("postgresql+asyncpg://localhost/unused").dialect

# ---------------------------------------------------------------------------------------------
# ids


def test_new_id_shape() -> None:
    for _ in range(100):
        value = new_id()
        assert len(value) == 24
        assert value == value.lower()
        assert all(c in "0123456789abcdef" for c in value)
        assert is_valid_id(value)


def test_new_id_starts_with_the_timestamp() -> None:
    assert new_id(0).startswith("00000000")
    assert new_id(1_724_439_384.067).startswith(f"{1_724_439_384:08x}")
    assert new_id(1_724_439_384).startswith("66c8db58")
    before = int(time.time())
    value = new_id()
    after = int(time.time())
    assert before <= int(value[:8], 16) <= after


def test_new_id_sorts_by_time() -> None:
    earlier, later = new_id(1_700_000_000), new_id(1_700_000_001)
    assert earlier < later
    first, second, third = new_id(1_000_000_000), new_id(1_500_000_000), new_id(2_000_000_000)
    assert sorted([third, first, second]) == [first, second, third]


def test_new_id_is_unique() -> None:
    values = {new_id() for _ in range(20_000)}
    assert len(values) == 20_000
    same_second = {new_id(1_700_000_000) for _ in range(20_000)}
    assert len(same_second) == 20_000


@pytest.mark.parametrize(
    "value",
    [
        "",
        "66c8dc58",
        "66C8DC58A1B2C3D4E5F60718",
        "66c8dc58a1b2c3d4e5f6071",
        "66c8dc58a1b2c3d4e5f607189",
        "66c8dc58a1b2c3d4e5f6071g",
        "66c8dc58a1b2c3d4e5f60718\n",
        " 66c8dc58a1b2c3d4e5f60718",
    ],
)
def test_is_valid_id_rejects(value: str) -> None:
    assert not is_valid_id(value)
    assert ID_PATTERN.match(value) is None


def test_is_valid_id_accepts_apollo_ids() -> None:
    assert is_valid_id("66c8dc58a1b2c3d4e5f60718")
    assert is_valid_id("5f6b2a1c9d3e4f0012345678")
    assert ID_PATTERN.match("66c8dc58a1b2c3d4e5f60718")


# ---------------------------------------------------------------------------------------------
# UTCDateTime, in isolation


def test_bind_converts_to_utc() -> None:
    kind = UTCDateTime()
    plus_two = datetime(2026, 3, 1, 14, 30, tzinfo=timezone(timedelta(hours=2)))
    bound = kind.process_bind_param(plus_two, sqlite.dialect())
    assert bound == datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    assert bound is not None and bound.utcoffset() == timedelta(0)
    assert kind.process_bind_param(None, sqlite.dialect()) is None


def test_bind_rejects_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(datetime(2026, 3, 1, 12, 30), POSTGRES)


def test_result_is_always_aware_utc() -> None:
    kind = UTCDateTime()
    naive = kind.process_result_value(datetime(2026, 3, 1, 12, 30), sqlite.dialect())
    assert naive == datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    assert naive is not None and naive.tzinfo is UTC
    offset = kind.process_result_value(
        datetime(2026, 3, 1, 7, 30, tzinfo=timezone(timedelta(hours=-5))), POSTGRES
    )
    assert offset == datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    assert offset is not None and offset.tzinfo is UTC
    assert kind.process_result_value(None, sqlite.dialect()) is None


# ---------------------------------------------------------------------------------------------
# UTCDateTime through a real database


@pytest.fixture
async def engine(database: Database) -> AsyncIterator[AsyncEngine]:
    value = create_engine(database.url, schema=database.schema)
    try:
        yield value
    finally:
        await value.dispose()


@pytest.fixture
async def moments(engine: AsyncEngine) -> AsyncIterator[Table]:
    table = Table(
        f"moments_{uuid.uuid4().hex[:8]}",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("at", UTCDateTime(), nullable=True),
    )
    async with engine.begin() as connection:
        await connection.run_sync(table.create)
    try:
        yield table
    finally:
        async with engine.begin() as connection:
            await connection.run_sync(table.drop)


AWARE = [
    datetime(2024, 8, 23, 18, 56, 24, 67891, tzinfo=UTC),
    datetime(2026, 1, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 3, 29, 2, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    datetime(1999, 12, 31, 19, 0, tzinfo=timezone(timedelta(hours=-5))),
]


async def test_round_trip_aware_datetimes(engine: AsyncEngine, moments: Table) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            moments.insert(),
            [{"id": i, "at": value} for i, value in enumerate(AWARE)] + [{"id": 99, "at": None}],
        )
    async with engine.connect() as connection:
        rows = dict((await connection.execute(select(moments.c.id, moments.c.at))).all())
    for i, value in enumerate(AWARE):
        assert rows[i] == value  # the same instant, microseconds kept
        assert rows[i].tzinfo is UTC
        assert rows[i].utcoffset() == timedelta(0)
    assert rows[99] is None


async def test_comparisons_use_the_instant(engine: AsyncEngine, moments: Table) -> None:
    async with engine.begin() as connection:
        await connection.execute(moments.insert(), [{"id": i, "at": value} for i, value in enumerate(AWARE)])
    # 2026-01-31 23:59:59 UTC is 2026-02-01 05:29:59 at +05:30: expressed either way, same answer.
    cut = datetime(2026, 2, 1, 5, 29, 59, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    async with engine.connect() as connection:
        later = set((await connection.execute(select(moments.c.id).where(moments.c.at > cut))).scalars())
        ordered = list((await connection.execute(select(moments.c.id).order_by(moments.c.at))).scalars())
    assert later == {1, 2}
    assert ordered == [3, 0, 1, 2]


async def test_naive_datetimes_are_refused(engine: AsyncEngine, moments: Table) -> None:
    async with engine.begin() as connection:
        with pytest.raises(StatementError) as raised:
            await connection.execute(moments.insert(), {"id": 1, "at": datetime(2026, 1, 1)})
        assert isinstance(raised.value.orig, ValueError)
    async with engine.connect() as connection:
        assert (await connection.execute(select(moments.c.id))).all() == []


async def test_orm_rows_get_ids_and_aware_timestamps(engine: AsyncEngine) -> None:
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    anchor = datetime(2026, 1, 31, 10, tzinfo=timezone(timedelta(hours=-3)))
    started = int(time.time())
    async with sessions() as session, session.begin():
        team = Team(name="Ids", plan="professional", plan_overrides={}, credit_cycle_anchor=anchor)
        session.add(team)
        await session.flush()
        team_id = team.id
    assert is_valid_id(team_id)
    assert started - 1 <= int(team_id[:8], 16) <= int(time.time()) + 1
    async with sessions() as session:
        loaded = await session.get(Team, team_id)
        assert loaded is not None
        assert loaded.credit_cycle_anchor == datetime(2026, 1, 31, 13, tzinfo=UTC)
        assert loaded.credit_cycle_anchor.tzinfo is UTC
        assert loaded.created_at.tzinfo is UTC
        assert abs(loaded.created_at - datetime.now(UTC)) < timedelta(minutes=5)
