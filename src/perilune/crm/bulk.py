"""Bulk updates run in the background (contacts and accounts alike): the checked updates go to
the job queue in the request's transaction, and the answer is Apollo's ``entity_progress_job``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from perilune.api.envelopes import timestamp
from perilune.crm.writer import Writer
from perilune.jobs.queue import enqueue


def queue_bulk_update(
    session: AsyncSession,
    writer: Writer,
    job_kind: str,
    job_type: str,
    updates: Sequence[tuple[str, dict[str, Any]]],
) -> dict[str, Any]:
    """Queue ``(record id, fields)`` updates as a ``job_kind`` job; Apollo's answer, naming the
    job as ``job_type`` (``contact_bulk_update``, ``account_bulk_update``)."""
    payload = {
        "team_id": writer.team_id,
        "user_id": writer.user_id,
        "updates": [{"id": record_id, "fields": fields} for record_id, fields in updates],
    }
    job = enqueue(session, job_kind, payload, now=writer.now)
    return {
        "entity_progress_job": {
            "id": job.id,
            "job_type": job_type,
            "status": "pending",
            "entity_ids": list(dict.fromkeys(record_id for record_id, _ in updates)),
            "created_at": timestamp(writer.now),
            "updated_at": timestamp(writer.now),
        }
    }
