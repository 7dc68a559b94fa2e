"""``perilune import organizations|people FILE`` and ``perilune people erase``."""

from __future__ import annotations

import asyncio
import csv
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from perilune.config import Settings
from perilune.db import migrate
from perilune.db.engine import engine_from_settings
from perilune.repository.erasure import ErasureError, ErasureReport, erase_person
from perilune.repository.importer import (
    DEFAULT_BATCH_SIZE,
    FORMATS,
    Importer,
    ImportReport,
    Kind,
    Source,
    SourceError,
    default_workers,
    open_source,
)

import_app = typer.Typer(
    help="Import people and organizations into the repository (JSON Lines or CSV; see docs/data-formats.md).",
    no_args_is_help=True,
)
people_app = typer.Typer(help="The people repository.", no_args_is_help=True)

SHOWN_ERRORS = 20
PLAIN_PROGRESS_SECONDS = 5.0

FileArgument = Annotated[
    str, typer.Argument(help="A .jsonl or .csv file, optionally .gz; - reads standard input.")
]
FormatOption = Annotated[
    str | None,
    typer.Option("--format", help=f"{' or '.join(FORMATS)}, when the file name does not say."),
]
BatchOption = Annotated[int, typer.Option(min=1, help="Lines per transaction.")]
WorkersOption = Annotated[
    int | None,
    typer.Option(
        min=0,
        help="Processes preparing lines beside the writer (default: one fewer than the CPUs, "
        "for files over 32 MB or standard input; 0 prepares in this process).",
    ),
]
ErrorsOption = Annotated[
    Path | None, typer.Option("--errors", help="Write every skipped line (line,reason) to this CSV file.")
]


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


@import_app.command("organizations")
def import_organizations(
    file: FileArgument,
    fmt: FormatOption = None,
    batch_size: BatchOption = DEFAULT_BATCH_SIZE,
    errors: ErrorsOption = None,
    workers: WorkersOption = None,
) -> None:
    """Upsert organizations: matched by id, then primary domain, LinkedIn page, name."""
    _import("organizations", file, fmt, batch_size, errors, workers)


@import_app.command("people")
def import_people(
    file: FileArgument,
    fmt: FormatOption = None,
    batch_size: BatchOption = DEFAULT_BATCH_SIZE,
    errors: ErrorsOption = None,
    workers: WorkersOption = None,
) -> None:
    """Upsert people (and their nested employers): matched by id, then email, LinkedIn URL."""
    _import("people", file, fmt, batch_size, errors, workers)


def _import(
    kind: Kind, file: str, fmt: str | None, batch_size: int, errors: Path | None, workers: int | None
) -> None:
    settings = Settings()
    migrate.upgrade(settings.resolved_database_url, settings.database_schema)

    async def run(source: Source, progress: Callable[[int], None]) -> ImportReport:
        engine = engine_from_settings(settings)
        processes = default_workers(source.size) if workers is None else workers
        try:
            return await Importer(engine, kind, workers=processes).run(
                source, batch_size=batch_size, progress=progress, announce=_announce(kind)
            )
        finally:
            await engine.dispose()

    try:
        with open_source(file, fmt, parse=False) as source, _progress(kind, source) as progress:
            report = asyncio.run(run(source, progress))
    except SourceError as exc:
        raise _fail(str(exc)) from exc
    except KeyboardInterrupt:
        typer.secho(
            "interrupted: the batch in progress was rolled back, the ones before it are imported; "
            "run the same import again to complete it",
            fg=typer.colors.YELLOW,
            err=True,
        )
        raise typer.Exit(code=130) from None
    _print_report(report, errors)
    if report.errors:
        raise typer.Exit(code=1)


def _announce(kind: str) -> Callable[[str], None]:
    def announce(message: str) -> None:
        typer.echo(f"{kind}: {message}", err=True)

    return announce


@contextmanager
def _progress(kind: str, source: Source) -> Iterator[Callable[[int], None]]:
    """On a terminal, a live bar (how far into the file, when it is a file) with lines and
    rows/s; otherwise a plain line every few seconds."""
    if not sys.stderr.isatty():
        yield _plain_progress(kind, sys.stderr)
        return
    columns = (
        SpinnerColumn(),
        TextColumn(f"importing {kind}"),
        BarColumn(),
        TextColumn("{task.fields[lines]:,} lines"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(kind, total=source.size, lines=0, rate="")
        started = time.perf_counter()
        done = 0

        def advance(lines: int) -> None:
            nonlocal done
            done += lines
            rate = done / max(time.perf_counter() - started, 1e-9)
            bar.update(task, completed=source.position() or 0, lines=done, rate=f"{rate:,.0f} rows/s")

        yield advance


def _plain_progress(kind: str, stream: TextIO) -> Callable[[int], None]:
    started = last = time.perf_counter()
    done = 0

    def advance(lines: int) -> None:
        nonlocal done, last
        done += lines
        now = time.perf_counter()
        if now - last >= PLAIN_PROGRESS_SECONDS:
            last = now
            print(f"importing {kind}: {done:,} lines, {done / (now - started):,.0f} rows/s", file=stream)

    return advance


def _print_report(report: ImportReport, errors: Path | None) -> None:
    typer.echo(f"{report.kind}: {report.summary()}")
    if report.suppressed:
        typer.echo(
            f"{report.suppressed:,} {'person was' if report.suppressed == 1 else 'people were'} "
            "skipped: erased on request (perilune people erase)"
        )
    for error in report.errors[:SHOWN_ERRORS]:
        typer.echo(f"line {error.line}: {error.reason}", err=True)
    if errors is not None:
        with errors.open("w", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(["line", "reason"])
            writer.writerows(report.errors)
        typer.echo(f"{len(report.errors):,} skipped lines written to {errors}", err=True)
    elif len(report.errors) > SHOWN_ERRORS:
        typer.echo(
            f"... and {len(report.errors) - SHOWN_ERRORS:,} more (--errors FILE writes them all)", err=True
        )


@people_app.command("erase")
def people_erase(
    email: Annotated[str | None, typer.Option(help="A work or personal email address.")] = None,
    linkedin_url: Annotated[str | None, typer.Option(help="A LinkedIn profile URL.")] = None,
    person_id: Annotated[str | None, typer.Option("--id", help="The person's id.")] = None,
) -> None:
    """Erase a person from the repository and stop later imports from adding them again.
    Only SHA-256 digests of the email and LinkedIn profile are kept, to recognise them."""
    settings = Settings()
    migrate.upgrade(settings.resolved_database_url, settings.database_schema)

    async def run() -> ErasureReport:
        engine = engine_from_settings(settings)
        try:
            return await erase_person(engine, email=email, linkedin_url=linkedin_url, person_id=person_id)
        finally:
            await engine.dispose()

    try:
        report = asyncio.run(run())
    except ErasureError as exc:
        raise _fail(str(exc)) from exc
    if not report.people and not report.suppressions:
        raise _fail(f"no person has id {person_id}; nothing to erase or suppress")
    _print_erasure(report)


def _print_erasure(report: ErasureReport) -> None:
    if not report.people:
        typer.echo("no person in the repository matched")
    for person in report.people:
        typer.echo(
            f"erased person {person.id}: {person.employment_history} employment history items, "
            f"{person.phone_numbers} phone numbers, {person.personal_emails} personal emails, "
            f"{person.reveals} reveals"
        )
    known = len(report.suppressions) - report.new_suppressions
    typer.echo(
        f"suppressed {len(report.suppressions)} identifiers (SHA-256 only"
        + (f"; {known} already suppressed" if known else "")
        + "): later imports skip this person"
    )
    for kind, value in report.suppressions:
        typer.echo(f"  {kind} {value[:16]}...")
