"""Opening a request and publishing its result, inside the caller's transaction: the row and its
jobs commit (or vanish) with the enrichment that caused them."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from perilune.jobs.queue import enqueue
from perilune.models.webhooks import PENDING, WebhookRequest
from perilune.webhooks import store
from perilune.webhooks.addresses import WebhookTarget

DELIVER_JOB = "webhooks.deliver"
EXPIRE_JOB = "webhooks.expire"
PHONE = "phone"
REQUEST_TYPES = ("email", PHONE, "waterfall")
# Apollo keeps results pollable for thirty days after the request.
RETENTION = timedelta(days=30)
# What the poll tells a caller to wait while a result is pending.
RETRY_AFTER_SECONDS = 10
# The job may run this often; PERILUNE_WEBHOOK_MAX_ATTEMPTS (read at delivery) stops it sooner.
JOB_MAX_ATTEMPTS = 20
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


class UnknownWebhookRequest(LookupError):
    """publish_result for a request that is not this team's, or not pending any more."""


def new_request_id() -> int:
    """A random signed 64-bit id, as Apollo's are (often negative); never 0."""
    while True:
        value = secrets.randbits(64) + INT64_MIN
        if value:
            return value


async def _unused_request_id(session: AsyncSession) -> int:
    # A clash is a 1-in-2^64 event per pair, but it would fail the caller's whole transaction.
    while True:
        request_id = new_request_id()
        if not await store.request_id_taken(session, request_id):
            return request_id


async def open_request(
    session: AsyncSession, *, team_id: str, target: WebhookTarget, now: datetime, request_type: str = PHONE
) -> int:
    """A request whose result is still being worked out: the poll answers ``result_pending``
    until publish_result. Returns Apollo's ``request_id``."""
    if request_type not in REQUEST_TYPES:
        raise ValueError(f"unknown webhook request type {request_type!r}")
    request_id = await _unused_request_id(session)
    expires_at = now + RETENTION
    session.add(
        WebhookRequest(
            request_id=request_id,
            team_id=team_id,
            request_type=request_type,
            url=target.url,
            status=PENDING,
            payload=None,
            attempts=0,
            expires_at=expires_at,
            created_at=now,
            updated_at=now,
        )
    )
    enqueue(session, EXPIRE_JOB, {"request_id": request_id}, now=now, run_at=expires_at)
    return request_id


async def publish_result(
    session: AsyncSession, *, team_id: str, request_id: int, payload: dict[str, Any], now: datetime
) -> None:
    """Store the result (the webhook body) and queue its delivery. Raises UnknownWebhookRequest
    if the team has no pending request with this id."""
    await session.flush()
    if not await store.publish(session, team_id=team_id, request_id=request_id, payload=payload, now=now):
        raise UnknownWebhookRequest(request_id)
    enqueue(session, DELIVER_JOB, {"request_id": request_id}, now=now, max_attempts=JOB_MAX_ATTEMPTS)


async def schedule_delivery(
    session: AsyncSession,
    *,
    team_id: str,
    target: WebhookTarget,
    payload: dict[str, Any],
    now: datetime,
    request_type: str = PHONE,
) -> int:
    """open_request and publish_result at once, for a result known now. Returns ``request_id``."""
    request_id = await open_request(
        session, team_id=team_id, target=target, now=now, request_type=request_type
    )
    await publish_result(session, team_id=team_id, request_id=request_id, payload=payload, now=now)
    return request_id


def phone_enrichment_status(request_id: int) -> dict[str, Any]:
    """Apollo's ``phone_enrichment`` object for an enrichment response: the numbers will follow
    at the webhook, and the poll has them meanwhile."""
    return {
        "request_id": str(request_id),
        "status": "pending",
        "message": "Phone enrichment is processing asynchronously. Retrieve the result by polling "
        "GET /api/v1/webhook_result/{request_id} with the top-level `request_id` field from this "
        f"response. Retry after ~{RETRY_AFTER_SECONDS} seconds.",
    }
