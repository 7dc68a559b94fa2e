"""Building a repository from nothing: generate, import, index.

``.venv/bin/python -m bench.repository_build [--people 1000000] [--organizations N] [--dir D]``

Generates ``people`` people and ``organizations`` companies (default one per ten people) as
JSON Lines, imports both files into a new SQLite database the way ``perilune import`` does, and
builds the search index the way ``perilune index rebuild`` does; prints each step's rate, the
total, peak memory (this process and its worker processes), and the database and index sizes.

The baseline, measured in the same run: the rows the import wrote to the people tables (people,
employment history, phones, personal emails, change log), read back and written again with a
bare ``executemany`` per table and batch into a new database of the same schema, settings and
batch size. The ratio of the import's rate to it says what matching, normalising and merging cost
on top of the database's own work (the issue's target: at least 20 %).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from perilune.db import migrate
from perilune.db.engine import SQLITE_PRAGMAS, create_engine
from perilune.repository.generator import Generator, default_workers
from perilune.repository.importer import DEFAULT_BATCH_SIZE, Importer, ImportReport, open_source
from perilune.repository.importer import default_workers as import_workers
from perilune.search.index import rebuild

TARGET_SECONDS = 120.0
TARGET_RSS_MB = 2048.0
TARGET_RATIO = 0.20
# The tables a people import writes, parents first, and how their rows hang off a person.
PEOPLE_TABLES = (
    "people",
    "employment_history",
    "person_phone_numbers",
    "personal_emails",
    "repository_changes",
)


@dataclass
class Results:
    people: int
    organizations: int
    steps: dict[str, float] = field(default_factory=dict)
    lines: dict[str, str] = field(default_factory=dict)


def database_url(directory: Path) -> str:
    return f"sqlite+aiosqlite:///{directory / 'perilune.db'}"


def generate(results: Results, out: Path) -> tuple[Path, Path]:
    generator = Generator(people=results.people, organizations=results.organizations, seed=1)
    started = time.perf_counter()
    written = generator.write(out, workers=default_workers())
    seconds = results.steps["generate"] = time.perf_counter() - started
    size = (written.people.stat().st_size + written.organizations.stat().st_size) / 1e6
    results.lines["generate"] = (
        f"{results.people:,} people + {written.organization_count:,} organizations in {seconds:.1f} s "
        f"({results.people / seconds:,.0f} people/s, {size:,.0f} MB of JSON Lines)"
    )
    return written.organizations, written.people


async def import_kind(url: str, kind: str, path: Path) -> ImportReport:
    engine = create_engine(url)
    try:
        with open_source(str(path), parse=False) as source:
            workers = import_workers(source.size)
            importer = Importer(engine, "people" if kind == "people" else "organizations", workers=workers)
            return await importer.run(source)
    finally:
        await engine.dispose()


def import_files(results: Results, url: str, organizations: Path, people: Path) -> None:
    migrate.upgrade(url)
    for kind, path in (("organizations", organizations), ("people", people)):
        report = asyncio.run(import_kind(url, kind, path))
        if report.errors:
            raise SystemExit(f"the {kind} import reported errors: {report.errors[:3]}")
        results.steps[f"import {kind}"] = report.seconds
        results.lines[f"import {kind}"] = (
            f"{report.lines:,} lines in {report.seconds:.1f} s ({report.lines / report.seconds:,.0f} rows/s)"
        )


async def build_index(url: str, index_dir: Path) -> tuple[float, float]:
    engine = create_engine(url)
    try:
        report = await rebuild(engine, index_dir)
    finally:
        await engine.dispose()
    return report.seconds, report.docs_per_second


def index(results: Results, url: str, index_dir: Path) -> None:
    seconds, rate = asyncio.run(build_index(url, index_dir))
    results.steps["index"] = seconds
    results.lines["index"] = (
        f"{results.people + results.organizations:,} documents in {seconds:.1f} s ({rate:,.0f} docs/s)"
    )


def baseline(source: Path, target: Path, people: int) -> float:
    """Seconds for a bare executemany of the people tables' rows from ``source`` into the new,
    migrated database ``target``, ``DEFAULT_BATCH_SIZE`` people per transaction."""
    migrate.upgrade(f"sqlite+aiosqlite:///{target}")
    read = sqlite3.connect(source)
    write = sqlite3.connect(target, isolation_level=None)
    for pragma in SQLITE_PRAGMAS:
        write.execute(pragma)
    write.execute("BEGIN")
    _copy(read, write, "organizations")  # what the people refer to; not timed
    write.execute("COMMIT")
    batches = list(_batches(read, people))
    started = time.perf_counter()
    for batch in batches:
        write.execute("BEGIN")
        for statement, rows in batch:
            write.executemany(statement, rows)
        write.execute("COMMIT")
    seconds = time.perf_counter() - started
    read.close()
    write.close()
    return seconds


def _copy(read: sqlite3.Connection, write: sqlite3.Connection, table: str) -> None:
    cursor = read.execute(f"SELECT * FROM {table}")  # noqa: S608
    marks = ", ".join("?" * len(cursor.description))
    write.executemany(f"INSERT INTO {table} VALUES ({marks})", cursor)  # noqa: S608


def _batches(read: sqlite3.Connection, people: int) -> Iterator[list[tuple[str, list[tuple[object, ...]]]]]:
    """Each batch's rows per table, read from the imported database (all in memory first, so
    the timing covers the writes alone)."""
    ids = [row[0] for row in read.execute("SELECT id FROM people ORDER BY rowid LIMIT ?", (people,))]
    for start in range(0, len(ids), DEFAULT_BATCH_SIZE):
        chunk = ids[start : start + DEFAULT_BATCH_SIZE]
        marks = ",".join("?" * len(chunk))
        batch = []
        for table in PEOPLE_TABLES:
            key = {"people": "id", "repository_changes": "record_id"}.get(table, "person_id")
            cursor = read.execute(f"SELECT * FROM {table} WHERE {key} IN ({marks})", chunk)  # noqa: S608
            names = [d[0] for d in cursor.description]
            if table == "repository_changes":  # its seq is the new database's to number
                rows = [row[1:] for row in cursor]
                names = names[1:]
            else:
                rows = list(cursor)
            statement = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"  # noqa: S608
            batch.append((statement, rows))
        yield batch


def peak_rss_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def size_mb(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 1e6
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def run(people: int, organizations: int, work: Path, baseline_people: int) -> Results:
    results = Results(people, organizations)
    data = work / "data"
    data.mkdir(parents=True)
    url = database_url(data)
    organizations_file, people_file = generate(results, work / "files")
    import_files(results, url, organizations_file, people_file)
    index(results, url, data / "index")
    database = data / "perilune.db"
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    results.lines["database"] = f"{size_mb(database):,.0f} MB (SQLite, {database})"
    results.lines["index size"] = f"{size_mb(data / 'index'):,.0f} MB"
    own, children = peak_rss_mb()
    results.lines["peak RSS"] = f"{own:,.0f} MB (this process), {children:,.0f} MB (largest worker process)"
    results.steps["peak RSS MB"] = max(own, children)

    sample = min(people, baseline_people)
    bare = baseline(database, work / "baseline.db", sample)
    bare_rate = sample / bare
    import_rate = people / results.steps["import people"]
    results.steps["ratio"] = import_rate / bare_rate
    results.lines["baseline"] = (
        f"bare executemany of the same rows of {sample:,} people: {bare:.1f} s ({bare_rate:,.0f} people/s); "
        f"import {import_rate:,.0f} people/s = {results.steps['ratio']:.0%} of it"
    )
    return results


def report(results: Results) -> None:
    print(f"repository build: {results.people:,} people, {results.organizations:,} organizations")
    for name, line in results.lines.items():
        print(f"  {name:22} {line}")
    total = sum(results.steps[k] for k in ("generate", "import organizations", "import people", "index"))
    rss = results.steps["peak RSS MB"]
    verdicts = (
        (
            "generate + import + index",
            f"{total:.1f} s",
            total <= TARGET_SECONDS,
            f"<= {TARGET_SECONDS:.0f} s",
        ),
        ("peak RSS", f"{rss:,.0f} MB", rss <= TARGET_RSS_MB, f"<= {TARGET_RSS_MB:,.0f} MB"),
        (
            "import / bare executemany",
            f"{results.steps['ratio']:.0%}",
            results.steps["ratio"] >= TARGET_RATIO,
            f">= {TARGET_RATIO:.0%}",
        ),
    )
    for name, value, met, target in verdicts:
        print(f"  {name:26} {value:>10}  target {target}: {'met' if met else 'NOT met'}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--organizations", type=int, default=None, help="default: people / 10")
    parser.add_argument("--baseline-people", type=int, default=1_000_000, help="people in the baseline")
    parser.add_argument("--dir", type=Path, default=None, help="work directory (default: a temporary one)")
    args = parser.parse_args(argv)
    organizations = args.organizations or max(1, args.people // 10)
    work = args.dir or Path(tempfile.mkdtemp(prefix="perilune-bench-"))
    try:
        report(run(args.people, organizations, work / "build", args.baseline_people))
    finally:
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PERILUNE_LOG_LEVEL", "WARNING")
    main()
