"""credit balances: each team's granted and spent credits per credit type and credit cycle, so a
charge no longer sums the ledger; filled from the ledger rows already there

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

import perilune.db.types
from perilune.metering.credits import credit_cycle

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables as this revision knows them (not the models, which later revisions may change).
_UTC = perilune.db.types.UTCDateTime(timezone=True)
_TEAMS = sa.table("teams", sa.column("id", sa.String()), sa.column("credit_cycle_anchor", _UTC))
_LEDGER = sa.table(
    "credit_ledger",
    sa.column("team_id", sa.String()),
    sa.column("credit_type", sa.String()),
    sa.column("amount", sa.Integer()),
    sa.column("created_at", _UTC),
)
_BALANCES = sa.table(
    "credit_balances",
    sa.column("team_id", sa.String()),
    sa.column("cycle_start", _UTC),
    sa.column("credit_type", sa.String()),
    sa.column("granted", sa.BigInteger()),
    sa.column("spent", sa.BigInteger()),
)
# Scratch: every cycle of every team from its first ledger row to its last, dropped at the end.
_CYCLES = "credit_balances_backfill_cycles"


def upgrade() -> None:
    op.create_table(
        "credit_balances",
        sa.Column("team_id", sa.String(length=24), nullable=False),
        sa.Column("cycle_start", perilune.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("credit_type", sa.String(length=64), nullable=False),
        sa.Column("granted", sa.BigInteger(), nullable=False),
        sa.Column("spent", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_credit_balances_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("team_id", "cycle_start", "credit_type", name=op.f("pk_credit_balances")),
    )
    _backfill()


def downgrade() -> None:
    op.drop_table("credit_balances")


def _backfill() -> None:
    """Sum the ledger into the new table, one row per team, type and cycle that has entries.
    The cycles come from ``credit_cycle`` itself (Python: month arithmetic on the anchor's
    calendar has no portable SQL), and each row is counted by the very range test balances()
    applied before this revision, ``cycle_start <= created_at < cycle_end``."""
    cycles = op.create_table(
        _CYCLES,
        sa.Column("team_id", sa.String(length=24), nullable=False),
        sa.Column("cycle_start", _UTC, nullable=False),
        sa.Column("cycle_end", _UTC, nullable=False),
    )
    bind = op.get_bind()
    spans = bind.execute(
        sa.select(
            _TEAMS.c.id,
            _TEAMS.c.credit_cycle_anchor,
            sa.func.min(_LEDGER.c.created_at),
            sa.func.max(_LEDGER.c.created_at),
        )
        .join(_LEDGER, _LEDGER.c.team_id == _TEAMS.c.id)
        .group_by(_TEAMS.c.id, _TEAMS.c.credit_cycle_anchor)
    ).all()
    rows = [cycle for span in spans for cycle in _cycles(*span)]
    if rows:
        op.bulk_insert(cycles, rows)
        bind.execute(_sum_ledger_into_balances(cycles))
    op.drop_table(_CYCLES)


def _cycles(team_id: str, anchor: datetime, first: datetime, last: datetime) -> Iterator[dict[str, Any]]:
    start, end = credit_cycle(anchor, first)
    while start <= last:
        yield {"team_id": team_id, "cycle_start": start, "cycle_end": end}
        start, end = credit_cycle(anchor, end)


def _sum_ledger_into_balances(cycles: sa.Table) -> sa.Insert:
    amount = _LEDGER.c.amount
    totals = (
        sa.select(
            _LEDGER.c.team_id,
            cycles.c.cycle_start,
            _LEDGER.c.credit_type,
            sa.func.sum(sa.case((amount > 0, amount), else_=0)),
            sa.func.sum(sa.case((amount < 0, -amount), else_=0)),
        )
        .join(
            cycles,
            sa.and_(
                cycles.c.team_id == _LEDGER.c.team_id,
                _LEDGER.c.created_at >= cycles.c.cycle_start,
                _LEDGER.c.created_at < cycles.c.cycle_end,
            ),
        )
        .group_by(_LEDGER.c.team_id, cycles.c.cycle_start, _LEDGER.c.credit_type)
    )
    columns = ["team_id", "cycle_start", "credit_type", "granted", "spent"]
    return _BALANCES.insert().from_select(columns, totals)
