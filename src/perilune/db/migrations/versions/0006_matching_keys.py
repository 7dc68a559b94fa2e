"""matching keys: the phonetic last name and the indexes that find people within an organization

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from perilune.repository.normalize import phonetic_key

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_name_phonetic", sa.String(length=255), nullable=True))
    _backfill_phonetic_keys()
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.create_index("ix_people_org_first", ["organization_id", "first_name_key"], unique=False)
        batch_op.create_index(
            "ix_people_org_last_phonetic", ["organization_id", "last_name_phonetic"], unique=False
        )


def _backfill_phonetic_keys() -> None:
    """People stored before this revision get the key the importer now writes (the same
    ``phonetic_key`` of the same last name), in batches by id so memory stays flat."""
    connection = op.get_bind()
    people = sa.table(
        "people",
        sa.column("id", sa.String),
        sa.column("last_name", sa.String),
        sa.column("last_name_phonetic", sa.String),
    )
    update = (
        sa.update(people)
        .where(people.c.id == sa.bindparam("person_id"))
        .values(last_name_phonetic=sa.bindparam("phonetic"))
    )
    after = ""
    while True:
        rows = connection.execute(
            sa.select(people.c.id, people.c.last_name)
            .where(people.c.id > after, people.c.last_name.is_not(None))
            .order_by(people.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        values = [{"person_id": i, "phonetic": phonetic_key(last) or None} for i, last in rows]
        connection.execute(update, values)
        after = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index("ix_people_org_last_phonetic")
        batch_op.drop_index("ix_people_org_first")
        batch_op.drop_column("last_name_phonetic")
