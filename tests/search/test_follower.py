"""Following the repository change log: upserts and deletes after the recorded position, an
organization's change reaching its people, readers seeing the writer's commits, the writer
election between processes, and the in-flight gaps PostgreSQL's sequences leave."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from perilune.models import Organization, Person
from perilune.search import follower as follower_module
from perilune.search.filters import OrganizationFilter, PeopleFilter, Range
from perilune.search.follower import ChangeCursor, IndexFollower, IndexService
from perilune.search.index import SearchIndex, WriterLock, current_generation, rebuild
from perilune.search.source import Change
from tests.search.rows import (
    OrgSpec,
    PersonSpec,
    add_organization,
    add_person,
    delete_organization,
    delete_person,
    log_change,
    sessions,
)


async def people_named(index: SearchIndex, words: str) -> set[str]:
    return set(index.search_people(PeopleFilter(q_keywords=words), limit=100).ids)


async def started(engine: AsyncEngine, index_dir: Path) -> tuple[SearchIndex, IndexFollower, dict[str, str]]:
    async with sessions(engine)() as session, session.begin():
        org = await add_organization(session, OrgSpec())
        ava = await add_person(session, PersonSpec(), org)
        ben = await add_person(
            session, PersonSpec("Ben", "Okafor", "Software Engineer", "ben@sumware.com"), org
        )
    await rebuild(engine, index_dir, heap_mb=64)
    index = SearchIndex.open_current(index_dir)
    return index, IndexFollower(engine, index), {"org": org.id, "ava": ava.id, "ben": ben.id}


async def test_the_follower_applies_changes_after_the_recorded_position(
    engine: AsyncEngine, index_dir: Path
) -> None:
    index, follower, ids = await started(engine, index_dir)
    assert follower.position == 3
    assert await follower.run_once() == 0  # everything up to the position is in the index

    async with sessions(engine)() as session, session.begin():
        org = await session.get(Organization, ids["org"])
        chen = await add_person(session, PersonSpec("Chen", "Wei", "Data Scientist", "chen@sumware.com"), org)
        await session.execute(
            update(Person).where(Person.id == ids["ava"]).values(title="Chief Revenue Officer")
        )
        await log_change(session, "person", ids["ava"])
        await delete_person(session, ids["ben"])
    assert await people_named(index, "chen") == set()

    assert await follower.run_once() == 3
    assert await people_named(index, "chen") == {chen.id}
    assert await people_named(index, "okafor") == set()
    assert set(index.search_people(PeopleFilter(titles=("chief revenue officer",))).ids) == {ids["ava"]}
    assert index.search_people(PeopleFilter(titles=("vp sales",))).ids == []
    assert index.count("person") == 2
    assert follower.position == 6
    state = index.state()
    assert (state.position, state.people, state.organizations) == (6, 2, 1)


async def test_changes_apply_once_however_often_a_record_is_logged(
    engine: AsyncEngine, index_dir: Path
) -> None:
    index, follower, ids = await started(engine, index_dir)
    async with sessions(engine)() as session, session.begin():
        for _ in range(3):
            await log_change(session, "person", ids["ava"])
        await log_change(session, "person", "0" * 24)  # logged, then rolled back elsewhere: no row
        await log_change(session, "job_posting", ids["org"])  # an entity the index does not hold
    assert await follower.catch_up() == 5
    assert index.count("person") == 2
    assert await people_named(index, "ava ruiz") == {ids["ava"]}


async def test_an_organization_change_reaches_its_people(engine: AsyncEngine, index_dir: Path) -> None:
    index, follower, ids = await started(engine, index_dir)
    large = PeopleFilter(organization=OrganizationFilter(employees=(Range(5000, None),)))
    assert index.search_people(large).ids == []
    async with sessions(engine)() as session, session.begin():
        await session.execute(
            update(Organization).where(Organization.id == ids["org"]).values(estimated_num_employees=9000)
        )
        await log_change(session, "organization", ids["org"])
    await follower.catch_up()
    assert set(index.search_people(large).ids) == {ids["ava"], ids["ben"]}
    assert index.search_organizations(OrganizationFilter(employees=(Range(5000, None),))).ids == [ids["org"]]


async def test_a_deleted_organization_leaves_its_people_without_one(
    engine: AsyncEngine, index_dir: Path
) -> None:
    index, follower, ids = await started(engine, index_dir)
    async with sessions(engine)() as session, session.begin():
        await delete_organization(session, ids["org"])
    await follower.catch_up()
    assert index.count("organization") == 0
    at_org = PeopleFilter(organization=OrganizationFilter(ids=(ids["org"],)))
    assert index.search_people(at_org).ids == []
    # The people remain, no longer carrying the organization's fields.
    assert await people_named(index, "sumware") == set()
    assert await people_named(index, "ruiz") == {ids["ava"]}


async def test_a_person_moving_organization_is_found_at_the_new_one(
    engine: AsyncEngine, index_dir: Path
) -> None:
    index, follower, ids = await started(engine, index_dir)
    async with sessions(engine)() as session, session.begin():
        other = await add_organization(
            session, OrgSpec(name="Kraftwerk GmbH", domain="kraftwerk.de", employees=3)
        )
        await session.execute(update(Person).where(Person.id == ids["ava"]).values(organization_id=other.id))
        await log_change(session, "person", ids["ava"])
    await follower.catch_up()
    assert index.search_people(PeopleFilter(organization=OrganizationFilter(ids=(other.id,)))).ids == [
        ids["ava"]
    ]
    assert await people_named(index, "kraftwerk") == {ids["ava"]}


async def test_a_second_reader_sees_commits_after_reload(engine: AsyncEngine, index_dir: Path) -> None:
    _, follower, _ = await started(engine, index_dir)
    reader = SearchIndex.open_current(index_dir)  # another Index object, as another process has
    assert reader.count("person") == 2
    async with sessions(engine)() as session, session.begin():
        await add_person(session, PersonSpec("Dana", "Scully", "Special Agent", None))
    await follower.catch_up()
    reader.reload()
    assert await people_named(reader, "scully") != set()
    assert reader.count("person") == 3


async def test_a_reader_in_another_process_sees_commits(
    engine: AsyncEngine, index_dir: Path, tmp_path: Path
) -> None:
    """A separate OS process opens the index; the commit reaches it without any signal."""
    script = tmp_path / "reader.py"
    script.write_text(
        "import sys, time\n"
        "from pathlib import Path\n"
        "from perilune.search.index import SearchIndex\n"
        "index = SearchIndex.open_current(Path(sys.argv[1]))\n"
        "print(index.count('person'), flush=True)\n"
        "sys.stdin.readline()\n"
        "deadline = time.monotonic() + 10\n"
        "while index.count('person') < 3 and time.monotonic() < deadline:\n"
        "    time.sleep(0.05)\n"
        "print(index.count('person'), flush=True)\n"
    )
    _, follower, _ = await started(engine, index_dir)
    reader = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        str(index_dir),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert reader.stdout is not None and reader.stdin is not None
        async with asyncio.timeout(20):
            assert (await reader.stdout.readline()).strip() == b"2"
            async with sessions(engine)() as session, session.begin():
                await add_person(session, PersonSpec("Dana", "Scully", "Special Agent", None))
            await follower.catch_up()
            reader.stdin.write(b"go\n")
            await reader.stdin.drain()
            # The reader reloads by itself (tantivy watches the index's meta file).
            assert (await reader.stdout.readline()).strip() == b"3"
    finally:
        if reader.returncode is None:
            reader.kill()
        await reader.wait()


async def test_one_service_writes_and_the_others_read(
    engine: AsyncEngine, index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(follower_module, "ELECTION_SECONDS", 0.0)
    first = IndexService(engine, index_dir, follow_seconds=0.05, heap_mb=64)
    second = IndexService(engine, index_dir, follow_seconds=0.05, heap_mb=64)
    reader_only = IndexService(engine, index_dir, writer=False, follow_seconds=0.05)
    try:
        await first.tick()  # builds the missing index, then follows
        await second.tick()
        await reader_only.tick()
        assert first.is_writer and not second.is_writer and not reader_only.is_writer
        assert first.index is not None and second.index is not None
        assert first.index.generation == second.index.generation

        async with sessions(engine)() as session, session.begin():
            await add_person(session, PersonSpec("Dana", "Scully", "Special Agent", None))
        await first.tick()
        await second.tick()
        assert await people_named(second.index, "scully") != set()

        await first.stop()  # the writer goes away: a reader takes over at its next election
        await second.tick()
        assert writes(second)
        async with sessions(engine)() as session, session.begin():
            await add_person(session, PersonSpec("Fox", "Mulder", "Special Agent", None))
        await second.tick()
        assert await people_named(second.index, "mulder") != set()
    finally:
        for service in (first, second, reader_only):
            await service.stop()


async def test_the_service_runs_in_the_background_and_follows_a_rebuild(
    engine: AsyncEngine, index_dir: Path
) -> None:
    service = IndexService(engine, index_dir, follow_seconds=0.02, heap_mb=64)
    service.start()
    try:
        await _until(lambda: service.index is not None)
        async with sessions(engine)() as session, session.begin():
            await add_person(session, PersonSpec("Dana", "Scully", "Special Agent", None))
        await _until(lambda: service.index is not None and service.index.count("person") == 1)
        # `perilune index rebuild` meanwhile, from another process: the service switches to it.
        report = await rebuild(engine, index_dir, heap_mb=64)
        await _until(lambda: service.index is not None and service.index.generation == report.generation)
        async with sessions(engine)() as session, session.begin():
            await add_person(session, PersonSpec("Fox", "Mulder", "Special Agent", None))
        await _until(lambda: service.index is not None and service.index.count("person") == 2)
        assert current_generation(index_dir) == report.generation
    finally:
        await service.stop()
    assert not service.lock.held
    assert WriterLock(index_dir).try_acquire()


async def _until(condition: Callable[[], bool], within: float = 10) -> None:
    """Poll (real time) until another task or process has made ``condition`` true."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def writes(service: IndexService) -> bool:
    return service.is_writer


def change(seq: int) -> Change:
    return Change(seq, "person", "0" * 24, "upsert")


def test_the_cursor_waits_for_seqs_committed_out_of_order() -> None:
    cursor = ChangeCursor(high=10, pending=[], now=0.0, timeout=60.0)
    cursor.advance([change(11), change(14)], now=1.0)  # 12 and 13 are still in flight
    assert (cursor.high, sorted(cursor.pending), cursor.position) == (14, [12, 13], 11)
    cursor.advance([change(13)], now=2.0)
    assert (sorted(cursor.pending), cursor.position) == ([12], 11)
    cursor.expire(now=30.0)
    assert cursor.position == 11
    cursor.expire(now=61.0)  # never committed: rolled back
    assert (cursor.pending, cursor.position) == ({}, 14)


def test_the_cursor_does_not_wait_seq_by_seq_across_a_huge_jump() -> None:
    cursor = ChangeCursor(high=5, pending=[3], now=0.0)
    cursor.advance([change(5 + follower_module.MAX_TRACKED_GAP + 10)], now=0.0)
    assert sorted(cursor.pending) == [3]
    assert cursor.position == 2


async def test_the_follower_picks_up_a_change_that_commits_late(engine: AsyncEngine, index_dir: Path) -> None:
    index, follower, ids = await started(engine, index_dir)
    follower.cursor.advance([change(5)], now=0.0)  # as if seq 5 committed before 4
    assert follower.position == 3
    async with sessions(engine)() as session, session.begin():
        await session.execute(update(Person).where(Person.id == ids["ben"]).values(title="Staff Engineer"))
        await log_change(session, "person", ids["ben"])  # seq 4
        await log_change(session, "person", ids["ava"])  # seq 5
    await follower.run_once()
    assert set(index.search_people(PeopleFilter(titles=("staff engineer",))).ids) == {ids["ben"]}
    assert follower.position == 5


async def test_far_behind_the_writer_rebuilds_instead_of_following(
    engine: AsyncEngine, index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(follower_module, "REBUILD_LAG", 2)
    service = IndexService(engine, index_dir, heap_mb=64)
    try:
        await service.tick()
        assert service.index is not None
        first = service.index.generation
        async with sessions(engine)() as session, session.begin():
            await add_person(session, PersonSpec("Dana", "Scully", "Special Agent", None))
        await service.tick()  # one change behind: followed
        assert service.index.generation == first
        async with sessions(engine)() as session, session.begin():
            for name in ("Fox", "Walter", "John"):
                await add_person(session, PersonSpec(name, "Agent", "Special Agent", None))
        await service.tick()  # three behind: rebuilt
        assert service.index.generation != first
        assert service.index.count("person") == 4
        assert service.index.state().position == 4
    finally:
        await service.stop()
