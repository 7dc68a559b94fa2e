"""The import loop: lines -> records -> one transaction per batch.

Each batch is normalised first (pure Python, no transaction open), then written in one write
transaction: read what the batch could match, resolve line by line in file order, write every
table with one executemany, append the change log, commit. A batch either lands whole or not at
all, so an interrupted import (Ctrl-C, kill -9, a crash) leaves no half-written record and
running it again completes it: lines already imported come out ``unchanged``.

A batch the database refuses (a constraint, a value it cannot store) is split in halves and
retried until the offending lines are found and reported; the rest land."""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from itertools import islice
from typing import Any

from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from perilune.clock import Clock, SystemClock
from perilune.db.dialect import write_transaction
from perilune.repository.importer import tables
from perilune.repository.importer.bulk import deferred_indexes
from perilune.repository.importer.organizations import OrganizationBatch, OrganizationCache
from perilune.repository.importer.people import PeopleBatch
from perilune.repository.importer.report import ImportReport, Kind, LineError
from perilune.repository.importer.sources import Line, parse_json_line
from perilune.repository.records import (
    OrganizationRecord,
    PersonRecord,
    Raw,
    RecordError,
    organization_record,
    person_record,
)

DEFAULT_BATCH_SIZE = 5000
Progress = Callable[[int], None]
Announce = Callable[[str], None]
_Prepared = tuple[int, Raw, OrganizationRecord | PersonRecord | RecordError]


PARALLEL_FROM_BYTES = 32 * 2**20


def default_workers(size: int | None) -> int:
    """Preparing processes for a source of ``size`` bytes (None: unknown, e.g. stdin): one
    fewer than the CPUs, at most 4, for big sources; none for small ones, where starting the
    processes costs more than it saves."""
    if size is not None and size < PARALLEL_FROM_BYTES:
        return 0
    return max(1, min(4, (os.cpu_count() or 1) - 1))


class Importer:
    """One import run; remembers, between batches, the organizations it has already resolved.

    ``workers`` > 0 prepares (parses and normalises) batches in that many processes while this
    one writes: preparing costs about as much as writing, and a thread cannot run it beside the
    writer's Python for the GIL. Worth it for big files only (each worker takes ~1 s to start)."""

    def __init__(
        self, engine: AsyncEngine, kind: Kind, clock: Clock | None = None, *, workers: int = 0
    ) -> None:
        if kind not in ("organizations", "people"):
            raise ValueError(f"unknown import kind {kind!r}")
        self.engine = engine
        self.kind: Kind = kind
        self.clock = clock or SystemClock()
        self.cache = OrganizationCache()
        self.workers = max(0, workers)

    async def run(
        self,
        lines: Iterable[Line],
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        progress: Progress | None = None,
        announce: Announce | None = None,
    ) -> ImportReport:
        started = time.perf_counter()
        rebuilding = None if announce is None else lambda: announce("building the deferred indexes")
        async with deferred_indexes(self.engine, self.kind, rebuilding):
            report = await self._run(lines, batch_size, progress)
        report.seconds = time.perf_counter() - started
        return report

    async def _run(self, lines: Iterable[Line], batch_size: int, progress: Progress | None) -> ImportReport:
        report = ImportReport(self.kind)
        batches = _batched(lines, max(1, batch_size))
        pause = _GarbageCollectionPaused()
        try:
            async for prepared in self._prepared(batches):
                await self._batch(prepared, report)
                pause.collect_young()
                report.lines += len(prepared)
                if progress is not None:
                    progress(len(prepared))
        finally:
            pause.end()
        report.errors.sort()
        return report

    def _prepared(self, batches: Iterator[list[Line]]) -> AsyncIterator[list[_Prepared]]:
        if self.workers:
            return _prepared_in_processes(self.kind, batches, self.workers)
        return _prepared_in_thread(self.kind, batches)

    async def _batch(self, prepared: list[_Prepared], report: ImportReport) -> None:
        try:
            result = await self._write(prepared)
        except (IntegrityError, DataError) as exc:
            if len(prepared) == 1:
                report.errors.append(
                    LineError(prepared[0][0], f"the database refused this line: {_reason(exc)}")
                )
                return
            # Records were bound to ids in the failed attempt: the halves are prepared afresh.
            middle = len(prepared) // 2
            await self._batch(_reprepared(self.kind, prepared[:middle]), report)
            await self._batch(_reprepared(self.kind, prepared[middle:]), report)
            return
        _add(report, result)

    async def _write(self, prepared: list[_Prepared]) -> ImportReport:
        result = ImportReport(self.kind)
        async with write_transaction(self.engine) as connection:
            now = self.clock.now()
            organizations = OrganizationBatch(connection, now, self.cache)
            if self.kind == "organizations":
                changes = await self._organizations(organizations, prepared, result)
            else:
                people = PeopleBatch(connection, now, organizations)
                await self._people(people, prepared, result)
                changes = await organizations.flush()
                changes += await people.flush()
                result.organizations = people.organization_counts
            await tables.insert_rows(connection, tables.repository_changes, changes)
        organizations.commit()
        return result

    async def _organizations(
        self, organizations: OrganizationBatch, prepared: list[_Prepared], result: ImportReport
    ) -> list[dict[str, Any]]:
        await organizations.prefetch(r for _, _, r in prepared if isinstance(r, OrganizationRecord))
        for number, raw, record in prepared:
            try:
                if isinstance(record, RecordError):
                    raise record
                assert isinstance(record, OrganizationRecord)
                outcome, _ = organizations.upsert(record, raw)
            except RecordError as exc:
                result.errors.append(LineError(number, exc.reason))
                continue
            result.add(outcome)
        return await organizations.flush()

    async def _people(self, people: PeopleBatch, prepared: list[_Prepared], result: ImportReport) -> None:
        await people.prefetch([r for _, _, r in prepared if isinstance(r, PersonRecord)])
        for number, raw, record in prepared:
            try:
                if isinstance(record, RecordError):
                    raise record
                assert isinstance(record, PersonRecord)
                if people.is_suppressed(record):
                    result.suppressed += 1
                    continue
                outcome = people.upsert(record, raw)
            except RecordError as exc:
                result.errors.append(LineError(number, exc.reason))
                continue
            result.add(outcome)


def prepare_line(kind: Kind, number: int, item: object) -> _Prepared:
    """One line as a record, or the reason it is not one (pure: runs in any process)."""
    if isinstance(item, bytes):
        item = parse_json_line(item)
    if isinstance(item, RecordError):
        return number, {}, item
    if not isinstance(item, dict):
        return number, {}, RecordError("each line must be an object")
    try:
        if kind == "people":
            return number, item, person_record(item, partial=True)
        return number, item, organization_record(item, partial=True)
    except RecordError as exc:
        return number, item, exc


def prepare_batch(kind: Kind, batch: list[Line]) -> list[_Prepared]:
    return [prepare_line(kind, number, item) for number, item in batch]


def _reprepared(kind: Kind, prepared: list[_Prepared]) -> list[_Prepared]:
    return [item if isinstance(item[2], RecordError) else prepare_line(kind, *item[:2]) for item in prepared]


async def _prepared_in_thread(kind: Kind, batches: Iterator[list[Line]]) -> AsyncIterator[list[_Prepared]]:
    """The next batch is read and normalised in a thread while this one is written: the
    database's own work (SQLite's B-tree, PostgreSQL's round trips) runs without the GIL."""

    def next_prepared() -> list[_Prepared] | None:
        batch = next(batches, None)
        return None if batch is None else prepare_batch(kind, batch)

    pending = asyncio.create_task(asyncio.to_thread(next_prepared))
    try:
        while (prepared := await pending) is not None:
            pending = asyncio.create_task(asyncio.to_thread(next_prepared))
            yield prepared
    finally:
        pending.cancel()


async def _prepared_in_processes(
    kind: Kind, batches: Iterator[list[Line]], workers: int
) -> AsyncIterator[list[_Prepared]]:
    """Batches prepared by ``workers`` processes, in file order, a few ahead of the writer.
    Forked where the platform can (no re-import of the caller's ``__main__``, the normalisers'
    tables shared copy-on-write): the children run only pure preparing code, never touching the
    event loop or the database threads they were forked beside."""
    loop = asyncio.get_running_loop()
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=gc.disable) as pool:
        ahead: deque[asyncio.Future[list[_Prepared]]] = deque()
        try:
            while True:
                while len(ahead) <= workers:
                    batch = await asyncio.to_thread(next, batches, None)
                    if batch is None:
                        break
                    ahead.append(loop.run_in_executor(pool, prepare_batch, kind, batch))
                if not ahead:
                    return
                yield await ahead.popleft()
        finally:
            for future in ahead:
                future.cancel()


class _GarbageCollectionPaused:
    """No automatic garbage collection while importing. A batch allocates a few hundred
    thousand objects, almost none in cycles, and every automatic full collection would walk
    them and the normalisers' reference tables (tens of MB): it cost ~40 % of normalising.
    Reference counting frees the rest. The few cycles (about 60 objects a batch, measured) are
    collected every ``EVERY`` batches: a collection walks every young object still alive, ~70 ms
    with a batch in flight, too much to pay per batch."""

    EVERY = 50

    def __init__(self) -> None:
        self.was_enabled = gc.isenabled()
        self.batches = 0
        gc.disable()

    def collect_young(self) -> None:
        self.batches += 1
        if self.batches % self.EVERY == 0:
            gc.collect(1)

    def end(self) -> None:
        if self.was_enabled:
            gc.enable()


def _batched(lines: Iterable[Line], size: int) -> Iterator[list[Line]]:
    iterator = iter(lines)
    while batch := list(islice(iterator, size)):
        yield batch


def _add(report: ImportReport, result: ImportReport) -> None:
    report.created += result.created
    report.updated += result.updated
    report.unchanged += result.unchanged
    report.suppressed += result.suppressed
    report.errors.extend(result.errors)
    for outcome in ("created", "updated", "unchanged"):
        setattr(
            report.organizations,
            outcome,
            getattr(report.organizations, outcome) + getattr(result.organizations, outcome),
        )


def _reason(exc: Exception) -> str:
    original = getattr(exc, "orig", None) or exc
    return str(original).strip().splitlines()[0][:300] if str(original).strip() else type(original).__name__
