"""``perilune index rebuild | status``: the repository search index."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

import typer

from perilune.config import Settings
from perilune.db import migrate
from perilune.db.engine import engine_from_settings
from perilune.search.index import IndexStatus, RebuildProgress, RebuildReport, index_status, rebuild

index_app = typer.Typer(help="The people/organization search index.", no_args_is_help=True)
# Progress lines at most this often (and always at the end of each kind).
PROGRESS_SECONDS = 2.0


@index_app.command("rebuild")
def rebuild_command(
    heap_mb: Annotated[
        int | None, typer.Option(min=64, help="Writer memory in MB (default PERILUNE_INDEX_HEAP_MB).")
    ] = None,
) -> None:
    """Build the search index from the database. A running server keeps answering from the
    previous index and switches to the new one when it is complete."""
    settings = Settings()
    migrate.upgrade(settings.resolved_database_url, settings.database_schema)
    index_dir = settings.resolved_index_dir
    typer.echo(f"rebuilding the search index in {index_dir}")
    report = asyncio.run(_rebuild(settings, heap_mb or settings.index_heap_mb))
    typer.echo(
        f"indexed {report.people} people and {report.organizations} organizations "
        f"in {report.seconds:.1f} s ({report.docs_per_second:,.0f} docs/s); "
        f"change log position {report.position}"
    )


async def _rebuild(settings: Settings, heap_mb: int) -> RebuildReport:
    engine = engine_from_settings(settings)
    printer = _ProgressPrinter()
    try:
        return await rebuild(engine, settings.resolved_index_dir, printer, heap_mb=heap_mb)
    finally:
        await engine.dispose()


class _ProgressPrinter:
    def __init__(self) -> None:
        self.last = 0.0

    def __call__(self, progress: RebuildProgress) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_SECONDS and progress.done < progress.total:
            return
        self.last = now
        share = 100 * progress.done / progress.total if progress.total else 100.0
        typer.echo(
            f"  {progress.kind}: {progress.done:,}/{progress.total:,} ({share:.0f}%), "
            f"{progress.docs_per_second:,.0f} docs/s"
        )


@index_app.command("status")
def status_command() -> None:
    """Where the index is, what it holds and how far behind the database it is."""
    settings = Settings()
    migrate.upgrade(settings.resolved_database_url, settings.database_schema)
    for line in describe(asyncio.run(_status(settings))):
        typer.echo(line)


async def _status(settings: Settings) -> IndexStatus:
    engine = engine_from_settings(settings)
    try:
        return await index_status(engine, settings.resolved_index_dir)
    finally:
        await engine.dispose()


def describe(status: IndexStatus) -> list[str]:
    lines = [f"index directory: {status.index_dir}"]
    if status.generation is None or status.state is None:
        return [*lines, "no index: run `perilune index rebuild` (a server builds one on start)"]
    state = status.state
    lines += [
        f"generation: {status.generation} (schema version {state.schema_version}"
        + ("" if status.ready else ", out of date: run `perilune index rebuild`")
        + ")",
        f"documents: {status.documents.get('person', 0):,} people, "
        f"{status.documents.get('organization', 0):,} organizations",
        f"change log: position {state.position:,} of {status.change_log_head:,} (lag {status.lag:,})",
        f"built: {state.built_at} in {state.build_seconds} s ({state.docs_per_second} docs/s)",
        f"last update: {state.updated_at}",
        "writer: "
        + ("a process is keeping the index up to date" if status.writer_running else "none running"),
    ]
    return lines
