"""Request parameters, error texts and the subscription object."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from perilune.api.envelopes import timestamp
from perilune.api.errors import Unprocessable
from perilune.api.params import ApolloParams
from perilune.crm.events import EVENT_TYPES
from perilune.models import EventDelivery, EventWebhookSubscription

URL_MISSING = "Please add a valid 'url' parameter: the address event deliveries are POSTed to."
NO_EVENT_TYPES = "Please name at least one event type in 'event_types' (or '*' for every event)."
MAX_SUBSCRIPTIONS = 25
TOO_MANY = f"A team can have at most {MAX_SUBSCRIPTIONS} event webhooks; delete one first."
MAX_DESCRIPTION_LENGTH = 500
RECENT_DELIVERIES = 20
# What a subscription may name: an event type, "<entity>.*" or "*".
ENTITIES = tuple(dict.fromkeys(event_type.split(".", 1)[0] for event_type in EVENT_TYPES))
PATTERNS = ("*", *(f"{entity}.*" for entity in ENTITIES), *EVENT_TYPES)


class SubscriptionParams(ApolloParams):
    """Create and update: on an update, only the parameters sent change."""

    url: str | None = None
    event_types: list[str] = Field(default_factory=list)
    description: str | None = None
    active: bool = True


def checked_event_types(given: list[str]) -> list[str]:
    patterns = list(dict.fromkeys(item.strip() for item in given if item.strip()))
    if not patterns:
        raise Unprocessable(NO_EVENT_TYPES)
    unknown = [pattern for pattern in patterns if pattern not in PATTERNS]
    if unknown:
        raise Unprocessable(
            f"Unknown event type: {', '.join(unknown)}. Use one of {', '.join(PATTERNS)}.",
            event_types=list(PATTERNS),
        )
    return patterns


def checked_description(raw: str | None) -> str | None:
    text = (raw or "").strip()
    if len(text) > MAX_DESCRIPTION_LENGTH:
        raise Unprocessable(f"description is at most {MAX_DESCRIPTION_LENGTH} characters.")
    return text or None


def subscription_object(row: EventWebhookSubscription, counts: dict[str, int]) -> dict[str, Any]:
    """``deliveries`` counts this subscription's deliveries by state (pending ones are still
    being tried)."""
    return {
        "id": row.id,
        "url": row.url,
        "event_types": list(row.event_types),
        "active": row.active,
        "description": row.description,
        "created_at": timestamp(row.created_at),
        "updated_at": timestamp(row.updated_at),
        "deliveries": {"pending": 0, "success": 0, "failed": 0, **counts},
    }


def delivery_object(row: EventDelivery, event_type: str) -> dict[str, Any]:
    return {
        "id": row.id,
        "event_id": row.event_id,
        "event_type": event_type,
        "status": row.status,
        "attempts": row.attempts,
        "created_at": timestamp(row.created_at),
        "last_attempt_at": timestamp(row.last_attempt_at),
        "delivered_at": timestamp(row.delivered_at),
        "failure_reason": row.failure_reason,
    }
