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
import time
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any

from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from perilune.clock import Clock, SystemClock
from perilune.db.dialect import write_transaction
from perilune.repository.importer import tables
from perilune.repository.importer.organizations import OrganizationBatch, OrganizationCache
from perilune.repository.importer.people import PeopleBatch
from perilune.repository.importer.report import ImportReport, Kind, LineError
from perilune.repository.importer.sources import Line
from perilune.repository.records import (
    OrganizationRecord,
    PersonRecord,
    Raw,
    RecordError,
    organization_record,
    person_record,
)

DEFAULT_BATCH_SIZE = 2000
Progress = Callable[[int], None]
_Prepared = tuple[int, Raw, OrganizationRecord | PersonRecord | RecordError]


class Importer:
    """One import run; remembers, between batches, the organizations it has already resolved."""

    def __init__(self, engine: AsyncEngine, kind: Kind, clock: Clock | None = None) -> None:
        if kind not in ("organizations", "people"):
            raise ValueError(f"unknown import kind {kind!r}")
        self.engine = engine
        self.kind: Kind = kind
        self.clock = clock or SystemClock()
        self.cache = OrganizationCache()

    async def run(
        self, lines: Iterable[Line], *, batch_size: int = DEFAULT_BATCH_SIZE, progress: Progress | None = None
    ) -> ImportReport:
        report = ImportReport(self.kind)
        started = time.perf_counter()
        batches = _batched(lines, max(1, batch_size))
        pause = _GarbageCollectionPaused()
        # The next batch is read and normalised in a thread while this one is written: the
        # database's own work (SQLite's B-tree, PostgreSQL's round trips) runs without the GIL.
        pending = asyncio.create_task(asyncio.to_thread(self._next, batches))
        try:
            while (item := await pending) is not None:
                batch, prepared = item
                pending = asyncio.create_task(asyncio.to_thread(self._next, batches))
                await self._batch(batch, report, prepared)
                pause.collect_young()
                report.lines += len(batch)
                if progress is not None:
                    progress(len(batch))
        finally:
            pending.cancel()
            pause.end()
        report.seconds = time.perf_counter() - started
        report.errors.sort()
        return report

    def _next(self, batches: Iterator[list[Line]]) -> tuple[list[Line], list[_Prepared]] | None:
        batch = next(batches, None)
        if batch is None:
            return None
        return batch, [self._prepare(number, item) for number, item in batch]

    async def _batch(
        self, batch: list[Line], report: ImportReport, prepared: list[_Prepared] | None = None
    ) -> None:
        if prepared is None:
            prepared = [self._prepare(number, item) for number, item in batch]
        try:
            result = await self._write(prepared)
        except (IntegrityError, DataError) as exc:
            if len(batch) == 1:
                report.errors.append(
                    LineError(batch[0][0], f"the database refused this line: {_reason(exc)}")
                )
                return
            # Records were bound to ids in the failed attempt: the halves are prepared afresh.
            middle = len(batch) // 2
            await self._batch(batch[:middle], report)
            await self._batch(batch[middle:], report)
            return
        _add(report, result)

    def _prepare(self, number: int, item: object) -> _Prepared:
        if isinstance(item, RecordError):
            return number, {}, item
        if not isinstance(item, dict):
            return number, {}, RecordError("each line must be an object")
        try:
            if self.kind == "people":
                return number, item, person_record(item, partial=True)
            return number, item, organization_record(item, partial=True)
        except RecordError as exc:
            return number, item, exc

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


class _GarbageCollectionPaused:
    """No automatic garbage collection while importing. A batch allocates a few hundred
    thousand objects, almost none in cycles, and every automatic full collection would walk
    them and the normalisers' reference tables (tens of MB): it cost ~40 % of normalising.
    Reference counting frees the rest; each batch ends with a collection of the young
    generations, which finds the few cycles."""

    def __init__(self) -> None:
        self.was_enabled = gc.isenabled()
        gc.disable()

    def collect_young(self) -> None:
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
