"""The ``perilune`` command, run in-process with Typer's runner against a real SQLite file."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from perilune.auth.keys import hash_key
from perilune.cli.main import app, ensure_demo, ensure_demo_repository
from perilune.config import Settings
from perilune.db.engine import create_engine, session_factory
from perilune.models import ApiKey, CreditLedgerEntry, Team, User

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("PERILUNE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PERILUNE_DATABASE_URL", raising=False)
    monkeypatch.delenv("PERILUNE_DATABASE_SCHEMA", raising=False)
    return Settings()


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def fail(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 1, result.output
    return result.output


def rows(settings: Settings, model: type[object]) -> list[object]:
    async def load() -> list[object]:
        engine = create_engine(settings.resolved_database_url)
        try:
            async with session_factory(engine)() as session:
                return list((await session.execute(select(model))).scalars().all())
        finally:
            await engine.dispose()

    return asyncio.run(load())


def test_help_everywhere() -> None:
    for args in ([], ["teams"], ["users"], ["keys"], ["plans"], ["credits"], ["serve"], ["init"]):
        result = runner.invoke(app, [*args, "--help"])
        assert result.exit_code == 0
        assert "Usage" in result.output


def test_init_creates_the_database(env: Settings) -> None:
    assert "database ready" in invoke("init")
    assert (env.data_dir / "perilune.db").exists()


def test_team_user_key_lifecycle(env: Settings) -> None:
    assert "created (Acme, basic plan)" in invoke("teams", "create", "Acme", "--plan", "basic")
    invoke(
        "users",
        "create",
        "--team",
        "Acme",
        "--email",
        "Ada@Acme.test",
        "--first-name",
        "Ada",
        "--role",
        "admin",
    )
    output = invoke("keys", "create", "--team", "Acme", "--master", "--user", "ada@acme.test")
    secret = re.search(r"shown once\): (\S+)", output)
    assert secret is not None
    (key,) = rows(env, ApiKey)
    assert isinstance(key, ApiKey)
    assert key.key_hash == hash_key(secret.group(1))
    assert secret.group(1) not in key.key_hash
    assert key.is_master
    (user,) = rows(env, User)
    assert isinstance(user, User)
    assert key.user_id == user.id and user.email == "ada@acme.test"

    assert "revoked" in invoke("keys", "revoke", key.id)
    (revoked,) = rows(env, ApiKey)
    assert isinstance(revoked, ApiKey) and revoked.revoked_at is not None


def test_scoped_keys_and_mistakes(env: Settings) -> None:
    invoke("teams", "create", "Acme")
    invoke(
        "keys",
        "create",
        "--team",
        "Acme",
        "--scope",
        "api/v1/contacts/search",
        "--scope",
        "api/v1/people/match",
    )
    (key,) = rows(env, ApiKey)
    assert isinstance(key, ApiKey)
    assert key.scopes == ["api/v1/contacts/search", "api/v1/people/match"] and not key.is_master
    assert "either --master or" in fail("keys", "create", "--team", "Acme")
    assert "no team" in fail("keys", "create", "--team", "Nobody", "--master")
    assert "unknown plan" in fail("teams", "create", "X", "--plan", "platinum")
    invoke("users", "create", "--team", "Acme", "--email", "a@b.c")
    assert "already a user" in fail("users", "create", "--team", "Acme", "--email", "A@B.C")
    assert "role must be" in fail("users", "create", "--team", "Acme", "--email", "x@b.c", "--role", "boss")


def test_plans_and_credits(env: Settings) -> None:
    invoke("teams", "create", "Acme")
    invoke(
        "plans", "set", "--team", "Acme", "custom", "--overrides", '{"limits": {"default": {"minute": 500}}}'
    )
    (team,) = rows(env, Team)
    assert isinstance(team, Team)
    assert team.plan == "custom" and team.plan_overrides == {"limits": {"default": {"minute": 500}}}
    assert "custom plan only" in fail(
        "plans", "set", "--team", "Acme", "free", "--overrides", '{"credits": {}}'
    )
    assert "not valid JSON" in fail("plans", "set", "--team", "Acme", "custom", "--overrides", "{")
    assert "limits.default.minute" in fail(
        "plans", "set", "--team", "Acme", "custom", "--overrides", '{"limits": {"default": {"minute": -1}}}'
    )

    invoke("credits", "grant", "--team", "Acme", "250", "--type", "export_credit")
    (entry,) = rows(env, CreditLedgerEntry)
    assert isinstance(entry, CreditLedgerEntry)
    assert (entry.credit_type, entry.amount) == ("export_credit", 250)
    assert "unknown credit type" in fail("credits", "grant", "--team", "Acme", "5", "--type", "gold")


def test_demo_team_is_created_once(env: Settings) -> None:
    secret = ensure_demo(env)
    assert secret is not None
    assert env.demo_key_path.read_text().strip() == secret
    assert env.demo_key_path.stat().st_mode & 0o777 == 0o600
    assert ensure_demo(env) is None
    (team,) = rows(env, Team)
    assert isinstance(team, Team) and team.name == "Perilune Demo" and team.plan == "professional"
    (user,) = rows(env, User)
    assert isinstance(user, User) and user.role == "admin"


def test_first_serve_fills_an_empty_repository_with_demo_data(
    env: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PERILUNE_DEMO_PEOPLE", "120")
    settings = Settings()
    assert ensure_demo_repository(settings)
    output = capsys.readouterr().out
    assert "generating a demo repository of 120 people" in output
    assert "people: 120 lines: 120 created" in output
    count = sqlite3.connect(settings.data_dir / "perilune.db").execute("SELECT count(*) FROM people")
    assert count.fetchone() == (120,)
    assert not ensure_demo_repository(settings)  # not empty any more
    assert "generating" not in capsys.readouterr().out


def test_demo_people_zero_leaves_the_repository_empty(
    env: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PERILUNE_DEMO_PEOPLE", "0")
    assert not ensure_demo_repository(Settings())
    assert capsys.readouterr().out == ""
