"""Durable background jobs, on SQLite and PostgreSQL. Helpers shared by the queue and worker tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from perilune.clock import FrozenClock
from perilune.db.engine import session_factory
from perilune.jobs.queue import enqueue
from perilune.models import Job


async def add_jobs(
    engine: AsyncEngine, clock: FrozenClock, count: int = 1, kind: str = "test.echo", **options: Any
) -> list[str]:
    """Enqueue ``count`` jobs in one committed transaction; their ids, in order."""
    async with session_factory(engine)() as session, session.begin():
        jobs = [enqueue(session, kind, {"n": n}, now=clock.now(), **options) for n in range(count)]
    return [job.id for job in jobs]


async def load(engine: AsyncEngine, job_id: str) -> Job:
    async with session_factory(engine)() as session:
        job: Job = await session.get_one(Job, job_id)
        return job
