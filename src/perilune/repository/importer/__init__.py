"""Importing people and organizations into the repository from JSON Lines or CSV.

``import_file`` reads a file (or stdin); ``import_records`` takes lines already parsed (the
generator's ``--load`` uses it). Both upsert in batches, one transaction each, and return an
``ImportReport``. The contract (fields, matching, errors, suppression) is in
docs/data-formats.md."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from perilune.clock import Clock
from perilune.repository.importer.report import Counts, ImportReport, Kind, LineError
from perilune.repository.importer.run import DEFAULT_BATCH_SIZE, Importer, Progress, default_workers
from perilune.repository.importer.sources import FORMATS, Source, SourceError, open_source

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "FORMATS",
    "Counts",
    "ImportReport",
    "Importer",
    "Kind",
    "LineError",
    "Progress",
    "Source",
    "SourceError",
    "default_workers",
    "import_file",
    "import_records",
    "open_source",
]


async def import_records(
    engine: AsyncEngine,
    kind: Kind,
    lines: Iterable[tuple[int, dict[str, Any]]],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
    clock: Clock | None = None,
) -> ImportReport:
    """Import ``(line_number, object)`` pairs of ``kind``. ``progress`` is called with the
    number of lines after each batch."""
    importer = Importer(engine, kind, clock)
    return await importer.run(lines, batch_size=batch_size, progress=progress)


async def import_file(
    engine: AsyncEngine,
    kind: Kind,
    path: str,
    fmt: str | None = None,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
    clock: Clock | None = None,
    workers: int = 0,
) -> ImportReport:
    """Import a JSON Lines or CSV file (``-`` for stdin; ``.gz`` accepted); ``fmt`` is
    ``jsonl`` or ``csv`` when the name does not say. ``workers`` processes prepare lines
    beside the writer (``default_workers`` suggests how many). Raises ``SourceError`` when the
    file cannot be read at all."""
    importer = Importer(engine, kind, clock, workers=workers)
    with open_source(path, fmt, parse=False) as lines:
        return await importer.run(lines, batch_size=batch_size, progress=progress)
