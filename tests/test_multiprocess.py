"""Real ``perilune serve`` processes sharing one rate-limit counter: two servers on one database
(SQLite file or PostgreSQL schema) or one Redis, and one server with two granian workers. Each
case alternates requests between the processes, then sends a concurrent burst across them: the
shared counter must count every request once and let exactly the plan's limit through."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy.ext.asyncio import AsyncSession

from perilune.auth import admin
from perilune.config import Settings
from perilune.db.engine import create_engine, session_factory
from tests.conftest import POSTGRES_URL, REDIS_URL, SKIP_POSTGRES, SKIP_REDIS, run_sql

pytestmark = pytest.mark.slow

HEALTH = "/api/v1/auth/health"
LIMIT = 10  # the demo team's minute limit for these tests (a custom plan)
SEQUENTIAL = 4  # requests sent one at a time, alternating between the processes
BURST = 16  # then sent all at once, spread over the processes
STARTUP_TIMEOUT = 30.0
LIMIT_MESSAGE = (
    f'{{"message":"The maximum number of api calls allowed for api/v1/auth/health is {LIMIT} times '
    'per minute. Please upgrade your plan from https://app.apollo.io/#/settings/plans/upgrade."}'
).encode()


@dataclass(frozen=True)
class Deployment:
    """Where the servers keep their state, as PERILUNE_* variables."""

    data_dir: Path
    env: dict[str, str]

    @property
    def settings(self) -> Settings:
        return Settings(
            data_dir=self.data_dir,
            database_url=self.env.get("PERILUNE_DATABASE_URL"),
            database_schema=self.env.get("PERILUNE_DATABASE_SCHEMA"),
        )


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running(deployment: Deployment, name: str, *args: str, demo: bool) -> Iterator[Server]:
    """``perilune serve`` in its own process group, stopped on exit (killed with its workers if
    it does not stop in time)."""
    port = free_port()
    log = deployment.data_dir.parent / f"{name}.log"
    env = {
        **os.environ,
        **deployment.env,
        "PERILUNE_DATA_DIR": str(deployment.data_dir),
        "PERILUNE_DEMO": "true" if demo else "false",
        "PERILUNE_DEMO_PEOPLE": "0",  # the demo repository is tested in tests/cli
        "PERILUNE_LOG_LEVEL": "WARNING",
        "PERILUNE_RUN_WORKER": "false",
    }
    command = [sys.executable, "-m", "perilune", "serve", "--port", str(port), *args]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(process, port, log)
    try:
        yield server
    finally:
        _stop(process)


def _signal(process: subprocess.Popen[bytes]) -> None:
    # The server alone: granian stops its own workers (signalling the whole group can catch a
    # worker mid-start and hang the shutdown). SIGKILL to the group is the fallback.
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        _signal(process)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def wait_for(condition_met: Callable[[], bool], server: Server, what: str, deadline: float) -> None:
    while not condition_met():
        if server.process.poll() is not None:
            pytest.fail(f"the server exited ({server.process.returncode}) before {what}:\n{server.output()}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {STARTUP_TIMEOUT:.0f}s:\n{server.output()}")
        time.sleep(0.05)


def wait_healthy(server: Server, deadline: float) -> None:
    def healthy() -> bool:
        try:
            return httpx.get(f"{server.url}/healthz", timeout=1.0).status_code == 200
        except httpx.TransportError:
            return False

    wait_for(healthy, server, "/healthz answering", deadline)


def wait_workers(server: Server, workers: int, deadline: float) -> None:
    """/healthz answers once one granian worker is up; wait for all of them (granian logs each)."""

    def started() -> bool:
        return server.output().count("Started worker-") >= workers

    wait_for(started, server, f"{workers} workers started", deadline)


def put_demo_team_on_a_small_plan(deployment: Deployment) -> str:
    """``perilune plans set --team "Perilune Demo" custom`` with a minute limit of LIMIT, done
    in-process (a CLI process would cost seconds of imports). The servers read the plan per request."""
    settings = deployment.settings

    async def work() -> str:
        engine = create_engine(settings.resolved_database_url, schema=settings.database_schema)
        try:
            session: AsyncSession
            async with session_factory(engine)() as session, session.begin():
                team = await admin.find_team(session, admin.DEMO_TEAM_NAME)
                await admin.set_plan(session, team, "custom", {"limits": {"default": {"minute": LIMIT}}})
                return team.id
        finally:
            await engine.dispose()

    return asyncio.run(work())


@dataclass(frozen=True)
class Cluster:
    urls: list[str]
    key: str
    team_id: str


@contextmanager
def cluster(deployment: Deployment, servers: int = 2, workers: int = 1) -> Iterator[Cluster]:
    """The first server creates the demo team and its key; the others start once it has (so they
    find the database migrated) and share its database."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    serve_args = ("--workers", str(workers)) if workers > 1 else ()
    with ExitStack() as stack:
        first = stack.enter_context(running(deployment, "server-0", *serve_args, demo=True))
        key_file = deployment.data_dir / "demo-api-key"
        wait_for(key_file.exists, first, "the demo key file", deadline)
        others = [
            stack.enter_context(running(deployment, f"server-{n}", *serve_args, demo=False))
            for n in range(1, servers)
        ]
        # Unwound first: every server is told to stop at once, then each is waited for.
        for server in (first, *others):
            stack.callback(_signal, server.process)
        team_id = put_demo_team_on_a_small_plan(deployment)
        for server in (first, *others):
            wait_healthy(server, deadline)
            if workers > 1:
                wait_workers(server, workers, deadline)
        yield Cluster([s.url for s in (first, *others)], key_file.read_text().strip(), team_id)


async def _burst(urls: list[str], key: str) -> list[httpx.Response]:
    # One connection per request, so a multi-worker server spreads them over its workers.
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(limits=limits, timeout=30.0, headers={"x-api-key": key}) as client:
        return await asyncio.gather(*(client.get(urls[n % len(urls)] + HEALTH) for n in range(BURST)))


def assert_one_shared_counter(found: Cluster) -> None:
    headers = {"x-api-key": found.key, "connection": "close"}
    for n in range(1, SEQUENTIAL + 1):
        response = httpx.get(found.urls[n % len(found.urls)] + HEALTH, headers=headers, timeout=30.0)
        assert response.status_code == 200, response.text
        assert response.headers["x-rate-limit-minute"] == str(LIMIT)
        assert response.headers["x-minute-usage"] == str(n)
        assert response.headers["x-hourly-usage"] == str(n)

    burst = asyncio.run(_burst(found.urls, found.key))
    allowed = [r for r in burst if r.status_code == 200]
    refused = [r for r in burst if r.status_code == 429]
    assert len(allowed) + len(refused) == BURST, [r.status_code for r in burst]
    assert len(allowed) == LIMIT - SEQUENTIAL
    assert sorted(int(r.headers["x-minute-usage"]) for r in allowed) == list(range(SEQUENTIAL + 1, LIMIT + 1))
    for response in refused:
        assert response.content == LIMIT_MESSAGE
        assert response.headers["x-minute-usage"] == str(LIMIT)
        assert response.headers["x-minute-requests-left"] == "0"
        assert 1 <= int(response.headers["retry-after"]) <= 60

    for url in found.urls:
        response = httpx.get(url + HEALTH, headers=headers, timeout=30.0)
        assert response.status_code == 429
        assert response.headers["x-hourly-usage"] == str(LIMIT)  # refusals were not counted


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def test_two_servers_share_a_sqlite_database_store(data_dir: Path) -> None:
    deployment = Deployment(data_dir, {"PERILUNE_RATE_LIMIT_STORE": "database"})
    with cluster(deployment) as found:
        assert_one_shared_counter(found)


@pytest.fixture
def postgres_schema() -> Iterator[tuple[str, str]]:
    if not POSTGRES_URL:
        pytest.skip(SKIP_POSTGRES)
    url = Settings(database_url=POSTGRES_URL).resolved_database_url
    schema = f"mp_{uuid.uuid4().hex[:16]}"
    run_sql(url, f'CREATE SCHEMA "{schema}"')
    try:
        yield POSTGRES_URL, schema
    finally:
        run_sql(url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_two_servers_share_a_postgres_database_store(
    data_dir: Path, postgres_schema: tuple[str, str]
) -> None:
    url, schema = postgres_schema
    env = {
        "PERILUNE_RATE_LIMIT_STORE": "database",
        "PERILUNE_DATABASE_URL": url,
        "PERILUNE_DATABASE_SCHEMA": schema,
    }
    with cluster(Deployment(data_dir, env)) as found:
        assert_one_shared_counter(found)


def test_two_servers_share_a_redis_store(data_dir: Path) -> None:
    if not REDIS_URL:
        pytest.skip(SKIP_REDIS)
    env = {"PERILUNE_RATE_LIMIT_STORE": "redis", "PERILUNE_REDIS_URL": REDIS_URL}
    team_id = None
    try:
        with cluster(Deployment(data_dir, env)) as found:
            team_id = found.team_id
            assert_one_shared_counter(found)
    finally:
        # The servers use the default namespace; the fresh team's id keeps this test's keys apart.
        if team_id is not None:
            client = redis.Redis.from_url(REDIS_URL)
            try:
                keys = list(client.scan_iter(match=f"perilune:rl:{team_id}:*"))
                assert keys, "the servers wrote no counters to Redis"
                client.delete(*keys)
            finally:
                client.close()


def test_granian_workers_share_the_database_store_by_default(data_dir: Path) -> None:
    # No PERILUNE_RATE_LIMIT_STORE: with several workers "auto" picks the database.
    with cluster(Deployment(data_dir, {}), servers=1, workers=2) as found:
        assert_one_shared_counter(found)
        # Each worker's /metrics counts the 200s it answered itself, in a series whose creation
        # time tells the workers apart. Ask with fresh connections until both have answered.
        series = '{endpoint="api/v1/auth/health",method="GET",status="200"}'
        per_worker: dict[str, float] = {}
        for _ in range(100):
            metrics = httpx.get(found.urls[0] + "/metrics", headers={"connection": "close"}, timeout=10.0)
            values = dict(line.rsplit(" ", 1) for line in metrics.text.splitlines() if series in line)
            created = values.get(f"perilune_requests_created{series}")
            if created is not None:
                per_worker[created] = float(values[f"perilune_requests_total{series}"])
            if len(per_worker) == 2:
                break
        assert len(per_worker) == 2, f"only one worker answered API requests: {per_worker}"
        assert sum(per_worker.values()) == LIMIT  # the two workers' 200s together: the shared limit
