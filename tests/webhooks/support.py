"""Helpers shared by the webhook tests: a phone-reveal result, scheduling through the public
interface, the worker (run by hand with the test clock) and reading rows back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from perilune.clock import FrozenClock
from perilune.config import Settings
from perilune.jobs.worker import Worker
from perilune.models import Job, PersonPhoneNumber, WebhookRequest
from perilune.runtime import Runtime
from perilune.webhooks import (
    RevealedPhones,
    job_handlers,
    phone_reveal_result,
    schedule_delivery,
    validate_webhook_url,
)

PERSON_ID = "587cf802f65125cad923a266"


def phone_payload() -> dict[str, Any]:
    phones = [
        PersonPhoneNumber(
            id="64dbe6d172c24f00017b9b72",
            person_id=PERSON_ID,
            raw_number="+1 415-555-0117",
            sanitized_number="+14155550117",
            type="work_direct",
            status="valid_number",
            position=1,
        ),
        PersonPhoneNumber(
            id="64dbe6d172c24f00017b9b71",
            person_id=PERSON_ID,
            raw_number="+1 555-555-0164",
            sanitized_number="+15555550164",
            type="mobile",
            status=None,
            position=0,
        ),
    ]
    return phone_reveal_result(
        [RevealedPhones(PERSON_ID, phones)],
        total_requested_enrichments=1,
        missing_records=0,
        credits_consumed=9,
    )


async def schedule(
    runtime: Runtime, clock: FrozenClock, team_id: str, url: str, payload: dict[str, Any] | None = None
) -> int:
    """What an enrichment endpoint does: check the URL, then schedule in a transaction."""
    allow = runtime.settings.webhook_allow_private_networks
    target = await validate_webhook_url(url, allow_private_networks=allow)
    async with runtime.sessions() as session, session.begin():
        return await schedule_delivery(
            session, team_id=team_id, target=target, payload=payload or phone_payload(), now=clock.now()
        )


def worker(runtime: Runtime, clock: FrozenClock, settings: Settings | None = None) -> Worker:
    handlers = job_handlers(settings or runtime.settings)
    return Worker(runtime.engine, clock, handlers, worker_id="test-worker", poll_interval=0.01)


async def load_request(runtime: Runtime, request_id: int) -> WebhookRequest:
    async with runtime.sessions() as session:
        row = await session.get(WebhookRequest, request_id)
        assert row is not None
        return row


async def jobs_of(runtime: Runtime, kind: str) -> list[Job]:
    async with runtime.sessions() as session:
        return list((await session.execute(select(Job).where(Job.kind == kind))).scalars())
