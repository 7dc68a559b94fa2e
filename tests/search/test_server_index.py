"""The index inside running apps: one writer among the server processes, the others reading, and
new repository rows searchable within seconds everywhere."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from perilune.app import create_app
from perilune.clock import FrozenClock
from perilune.config import Settings
from perilune.runtime import Runtime
from perilune.search.filters import PeopleFilter
from perilune.search.follower import IndexService
from tests.search.rows import PersonSpec, add_person


async def until(condition: Callable[[], bool], within: float = 15) -> None:
    """Poll (real time) until another task or process has made ``condition`` true."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def found(service: IndexService, words: str) -> list[str]:
    if service.index is None:
        return []
    return service.index.search_people(PeopleFilter(q_keywords=words)).ids


async def test_every_server_process_sees_new_rows(
    app: FastAPI, runtime: Runtime, settings: Settings, clock: FrozenClock
) -> None:
    writer: IndexService = app.state.search_index
    # A second server process on the same data (as `perilune serve --workers 2` runs).
    second = create_app(settings.model_copy(update={"index_follow_seconds": 0.1}), clock)
    async with LifespanManager(second):
        reader: IndexService = second.state.search_index
        await until(lambda: writer.index is not None and reader.index is not None)
        assert writer.is_writer and not reader.is_writer
        async with runtime.sessions() as session, session.begin():
            dana = await add_person(session, PersonSpec("Dana", "Scully", "Special Agent", None))
        await until(lambda: found(writer, "scully") == [dana.id])
        await until(lambda: found(reader, "scully") == [dana.id])


async def test_a_process_told_not_to_write_only_reads(settings: Settings, clock: FrozenClock) -> None:
    reader_only = create_app(
        settings.model_copy(update={"index_writer": False, "index_follow_seconds": 0.05}), clock
    )
    async with LifespanManager(reader_only):
        service: IndexService = reader_only.state.search_index
        await asyncio.sleep(0.3)
        assert not service.is_writer
        assert service.index is None  # nobody has built one
    assert not (settings.resolved_index_dir / "CURRENT").exists()
