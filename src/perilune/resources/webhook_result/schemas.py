"""The poll's wire shapes: Apollo answers its states with bare ``error_code`` bodies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from perilune.api.errors import ApolloError
from perilune.models.webhooks import WebhookRequest


class _WebhookResultError(ApolloError):
    error_code: str

    def body(self) -> dict[str, Any]:
        return {"error_code": self.error_code}


class InvalidRequestId(_WebhookResultError):
    """400: not a signed 64-bit integer (terminal)."""

    status_code = 400
    error_code = "invalid_request_id"


class RequestIdUnknown(_WebhookResultError):
    """404: never issued, mistyped, or another team's (terminal)."""

    status_code = 404
    error_code = "request_id_unknown"


class RequestIdExpired(_WebhookResultError):
    """410: past the thirty days a result is kept (terminal)."""

    status_code = 410
    error_code = "request_id_expired"


class ResultPending(_WebhookResultError):
    """404 while the result is still being worked out: poll again after ``retry_after_seconds``."""

    status_code = 404
    error_code = "result_pending"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(retry_after_seconds)
        self.retry_after_seconds = retry_after_seconds

    def body(self) -> dict[str, Any]:
        return {"error_code": self.error_code, "retry_after_seconds": self.retry_after_seconds}


def dispatch_time(value: datetime | None) -> str | None:
    """The poll's timestamps are whole seconds (``2026-05-26T10:42:11Z``), unlike the
    millisecond timestamps of Apollo's records."""
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def webhook_result_object(row: WebhookRequest) -> dict[str, Any]:
    return {
        "request_id": str(row.request_id),
        "webhook_status": row.status,
        "request_type": row.request_type,
        "last_dispatched_at": dispatch_time(row.last_dispatched_at),
        "failure_reason": row.failure_reason,
        "webhook_result": row.payload,
    }
