"""The queue's guarantees: no phantom jobs, no lost jobs, no job claimed twice while leased."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from perilune.auth import admin
from perilune.clock import FrozenClock
from perilune.config import Settings
from perilune.db.engine import engine_from_settings, session_factory
from perilune.jobs.queue import ClaimedJob, backoff, claim, complete, enqueue, fail, queue_depth
from perilune.models import Job, Team
from tests.conftest import Database
from tests.jobs import add_jobs, load


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    value = engine_from_settings(settings)
    yield value
    await value.dispose()


def ids(jobs: list[ClaimedJob]) -> list[str]:
    return [job.id for job in jobs]


async def test_a_rolled_back_change_leaves_no_job(engine: AsyncEngine, clock: FrozenClock) -> None:
    with pytest.raises(RuntimeError):
        async with session_factory(engine)() as session, session.begin():
            team = await admin.create_team(session, "Acme", "professional", clock.now())
            enqueue(session, "teams.welcome", {"team_id": team.id}, now=clock.now())
            await session.flush()  # the job reached the database, inside the transaction
            raise RuntimeError("the change failed")
    assert await queue_depth(engine) == {"queued": 0, "running": 0, "done": 0, "failed": 0}
    assert await claim(engine, "w1", clock.now(), 10) == []


async def test_a_committed_job_is_claimed_once(engine: AsyncEngine, clock: FrozenClock) -> None:
    async with session_factory(engine)() as session, session.begin():
        team = await admin.create_team(session, "Acme", "professional", clock.now())
        job = enqueue(session, "teams.welcome", {"team_id": team.id}, now=clock.now())
    [claimed] = await claim(engine, "w1", clock.now(), 10, lease=timedelta(seconds=30))
    assert claimed == ClaimedJob(job.id, "teams.welcome", {"team_id": team.id}, 1, 5, "w1")
    assert await claim(engine, "w2", clock.now(), 10) == []
    row = await load(engine, job.id)
    assert (row.status, row.locked_by, row.attempts) == ("running", "w1", 1)
    assert row.locked_until == clock.now() + timedelta(seconds=30)
    async with session_factory(engine)() as session:
        assert (await session.scalars(select(Team.name))).all() == ["Acme"]


async def test_a_job_waits_for_its_run_at(engine: AsyncEngine, clock: FrozenClock) -> None:
    [job_id] = await add_jobs(engine, clock, run_at=clock.now() + timedelta(minutes=5))
    assert await claim(engine, "w1", clock.now(), 10) == []
    clock.advance(300)
    assert ids(await claim(engine, "w1", clock.now(), 10)) == [job_id]


async def test_jobs_are_claimed_oldest_first_up_to_the_limit(engine: AsyncEngine, clock: FrozenClock) -> None:
    later = await add_jobs(engine, clock, 2)
    clock.advance(-60)
    earlier = await add_jobs(engine, clock, 1)
    clock.advance(60)
    assert ids(await claim(engine, "w1", clock.now(), 2)) == [earlier[0], min(later)]


async def test_two_concurrent_claimers_never_share_a_job(engine: AsyncEngine, clock: FrozenClock) -> None:
    job_ids = await add_jobs(engine, clock, 30)
    first, second = await asyncio.gather(
        claim(engine, "a", clock.now(), 30), claim(engine, "b", clock.now(), 30)
    )
    assert set(ids(first)).isdisjoint(ids(second))
    assert sorted(ids(first) + ids(second)) == sorted(job_ids)


async def test_many_concurrent_claimers_take_each_job_once(engine: AsyncEngine, clock: FrozenClock) -> None:
    job_ids = await add_jobs(engine, clock, 40)
    taken: list[str] = []
    while True:
        batches = await asyncio.gather(*(claim(engine, f"w{n}", clock.now(), 3) for n in range(6)))
        if not any(batches):
            break
        taken += [job.id for batch in batches for job in batch]
    assert sorted(taken) == sorted(job_ids)


async def test_postgres_claims_skip_rows_another_transaction_locked(
    database: Database, engine: AsyncEngine, clock: FrozenClock
) -> None:
    if database.kind != "postgres":
        pytest.skip("row locks are PostgreSQL's; SQLite claims serialize on BEGIN IMMEDIATE")
    locked, free = await add_jobs(engine, clock, 2)
    async with engine.connect() as holder, holder.begin():
        await holder.execute(select(Job.id).where(Job.id == locked).with_for_update())
        claimed = await asyncio.wait_for(claim(engine, "w1", clock.now(), 10), timeout=5)
    assert ids(claimed) == [free]
    assert ids(await claim(engine, "w2", clock.now(), 10)) == [locked]


async def test_complete_marks_the_job_done(engine: AsyncEngine, clock: FrozenClock) -> None:
    [job_id] = await add_jobs(engine, clock)
    [job] = await claim(engine, "w1", clock.now(), 1)
    clock.advance(2)
    assert await complete(engine, job, clock.now())
    row = await load(engine, job_id)
    assert (row.status, row.finished_at, row.locked_until, row.locked_by) == ("done", clock.now(), None, "w1")
    assert await claim(engine, "w1", clock.now() + timedelta(days=1), 1) == []


async def test_failures_retry_with_backoff_then_fail_for_good(
    engine: AsyncEngine, clock: FrozenClock
) -> None:
    [job_id] = await add_jobs(engine, clock, max_attempts=3)
    for attempt, wait in ((1, 10), (2, 20)):
        [job] = await claim(engine, "w1", clock.now(), 1)
        assert job.attempts == attempt
        assert await fail(engine, job, f"boom {attempt}", clock.now())
        row = await load(engine, job_id)
        assert (row.status, row.last_error, row.locked_until) == ("queued", f"boom {attempt}", None)
        assert row.run_at == clock.now() + timedelta(seconds=wait)
        clock.advance(wait - 1)
        assert await claim(engine, "w1", clock.now(), 1) == []
        clock.advance(1)
    [job] = await claim(engine, "w1", clock.now(), 1)
    assert job.attempts == 3
    assert await fail(engine, job, "boom for good", clock.now())
    row = await load(engine, job_id)
    assert (row.status, row.last_error, row.finished_at) == ("failed", "boom for good", clock.now())
    assert await claim(engine, "w1", clock.now() + timedelta(days=1), 1) == []


async def test_a_permanent_failure_skips_the_retries(engine: AsyncEngine, clock: FrozenClock) -> None:
    [job_id] = await add_jobs(engine, clock)
    [job] = await claim(engine, "w1", clock.now(), 1)
    assert await fail(engine, job, "cannot ever work", clock.now(), permanent=True)
    row = await load(engine, job_id)
    assert (row.status, row.attempts, row.last_error) == ("failed", 1, "cannot ever work")


def test_backoff_doubles_up_to_an_hour() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert backoff(12) == backoff(1000) == timedelta(hours=1)


async def test_a_crashed_workers_job_is_claimable_once_its_lease_lapses(
    engine: AsyncEngine, clock: FrozenClock
) -> None:
    [job_id] = await add_jobs(engine, clock)
    [crashed] = await claim(engine, "crashed", clock.now(), 1, lease=timedelta(seconds=60))
    clock.advance(60)
    assert await claim(engine, "w2", clock.now(), 1) == []
    clock.advance(1)
    [retaken] = await claim(engine, "w2", clock.now(), 1)
    assert (retaken.id, retaken.attempts, retaken.worker_id) == (job_id, 2, "w2")
    assert not await complete(engine, crashed, clock.now())  # a stale claim records nothing
    assert not await fail(engine, crashed, "late", clock.now())
    assert await complete(engine, retaken, clock.now())
    row = await load(engine, job_id)
    assert (row.status, row.locked_by, row.last_error) == ("done", "w2", None)


async def test_a_lease_lapsing_on_the_last_attempt_fails_the_job(
    engine: AsyncEngine, clock: FrozenClock
) -> None:
    [job_id] = await add_jobs(engine, clock, max_attempts=1)
    await claim(engine, "crashed", clock.now(), 1, lease=timedelta(seconds=60))
    clock.advance(61)
    assert await claim(engine, "w2", clock.now(), 1) == []
    row = await load(engine, job_id)
    assert (row.status, row.finished_at) == ("failed", clock.now())
    assert row.last_error == "the lease lapsed on the last attempt (worker crashed)"


async def test_queue_depth_counts_jobs_by_status(engine: AsyncEngine, clock: FrozenClock) -> None:
    await add_jobs(engine, clock, 3, max_attempts=1)
    await add_jobs(engine, clock, 2, run_at=clock.now() + timedelta(hours=1))
    done, failed, running = await claim(engine, "w1", clock.now(), 3)
    await complete(engine, done, clock.now())
    await fail(engine, failed, "boom", clock.now())
    assert running.attempts == 1
    assert await queue_depth(engine) == {"queued": 2, "running": 1, "done": 1, "failed": 1}


async def test_enqueue_rejects_a_job_that_could_never_run(engine: AsyncEngine, clock: FrozenClock) -> None:
    async with session_factory(engine)() as session:
        with pytest.raises(ValueError, match="kind"):
            enqueue(session, "", {}, now=clock.now())
        with pytest.raises(ValueError, match="max_attempts"):
            enqueue(session, "test.echo", {}, now=clock.now(), max_attempts=0)
