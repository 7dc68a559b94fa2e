"""How fast the search index builds: ``python -m tests.search.measure_build [people] [db url]``.

Inserts ``people`` synthetic people (default 100,000) at one organization per 20 people into a
fresh SQLite database (or the PostgreSQL URL given, into a scratch schema), then times
``perilune.search.index.rebuild`` and prints docs/s. Not collected by pytest."""

from __future__ import annotations

import asyncio
import hashlib
import random
import resource
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from perilune.config import Settings
from perilune.db import migrate
from perilune.db.engine import create_engine
from perilune.db.ids import new_id
from perilune.models import Organization, Person, RepositoryChange
from perilune.repository.normalize import classify_title, name_key
from perilune.search.index import rebuild
from tests.search.rows import CREATED, OrgSpec, PersonSpec, organization_data, person_data

TITLES = [
    "VP of Sales",
    "Senior Software Engineer",
    "Chief Executive Officer",
    "Marketing Manager",
    "Account Executive",
    "Data Scientist",
    "Director of Operations",
    "Head of Product",
    "Customer Success Manager",
    "Founder",
]
PLACES = [
    ("San Francisco", "California", "United States", "US"),
    ("Austin", "Texas", "United States", "US"),
    ("London", "England", "United Kingdom", "GB"),
    ("Berlin", "Berlin", "Germany", "DE"),
    ("Toronto", "Ontario", "Canada", "CA"),
    ("Paris", None, "France", "FR"),
]
INDUSTRIES = ["computer software", "logistics & supply chain", "financial services", "hospital & health care"]
BATCH = 5000


def organization_row(number: int, rng: random.Random) -> dict[str, Any]:
    city, state, country, code = rng.choice(PLACES)
    spec = OrgSpec(
        name=f"Company {number}",
        domain=f"company{number}.test",
        industry=rng.choice(INDUSTRIES),
        employees=rng.randint(1, 50_000),
        revenue=float(rng.randint(1, 5000)) * 1e5,
        founded_year=rng.randint(1950, 2023),
        city=city,
        state=state,
        country=country,
        country_code=code,
        keywords=[f"keyword {rng.randint(1, 500)}" for _ in range(12)],
    )
    org_id = new_id()
    return {
        "id": org_id,
        "name": spec.name,
        "name_key": name_key(spec.name),
        "primary_domain": spec.domain,
        "industry": spec.industry,
        "estimated_num_employees": spec.employees,
        "annual_revenue": spec.revenue,
        "founded_year": spec.founded_year,
        "city": city,
        "state": state,
        "country": country,
        "country_code": code,
        "data": organization_data(org_id, spec),
        "created_at": CREATED,
        "updated_at": CREATED,
    }


def person_row(number: int, org: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    city, state, country, code = rng.choice(PLACES)
    title = rng.choice(TITLES)
    email = f"person{number}@{org['primary_domain']}"
    spec = PersonSpec(
        f"First{number}", f"Last{number}", title, email, city=city, state=state, country=country
    )
    person_id = new_id()
    return {
        "id": person_id,
        "organization_id": org["id"],
        "first_name": spec.first_name,
        "last_name": spec.last_name,
        "name": f"{spec.first_name} {spec.last_name}",
        "first_name_key": name_key(spec.first_name),
        "last_name_key": name_key(spec.last_name),
        "title": title,
        "seniority": classify_title(title).seniority,
        "email": email,
        "email_md5": hashlib.md5(email.encode()).hexdigest(),  # noqa: S324
        "email_sha256": hashlib.sha256(email.encode()).hexdigest(),
        "email_status": rng.choice(["verified", "verified", "extrapolated"]),
        "city": city,
        "state": state,
        "country": country,
        "country_code": code,
        "time_zone": None,
        "data": person_data(person_id, org["id"], spec, org["name"]),
        "created_at": CREATED,
        "updated_at": CREATED,
    }


async def fill(url: str, schema: str | None, people: int) -> None:
    rng = random.Random(7)
    engine = create_engine(url, schema=schema)
    try:
        orgs = [organization_row(n, rng) for n in range(max(1, people // 20))]
        async with engine.begin() as connection:
            for start in range(0, len(orgs), BATCH):
                await connection.execute(insert(Organization), orgs[start : start + BATCH])
        for start in range(0, people, BATCH):
            rows = [person_row(n, rng.choice(orgs), rng) for n in range(start, min(people, start + BATCH))]
            changes = [
                {"entity": "person", "record_id": r["id"], "op": "upsert", "created_at": CREATED}
                for r in rows
            ]
            async with engine.begin() as connection:
                await connection.execute(insert(Person), rows)
                await connection.execute(insert(RepositoryChange), changes)
    finally:
        await engine.dispose()


async def measure(url: str, schema: str | None, index_dir: Path) -> None:
    engine = create_engine(url, schema=schema)
    cpu = _cpu_seconds()
    try:
        report = await rebuild(engine, index_dir)
    finally:
        await engine.dispose()
    cpu = _cpu_seconds() - cpu
    docs = report.people + report.organizations
    print(
        f"indexed {report.people:,} people + {report.organizations:,} organizations in "
        f"{report.seconds:.1f} s: {report.docs_per_second:,.0f} docs/s "
        f"(this process used {cpu:.1f} s of CPU, {cpu / docs * 1e6:.0f} us per document)"
    )


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    people = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    scratch = Path(tempfile.mkdtemp(prefix="perilune-measure-"))
    schema: str | None = None
    if len(sys.argv) > 2:
        url = Settings(database_url=sys.argv[2]).resolved_database_url
        schema = f"m_{uuid.uuid4().hex[:12]}"
        asyncio.run(_run_sql(url, f'CREATE SCHEMA "{schema}"'))
    else:
        url = f"sqlite+aiosqlite:///{scratch / 'perilune.db'}"
    try:
        migrate.upgrade(url, schema)
        started = time.perf_counter()
        asyncio.run(fill(url, schema, people))
        print(f"inserted {people:,} people in {time.perf_counter() - started:.1f} s")
        asyncio.run(measure(url, schema, scratch / "index"))
    finally:
        if schema:
            asyncio.run(_run_sql(url, f'DROP SCHEMA "{schema}" CASCADE'))
        shutil.rmtree(scratch, ignore_errors=True)


async def _run_sql(url: str, statement: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


if __name__ == "__main__":
    main()
