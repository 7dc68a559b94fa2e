"""Keeping the index in step with the database, and the server's index lifecycle.

Every repository write appends to ``repository_changes`` in its own transaction. One process,
the index writer, reads the log past the position its index reflects and re-indexes the records
named there: a record that exists is (re)indexed from its row, one that does not is deleted. An
organization's change re-indexes its people too (their documents carry its fields). Applying a
change twice is harmless, so after a crash the follower simply resumes from the recorded
position.

Which process writes: each server process runs an ``IndexService``; the first to take the index
directory's writer lock (``search.index.WriterLock``) builds the index if there is none and
follows the log; the others only read, reloading as commits land, and take over if the writer
process goes away. Every process therefore sees new data within about a second of its commit
(``PERILUNE_INDEX_FOLLOW_SECONDS``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from perilune.observability.logging import get_logger
from perilune.search import source
from perilune.search.documents import ORGANIZATION, PERSON, organization_json, person_json_or_none
from perilune.search.index import (
    FOLLOWER_CACHE_BYTES,
    IndexState,
    IndexUnavailable,
    OrganizationCache,
    SearchIndex,
    WriterLock,
    add_documents,
    current_generation,
    delete_records,
    in_thread,
    rebuild,
)
from perilune.search.schema import SCHEMA_VERSION
from perilune.search.source import Change

FOLLOW_BATCH = 5000
# How long a missing seq is waited for before it is taken for a rolled-back transaction.
GAP_TIMEOUT = 300.0
# A jump in seqs wider than this is not waited for seq by seq (a sequence reset or a restore).
MAX_TRACKED_GAP = 10_000
# The writer election is retried this often by processes that only read.
ELECTION_SECONDS = 5.0
# Changes waiting beyond which the writer rebuilds rather than follows (a rebuild indexes
# several times faster than the follower re-reads records one change at a time).
REBUILD_LAG = 250_000
# How long stopping waits for a round in hand before cancelling it.
STOP_GRACE_SECONDS = 5.0
# Server-side rebuilds yield to requests between smaller batches than the CLI's.
SERVER_REBUILD_BATCH = 1000
log = get_logger("perilune.search")


class ChangeCursor:
    """Where the follower is in the change log: the highest seq seen, and the seqs below it not
    seen yet. PostgreSQL hands out seqs when rows are inserted, not when they commit, so seq 10
    may become visible after seq 11; such gaps are re-read until they appear or time out."""

    def __init__(self, high: int, pending: Iterable[int], now: float, timeout: float = GAP_TIMEOUT) -> None:
        self.high = high
        self.timeout = timeout
        self.pending: dict[int, float] = {seq: now + timeout for seq in pending if seq <= high}

    @property
    def position(self) -> int:
        """Every change at or below this has been applied."""
        return min(self.pending) - 1 if self.pending else self.high

    def advance(self, changes: Iterable[Change], now: float) -> None:
        seqs = sorted({change.seq for change in changes})
        for seq in seqs:
            self.pending.pop(seq, None)
        previous = self.high
        for seq in (s for s in seqs if s > self.high):
            if seq - previous - 1 <= MAX_TRACKED_GAP:
                for missing in range(previous + 1, seq):
                    self.pending[missing] = now + self.timeout
            previous = seq
        self.high = max(self.high, previous)

    def expire(self, now: float) -> None:
        for seq in [seq for seq, deadline in self.pending.items() if deadline <= now]:
            del self.pending[seq]


class IndexFollower:
    """Applies the change log to one open generation (its writer must be free to take)."""

    def __init__(
        self,
        engine: AsyncEngine,
        index: SearchIndex,
        *,
        batch_size: int = FOLLOW_BATCH,
        gap_timeout: float = GAP_TIMEOUT,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.index = index
        self.batch_size = batch_size
        self.monotonic = monotonic
        self.state = index.state()
        self.cursor = ChangeCursor(self.state.high, self.state.pending, monotonic(), gap_timeout)
        self.organizations = OrganizationCache(FOLLOWER_CACHE_BYTES)

    @property
    def position(self) -> int:
        return self.cursor.position

    async def run_once(self) -> int:
        """Apply the next batch of changes and commit; the number of changes read."""
        changes = await source.read_changes(
            self.engine, self.cursor.high, sorted(self.cursor.pending), self.batch_size
        )
        if changes:
            await self.apply(changes)
        before = (self.cursor.high, len(self.cursor.pending))
        now = self.monotonic()
        self.cursor.advance(changes, now)
        self.cursor.expire(now)
        if (self.cursor.high, len(self.cursor.pending)) != before or changes:
            self._save()
        return len(changes)

    async def catch_up(self) -> int:
        """Apply batches until the log is read to its end; the number of changes read."""
        total = 0
        while True:
            read = await self.run_once()
            total += read
            if read < self.batch_size:
                return total

    async def apply(self, changes: list[Change]) -> None:
        people = {c.record_id for c in changes if c.entity == PERSON}
        organizations = {c.record_id for c in changes if c.entity == ORGANIZATION}
        writer = self.index.writer()
        try:
            if organizations:
                people |= await self._apply_organizations(organizations)
            if people:
                await self._apply_people(people)
            await in_thread(writer.commit)
        except BaseException:
            self.index.close_writer()
            raise
        self.index.reload()

    async def _apply_organizations(self, ids: set[str]) -> set[str]:
        """Re-index organizations; the ids of the people whose documents carry them."""
        writer = self.index.writer()
        delete_records(writer, ids)
        for organization_id in ids:
            self.organizations.discard(organization_id)
        rows = await source.load_organizations(self.engine, ids)
        add_documents(writer, (organization_json(org) for org in rows))
        self.organizations.add(rows)
        # Current members from the database, former ones (moved, or the organization deleted)
        # from the index.
        members = set(await source.people_of_organizations(self.engine, ids))
        return members | set(self.index.people_at(ids))

    async def _apply_people(self, ids: set[str]) -> None:
        writer = self.index.writer()
        rows = await source.load_people(self.engine, ids)
        await self.organizations.fill(self.engine, rows)
        delete_records(writer, ids)
        add_documents(
            writer, (person_json_or_none(p, self.organizations.get(p.organization_id)) for p in rows)
        )

    def _save(self) -> None:
        self.state.high = self.cursor.high
        self.state.pending = sorted(self.cursor.pending)
        self.state.people = self.index.count(PERSON)
        self.state.organizations = self.index.count(ORGANIZATION)
        self.state.save(self.index.directory)


class IndexService:
    """The index inside a server process: elects the writer, builds a missing index, follows the
    change log (writer) or reloads (readers), and reopens when a rebuild switches generations."""

    def __init__(
        self,
        engine: AsyncEngine,
        index_dir: Path,
        *,
        writer: bool = True,
        follow_seconds: float = 1.0,
        heap_mb: int = 256,
    ) -> None:
        self.engine = engine
        self.index_dir = index_dir
        self.writer_enabled = writer
        self.follow_seconds = follow_seconds
        self.heap_mb = heap_mb
        self.lock = WriterLock(index_dir)
        self.index: SearchIndex | None = None
        self.follower: IndexFollower | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last_election = float("-inf")
        self._unusable: str | None = None

    @property
    def is_writer(self) -> bool:
        return self.lock.held

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="perilune-index")

    async def stop(self) -> None:
        """Stop after the round in hand, or cut a long one (a rebuild) short after a grace
        period; either way the index is left consistent and the writer lock released."""
        self._stop.set()
        if self._task is not None:
            done, _ = await asyncio.wait([self._task], timeout=STOP_GRACE_SECONDS)
            if not done:
                self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._close()
        self.lock.release()

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.tick()
            except Exception:
                log.exception("search index update failed", index_dir=str(self.index_dir))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.follow_seconds)

    async def tick(self) -> None:
        """One round: election, build if needed, (re)open, follow or reload."""
        self._elect()
        if self.lock.held and (_needs_rebuild(self.index_dir) or await self._far_behind()):
            log.debug("building the search index", index_dir=str(self.index_dir))
            report = await rebuild(
                self.engine, self.index_dir, heap_mb=self.heap_mb, batch_size=SERVER_REBUILD_BATCH
            )
            # An empty repository's index (every fresh start, every test) is not news.
            (log.info if report.people or report.organizations else log.debug)(
                "search index built",
                people=report.people,
                organizations=report.organizations,
                seconds=round(report.seconds, 1),
            )
        self._open_current()
        if self.index is None:
            return
        if self.lock.held:
            if self.follower is None or self.follower.index is not self.index:
                self.follower = IndexFollower(self.engine, self.index)
            await self.follower.catch_up()
        else:
            self.index.reload()

    async def _far_behind(self) -> bool:
        """So many changes wait (a bulk import while serving) that a rebuild is quicker."""
        if self.index is None or not self.index.is_current():
            return False
        position = self.follower.position if self.follower is not None else self.index.state().position
        head, _ = await source.change_log_head(self.engine, 0)
        return head - position > REBUILD_LAG

    def _elect(self) -> None:
        if not self.writer_enabled or self.lock.held:
            return
        now = time.monotonic()
        if now - self._last_election >= ELECTION_SECONDS:
            self._last_election = now
            if self.lock.try_acquire():
                log.debug("this process keeps the search index up to date", index_dir=str(self.index_dir))

    def _open_current(self) -> None:
        generation = current_generation(self.index_dir)
        if self.index is not None and self.index.generation == generation:
            return
        self._close()
        if generation is None or generation == self._unusable:
            return
        try:
            self.index = SearchIndex.open_current(self.index_dir)
        except IndexUnavailable as exc:
            # Said once per generation: until a writer rebuilds it, every round finds it so.
            self._unusable = generation
            log.warning("search index unavailable", reason=str(exc))

    def _close(self) -> None:
        if self.index is not None:
            self.index.close_writer()
        self.index = None
        self.follower = None


def _needs_rebuild(index_dir: Path) -> bool:
    generation = current_generation(index_dir)
    if generation is None:
        return True
    try:
        return IndexState.load(index_dir / generation).schema_version != SCHEMA_VERSION
    except (OSError, ValueError, TypeError):
        return True
