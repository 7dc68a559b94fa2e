"""People and organization search speed through HTTP, beside a plain-SQL implementation of the
same filters on the same database, in the same run.

    .venv/bin/python -m bench.search_speed [--people 200000] [--rounds 20] [--workdir DIR]

A generated repository (``perilune generate --load``; organizations default to a tenth of the
people) is indexed (``perilune index rebuild``) and served by a real server process
(``perilune serve``, uvicorn, one process) on a local port. A fixed mix of realistic query
shapes (single filters, 3-5 filter combinations, keywords with filters, deep pages, the legacy
and organization searches) is sent by one httpx client, one request at a time, the shapes
interleaved round by round so that a machine busy with other work slows each alike. The SQL
baseline answers each shape's filters with plain SQL on the same tables (a count and one page of
ids, LIKE for words, column equality for places), in this process, without HTTP or rendering:
the ratio flatters SQL, not the index.

``--workdir`` keeps the repository and index for the next run (a run with the same sizes reuses
them). ``PERILUNE_BENCH_POSTGRES_URL`` runs everything on PostgreSQL (in a schema of its own,
kept with --workdir, else dropped)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import ColumnElement, Select, Text, and_, cast, false, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from perilune.auth import admin
from perilune.config import Settings
from perilune.db.engine import create_engine, session_factory
from perilune.models import Organization, Person
from perilune.repository.normalize.text import fold
from perilune.search.filters import resolve_place

DEFAULT_PEOPLE = 200_000
DEFAULT_ROUNDS = 20
WARMUP_ROUNDS = 2
MARKER = "bench-repository.json"
PEOPLE_API = "/api/v1/mixed_people/api_search"
PEOPLE_LEGACY = "/api/v1/mixed_people/search"
COMPANIES = "/api/v1/mixed_companies/search"
UNLIMITED = dict.fromkeys(("minute", "hour", "day"), 10**9)


@dataclass(frozen=True)
class Shape:
    name: str
    path: str
    body: dict[str, Any]


SHAPES: list[Shape] = [
    Shape("everyone (count only)", PEOPLE_API, {"per_page": 1}),
    Shape("title", PEOPLE_API, {"person_titles": ["sales manager"]}),
    Shape("two titles", PEOPLE_API, {"person_titles": ["software engineer", "developer"]}),
    Shape("seniorities", PEOPLE_API, {"person_seniorities": ["vp", "director"]}),
    Shape("person state", PEOPLE_API, {"person_locations": ["California, US"]}),
    Shape("person country", PEOPLE_API, {"person_locations": ["United States"]}),
    Shape("person city", PEOPLE_API, {"person_locations": ["London, UK"]}),
    Shape("company state", PEOPLE_API, {"organization_locations": ["texas"]}),
    Shape("company size", PEOPLE_API, {"organization_num_employees_ranges": ["51,200"]}),
    Shape("email verified", PEOPLE_API, {"contact_email_status": ["verified"]}),
    Shape("keyword", PEOPLE_API, {"q_keywords": "marketing"}),
    Shape("revenue range", PEOPLE_API, {"revenue_range": {"min": 10_000_000, "max": 100_000_000}}),
    Shape("technology", PEOPLE_API, {"currently_using_any_of_technology_uids": ["salesforce"]}),
    Shape(
        "3 filters: title, seniority, size",
        PEOPLE_API,
        {
            "person_titles": ["sales"],
            "person_seniorities": ["director", "vp"],
            "organization_num_employees_ranges": ["51,200", "201,500"],
        },
    ),
    Shape(
        "3 filters: city, title, email",
        PEOPLE_API,
        {
            "person_locations": ["New York, US"],
            "person_titles": ["engineer"],
            "contact_email_status": ["verified"],
        },
    ),
    Shape(
        "4 filters: title, revenue, tech, country",
        PEOPLE_API,
        {
            "person_titles": ["marketing manager"],
            "revenue_range": {"min": 1_000_000, "max": 50_000_000},
            "currently_using_any_of_technology_uids": ["google_analytics"],
            "person_locations": ["United States"],
        },
    ),
    Shape(
        "5 filters",
        PEOPLE_API,
        {
            "person_titles": ["account executive"],
            "person_seniorities": ["senior", "entry"],
            "organization_locations": ["California, US"],
            "organization_num_employees_ranges": ["11,50", "51,200"],
            "contact_email_status": ["verified", "guessed"],
        },
    ),
    Shape(
        "keyword + 2 filters",
        PEOPLE_API,
        {"q_keywords": "data", "person_locations": ["Canada"], "person_seniorities": ["manager"]},
    ),
    Shape(
        "deep page (offset 39,900)",
        PEOPLE_API,
        {"person_locations": ["United States"], "page": 400, "per_page": 100},
    ),
    Shape(
        "deep page (offset 9,900)", PEOPLE_API, {"person_titles": ["manager"], "page": 100, "per_page": 100}
    ),
    Shape(
        "legacy: 25 full people",
        PEOPLE_LEGACY,
        {"person_titles": ["ceo"], "organization_num_employees_ranges": ["1,50"]},
    ),
    Shape("legacy: 100 full people", PEOPLE_LEGACY, {"person_locations": ["Australia"], "per_page": 100}),
    Shape(
        "companies: country + size",
        COMPANIES,
        {"organization_locations": ["United States"], "organization_num_employees_ranges": ["51,200"]},
    ),
    Shape(
        "companies: tags + revenue",
        COMPANIES,
        {"q_organization_keyword_tags": ["b2b", "fintech"], "revenue_range": {"min": 1_000_000}},
    ),
]


# --- the repository -------------------------------------------------------------------------


@dataclass
class Workspace:
    directory: Path
    env: dict[str, str]
    database_url: str
    schema: str | None
    cleanup: Callable[[], None] | None = None


def perilune(workspace: Workspace, *args: str) -> None:
    """A ``perilune`` command with the workspace's settings, its output shown as it runs."""
    command = [sys.executable, "-m", "perilune", *args]
    subprocess.run(command, env=workspace.env, check=True)  # our own CLI


def prepare(workspace: Workspace, people: int, organizations: int, seed: int) -> None:
    """Generate, load and index the repository, unless the workspace already holds it."""
    wanted = {"people": people, "organizations": organizations, "seed": seed, "schema": workspace.schema}
    marker = workspace.directory / MARKER
    if marker.exists() and json.loads(marker.read_text()) == wanted:
        print(f"reusing the repository in {workspace.directory}")
        return
    started = time.perf_counter()
    perilune(workspace, "init")
    perilune(
        workspace,
        "generate",
        "--people",
        str(people),
        "--organizations",
        str(organizations),
        "--seed",
        str(seed),
        "--load",
    )
    loaded = time.perf_counter()
    perilune(workspace, "index", "rebuild")
    print(
        f"generated and loaded in {loaded - started:.0f} s, indexed in {time.perf_counter() - loaded:.0f} s"
    )
    marker.write_text(json.dumps(wanted))


@contextmanager
def workspace_for(args: argparse.Namespace) -> Iterator[Workspace]:
    temporary = args.workdir is None
    directory = Path(args.workdir or tempfile.mkdtemp(prefix="perilune-search-bench-")).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PERILUNE_DATA_DIR": str(directory / "data"),
        "PERILUNE_DEMO": "false",
        "PERILUNE_RUN_WORKER": "false",
        "PERILUNE_LOG_LEVEL": "WARNING",
        "PERILUNE_RATE_LIMIT_STORE": "memory",
    }
    postgres = os.environ.get("PERILUNE_BENCH_POSTGRES_URL")
    schema: str | None = None
    if postgres:
        url = Settings(database_url=postgres).resolved_database_url
        schema = (
            (directory / "schema").read_text()
            if (directory / "schema").exists()
            else f"bench_{uuid.uuid4().hex[:10]}"
        )
        (directory / "schema").write_text(schema)
        _run_sql(url, f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        env.update(PERILUNE_DATABASE_URL=postgres, PERILUNE_DATABASE_SCHEMA=schema)
    else:
        url = f"sqlite+aiosqlite:///{directory / 'data' / 'perilune.db'}"
    try:
        yield Workspace(directory, env, url, schema)
    finally:
        if temporary:
            if schema is not None:
                _run_sql(url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            shutil.rmtree(directory, ignore_errors=True)


def _run_sql(url: str, statement: str) -> None:
    async def run() -> None:
        engine = create_engine(url)
        try:
            async with engine.begin() as connection:
                await connection.execute(text(statement))
        finally:
            await engine.dispose()

    asyncio.run(run())


async def bench_key(workspace: Workspace) -> str:
    """A master key of a team on the custom plan, without practical rate or credit limits."""
    engine = create_engine(workspace.database_url, schema=workspace.schema)
    overrides = {
        "limits": dict.fromkeys(("default", "search"), UNLIMITED),
        "credits": {"lead_credit": 10**9, "export_credit": 10**9},
    }
    now = datetime.now(UTC)
    try:
        async with session_factory(engine)() as session, session.begin():
            team = await admin.create_team(session, f"bench-{uuid.uuid4().hex[:6]}", "custom", now)
            await admin.set_plan(session, team, "custom", overrides)
            issued = await admin.create_key(session, team, master=True, now=now)
            return issued.secret
    finally:
        await engine.dispose()


# --- the server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def server(workspace: Workspace, port: int, kind: str) -> Iterator[str]:
    env = {**workspace.env, "PERILUNE_HOST": "127.0.0.1", "PERILUNE_PORT": str(port)}
    command = [sys.executable, "-m", "perilune", "serve", "--server", kind]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_ready(client: httpx.Client, key: str, within: float = 120) -> None:
    """Until the server answers a search (it has opened the index)."""
    deadline = time.monotonic() + within
    while True:
        try:
            if client.post(PEOPLE_API, headers={"x-api-key": key}, json={"per_page": 1}).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not answer searches in time")
        time.sleep(0.2)


@dataclass
class Timings:
    latencies: list[float] = field(default_factory=list)
    totals: set[int] = field(default_factory=set)


def run_http(client: httpx.Client, key: str, rounds: int) -> dict[str, Timings]:
    timings = {shape.name: Timings() for shape in SHAPES}
    headers = {"x-api-key": key}
    for round_number in range(WARMUP_ROUNDS + rounds):
        for shape in SHAPES:
            started = time.perf_counter()
            response = client.post(shape.path, headers=headers, json=shape.body)
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                raise RuntimeError(f"{shape.name}: {response.status_code} {response.text[:300]}")
            if round_number >= WARMUP_ROUNDS:
                timings[shape.name].latencies.append(elapsed)
                timings[shape.name].totals.add(_total(response.json()))
    return timings


def _total(body: dict[str, Any]) -> int:
    total = body.get("total_entries", body.get("pagination", {}).get("total_entries"))
    return int(total or 0)


# --- the plain-SQL baseline -----------------------------------------------------------------


def words_like(column: Any, phrase: str) -> ColumnElement[bool]:
    return and_(*(func.lower(column).like(f"%{word}%") for word in fold(phrase).split()))


def place_condition(text_value: str, country: Any, state: Any, city: Any) -> ColumnElement[bool]:
    """A place name as column comparisons: the same place ``resolve_place`` reads."""
    place = resolve_place(text_value)
    options: list[ColumnElement[bool]] = []
    for facet in place.facets:
        parts = facet.strip("/").split("/")
        conditions = [func.lower(country) == parts[0]]
        if len(parts) > 1:
            conditions.append(func.lower(state) == parts[1])
        if len(parts) > 2:
            conditions.append(func.lower(city) == parts[2])
        options.append(and_(*conditions))
    for key in place.cities:
        code, _, name = key.partition(":")
        options.append(and_(func.lower(country) == code, func.lower(city) == name))
    return or_(*options) if options else false()


def range_condition(column: Any, low: float | None, high: float | None) -> ColumnElement[bool]:
    conditions = []
    if low is not None:
        conditions.append(column >= low)
    if high is not None:
        conditions.append(column <= high)
    return and_(*conditions)


def organization_conditions(body: dict[str, Any]) -> list[ColumnElement[bool]]:
    o = Organization
    where: list[ColumnElement[bool]] = []
    if "organization_locations" in body:
        where.append(
            or_(
                *(place_condition(v, o.country_code, o.state, o.city) for v in body["organization_locations"])
            )
        )
    if "organization_num_employees_ranges" in body:
        ranges = [r.split(",") for r in body["organization_num_employees_ranges"]]
        where.append(
            or_(
                *(
                    range_condition(
                        o.estimated_num_employees, float(a) if a else None, float(b) if b else None
                    )
                    for a, b in ranges
                )
            )
        )
    if "revenue_range" in body:
        where.append(
            range_condition(
                o.annual_revenue, body["revenue_range"].get("min"), body["revenue_range"].get("max")
            )
        )
    data = cast(o.data, Text)
    if "currently_using_any_of_technology_uids" in body:
        where.append(
            or_(*(data.like(f'%"{uid}"%') for uid in body["currently_using_any_of_technology_uids"]))
        )
    if "q_organization_keyword_tags" in body:
        where.append(or_(*(func.lower(data).like(f"%{tag}%") for tag in body["q_organization_keyword_tags"])))
    return where


def people_conditions(body: dict[str, Any]) -> list[ColumnElement[bool]]:
    p, o = Person, Organization
    where: list[ColumnElement[bool]] = []
    if "person_titles" in body:
        where.append(or_(*(words_like(p.title, t) for t in body["person_titles"])))
    if "person_seniorities" in body:
        where.append(p.seniority.in_(body["person_seniorities"]))
    if "person_locations" in body:
        where.append(
            or_(*(place_condition(v, p.country_code, p.state, p.city) for v in body["person_locations"]))
        )
    if "contact_email_status" in body:
        where.append(and_(p.email.is_not(None), p.email_status.in_(body["contact_email_status"])))
    if "q_keywords" in body:
        fields = (p.name, p.title, o.name, o.primary_domain)
        where.extend(
            or_(*(func.lower(c).like(f"%{w}%") for c in fields)) for w in fold(body["q_keywords"]).split()
        )
    return where


def sql_statements(shape: Shape) -> tuple[Select[Any], Select[Any]]:
    """(count, one page of ids) in plain SQL."""
    body = shape.body
    limit = min(int(body.get("per_page", 25)), 100)
    offset = (int(body.get("page", 1)) - 1) * limit
    if shape.path == COMPANIES:
        where = organization_conditions(body)
        base = select(Organization.id).where(*where)
        count = select(func.count()).select_from(Organization).where(*where)
        return count, base.order_by(Organization.id.desc()).limit(limit).offset(offset)
    where = [*people_conditions(body), *organization_conditions(body)]
    joined = Person.__table__.outerjoin(Organization.__table__, Person.organization_id == Organization.id)
    count = select(func.count()).select_from(joined).where(*where)
    page = (
        select(Person.id)
        .select_from(joined)
        .where(*where)
        .order_by(Person.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return count, page


async def run_sql(workspace: Workspace, rounds: int) -> dict[str, Timings]:
    timings = {shape.name: Timings() for shape in SHAPES}
    statements = {shape.name: sql_statements(shape) for shape in SHAPES}
    engine = create_engine(workspace.database_url, schema=workspace.schema)
    try:
        return await _sql_rounds(engine, statements, timings, rounds)
    finally:
        await engine.dispose()


async def _sql_rounds(
    engine: AsyncEngine,
    statements: dict[str, tuple[Select[Any], Select[Any]]],
    timings: dict[str, Timings],
    rounds: int,
) -> dict[str, Timings]:
    async with engine.connect() as connection:
        for round_number in range(1 + rounds):
            for shape in SHAPES:
                count, page = statements[shape.name]
                started = time.perf_counter()
                total = await connection.scalar(count)
                (await connection.execute(page)).all()
                elapsed = time.perf_counter() - started
                if round_number >= 1:
                    timings[shape.name].latencies.append(elapsed)
                    timings[shape.name].totals.add(int(total or 0))
    return timings


# --- the report -----------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


COLUMNS = ("shape", "total", "p50", "p99", "q/s", "SQL total", "SQL p50", "SQL p99", "SQL/HTTP p50")
WIDTHS = (38, 10, 7, 7, 6, 10, 8, 8, 12)


def row(cells: tuple[str, ...]) -> str:
    padded = [cell.rjust(width) for cell, width in zip(cells, WIDTHS, strict=True)]
    padded[0] = cells[0].ljust(WIDTHS[0])
    return " ".join(padded)


def figures(name: str, http: list[float], sql: list[float], totals: tuple[str, str]) -> tuple[str, ...]:
    h50 = percentile(http, 0.5)
    measured = (name, totals[0], f"{1000 * h50:.1f}", f"{1000 * percentile(http, 0.99):.1f}")
    rate = f"{len(http) / sum(http):.0f}"
    if not sql:  # the baseline was not run (--sql-rounds 0)
        return (*measured, rate, "-", "-", "-", "-")
    s50 = percentile(sql, 0.5)
    baseline = (f"{1000 * s50:.1f}", f"{1000 * percentile(sql, 0.99):.1f}", f"{s50 / h50:.1f}x")
    return (*measured, rate, totals[1], *baseline)


def report(http: dict[str, Timings], sql: dict[str, Timings], people: int, organizations: int) -> None:
    print(f"\n{people:,} people, {organizations:,} organizations; latencies in milliseconds")
    print(row(COLUMNS))
    print("-" * len(row(COLUMNS)))
    for shape in SHAPES:
        h, s = http[shape.name], sql.get(shape.name)
        totals = (f"{max(h.totals):,}", f"{max(s.totals):,}" if s else "-")
        print(row(figures(shape.name, h.latencies, s.latencies if s else [], totals)))
    everything = [v for t in http.values() for v in t.latencies]
    baseline = [v for t in sql.values() for v in t.latencies]
    print("-" * len(row(COLUMNS)))
    print(row(figures("overall", everything, baseline, ("", ""))))
    print(
        "\nHTTP: one request at a time through a real server process, rendering included."
        "\nSQL: the same filters as plain SQL (a count and one page of ids), in process, no HTTP."
        "\nTotals differ where SQL's substring matching differs from the index's word matching."
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=DEFAULT_PEOPLE)
    parser.add_argument("--organizations", type=int, default=None, help="default: a tenth of --people")
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS, help="requests per shape")
    parser.add_argument(
        "--sql-rounds",
        type=int,
        default=None,
        help="default: half of --rounds, at least 3; 0 skips the baseline (its scans take hours at 10M)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=None, help="keep (and reuse) the repository here")
    parser.add_argument("--server", choices=("uvicorn", "granian"), default="uvicorn")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    organizations = args.organizations or max(1, args.people // 10)
    with workspace_for(args) as workspace:
        prepare(workspace, args.people, organizations, args.seed)
        key = asyncio.run(bench_key(workspace))
        with (
            server(workspace, free_port(), args.server) as base,
            httpx.Client(base_url=base, timeout=60) as client,
        ):
            wait_ready(client, key)
            http = run_http(client, key, args.rounds)
        sql_rounds = max(3, args.rounds // 2) if args.sql_rounds is None else args.sql_rounds
        sql = asyncio.run(run_sql(workspace, sql_rounds)) if sql_rounds else {}
        report(http, sql, args.people, organizations)


if __name__ == "__main__":
    main()
