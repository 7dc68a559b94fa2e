"""The queue's operations on the ``jobs`` table. ``enqueue`` joins the caller's transaction;
the others run in short transactions of their own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, String, Table, and_, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from perilune.db.dialect import lock_skipping_locked, write_transaction
from perilune.db.ids import new_id
from perilune.models.jobs import DONE, FAILED, QUEUED, RUNNING, STATUSES, Job

DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_LEASE = timedelta(minutes=5)
BACKOFF_BASE = timedelta(seconds=10)
BACKOFF_CAP = timedelta(hours=1)
MAX_ERROR_LENGTH = 2000

_JOBS: Table = cast(Table, Job.__table__)


@dataclass(frozen=True)
class ClaimedJob:
    """A job as a worker holds it: this is attempt ``attempts`` of ``max_attempts``, leased to
    ``worker_id``."""

    id: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    worker_id: str


def enqueue(
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any],
    *,
    now: datetime,
    run_at: datetime | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> Job:
    """Add a job to the caller's session: it commits, or rolls back, with the caller's change.
    It is due at ``run_at`` (default ``now``, the caller's clock)."""
    if not kind:
        raise ValueError("a job needs a kind")
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    job = Job(
        id=new_id(now.timestamp()),
        kind=kind,
        payload=payload,
        status=QUEUED,
        run_at=run_at or now,
        attempts=0,
        max_attempts=max_attempts,
        created_at=now,
    )
    session.add(job)
    return job


def backoff(attempts: int) -> timedelta:
    """The wait before retrying a job that has failed ``attempts`` times: 10 s, 20 s, 40 s ...
    up to an hour."""
    return min(BACKOFF_BASE * (1 << min(max(attempts - 1, 0), 30)), BACKOFF_CAP)


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(_JOBS.c.status == QUEUED, _JOBS.c.run_at <= now)


def _lapsed(now: datetime) -> ColumnElement[bool]:
    """Running, but the lease has run out: its worker crashed or hung."""
    return and_(_JOBS.c.status == RUNNING, _JOBS.c.locked_until < now)


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(_due(now), and_(_lapsed(now), _JOBS.c.attempts < _JOBS.c.max_attempts))


def _candidates(dialect_name: str, now: datetime, limit: int) -> Select[Any]:
    c = _JOBS.c
    statement = (
        select(c.id, c.kind, c.payload, c.attempts, c.max_attempts)
        .where(_claimable(now))
        .order_by(c.run_at, c.id)
        .limit(limit)
    )
    return lock_skipping_locked(dialect_name, statement)


async def claim(
    engine: AsyncEngine, worker_id: str, now: datetime, limit: int, *, lease: timedelta = DEFAULT_LEASE
) -> list[ClaimedJob]:
    """Take up to ``limit`` claimable jobs for ``worker_id``, leased until ``now + lease``. No
    two claimers ever get the same job while its lease holds."""
    if limit < 1 or not await _anything_to_claim(engine, now):
        return []
    async with write_transaction(engine) as connection:
        await _give_up_on_lapsed(connection, now)
        rows = (await connection.execute(_candidates(connection.dialect.name, now, limit))).all()
        if not rows:
            return []
        await connection.execute(
            update(_JOBS)
            .where(_JOBS.c.id.in_([row.id for row in rows]))
            .values(
                status=RUNNING,
                attempts=_JOBS.c.attempts + 1,
                locked_by=worker_id,
                locked_until=now + lease,
            )
        )
    return [
        ClaimedJob(row.id, row.kind, row.payload, row.attempts + 1, row.max_attempts, worker_id)
        for row in rows
    ]


async def _anything_to_claim(engine: AsyncEngine, now: datetime) -> bool:
    """A lock-free look first, so an idle worker never takes SQLite's write lock."""
    async with engine.connect() as connection:
        found = await connection.execute(select(_JOBS.c.id).where(or_(_due(now), _lapsed(now))).limit(1))
        return found.first() is not None


async def _give_up_on_lapsed(connection: AsyncConnection, now: datetime) -> None:
    """A lapsed lease on a job's last attempt: its worker died every time; fail the job."""
    c = _JOBS.c
    error = literal("the lease lapsed on the last attempt (worker ", String) + c.locked_by + ")"
    await connection.execute(
        update(_JOBS)
        .where(_lapsed(now), c.attempts >= c.max_attempts)
        .values(status=FAILED, last_error=error, locked_until=None, finished_at=now)
    )


def _held(job: ClaimedJob) -> ColumnElement[bool]:
    """The job is still this claim's: not reclaimed by another worker after the lease lapsed."""
    c = _JOBS.c
    return and_(c.id == job.id, c.status == RUNNING, c.locked_by == job.worker_id, c.attempts == job.attempts)


async def complete(engine: AsyncEngine, job: ClaimedJob, now: datetime) -> bool:
    """Mark the job done. False if the claim had lapsed and another worker took the job."""
    async with write_transaction(engine) as connection:
        result = await connection.execute(
            update(_JOBS).where(_held(job)).values(status=DONE, locked_until=None, finished_at=now)
        )
    return result.rowcount == 1


async def fail(
    engine: AsyncEngine, job: ClaimedJob, error: str, now: datetime, *, permanent: bool = False
) -> bool:
    """Record a failed attempt: retry after ``backoff`` while attempts remain, else (or when
    ``permanent``) status ``failed``. False if the claim had lapsed."""
    values: dict[str, Any] = {"last_error": error[:MAX_ERROR_LENGTH], "locked_until": None}
    if permanent or job.attempts >= job.max_attempts:
        values |= {"status": FAILED, "finished_at": now}
    else:
        values |= {"status": QUEUED, "run_at": now + backoff(job.attempts)}
    async with write_transaction(engine) as connection:
        result = await connection.execute(update(_JOBS).where(_held(job)).values(**values))
    return result.rowcount == 1


async def queue_depth(engine: AsyncEngine) -> dict[str, int]:
    """How many jobs are in each status (every status present, zero if none)."""
    depth = dict.fromkeys(STATUSES, 0)
    async with engine.connect() as connection:
        rows = await connection.execute(select(_JOBS.c.status, func.count()).group_by(_JOBS.c.status))
        for status, count in rows:
            depth[status] = count
    return depth
