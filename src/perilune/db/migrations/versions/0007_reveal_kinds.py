"""reveal kinds: which kinds of data a team revealed about a person (phone numbers, personal emails)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The server default makes the reveals made before this revision email-only: what those
    # teams paid for (the earlier renderer showed them more, which was the leak).
    with op.batch_alter_table("person_reveals", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("phone_numbers", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("personal_emails", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("person_reveals", schema=None) as batch_op:
        batch_op.drop_column("personal_emails")
        batch_op.drop_column("phone_numbers")
