"""``perilune generate --load``: generated records straight into the repository through the
importer, organizations first (people refer to them by ``organization_id``).

``load_into`` is the one place the generator meets the importer. Records reach it as the same
JSON lines the files hold (rendered by forked workers when there are several), parsed here, so
a load and an import of the written files store identical records."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import orjson

from perilune.repository.generator import Generator, Kind, Sink, Workers

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from perilune.repository.importer import ImportReport

KINDS: tuple[Kind, ...] = ("organizations", "people")


class LoadUnavailable(RuntimeError):
    """The importer is not installed in this build."""


# --- hook: the importer's entry point ----------------------------------------------------------
async def load_into(
    engine: AsyncEngine,
    generator: Generator,
    *,
    workers: Workers | None = None,
    sinks: dict[Kind, Sink] | None = None,
    progress: Callable[[Kind, int], None] | None = None,
) -> list[ImportReport]:
    """Import the generator's organizations, then its people, with
    ``perilune.repository.importer.import_records``. ``sinks`` also receive the JSON lines (to
    write the files in the same pass); ``progress`` is called with a kind and the number of lines
    of each batch imported."""
    try:
        from perilune.repository.importer import import_records
    except ImportError as exc:  # the importer is a separate package of this repository
        raise LoadUnavailable(f"the importer is not available ({exc}); write files without --load") from exc

    reports = []
    for kind in KINDS:
        sink = sinks.get(kind) if sinks else None
        lines = numbered(generator.lines(kind, workers), sink)
        report = await import_records(engine, kind, lines, progress=_per_kind(progress, kind))
        reports.append(report)
    return reports


def _per_kind(progress: Callable[[Kind, int], None] | None, kind: Kind) -> Callable[[int], None] | None:
    if progress is None:
        return None
    report = progress

    def batch_done(lines: int) -> None:
        report(kind, lines)

    return batch_done


# -----------------------------------------------------------------------------------------------


def numbered(chunks: Iterable[bytes], sink: Sink | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line_number, object)`` pairs from chunks of JSON lines, copying each chunk to ``sink``."""
    number = 0
    for chunk in chunks:
        if sink is not None:
            sink.write(chunk)
        for line in chunk.splitlines():
            number += 1
            yield number, orjson.loads(line)
