"""The job handlers: ``webhooks.deliver`` makes one delivery attempt per run (the queue retries
it with its backoff: 10 s, 20 s, 40 s ... up to an hour) and ``webhooks.expire`` forgets a result
after thirty days. Both are idempotent: a run for a request already finished changes nothing."""

from __future__ import annotations

from datetime import datetime

import orjson

from perilune.config import Settings
from perilune.jobs.handlers import JobContext, JobHandler, JobHandlers, PermanentJobError
from perilune.models.webhooks import FAILED, IN_PROGRESS, SUCCESS, WebhookRequest
from perilune.webhooks import delivery, store
from perilune.webhooks.service import DELIVER_JOB, EXPIRE_JOB
from perilune.webhooks.signing import SIGNATURE_HEADER, signature_header, team_signing_secret

REQUEST_ID_HEADER = "X-Perilune-Request-Id"
ATTEMPT_HEADER = "X-Perilune-Delivery-Attempt"


class DeliveryFailed(Exception):
    """A failed attempt worth retrying: the queue runs the job again after its backoff."""


def job_handlers(settings: Settings) -> JobHandlers:
    """The handlers, bound to the settings of the process that runs them (address policy,
    signing key, timeout and attempt limit are read at delivery, not at request time)."""
    handlers = JobHandlers()
    handlers.add(DELIVER_JOB, _deliver_with(settings))
    handlers.add(EXPIRE_JOB, expire)
    return handlers


def _deliver_with(settings: Settings) -> JobHandler:
    async def deliver(context: JobContext) -> None:
        await deliver_once(context, settings)

    return deliver


async def _load(context: JobContext) -> WebhookRequest | None:
    async with context.sessions() as session:
        return await store.find(session, int(context.job.payload["request_id"]))


def _headers(
    settings: Settings, row: WebhookRequest, body: bytes, timestamp: int, attempt: int
) -> dict[str, str]:
    secret = team_signing_secret(settings, row.team_id)
    return {
        SIGNATURE_HEADER: signature_header(secret, timestamp, body),
        REQUEST_ID_HEADER: str(row.request_id),
        ATTEMPT_HEADER: str(attempt),
    }


async def deliver_once(context: JobContext, settings: Settings) -> None:
    row = await _load(context)
    if row is None or row.status != IN_PROGRESS or row.url is None:
        return  # delivered, failed or forgotten already: this run is a repeat
    now = context.clock.now()
    if now >= row.expires_at:
        async with store.write_session(context.sessions) as session:
            await store.give_up(session, row.request_id, failure_reason=store.EXPIRED, now=now)
        return
    attempt = row.attempts + 1
    outcome = await _dispatch(settings, row, row.url, attempt, now)
    last = attempt >= settings.webhook_max_attempts or context.job.attempts >= context.job.max_attempts
    final = outcome.delivered or not outcome.retryable or last
    status = SUCCESS if outcome.delivered else FAILED if final else IN_PROGRESS
    async with store.write_session(context.sessions) as session:
        await store.record_attempt(
            session, row.request_id, status=status, failure_reason=outcome.failure_reason, now=now
        )
    if not outcome.delivered:
        _raise_failure(row.request_id, attempt, outcome, final=final)


async def _dispatch(
    settings: Settings, row: WebhookRequest, url: str, attempt: int, now: datetime
) -> delivery.Outcome:
    """The POST, its body signed at dispatch time (a retry carries a fresh timestamp)."""
    body = orjson.dumps(row.payload)
    return await delivery.post(
        url,
        body,
        _headers(settings, row, body, int(now.timestamp()), attempt),
        allow_private_networks=settings.webhook_allow_private_networks,
        timeout_seconds=settings.webhook_timeout_seconds,
    )


def _raise_failure(request_id: int, attempt: int, outcome: delivery.Outcome, *, final: bool) -> None:
    """Tell the queue: retry after its backoff, or stop (the job fails at once)."""
    reason = outcome.failure_reason or "delivery failed"
    if final:
        raise PermanentJobError(f"webhook {request_id} failed after {attempt} attempt(s): {reason}")
    raise DeliveryFailed(f"webhook {request_id} attempt {attempt}: {reason}")


async def expire(context: JobContext) -> None:
    request_id = int(context.job.payload["request_id"])
    async with store.write_session(context.sessions) as session:
        await store.forget(session, request_id, now=context.clock.now())
