"""Asynchronous enrichment results (phone reveals): one row per request, pollable at
``GET /webhook_result/{request_id}`` and delivered by the ``webhooks.deliver`` job (see
perilune.webhooks)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from perilune.models.base import Base, CreatedAtMixin

# pending: the result is still being built (the poll answers result_pending);
# in_progress: the result is ready and its delivery is under way (or waiting for a retry);
# success / failed: delivery finished. The last three are Apollo's ``webhook_status`` values.
PENDING = "pending"
IN_PROGRESS = "in_progress"
SUCCESS = "success"
FAILED = "failed"
STATUSES = (PENDING, IN_PROGRESS, SUCCESS, FAILED)


class WebhookRequest(CreatedAtMixin, Base):
    __tablename__ = "webhook_requests"
    __table_args__ = (CheckConstraint(f"status IN ({', '.join(repr(s) for s in STATUSES)})", name="status"),)

    # Apollo's request ids are signed 64-bit integers (often negative): BIGINT, never generated
    # by the database.
    request_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    request_type: Mapped[str] = mapped_column(String(16))  # phone (Apollo: email | phone | waterfall)
    # Null once the request expires: nothing is delivered, or kept, after that.
    url: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    # The webhook body (Apollo's ``webhook_result``); null while pending and after expiry.
    payload: Mapped[dict[str, Any] | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_dispatched_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    failure_reason: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime]
    updated_at: Mapped[datetime]
