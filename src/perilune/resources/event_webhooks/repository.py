"""Every SQL statement of the event-webhook endpoints; each filters on the caller's team."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from perilune.models import CrmEvent, EventDelivery, EventWebhookSubscription


async def subscriptions(session: AsyncSession, team_id: str) -> Sequence[EventWebhookSubscription]:
    rows = await session.execute(
        select(EventWebhookSubscription)
        .where(EventWebhookSubscription.team_id == team_id)
        .order_by(EventWebhookSubscription.created_at, EventWebhookSubscription.id)
    )
    return rows.scalars().all()


async def count(session: AsyncSession, team_id: str) -> int:
    found = await session.scalar(
        select(func.count())
        .select_from(EventWebhookSubscription)
        .where(EventWebhookSubscription.team_id == team_id)
    )
    return int(found or 0)


async def delivery_counts(
    session: AsyncSession, team_id: str, subscription_ids: Collection[str]
) -> dict[str, dict[str, int]]:
    """Deliveries by subscription and state."""
    if not subscription_ids:
        return {}
    rows = await session.execute(
        select(EventDelivery.subscription_id, EventDelivery.status, func.count())
        .where(EventDelivery.team_id == team_id, EventDelivery.subscription_id.in_(list(subscription_ids)))
        .group_by(EventDelivery.subscription_id, EventDelivery.status)
    )
    out: dict[str, dict[str, int]] = {}
    for subscription_id, status, number in rows:
        out.setdefault(subscription_id, {})[status] = int(number)
    return out


async def recent_deliveries(
    session: AsyncSession, team_id: str, subscription_id: str, limit: int
) -> list[tuple[EventDelivery, str]]:
    """The subscription's latest deliveries with their event types, newest first."""
    rows = await session.execute(
        select(EventDelivery, CrmEvent.type)
        .join(CrmEvent, CrmEvent.id == EventDelivery.event_id)
        .where(EventDelivery.team_id == team_id, EventDelivery.subscription_id == subscription_id)
        .order_by(CrmEvent.seq.desc(), EventDelivery.id.desc())
        .limit(limit)
    )
    return [(row[0], str(row[1])) for row in rows]
