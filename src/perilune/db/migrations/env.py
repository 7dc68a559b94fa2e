"""Alembic environment: async engines, our naming convention, batch mode on SQLite."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from perilune.db.indexes import create_missing_indexes
from perilune.db.migrate import engine_for
from perilune.models import Base

config = context.config


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
        if _upgrading():
            create_missing_indexes(connection)


def _upgrading() -> bool:
    # ``alembic check`` runs this module too; it must report differences, not repair them.
    return config.attributes.get("upgrading") is True


async def _run() -> None:
    engine = engine_for(config)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_configure)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Perilune runs its migrations online only.")
asyncio.run(_run())
