"""``perilune generate``: a synthetic people/organization repository, as JSON Lines files or
loaded straight into the database."""

from __future__ import annotations

import asyncio
import sys
import time
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from perilune.config import Settings
from perilune.repository.generator import (
    DEFAULT_AS_OF,
    FILES,
    Generator,
    Kind,
    Sink,
    Workers,
    default_workers,
    gzip_sink,
    worker_pool,
)

if TYPE_CHECKING:
    from perilune.repository.importer import ImportReport

PROGRESS_SECONDS = 2.0


def generate(
    people: Annotated[int, typer.Option(min=0, help="People to generate.")] = 1000,
    organizations: Annotated[
        int | None, typer.Option(min=1, help="Companies to generate (default: one per 12 people).")
    ] = None,
    seed: Annotated[int, typer.Option(help="The same seed gives byte-identical output.")] = 0,
    out: Annotated[
        Path | None,
        typer.Option(help="Directory for organizations.jsonl and people.jsonl (default: the current one)."),
    ] = None,
    compress: Annotated[bool, typer.Option("--gzip", help="Write .jsonl.gz files.")] = False,
    load: Annotated[
        bool,
        typer.Option("--load", help="Import into the database (and write files too when --out is given)."),
    ] = False,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Processes rendering records (default: the CPU count).")
    ] = None,
    as_of: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help=f"The date the data describes (default {DEFAULT_AS_OF})."),
    ] = None,
) -> None:
    """Generate a realistic synthetic repository: companies of every size (heavy-tailed), their
    people with Apollo's title classification, emails, phones and employment histories."""
    generator = Generator(
        people=people,
        organizations=organizations,
        seed=seed,
        as_of=as_of.date() if as_of else DEFAULT_AS_OF,
    )
    started = time.perf_counter()
    processes = workers or default_workers()
    if load:
        load_generated(generator, processes, out, compress)
    else:
        result = generator.write(out or Path(), compress=compress, workers=processes)
        typer.echo(f"wrote {result.organization_count} organizations to {result.organizations}")
        typer.echo(f"wrote {result.people_count} people to {result.people}")
    seconds = time.perf_counter() - started
    rate = generator.people_count / seconds if seconds > 0 else 0.0
    typer.echo(f"{seconds:.1f} s ({rate:,.0f} people/s, seed {seed})")


def load_generated(
    generator: Generator, processes: int, out: Path | None = None, compress: bool = False
) -> None:
    """Generate straight into the database (and into files under ``out``), printing progress
    and the import reports."""
    from perilune.db import migrate
    from perilune.repository.generator.loading import LoadUnavailable

    settings = Settings()
    migrate.upgrade(settings.resolved_database_url, settings.database_schema)
    with ExitStack() as stack:
        sinks = _sinks(stack, out, compress) if out else None
        forked = stack.enter_context(worker_pool(generator, processes))
        try:
            reports = asyncio.run(_load_async(settings, generator, forked, sinks))
        except LoadUnavailable as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(code=1) from exc
    for report in reports:
        typer.echo(f"{report.kind}: {report.summary()}")
    if out:
        for kind, name in FILES.items():
            typer.echo(f"wrote {kind} to {out / (name + ('.gz' if compress else ''))}")


async def _load_async(
    settings: Settings, generator: Generator, forked: Workers | None, sinks: dict[Kind, Sink] | None
) -> list[ImportReport]:
    from perilune.db.engine import engine_from_settings
    from perilune.repository.generator.loading import load_into

    engine = engine_from_settings(settings)
    try:
        return await load_into(engine, generator, workers=forked, sinks=sinks, progress=_ProgressPrinter())
    finally:
        await engine.dispose()


def _sinks(stack: ExitStack, out: Path, compress: bool) -> dict[Kind, Sink]:
    out.mkdir(parents=True, exist_ok=True)
    sinks: dict[Kind, Sink] = {}
    for kind, name in FILES.items():
        raw = stack.enter_context((out / (name + (".gz" if compress else ""))).open("wb"))
        sinks[kind] = stack.enter_context(gzip_sink(raw)) if compress else raw
    return sinks


class _ProgressPrinter:
    """Adds up the importer's per-batch counts; prints a line every few seconds."""

    def __init__(self) -> None:
        self.last = time.monotonic()
        self.done: dict[Kind, int] = {}

    def __call__(self, kind: Kind, lines: int) -> None:
        done = self.done[kind] = self.done.get(kind, 0) + lines
        now = time.monotonic()
        if now - self.last >= PROGRESS_SECONDS:
            self.last = now
            typer.echo(f"  {kind}: {done:,} imported")
            sys.stdout.flush()
