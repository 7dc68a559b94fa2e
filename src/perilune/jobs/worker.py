"""The worker: claims due jobs, runs their handlers concurrently and records each outcome.
``perilune serve`` runs one in each server process; ``perilune worker`` runs one alone."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from perilune.clock import Clock
from perilune.db.engine import session_factory
from perilune.jobs.handlers import JobContext, JobHandler, PermanentJobError
from perilune.jobs.queue import DEFAULT_LEASE, ClaimedJob, claim, complete, fail
from perilune.observability.logging import get_logger

DEFAULT_POLL_INTERVAL = 1.0
DEFAULT_BATCH_SIZE = 10
log = get_logger("perilune.jobs")


class UnknownJobKind(PermanentJobError):
    def __init__(self, kind: str) -> None:
        super().__init__(f"no handler is registered for job kind {kind!r}")


class LeaseExceeded(Exception):
    def __init__(self, lease: timedelta) -> None:
        super().__init__(f"the handler ran past the job's {lease.total_seconds():g} s lease")


def default_worker_id() -> str:
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{secrets.token_hex(4)}"


def describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Worker:
    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        handlers: Mapping[str, JobHandler],
        worker_id: str | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.handlers = handlers
        self.worker_id = worker_id or default_worker_id()
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.lease = lease
        self._sessions = session_factory(engine)

    async def run_once(self) -> int:
        """Claim a batch of due jobs, run them concurrently, record each outcome; the number run."""
        jobs = await claim(self.engine, self.worker_id, self.clock.now(), self.batch_size, lease=self.lease)
        outcomes = await asyncio.gather(*(self._run(job) for job in jobs), return_exceptions=True)
        for job, outcome in zip(jobs, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                # The outcome was not recorded: the job runs again when its lease lapses.
                log.error("could not record a job's outcome", job_id=job.id, error=describe(outcome))
        return len(jobs)

    async def run_forever(self, stop: asyncio.Event, *, delay: float = 0.0) -> None:
        """Poll, after ``delay`` seconds, until ``stop`` is set (the batch in hand is finished
        first). A full batch means more may be waiting: poll again at once."""
        await _wait(stop, delay)
        while not stop.is_set():
            try:
                busy = await self.run_once() >= self.batch_size
            except Exception:
                log.exception("job worker poll failed", worker=self.worker_id)
                busy = False
            if not busy:
                await _wait(stop, self.poll_interval)

    async def _run(self, job: ClaimedJob) -> None:
        try:
            await self._call(job)
        except Exception as exc:
            await self._record_failure(job, exc)
        else:
            if not await complete(self.engine, job, self.clock.now()):
                log.warning("job finished after its lease lapsed", job_id=job.id, kind=job.kind)

    async def _call(self, job: ClaimedJob) -> None:
        handler = self.handlers.get(job.kind)
        if handler is None:
            raise UnknownJobKind(job.kind)
        deadline = asyncio.timeout(self.lease.total_seconds())
        try:
            async with deadline:
                await handler(JobContext(job, self._sessions, self.clock))
        except TimeoutError as exc:
            if deadline.expired():
                raise LeaseExceeded(self.lease) from exc
            raise

    async def _record_failure(self, job: ClaimedJob, exc: Exception) -> None:
        permanent = isinstance(exc, PermanentJobError)
        recorded = await fail(self.engine, job, describe(exc), self.clock.now(), permanent=permanent)
        log.warning(
            "job failed",
            job_id=job.id,
            kind=job.kind,
            attempt=job.attempts,
            max_attempts=job.max_attempts,
            error=describe(exc),
            recorded=recorded,
        )


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    if seconds <= 0 or stop.is_set():
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


class BackgroundWorker:
    """A worker running as a task of the current event loop (the app's lifespan starts one). Its
    first look waits one poll interval: startup is not slowed, and an app that lives only a
    moment (as in tests) never touches the jobs table."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self._stop = asyncio.Event()
        running = worker.run_forever(self._stop, delay=worker.poll_interval)
        self._task = asyncio.create_task(running, name="perilune-job-worker")

    async def stop(self, grace: float = 10.0) -> None:
        """Let the batch in hand finish for up to ``grace`` seconds, then cancel it (its jobs run
        again when their leases lapse)."""
        self._stop.set()
        try:
            await asyncio.wait_for(self._task, grace)
        except TimeoutError:
            log.warning("job worker cancelled at shutdown", worker=self.worker.worker_id)
