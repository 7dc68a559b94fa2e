from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from perilune.db.engine import create_engine
from tests.conftest import Database


@pytest.fixture
async def engine(database: Database) -> AsyncIterator[AsyncEngine]:
    created = create_engine(database.url, schema=database.schema)
    try:
        yield created
    finally:
        await created.dispose()


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    return tmp_path / "index"
