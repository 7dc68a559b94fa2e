"""The labels job: adding records to lists or removing them in the background (``async``)."""

from __future__ import annotations

from perilune.config import Settings
from perilune.crm.writer import Writer
from perilune.jobs.handlers import JobContext, JobHandlers
from perilune.resources.labels.service import MEMBERS_JOB, apply_members
from perilune.webhooks.store import write_session


async def change_members(context: JobContext) -> None:
    """One transaction: a failed run changes nothing and is retried whole (adding and removing
    are idempotent, so a run repeated after a crash ends the same)."""
    payload = context.job.payload
    writer = Writer(str(payload["team_id"]), payload.get("user_id"), context.clock.now())
    async with write_session(context.sessions) as session:
        await apply_members(
            session,
            writer,
            str(payload["action"]),
            str(payload["modality"]),
            [str(entity_id) for entity_id in payload["entity_ids"]],
            [str(name) for name in payload["label_names"]],
        )


def job_handlers(settings: Settings) -> JobHandlers:
    handlers = JobHandlers()
    handlers.add(MEMBERS_JOB, change_members)
    return handlers
