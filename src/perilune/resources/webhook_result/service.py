from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from perilune.auth.context import Caller
from perilune.config import Settings
from perilune.models.webhooks import PENDING
from perilune.resources.webhook_result.schemas import (
    InvalidRequestId,
    RequestIdExpired,
    RequestIdUnknown,
    ResultPending,
    webhook_result_object,
)
from perilune.webhooks import store
from perilune.webhooks.service import INT64_MAX, INT64_MIN, RETRY_AFTER_SECONDS
from perilune.webhooks.signing import SIGNATURE_HEADER, team_signing_secret

WEBHOOK_RESULT_SHOW = "api/v1/webhook_result/show"
SIGNING_SECRET_SHOW = "api/v1/webhooks/signing_secret"  # noqa: S105 (an endpoint name)
# Decimal digits only, optionally negative (\Z, not $: $ also matches before a newline).
REQUEST_ID_PATTERN = re.compile(r"-?[0-9]{1,19}\Z")


def parse_request_id(raw: str) -> int:
    if not REQUEST_ID_PATTERN.match(raw):
        raise InvalidRequestId()
    value = int(raw)
    if not INT64_MIN <= value <= INT64_MAX:
        raise InvalidRequestId()
    return value


async def show(session: AsyncSession, caller: Caller, raw_request_id: str, now: datetime) -> dict[str, Any]:
    """The team's request in Apollo's states: unknown (another team's too), expired, pending,
    or the result with its delivery status."""
    request_id = parse_request_id(raw_request_id)
    row = await store.find(session, request_id, team_id=caller.team_id)
    if row is None:
        raise RequestIdUnknown()
    if now >= row.expires_at:
        raise RequestIdExpired()
    if row.status == PENDING:
        raise ResultPending(RETRY_AFTER_SECONDS)
    return webhook_result_object(row)


def signing_secret(settings: Settings, caller: Caller) -> dict[str, Any]:
    return {
        "signing_secret": team_signing_secret(settings, caller.team_id),
        "signature_header": SIGNATURE_HEADER,
    }
