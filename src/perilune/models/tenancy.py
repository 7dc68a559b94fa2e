"""Teams, their users and their API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from perilune.models.base import Base, CreatedAtMixin, IdMixin


class Team(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "teams"

    name: Mapped[str] = mapped_column(String(200))
    plan: Mapped[str] = mapped_column(String(32), default="professional")
    # A custom plan's limits and allowances, in the shape of metering.plans.Plan; {} otherwise.
    plan_overrides: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Credit cycles are monthly, counted from this instant.
    credit_cycle_anchor: Mapped[datetime]

    users: Mapped[list[User]] = relationship(back_populates="team", lazy="raise")


class User(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("team_id", "email"),)

    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    first_name: Mapped[str | None] = mapped_column(String(200))
    last_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    title: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32), default="user")
    deleted: Mapped[bool] = mapped_column(default=False)

    team: Mapped[Team] = relationship(back_populates="users", lazy="raise")

    @property
    def name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


class ApiKey(IdMixin, CreatedAtMixin, Base):
    """Only the SHA-256 of a key is kept: a stolen database yields no working key."""

    __tablename__ = "api_keys"

    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200), default="")
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters, so an operator can tell keys apart without the secret.
    key_prefix: Mapped[str] = mapped_column(String(8))
    is_master: Mapped[bool] = mapped_column(default=False)
    scopes: Mapped[list[str]] = mapped_column(default=list)
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
