"""People Enrichment speed through HTTP: ``people/match`` and ``bulk_match`` latency, and matches
per second with two server workers, beside the server's floor (``auth/health``) in the same run.

    .venv/bin/python -m bench.match_speed [--people 1000000] [--dir D] [--seconds 20]

A repository of ``--people`` generated people is built the way ``bench.repository_build`` builds
it (generate, import, index) into ``D/data`` (a temporary directory without ``--dir``; with it,
an existing ``D/data/perilune.db`` is reused, so the 1M build is done once). A fresh team on the
custom plan (no rate limits, a billion credits) gets a master key, and ``perilune serve
--workers 2`` (granian) answers on a free local port, with in-memory rate-limit counters unless
``--rate-limit-store`` says otherwise.

The requests are ``bench.match_accuracy``'s labelled queries: repository people described by 1 to
4 identifying fields with realistic noise, plus people who are not in the repository (misses).
One httpx client measures, in turn:

1. sequential single matches, each followed by a ``GET auth/health`` (the floor: key check, rate
   limit, routing, JSON), so that other work on the machine slows both alike;
2. sequential ``bulk_match`` requests of 10 details;
3. throughput: ``--concurrency`` requests in flight for ``--seconds`` over pooled keep-alive
   connections, single matches and then ``bulk_match`` requests of 10 (Apollo's way to match many
   people), with the CPU time the server's processes and this client used (the client runs on
   the same cores) and the latency drift as the team's credit ledger grows. The throughput
   target counts as met when either way reaches it; both are printed.

Targets (issue 4): single match p50 <= 5 ms, p99 <= 25 ms; >= 1,000 matches/s with 2 workers.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import itertools
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench import repository_build
from bench.match_accuracy import ABSENT_SEED, labelled_queries, subjects, vars_of
from perilune.auth import admin
from perilune.db import migrate
from perilune.db.engine import create_engine, session_factory
from perilune.metering.plans import EndpointClass
from perilune.repository.generator import Generator, Record

REPOSITORY_SEED = 1  # bench.repository_build's seed: the sample below regenerates its people
SAMPLE_SEED = 404
WORKERS = 2
MATCH = "/api/v1/people/match"
BULK_MATCH = "/api/v1/people/bulk_match"
HEALTH = "/api/v1/auth/health"
JSON_HEADERS = {"content-type": "application/json"}
BULK_DETAILS = 10
MARKER = "match-speed.json"
STARTUP_SECONDS = 180.0  # a cold 1M-person database and index take a while to open
TARGET_P50_MS = 5.0
TARGET_P99_MS = 25.0
TARGET_MATCHES_PER_SECOND = 1000.0
NO_LIMITS = {"minute": None, "hour": None, "day": None}
UNLIMITED_PLAN = {
    "limits": {klass.value: NO_LIMITS for klass in EndpointClass},
    "credits": {"lead_credit": 10**9, "direct_dial_credit": 10**9},
}


# --- the repository ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Repository:
    directory: Path
    people: int
    organizations: int
    seed: int = REPOSITORY_SEED

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def url(self) -> str:
        return repository_build.database_url(self.data)


def prepare(directory: Path, people: int, organizations: int, seed: int = REPOSITORY_SEED) -> Repository:
    """The repository in ``directory/data``: reused when its database exists (its sizes and seed
    read from the marker this bench leaves, else taken from the arguments: a repository that
    ``bench.search_speed --workdir`` built is reused with its ``--people`` and ``--seed``),
    otherwise built as bench.repository_build builds one (seed 1)."""
    marker = directory / MARKER
    if (directory / "data" / "perilune.db").exists():
        if marker.exists():
            sizes = json.loads(marker.read_text())
            people, organizations = sizes["people"], sizes["organizations"]
            seed = sizes.get("seed", REPOSITORY_SEED)
        print(f"reusing the repository in {directory / 'data'} ({people:,} people, seed {seed})")
        return Repository(directory, people, organizations, seed)
    if seed != REPOSITORY_SEED:
        raise SystemExit(f"a new repository is built with seed {REPOSITORY_SEED}; --seed names a reused one")
    results = repository_build.Results(people, organizations)
    repository = Repository(directory, people, organizations)
    repository.data.mkdir(parents=True, exist_ok=True)
    files = directory / "files"
    organizations_file, people_file = repository_build.generate(results, files)
    repository_build.import_files(results, repository.url, organizations_file, people_file)
    repository_build.index(results, repository.url, repository.data / "index")
    shutil.rmtree(files, ignore_errors=True)  # the queries come from the generator, not the files
    for step in ("generate", "import organizations", "import people", "index"):
        print(f"  {step:22} {results.lines[step]}")
    marker.write_text(json.dumps({"people": people, "organizations": organizations, "seed": REPOSITORY_SEED}))
    return repository


class SampledPeople(Generator):
    """The repository's generator yielding a uniform sample of its people only: the queries need
    a few thousand people, and generating a million in this process would take minutes. Each
    company's people come from a random stream of their own, so a company's people are the same
    whether or not the others are generated."""

    def __init__(self, *, people: int, organizations: int, sample: int, seed: int = REPOSITORY_SEED) -> None:
        super().__init__(people=people, organizations=organizations, seed=seed)
        self.sample = min(sample, people)

    def people(self) -> Iterator[Record]:
        chosen = random.Random(SAMPLE_SEED).sample(range(self.people_count), self.sample)
        starts = [plan.first_person for plan in self.plans]
        wanted: dict[int, set[int]] = defaultdict(set)
        for index in chosen:
            plan = bisect.bisect_right(starts, index) - 1
            wanted[plan].add(index - starts[plan])
        maker = self._people_maker
        for plan, positions in sorted(wanted.items()):
            staff = maker.people(self.plans[plan])
            for position, record in enumerate(itertools.islice(staff, max(positions) + 1)):
                if position in positions:
                    yield record


def query_bodies(repository: Repository, sample: int, present: int, absent: int) -> list[dict[str, str]]:
    """``people/match`` bodies, shuffled: ``present`` noisy queries for sampled repository people
    and ``absent`` for people who are not in it."""
    sampled = SampledPeople(
        people=repository.people, organizations=repository.organizations, sample=sample, seed=repository.seed
    )
    people = list(subjects(sampled))
    outsiders = list(subjects(Generator(people=max(absent * 2, 1000), seed=ABSENT_SEED)))
    queries = labelled_queries(people, outsiders, present, absent)
    bodies = [{k: v for k, v in vars_of(q.query).items() if v} for q in queries]
    random.Random(SAMPLE_SEED).shuffle(bodies)
    return bodies


@dataclass(frozen=True)
class Team:
    id: str
    key: str


async def bench_team(url: str) -> Team:
    """A master key of a new team on the custom plan without rate limits and with a billion
    credits (a new team each run: a team's credit ledger grows with every match). A reused
    repository is migrated first, as the server would be."""
    await migrate.upgrade_async(url)
    engine = create_engine(url)
    now = datetime.now(UTC)
    try:
        async with session_factory(engine)() as session, session.begin():
            team = await admin.create_team(session, f"match-speed-{uuid.uuid4().hex[:6]}", "custom", now)
            await admin.set_plan(session, team, "custom", UNLIMITED_PLAN)
            issued = await admin.create_key(session, team, master=True, now=now)
            return Team(team.id, issued.secret)
    finally:
        await engine.dispose()


# --- the server ----------------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving(repository: Repository, rate_limit_store: str) -> Iterator[Server]:
    """``perilune serve --workers 2`` in a session of its own (its workers are then found by
    session id), stopped on exit."""
    port = free_port()
    env = {
        **os.environ,
        "PERILUNE_DATA_DIR": str(repository.data),
        "PERILUNE_DEMO": "0",
        "PERILUNE_RATE_LIMIT_STORE": rate_limit_store,
        "PERILUNE_RUN_WORKER": "0",  # no jobs here: webhooks are not asked for
        "PERILUNE_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "perilune", "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(WORKERS)]
    log = repository.directory / "match-speed-server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        yield server
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server alone (granian stops its workers); SIGKILL to the session if it
    does not stop in time."""
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    print(f"server stopped (exit code {process.returncode})")


async def wait_ready(client: httpx.AsyncClient, server: Server, body: dict[str, str]) -> None:
    """Until /healthz answers, every worker has started (granian logs each) and a match works."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while not await _ready(client, server, body):
        if server.process.poll() is not None:
            raise RuntimeError(f"the server exited ({server.process.returncode}):\n{server.output()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server was not ready in {STARTUP_SECONDS:.0f} s:\n{server.output()}")
        await asyncio.sleep(0.2)


async def _ready(client: httpx.AsyncClient, server: Server, body: dict[str, str]) -> bool:
    try:
        if (await client.get("/healthz")).status_code != 200:
            return False
    except httpx.TransportError:
        return False
    if server.output().count("Started worker-") < WORKERS:
        return False
    response = await client.post(MATCH, json=body)
    if response.status_code != 200:
        raise RuntimeError(f"people/match answered {response.status_code}: {response.text[:500]}")
    return True


def session_cpu_seconds(session: int) -> dict[int, float]:
    """CPU seconds (user + system) so far of every process in ``session``, by pid (Linux /proc;
    empty elsewhere)."""
    ticks = os.sysconf("SC_CLK_TCK")
    found: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        if int(fields[3]) == session:
            found[int(stat.parent.name)] = (int(fields[11]) + int(fields[12])) / ticks
    return found


# --- measuring ---------------------------------------------------------------------------------

Body = bytes  # a request body, JSON-encoded once before measuring (the client's CPU is scarce)


def encode(body: Any) -> Body:
    return orjson.dumps(body)


@dataclass
class Latencies:
    name: str
    seconds: list[float] = field(default_factory=list)
    found: int = 0  # people found (a bulk request counts each detail)
    asked: int = 0

    def percentile(self, fraction: float, part: slice = slice(None)) -> float:
        ordered = sorted(self.seconds[part])
        return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] * 1000

    @property
    def p50(self) -> float:
        return self.percentile(0.5)

    @property
    def p99(self) -> float:
        return self.percentile(0.99)


async def post(client: httpx.AsyncClient, path: str, body: Body) -> tuple[float, Any]:
    started = time.perf_counter()
    response = await client.post(path, content=body, headers=JSON_HEADERS)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}: {response.text[:500]}")
    return elapsed, orjson.loads(response.content)


async def health(client: httpx.AsyncClient) -> float:
    started = time.perf_counter()
    response = await client.get(HEALTH)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"auth/health answered {response.status_code}: {response.text[:500]}")
    return elapsed


async def sequential(
    client: httpx.AsyncClient, bodies: list[Body], warmup: int
) -> tuple[Latencies, Latencies]:
    """Each match followed by a health check; the first ``warmup`` pairs are not counted."""
    matches, floor = Latencies("people/match"), Latencies("GET auth/health (floor)")
    for number, body in enumerate(bodies):
        match_seconds, answer = await post(client, MATCH, body)
        health_seconds = await health(client)
        if number >= warmup:
            matches.seconds.append(match_seconds)
            floor.seconds.append(health_seconds)
            matches.asked += 1
            matches.found += bool(answer["person"])
    return matches, floor


async def bulk(client: httpx.AsyncClient, bodies: list[Body], warmup: int) -> Latencies:
    measured = Latencies(f"bulk_match ({BULK_DETAILS} details)")
    for number, body in enumerate(bodies):
        seconds, answer = await post(client, BULK_MATCH, body)
        if number >= warmup:
            measured.seconds.append(seconds)
            measured.asked += len(answer["matches"])
            measured.found += sum(match is not None for match in answer["matches"])
    return measured


def bulk_bodies(queries: list[dict[str, str]], requests: int) -> list[Body]:
    details = itertools.cycle(queries)
    return [encode({"details": list(itertools.islice(details, BULK_DETAILS))}) for _ in range(requests)]


@dataclass
class Throughput:
    seconds: float
    latencies: Latencies
    client_cpu: float
    server_cpu: dict[int, float]
    ledger_rows: int = 0

    @property
    def matches(self) -> int:
        return self.latencies.asked

    @property
    def rate(self) -> float:
        return self.matches / self.seconds

    @property
    def server_cpu_per_match(self) -> float:
        return sum(self.server_cpu.values()) / max(1, self.matches)


async def flood(
    client: httpx.AsyncClient, path: str, bodies: Iterator[Body], concurrency: int, seconds: float
) -> tuple[Latencies, float]:
    """``concurrency`` loops sending ``path`` requests until ``seconds`` have passed."""
    label = "people/match" if path == MATCH else f"bulk_match ({BULK_DETAILS} details)"
    measured = Latencies(f"{label}, {concurrency} in flight")
    deadline = time.perf_counter() + seconds

    async def loop() -> None:
        while time.perf_counter() < deadline:
            elapsed, answer = await post(client, path, next(bodies))
            found = [answer["person"]] if path == MATCH else answer["matches"]
            measured.seconds.append(elapsed)
            measured.asked += len(found)
            measured.found += sum(bool(person) for person in found)

    started = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(concurrency)))
    return measured, time.perf_counter() - started


async def throughput(
    client: httpx.AsyncClient, server: Server, path: str, bodies: list[Body], concurrency: int, seconds: float
) -> Throughput:
    endless = itertools.cycle(bodies)
    await flood(client, path, endless, concurrency, min(3.0, seconds / 5))  # opens every connection
    server_before, client_before = session_cpu_seconds(server.process.pid), time.process_time()
    measured, elapsed = await flood(client, path, endless, concurrency, seconds)
    client_cpu = time.process_time() - client_before
    server_after = session_cpu_seconds(server.process.pid)
    used = {pid: cpu - server_before.get(pid, 0.0) for pid, cpu in server_after.items()}
    return Throughput(elapsed, measured, client_cpu, used)


@asynccontextmanager
async def http_client(server: Server, key: str, connections: int) -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(
        base_url=server.url, headers={"x-api-key": key}, limits=limits, timeout=60.0
    ) as client:
        yield client


def ledger_rows(repository: Repository, team_id: str) -> int:
    """The team's credit ledger entries (history; charges read per-cycle counters, not these)."""
    with closing(sqlite3.connect(repository.data / "perilune.db")) as connection:
        row = connection.execute(
            "SELECT count(*) FROM credit_ledger WHERE team_id = ?", (team_id,)
        ).fetchone()
        return int(row[0])


# --- the report ----------------------------------------------------------------------------------


@dataclass
class Figures:
    floor: Latencies
    single: Latencies
    bulk: Latencies
    flood: Throughput
    bulk_flood: Throughput


def latency_line(measured: Latencies, note: str = "") -> str:
    found = f"{measured.found / measured.asked:.0%} found" if measured.asked else ""
    return (
        f"  {measured.name:32}{len(measured.seconds):>8,}{measured.p50:>9.2f}{measured.p99:>9.2f}"
        f"{statistics.fmean(measured.seconds) * 1000:>9.2f}   {found}{note}"
    )


def report(repository: Repository, store: str, figures: Figures) -> bool:
    print(
        f"\nmatch speed: {repository.people:,} people, SQLite, {WORKERS} granian workers, "
        f"rate-limit store {store}, one httpx client (load average now {os.getloadavg()[0]:.1f})"
    )
    print(f"  {'':32}{'requests':>8}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}")
    print(latency_line(figures.floor))
    print(latency_line(figures.single))
    per_detail = figures.bulk.p50 / BULK_DETAILS
    print(latency_line(figures.bulk, f", p50 {per_detail:.2f} ms per detail"))
    for measured in (figures.flood, figures.bulk_flood):
        print(latency_line(measured.latencies))
        print_throughput(measured)
    verdicts = (
        ("people/match p50", f"{figures.single.p50:.2f} ms", figures.single.p50 <= TARGET_P50_MS, "<= 5 ms"),
        ("people/match p99", f"{figures.single.p99:.2f} ms", figures.single.p99 <= TARGET_P99_MS, "<= 25 ms"),
        *(
            (
                f"matches/s, {WORKERS} workers, {kind}",
                f"{measured.rate:,.0f}",
                measured.rate >= TARGET_MATCHES_PER_SECOND,
                f">= {TARGET_MATCHES_PER_SECOND:,.0f}",
            )
            for kind, measured in (("single", figures.flood), ("bulk", figures.bulk_flood))
        ),
    )
    print()
    for name, value, met, target in verdicts:
        print(f"  {name:38}{value:>10}  target {target:<9} {'met' if met else 'NOT met'}")
    # Throughput is met when either way of asking reaches it: bulk_match is Apollo's way to match
    # many people, and both lines are printed.
    latency, rates = verdicts[:2], verdicts[2:]
    return all(met for _, _, met, _ in latency) and any(met for _, _, met, _ in rates)


def print_throughput(flood: Throughput) -> None:
    """The rate, where the CPU went (this client shares the machine with the server), what the
    server's CPU per match allows on dedicated cores, and how latency drifted as the team's
    credit ledger grew."""
    matches = flood.matches
    print(f"  throughput: {matches:,} matches in {flood.seconds:.1f} s = {flood.rate:,.0f} matches/s")
    busy = sorted((cpu for cpu in flood.server_cpu.values() if cpu > 0.05), reverse=True)
    if busy and matches:
        shares = ", ".join(f"{cpu / flood.seconds:.0%}" for cpu in busy)
        per_match = flood.server_cpu_per_match * 1000
        print(
            f"  server CPU {per_match:.2f} ms per match (its processes busy {shares} of a core): "
            f"{WORKERS} dedicated cores would serve at most {WORKERS * 1000 / per_match:,.0f} matches/s"
        )
    print(
        f"  this client: {flood.client_cpu * 1000 / max(1, matches):.2f} ms CPU per match "
        f"({flood.client_cpu / flood.seconds:.0%} of a core, on the same {os.cpu_count()} cores)"
    )
    tenth = max(1, len(flood.latencies.seconds) // 10)
    rows = flood.ledger_rows
    ledger = f" (the team's credit ledger: {rows:,} rows at the end)" if rows else ""
    print(
        f"  p50 of the first and last {tenth:,} requests: {flood.latencies.percentile(0.5, slice(tenth)):.2f}"
        f" -> {flood.latencies.percentile(0.5, slice(-tenth, None)):.2f} ms{ledger}"
    )


# --- running ----------------------------------------------------------------------------------


async def measure(
    server: Server, team: Team, queries: list[dict[str, str]], args: argparse.Namespace
) -> Figures:
    singles = [encode(query) for query in queries]
    bulks = bulk_bodies(queries, args.warmup // BULK_DETAILS + args.bulk)
    async with http_client(server, team.key, 1) as client:
        await wait_ready(client, server, queries[0])
        single, floor = await sequential(client, singles[: args.warmup + args.single], args.warmup)
        bulk_figures = await bulk(client, bulks, warmup=args.warmup // BULK_DETAILS)
    async with http_client(server, team.key, args.concurrency) as client:
        flood = await throughput(client, server, MATCH, singles, args.concurrency, args.seconds)
        bulk_flood = await throughput(client, server, BULK_MATCH, bulks, args.concurrency, args.seconds)
    return Figures(floor, single, bulk_figures, flood, bulk_flood)


def run(args: argparse.Namespace, directory: Path) -> bool:
    organizations = args.organizations or max(1, args.people // 10)
    repository = prepare(directory, args.people, organizations, args.seed)
    started = time.perf_counter()
    queries = query_bodies(repository, args.sample, args.queries, args.absent)
    print(
        f"queries: {args.queries:,} for {args.sample:,} sampled repository people, {args.absent:,} for "
        f"people not in it ({time.perf_counter() - started:.1f} s)"
    )
    team = asyncio.run(bench_team(repository.url))
    with serving(repository, args.rate_limit_store) as server:
        try:
            figures = asyncio.run(measure(server, team, queries, args))
        except Exception:
            print(f"server output:\n{server.output()}", file=sys.stderr)
            raise
    figures.bulk_flood.ledger_rows = ledger_rows(repository, team.id)
    return report(repository, args.rate_limit_store, figures)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--people", type=int, default=1_000_000, help="people in the repository")
    parser.add_argument("--organizations", type=int, default=None, help="default: people / 10")
    parser.add_argument("--dir", type=Path, default=None, help="keep (or reuse) the repository here")
    parser.add_argument(
        "--seed", type=int, default=REPOSITORY_SEED, help="the seed of a reused repository (search_speed: 7)"
    )
    parser.add_argument("--sample", type=int, default=5_000, help="repository people the queries describe")
    parser.add_argument("--queries", type=int, default=12_000, help="queries for repository people")
    parser.add_argument("--absent", type=int, default=2_000, help="queries for people not in it")
    parser.add_argument("--warmup", type=int, default=200, help="single matches before measuring")
    parser.add_argument("--single", type=int, default=2_000, help="sequential single matches measured")
    parser.add_argument("--bulk", type=int, default=300, help="sequential bulk_match requests measured")
    parser.add_argument(
        "--concurrency", type=int, default=8, help="matches in flight for throughput (4 per worker)"
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="how long throughput is measured")
    parser.add_argument(
        "--rate-limit-store",
        choices=("memory", "database", "redis"),
        default="memory",
        help="PERILUNE_RATE_LIMIT_STORE",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    directory = (args.dir or Path(tempfile.mkdtemp(prefix="perilune-match-speed-"))).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    try:
        run(args, directory)
    finally:
        if args.dir is None:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PERILUNE_LOG_LEVEL", "WARNING")
    main()
