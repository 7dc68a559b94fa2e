"""The CRM event log and its signed event webhooks (an extension Apollo lacks).

``record_event`` appends an event in the caller's transaction and queues one delivery per
matching subscription (``crm.events.deliver`` jobs): the event and its deliveries commit, or
vanish, with the change. Deliveries reuse perilune.webhooks: the team's signing secret and
``X-Perilune-Signature`` header, the address checks made again at delivery time, and the POST
that connects to the address checked. The queue retries a failed attempt with its backoff up to
PERILUNE_WEBHOOK_MAX_ATTEMPTS."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from perilune.api.envelopes import timestamp
from perilune.config import Settings
from perilune.db.ids import new_id
from perilune.jobs.handlers import JobContext, JobHandler, JobHandlers, PermanentJobError
from perilune.jobs.queue import enqueue
from perilune.models import CrmEvent, EventDelivery, EventWebhookSubscription
from perilune.models.crm import DELIVERY_FAILED, DELIVERY_PENDING, DELIVERY_SUCCESS
from perilune.webhooks import delivery
from perilune.webhooks.signing import SIGNATURE_HEADER, signature_header, team_signing_secret
from perilune.webhooks.store import write_session

DELIVER_JOB = "crm.events.deliver"
EVENT_ID_HEADER = "X-Perilune-Event-Id"
EVENT_TYPE_HEADER = "X-Perilune-Event-Type"
ATTEMPT_HEADER = "X-Perilune-Delivery-Attempt"
# The job may run this often; PERILUNE_WEBHOOK_MAX_ATTEMPTS (read at delivery) stops it sooner.
JOB_MAX_ATTEMPTS = 20
# What subscriptions may ask for: the types below, "<entity>.*" or "*".
EVENT_TYPES = (
    "contact.created",
    "contact.updated",
    "account.created",
    "account.updated",
    "opportunity.created",
    "opportunity.updated",
    "task.created",
    "task.updated",
    "task.completed",
    "task.skipped",
    "note.created",
    "phone_call.created",
    "phone_call.updated",
)


class DeliveryFailed(Exception):
    """An attempt worth retrying: the queue runs the job again after its backoff."""


def subscribes_to(patterns: list[str], event_type: str) -> bool:
    entity = event_type.split(".", 1)[0]
    return any(pattern in ("*", event_type, f"{entity}.*") for pattern in patterns)


async def record_event(
    session: AsyncSession,
    team_id: str,
    type: str,
    entity_id: str,
    payload: dict[str, Any],
    now: datetime,
) -> CrmEvent:
    """Append ``type`` (``contact.created`` ...) about record ``entity_id``, with ``payload`` (the
    record as the API shows it), and queue its deliveries to the team's active subscriptions."""
    event = CrmEvent(
        id=new_id(now.timestamp()),
        team_id=team_id,
        type=type,
        entity_type=type.split(".", 1)[0],
        entity_id=entity_id,
        payload=payload,
        created_at=now,
    )
    session.add(event)
    for subscription in await _subscribers(session, team_id, type):
        _queue_delivery(session, event, subscription.id, now)
    return event


async def _subscribers(
    session: AsyncSession, team_id: str, event_type: str
) -> list[EventWebhookSubscription]:
    rows = await session.execute(
        select(EventWebhookSubscription).where(
            EventWebhookSubscription.team_id == team_id, EventWebhookSubscription.active.is_(True)
        )
    )
    return [row for row in rows.scalars() if subscribes_to(row.event_types, event_type)]


def _queue_delivery(session: AsyncSession, event: CrmEvent, subscription_id: str, now: datetime) -> None:
    delivery_row = EventDelivery(
        id=new_id(now.timestamp()),
        team_id=event.team_id,
        event_id=event.id,
        subscription_id=subscription_id,
        status=DELIVERY_PENDING,
        attempts=0,
        created_at=now,
    )
    session.add(delivery_row)
    enqueue(session, DELIVER_JOB, {"delivery_id": delivery_row.id}, now=now, max_attempts=JOB_MAX_ATTEMPTS)


def event_body(event: CrmEvent) -> dict[str, Any]:
    """What a receiver gets (and what an event list shows)."""
    return {
        "id": event.id,
        "type": event.type,
        "created_at": timestamp(event.created_at),
        "team_id": event.team_id,
        "entity_type": event.entity_type,
        "entity_id": event.entity_id,
        "data": event.payload,
    }


def job_handlers(settings: Settings) -> JobHandlers:
    """The delivery handler, bound to the settings of the process that runs it."""
    handlers = JobHandlers()
    handlers.add(DELIVER_JOB, _deliver_with(settings))
    return handlers


def _deliver_with(settings: Settings) -> JobHandler:
    async def deliver(context: JobContext) -> None:
        await deliver_once(context, settings)

    return deliver


async def _load(
    context: JobContext, delivery_id: str
) -> tuple[EventDelivery, CrmEvent, EventWebhookSubscription] | None:
    async with context.sessions() as session:
        row = (
            await session.execute(
                select(EventDelivery, CrmEvent, EventWebhookSubscription)
                .join(CrmEvent, CrmEvent.id == EventDelivery.event_id)
                .join(EventWebhookSubscription, EventWebhookSubscription.id == EventDelivery.subscription_id)
                .where(EventDelivery.id == delivery_id)
            )
        ).first()
        return None if row is None else (row[0], row[1], row[2])


async def deliver_once(context: JobContext, settings: Settings) -> None:
    """One attempt. A delivery already finished (a repeated job) changes nothing."""
    loaded = await _load(context, str(context.job.payload["delivery_id"]))
    if loaded is None or loaded[0].status != DELIVERY_PENDING:
        return
    row, event, subscription = loaded
    now = context.clock.now()
    if not subscription.active:
        await _finish(context, row.id, DELIVERY_FAILED, "the subscription was deactivated", now)
        return
    attempt = row.attempts + 1
    outcome = await _dispatch(settings, event, subscription.url, attempt, now)
    last = attempt >= settings.webhook_max_attempts or context.job.attempts >= context.job.max_attempts
    final = outcome.delivered or not outcome.retryable or last
    status = DELIVERY_SUCCESS if outcome.delivered else DELIVERY_FAILED if final else DELIVERY_PENDING
    await _finish(context, row.id, status, outcome.failure_reason, now)
    if outcome.delivered:
        return
    reason = outcome.failure_reason or "delivery failed"
    if final:
        raise PermanentJobError(f"event delivery {row.id} failed after {attempt} attempt(s): {reason}")
    raise DeliveryFailed(f"event delivery {row.id} attempt {attempt}: {reason}")


async def _dispatch(
    settings: Settings, event: CrmEvent, url: str, attempt: int, now: datetime
) -> delivery.Outcome:
    body = orjson.dumps(event_body(event))
    secret = team_signing_secret(settings, event.team_id)
    headers = {
        SIGNATURE_HEADER: signature_header(secret, int(now.timestamp()), body),
        EVENT_ID_HEADER: event.id,
        EVENT_TYPE_HEADER: event.type,
        ATTEMPT_HEADER: str(attempt),
    }
    return await delivery.post(
        url,
        body,
        headers,
        allow_private_networks=settings.webhook_allow_private_networks,
        timeout_seconds=settings.webhook_timeout_seconds,
    )


async def _finish(
    context: JobContext, delivery_id: str, status: str, reason: str | None, now: datetime
) -> None:
    values: dict[str, Any] = {
        "status": status,
        "attempts": EventDelivery.attempts + 1,
        "last_attempt_at": now,
        "failure_reason": reason,
    }
    if status == DELIVERY_SUCCESS:
        values["delivered_at"] = now
    async with write_session(context.sessions) as session:
        await session.execute(
            update(EventDelivery)
            .where(EventDelivery.id == delivery_id, EventDelivery.status == DELIVERY_PENDING)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
