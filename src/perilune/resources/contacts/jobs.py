"""The contacts job: a bulk update too large to run in its request (``crm.contacts.bulk_update``)."""

from __future__ import annotations

from perilune.config import Settings
from perilune.jobs.handlers import JobContext, JobHandlers
from perilune.resources.contacts.bulk import BULK_UPDATE_JOB, run_bulk_update
from perilune.webhooks.store import write_session


async def bulk_update(context: JobContext) -> None:
    """All the updates in one transaction: a failed run changes nothing and is retried whole."""
    async with write_session(context.sessions) as session:
        await run_bulk_update(session, context.job.payload, context.clock.now())


def job_handlers(settings: Settings) -> JobHandlers:
    handlers = JobHandlers()
    handlers.add(BULK_UPDATE_JOB, bulk_update)
    return handlers
