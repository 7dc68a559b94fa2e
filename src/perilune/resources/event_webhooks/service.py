"""A team's event-webhook subscriptions. The URL passes perilune.webhooks' address policy when
it is registered (and again before every delivery, in perilune.crm.events); every event the CRM
records from then on is delivered to each active subscription whose event types match it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from perilune.api.errors import NotFound, Unprocessable
from perilune.auth.context import Caller
from perilune.config import Settings
from perilune.crm.lookups import find_in_team
from perilune.db.ids import new_id
from perilune.models import EventWebhookSubscription
from perilune.resources.event_webhooks import repository
from perilune.resources.event_webhooks.schemas import (
    MAX_SUBSCRIPTIONS,
    RECENT_DELIVERIES,
    TOO_MANY,
    URL_MISSING,
    SubscriptionParams,
    checked_description,
    checked_event_types,
    delivery_object,
    subscription_object,
)
from perilune.webhooks import SIGNATURE_HEADER, WebhookTarget, team_signing_secret, validate_webhook_url


async def checked_url(settings: Settings, raw: str | None) -> WebhookTarget:
    """The URL, checked against the address policy (a DNS lookup: done before any database
    session opens, so no write lock waits on a slow resolver)."""
    if not (raw or "").strip():
        raise Unprocessable(URL_MISSING)
    return await validate_webhook_url(raw, allow_private_networks=settings.webhook_allow_private_networks)


async def create(
    session: AsyncSession,
    settings: Settings,
    caller: Caller,
    params: SubscriptionParams,
    target: WebhookTarget,
    now: datetime,
) -> dict[str, Any]:
    sent = params.model_fields_set
    event_types = checked_event_types(params.event_types) if "event_types" in sent else ["*"]
    description = checked_description(params.description)
    if await repository.count(session, caller.team_id) >= MAX_SUBSCRIPTIONS:
        raise Unprocessable(TOO_MANY)
    row = EventWebhookSubscription(
        id=new_id(now.timestamp()),
        team_id=caller.team_id,
        url=target.url,
        event_types=event_types,
        active=params.active,
        description=description,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return {
        "event_webhook": subscription_object(row, {}),
        # The team's one secret, which signs every delivery (also GET /webhooks/signing_secret).
        "signing_secret": team_signing_secret(settings, caller.team_id),
        "signature_header": SIGNATURE_HEADER,
    }


async def list_all(session: AsyncSession, caller: Caller) -> dict[str, Any]:
    rows = await repository.subscriptions(session, caller.team_id)
    counts = await repository.delivery_counts(session, caller.team_id, [row.id for row in rows])
    return {"event_webhooks": [subscription_object(row, counts.get(row.id, {})) for row in rows]}


async def _existing(session: AsyncSession, team_id: str, subscription_id: str) -> EventWebhookSubscription:
    row = await find_in_team(session, EventWebhookSubscription, team_id, subscription_id)
    if row is None:
        raise NotFound()
    return row


async def show(session: AsyncSession, caller: Caller, subscription_id: str) -> dict[str, Any]:
    """The subscription with its latest deliveries (newest first)."""
    row = await _existing(session, caller.team_id, subscription_id)
    counts = await repository.delivery_counts(session, caller.team_id, [row.id])
    recent = await repository.recent_deliveries(session, caller.team_id, row.id, RECENT_DELIVERIES)
    body = subscription_object(row, counts.get(row.id, {}))
    body["recent_deliveries"] = [delivery_object(delivery, event_type) for delivery, event_type in recent]
    return {"event_webhook": body}


async def update(
    session: AsyncSession,
    caller: Caller,
    subscription_id: str,
    params: SubscriptionParams,
    target: WebhookTarget | None,
    now: datetime,
) -> dict[str, Any]:
    """Only what was sent changes. Deliveries already queued keep going to the subscription's
    URL as it is when they are attempted; a deactivated subscription's pending ones fail."""
    row = await _existing(session, caller.team_id, subscription_id)
    sent = params.model_fields_set
    if target is not None:
        row.url = target.url
    if "event_types" in sent:
        row.event_types = checked_event_types(params.event_types)
    if "description" in sent:
        row.description = checked_description(params.description)
    if "active" in sent:
        row.active = params.active
    row.updated_at = now
    await session.flush()
    counts = await repository.delivery_counts(session, caller.team_id, [row.id])
    return {"event_webhook": subscription_object(row, counts.get(row.id, {}))}


async def delete(session: AsyncSession, caller: Caller, subscription_id: str) -> dict[str, Any]:
    """Removes the subscription and its deliveries (queued attempts then find nothing to do)."""
    row = await _existing(session, caller.team_id, subscription_id)
    await session.delete(row)
    await session.flush()
    return {"id": subscription_id, "deleted": True}
