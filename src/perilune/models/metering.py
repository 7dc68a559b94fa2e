"""Credit ledger, its per-cycle running totals, and the database-backed rate-limit counters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String
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


class CreditBalance(Base):
    """A team's running totals of one credit type in one credit cycle, kept beside the ledger so
    a charge costs the same however long the ledger grows. ``granted`` and ``spent`` are the
    ledger's positive and (negated) negative amounts dated within the cycle that starts at
    ``cycle_start`` (``metering.credits.credit_cycle`` of the team's anchor). Nothing moves an
    anchor; whatever did would have to rebuild these rows from the ledger (as revision 0009 does)."""

    __tablename__ = "credit_balances"

    # Key order serves both reads: a charge names all three columns, a balance read names the
    # team and the cycle and takes every credit type.
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    cycle_start: Mapped[datetime] = mapped_column(primary_key=True)
    credit_type: Mapped[str] = mapped_column(String(64), primary_key=True)
    granted: Mapped[int] = mapped_column(BigInteger)
    spent: Mapped[int] = mapped_column(BigInteger)


class RateLimitCounter(Base):
    """A fixed window per team x endpoint x window kind, opened by its first request."""

    __tablename__ = "rate_limit_counters"

    team_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(128), primary_key=True)
    window: Mapped[str] = mapped_column(String(8), primary_key=True)
    started_at: Mapped[float] = mapped_column(Float)
    count: Mapped[int] = mapped_column(Integer)
