"""The ``perilune`` command."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from perilune.auth import admin
from perilune.cli.generating import generate, load_generated
from perilune.cli.importing import import_app, people_app
from perilune.cli.indexing import index_app
from perilune.clock import SystemClock
from perilune.config import Settings
from perilune.crm import demo as crm_demo
from perilune.db import migrate
from perilune.db.engine import engine_from_settings, session_factory
from perilune.jobs.worker import DEFAULT_BATCH_SIZE, DEFAULT_POLL_INTERVAL, Worker
from perilune.metering.plans import CREDIT_TYPES, PLAN_NAMES
from perilune.observability.logging import configure_logging
from perilune.repository import repository_is_empty
from perilune.repository.generator import Generator, default_workers

T = TypeVar("T")

app = typer.Typer(
    help="Perilune: a self-hosted server that speaks the Apollo.io REST API.", no_args_is_help=True
)
teams_app = typer.Typer(help="Manage teams.", no_args_is_help=True)
users_app = typer.Typer(help="Manage a team's users.", no_args_is_help=True)
keys_app = typer.Typer(help="Issue and revoke API keys.", no_args_is_help=True)
plans_app = typer.Typer(help="Put a team on a plan.", no_args_is_help=True)
credits_app = typer.Typer(help="Grant credits to a team.", no_args_is_help=True)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
for sub, name in (
    (teams_app, "teams"),
    (users_app, "users"),
    (keys_app, "keys"),
    (plans_app, "plans"),
    (credits_app, "credits"),
    (db_app, "db"),
):
    app.add_typer(sub, name=name)
app.add_typer(import_app, name="import")
app.add_typer(people_app, name="people")
app.add_typer(index_app, name="index")
app.command("generate")(generate)


def _now() -> datetime:
    return datetime.now(UTC)


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def _run(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Migrate, then run ``work`` in one transaction; an AdminError becomes a plain message."""
    migrate.upgrade(settings.resolved_database_url, settings.database_schema)

    async def runner() -> T:
        engine = engine_from_settings(settings)
        try:
            async with session_factory(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(runner())
    except admin.AdminError as exc:
        raise _fail(str(exc)) from exc


@app.command()
def init() -> None:
    """Create or upgrade the database to the newest schema."""
    settings = Settings()
    migrate.upgrade(settings.resolved_database_url, settings.database_schema)
    typer.echo(f"database ready: {_describe(settings)}")


def _describe(settings: Settings) -> str:
    url = settings.resolved_database_url
    return url.split("@")[-1] if "@" in url else url


def ensure_demo(settings: Settings) -> str | None:
    """On an empty database: the demo team, its admin and a master key (written to the data dir)."""

    async def work(session: AsyncSession) -> str | None:
        if not await admin.is_empty(session):
            return None
        issued = await admin.create_demo_team(session, _now())
        return issued.secret

    secret = _run(settings, work)
    if secret is not None:
        path = settings.demo_key_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secret + "\n")
        path.chmod(0o600)
    return secret


DEMO_SEED = 1


def ensure_demo_repository(settings: Settings) -> bool:
    """On a repository with no people and no organizations, generate and load the demo one
    (``PERILUNE_DEMO_PEOPLE`` people, seed 1); returns whether it did."""
    if settings.demo_people <= 0 or not _run(settings, repository_is_empty):
        return False
    typer.echo(
        f"The repository is empty: generating a demo repository of {settings.demo_people:,} people "
        "(PERILUNE_DEMO_PEOPLE; 0 turns this off)."
    )
    generator = Generator(people=settings.demo_people, seed=DEMO_SEED)
    load_generated(generator, default_workers())
    return True


def ensure_demo_book(settings: Settings) -> crm_demo.DemoBook | None:
    """After the demo repository: the demo team's book of business (contacts, accounts, deals,
    tasks, lists drawn from the repository), while its CRM is empty and the repository is not."""
    book = _run(settings, lambda session: crm_demo.ensure_demo_book(session, _now()))
    if book is not None:
        typer.echo(f"Filled the demo team's CRM: {book.summary()}.")
    return book


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Server processes (granian when > 1).")] = None,
    server: Annotated[str, typer.Option(help="auto, uvicorn or granian.")] = "auto",
) -> None:
    """Run the API server (migrates first; creates the demo team on an empty database)."""
    for name, value in (("HOST", host), ("PORT", port), ("WORKERS", workers)):
        if value is not None:
            os.environ[f"PERILUNE_{name}"] = str(value)
    settings = Settings()
    secret = ensure_demo(settings) if settings.demo else None
    if secret:
        typer.echo(f"Created the demo team '{admin.DEMO_TEAM_NAME}' (professional plan).")
        typer.echo(f"Demo master API key: {secret}")
        typer.echo(f"(also written to {settings.demo_key_path})")
    elif settings.demo_key_path.exists():
        typer.echo(f"Demo API key: see {settings.demo_key_path}")
    if settings.demo:
        ensure_demo_repository(settings)
        ensure_demo_book(settings)
    typer.echo(f"Perilune on http://{settings.host}:{settings.port} ({_describe(settings)})")
    sys.stdout.flush()
    if server == "granian" or (server == "auto" and settings.workers > 1):
        _serve_granian(settings)
    else:
        _serve_uvicorn(settings)


def _serve_uvicorn(settings: Settings) -> None:
    import uvicorn

    uvicorn.run(
        "perilune.app:create_app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        access_log=False,
        log_level=settings.log_level.lower(),
    )


def _serve_granian(settings: Settings) -> None:
    from granian import Granian
    from granian.constants import Interfaces

    Granian(
        "perilune.app:create_app_from_env",
        factory=True,
        address=settings.host,
        port=settings.port,
        workers=settings.workers,
        interface=Interfaces.ASGI,
    ).serve()


@app.command("worker")
def worker_command(
    poll_interval: Annotated[
        float, typer.Option(min=0.01, help="Seconds to wait between looks when idle.")
    ] = DEFAULT_POLL_INTERVAL,
    batch_size: Annotated[
        int, typer.Option(min=1, help="Jobs claimed and run at once.")
    ] = DEFAULT_BATCH_SIZE,
) -> None:
    """Run a background-job worker until SIGINT or SIGTERM (migrates first). Run as many as needed,
    beside `perilune serve` (which runs one itself unless PERILUNE_RUN_WORKER=0)."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    migrate.upgrade(settings.resolved_database_url, settings.database_schema)
    typer.echo(f"Perilune job worker ({_describe(settings)})")
    sys.stdout.flush()
    asyncio.run(_work(settings, poll_interval, batch_size))


async def _work(settings: Settings, poll_interval: float, batch_size: int) -> None:
    from perilune.app import job_handlers

    engine = engine_from_settings(settings)
    worker = Worker(
        engine, SystemClock(), job_handlers(settings), poll_interval=poll_interval, batch_size=batch_size
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await worker.run_forever(stop)
    finally:
        await engine.dispose()


@teams_app.command("create")
def teams_create(
    name: str,
    plan: Annotated[str, typer.Option(help=f"One of {', '.join(PLAN_NAMES)}.")] = "professional",
) -> None:
    """Create a team."""

    async def work(session: AsyncSession) -> str:
        return (await admin.create_team(session, name, plan, _now())).id

    typer.echo(f"team {_run(Settings(), work)} created ({name}, {plan} plan)")


@users_app.command("create")
def users_create(
    team: Annotated[str, typer.Option(help="Team id or name.")],
    email: Annotated[str, typer.Option()],
    first_name: Annotated[str | None, typer.Option()] = None,
    last_name: Annotated[str | None, typer.Option()] = None,
    title: Annotated[str | None, typer.Option()] = None,
    role: Annotated[str, typer.Option(help="admin or user.")] = "user",
) -> None:
    """Add a user to a team."""

    async def work(session: AsyncSession) -> str:
        found = await admin.find_team(session, team)
        user = await admin.create_user(
            session,
            found,
            email=email,
            first_name=first_name,
            last_name=last_name,
            title=title,
            role=role,
            now=_now(),
        )
        return user.id

    typer.echo(f"user {_run(Settings(), work)} created")


@keys_app.command("create")
def keys_create(
    team: Annotated[str, typer.Option(help="Team id or name.")],
    master: Annotated[bool, typer.Option("--master", help="Access to every endpoint.")] = False,
    scope: Annotated[
        list[str] | None,
        typer.Option(help="An Apollo endpoint name, e.g. api/v1/contacts/search (repeatable)."),
    ] = None,
    user: Annotated[str | None, typer.Option(help="The user (email) the key acts as.")] = None,
    name: Annotated[str, typer.Option(help="A label for the key.")] = "",
) -> None:
    """Issue an API key. It is printed once; only its hash is stored."""

    async def work(session: AsyncSession) -> admin.IssuedKey:
        found = await admin.find_team(session, team)
        acting = await admin.find_user(session, found, user) if user else None
        return await admin.create_key(
            session, found, master=master, scopes=scope or [], user=acting, name=name, now=_now()
        )

    issued = _run(Settings(), work)
    typer.echo(f"key id {issued.key.id}; the key (shown once): {issued.secret}")


@keys_app.command("revoke")
def keys_revoke(key: Annotated[str, typer.Argument(help="The key id, or the key itself.")]) -> None:
    """Revoke an API key at once."""

    async def work(session: AsyncSession) -> str:
        return (await admin.revoke_key(session, key, _now())).id

    typer.echo(f"key {_run(Settings(), work)} revoked")


@plans_app.command("set")
def plans_set(
    team: Annotated[str, typer.Option(help="Team id or name.")],
    plan: Annotated[str, typer.Argument(help=f"One of {', '.join(PLAN_NAMES)}.")],
    overrides: Annotated[
        str | None,
        typer.Option(
            help="custom plan only, JSON: "
            '{"limits": {"default": {"minute": 500}}, "credits": {"lead_credit": 50000}}'
        ),
    ] = None,
) -> None:
    """Put a team on a plan (rate limits and credit allowances)."""
    try:
        parsed: dict[str, Any] | None = json.loads(overrides) if overrides else None
    except json.JSONDecodeError as exc:
        raise _fail(f"--overrides is not valid JSON: {exc}") from exc

    async def work(session: AsyncSession) -> None:
        await admin.set_plan(session, await admin.find_team(session, team), plan, parsed)

    _run(Settings(), work)
    typer.echo(f"team {team} is on the {plan} plan")


@credits_app.command("grant")
def credits_grant(
    team: Annotated[str, typer.Option(help="Team id or name.")],
    amount: Annotated[int, typer.Argument(help="Credits to add to this cycle's allowance.")],
    credit_type: Annotated[
        str, typer.Option("--type", help=f"One of {', '.join(CREDIT_TYPES)}.")
    ] = "lead_credit",
    note: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Add credits to a team's current cycle."""

    async def work(session: AsyncSession) -> None:
        await admin.grant_credits(
            session, await admin.find_team(session, team), credit_type, amount, _now(), note
        )

    _run(Settings(), work)
    typer.echo(f"granted {amount} {credit_type} to {team}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations (serve and init do this too)."""
    init()


@db_app.command("revision")
def db_revision(message: Annotated[str, typer.Option("-m", "--message")]) -> None:
    """For developers: autogenerate a migration from the models."""
    from alembic import command

    settings = Settings()
    config = migrate.alembic_config(settings.resolved_database_url, settings.database_schema)
    migrate.upgrade(settings.resolved_database_url, settings.database_schema)
    command.revision(config, message=message, autogenerate=True)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
