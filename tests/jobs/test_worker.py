"""The worker, the handler registry, and the wiring: the app's lifespan, /metrics and the
``perilune worker`` command."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy.ext.asyncio import AsyncEngine

from perilune.app import create_app
from perilune.auth import admin
from perilune.clock import FrozenClock
from perilune.config import Settings
from perilune.db.engine import engine_from_settings
from perilune.jobs.handlers import JobContext, JobHandler, JobHandlers, PermanentJobError
from perilune.jobs.queue import ClaimedJob, claim, enqueue, queue_depth
from perilune.jobs.worker import BackgroundWorker, Worker
from perilune.models import Job
from perilune.runtime import Runtime
from tests.jobs import add_jobs, load

UNKNOWN_KIND_ERROR = "UnknownJobKind: no handler is registered for job kind 'nobody.handles'"


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    value = engine_from_settings(settings)
    yield value
    await value.dispose()


def make_worker(
    engine: AsyncEngine, clock: FrozenClock, handlers: dict[str, JobHandler], **options: Any
) -> Worker:
    return Worker(engine, clock, handlers, worker_id="w1", poll_interval=0.01, **options)


async def wait_for_status(engine: AsyncEngine, job_id: str, status: str, within: float = 10) -> Job:
    """Poll (real time) until another task or process has moved the job to ``status``."""
    deadline = time.monotonic() + within
    while (row := await load(engine, job_id)).status != status:
        assert time.monotonic() < deadline, f"job {job_id} still {row.status}, not {status}"
        await asyncio.sleep(0.02)
    return row


async def test_run_once_runs_the_handler_and_records_done(engine: AsyncEngine, clock: FrozenClock) -> None:
    seen: list[ClaimedJob] = []

    async def welcome(context: JobContext) -> None:
        seen.append(context.job)
        async with context.sessions() as session, session.begin():
            await admin.create_team(session, f"Team {context.job.payload['n']}", "basic", context.clock.now())

    [job_id] = await add_jobs(engine, clock, kind="teams.welcome")
    worker = make_worker(engine, clock, {"teams.welcome": welcome})
    assert await worker.run_once() == 1
    assert await worker.run_once() == 0
    assert [(job.id, job.payload, job.attempts) for job in seen] == [(job_id, {"n": 0}, 1)]
    row = await load(engine, job_id)
    assert (row.status, row.finished_at, row.last_error) == ("done", clock.now(), None)


async def test_a_failing_handler_is_retried_then_fails(engine: AsyncEngine, clock: FrozenClock) -> None:
    async def boom(context: JobContext) -> None:
        raise ValueError(f"boom on attempt {context.job.attempts}")

    [job_id] = await add_jobs(engine, clock, max_attempts=2)
    worker = make_worker(engine, clock, {"test.echo": boom})
    assert await worker.run_once() == 1
    row = await load(engine, job_id)
    assert (row.status, row.last_error) == ("queued", "ValueError: boom on attempt 1")
    assert row.run_at == clock.now() + timedelta(seconds=10)
    assert await worker.run_once() == 0
    clock.advance(10)
    assert await worker.run_once() == 1
    row = await load(engine, job_id)
    assert (row.status, row.attempts, row.last_error) == ("failed", 2, "ValueError: boom on attempt 2")


async def test_a_permanent_error_fails_the_job_at_once(engine: AsyncEngine, clock: FrozenClock) -> None:
    async def refuse(context: JobContext) -> None:
        raise PermanentJobError("the webhook was deleted")

    [job_id] = await add_jobs(engine, clock)
    await make_worker(engine, clock, {"test.echo": refuse}).run_once()
    row = await load(engine, job_id)
    assert (row.status, row.attempts, row.last_error) == (
        "failed",
        1,
        "PermanentJobError: the webhook was deleted",
    )


async def test_an_unknown_kind_fails_with_a_clear_error(engine: AsyncEngine, clock: FrozenClock) -> None:
    [job_id] = await add_jobs(engine, clock, kind="nobody.handles")
    await make_worker(engine, clock, {}).run_once()
    row = await load(engine, job_id)
    assert (row.status, row.attempts, row.last_error) == ("failed", 1, UNKNOWN_KIND_ERROR)


async def test_a_handler_running_past_its_lease_is_cut_off(engine: AsyncEngine, clock: FrozenClock) -> None:
    async def hang(context: JobContext) -> None:
        await asyncio.sleep(30)

    [job_id] = await add_jobs(engine, clock, max_attempts=1)
    worker = make_worker(engine, clock, {"test.echo": hang}, lease=timedelta(seconds=0.05))
    await asyncio.wait_for(worker.run_once(), timeout=5)
    row = await load(engine, job_id)
    assert (row.status, row.last_error) == (
        "failed",
        "LeaseExceeded: the handler ran past the job's 0.05 s lease",
    )


async def test_two_workers_run_each_job_exactly_once(engine: AsyncEngine, clock: FrozenClock) -> None:
    runs: Counter[str] = Counter()

    async def count(context: JobContext) -> None:
        await asyncio.sleep(0)
        runs[context.job.id] += 1

    job_ids = await add_jobs(engine, clock, 25)
    workers = [
        Worker(engine, clock, {"test.echo": count}, worker_id=name, batch_size=3) for name in ("a", "b")
    ]
    while sum(await asyncio.gather(*(worker.run_once() for worker in workers))):
        pass
    assert runs == Counter(job_ids)
    assert (await queue_depth(engine))["done"] == 25


async def test_run_forever_picks_up_new_jobs_and_stops_promptly(
    engine: AsyncEngine, clock: FrozenClock
) -> None:
    async def noop(context: JobContext) -> None:
        return None

    stop = asyncio.Event()
    task = asyncio.create_task(make_worker(engine, clock, {"test.echo": noop}).run_forever(stop))
    [job_id] = await add_jobs(engine, clock)
    await wait_for_status(engine, job_id, "done")
    started = time.monotonic()
    stop.set()
    await asyncio.wait_for(task, timeout=1)
    assert time.monotonic() - started < 0.2


async def test_run_forever_outlives_a_failed_poll(
    engine: AsyncEngine, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    polls = 0

    async def flaky_claim(*args: Any, **kwargs: Any) -> list[ClaimedJob]:
        nonlocal polls
        polls += 1
        if polls == 1:
            raise ConnectionError("database went away")
        return await claim(*args, **kwargs)

    async def noop(context: JobContext) -> None:
        return None

    monkeypatch.setattr("perilune.jobs.worker.claim", flaky_claim)
    [job_id] = await add_jobs(engine, clock)
    stop = asyncio.Event()
    task = asyncio.create_task(make_worker(engine, clock, {"test.echo": noop}).run_forever(stop))
    await wait_for_status(engine, job_id, "done")
    stop.set()
    await asyncio.wait_for(task, timeout=1)
    assert polls >= 2


def test_the_registry_keeps_one_handler_per_kind() -> None:
    first, second = JobHandlers(), JobHandlers()

    @first.register("webhooks.deliver")
    async def deliver(context: JobContext) -> None:
        return None

    async def step(context: JobContext) -> None:
        return None

    second.add("sequences.step", step)
    merged = JobHandlers.merge(first, second)
    assert dict(merged) == {"webhooks.deliver": deliver, "sequences.step": step}
    assert len(merged) == 2
    with pytest.raises(ValueError, match="already registered"):
        first.add("webhooks.deliver", step)
    with pytest.raises(ValueError, match=r"sequences\.step"):
        JobHandlers.merge(merged, second)


async def test_the_app_runs_a_worker_and_stops_it_promptly(
    settings: Settings, engine: AsyncEngine, clock: FrozenClock
) -> None:
    [job_id] = await add_jobs(engine, clock, kind="nobody.handles", max_attempts=1)
    application = create_app(settings.model_copy(update={"run_worker": True}), clock)
    async with LifespanManager(application):
        assert isinstance(application.state.worker, BackgroundWorker)
        row = await wait_for_status(engine, job_id, "failed")
        started = time.monotonic()
    assert time.monotonic() - started < 0.5
    assert row.last_error == UNKNOWN_KIND_ERROR


async def test_run_worker_off_leaves_jobs_for_other_workers(
    settings: Settings, engine: AsyncEngine, clock: FrozenClock
) -> None:
    [job_id] = await add_jobs(engine, clock)
    application = create_app(settings.model_copy(update={"run_worker": False}), clock)
    async with LifespanManager(application):
        assert application.state.worker is None
        await asyncio.sleep(0.05)
    assert (await load(engine, job_id)).status == "queued"


async def test_metrics_report_the_queue_depth(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    async with runtime.sessions() as session, session.begin():
        for n in range(2):
            enqueue(session, "test.echo", {"n": n}, now=clock.now(), run_at=clock.now() + timedelta(days=1))
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert 'perilune_job_queue_depth{state="queued"} 2.0' in response.text
    assert 'perilune_job_queue_depth{state="failed"} 0.0' in response.text


@pytest.mark.slow
async def test_the_worker_command_runs_jobs_and_stops_on_sigterm(
    settings: Settings, engine: AsyncEngine, clock: FrozenClock
) -> None:
    real_now = datetime.now(UTC)  # the command runs on the system clock
    [job_id] = await add_jobs(engine, clock, kind="nobody.handles", max_attempts=1, run_at=real_now)
    env = {
        **os.environ,
        "PERILUNE_DATA_DIR": str(settings.data_dir),
        "PERILUNE_DATABASE_URL": settings.resolved_database_url,
        "PERILUNE_DATABASE_SCHEMA": settings.database_schema or "",
        "PERILUNE_LOG_LEVEL": "WARNING",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "perilune", "worker", "--poll-interval", "0.05",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        row = await wait_for_status(engine, job_id, "failed", within=30)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), timeout=10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert row.last_error == UNKNOWN_KIND_ERROR
    assert row.locked_by is not None
    assert row.locked_by.split(":")[1] == str(process.pid)
