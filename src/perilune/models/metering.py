"""Credit ledger and the database-backed rate-limit counters."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from perilune.models.base import Base, CreatedAtMixin, IdMixin


class CreditLedgerEntry(IdMixin, CreatedAtMixin, Base):
    """One grant (positive ``amount``) or spend (negative ``amount``) of one credit type."""

    __tablename__ = "credit_ledger"
    __table_args__ = (Index("ix_credit_ledger_team_type_created", "team_id", "credit_type", "created_at"),)

    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    credit_type: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(Integer)
    endpoint: Mapped[str | None] = mapped_column(String(128))
    note: Mapped[str | None] = mapped_column(String(500))


class RateLimitCounter(Base):
    """A fixed window per team x endpoint x window kind, opened by its first request."""

    __tablename__ = "rate_limit_counters"

    team_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(128), primary_key=True)
    window: Mapped[str] = mapped_column(String(8), primary_key=True)
    started_at: Mapped[float] = mapped_column(Float)
    count: Mapped[int] = mapped_column(Integer)
