"""``perilune index rebuild`` and ``perilune index status`` against a real SQLite file."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from perilune.cli.main import app
from perilune.config import Settings
from perilune.db.engine import create_engine
from perilune.search.index import SearchIndex
from tests.search.rows import OrgSpec, PersonSpec, add_organization, add_person, sessions

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("PERILUNE_DATA_DIR", str(tmp_path / "data"))
    for name in ("DATABASE_URL", "DATABASE_SCHEMA", "INDEX_DIR"):
        monkeypatch.delenv(f"PERILUNE_{name}", raising=False)
    return Settings()


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def seed(settings: Settings) -> None:
    async def work() -> None:
        engine = create_engine(settings.resolved_database_url)
        try:
            async with sessions(engine)() as session, session.begin():
                org = await add_organization(session, OrgSpec())
                await add_person(session, PersonSpec(), org)
                await add_person(session, PersonSpec("Ben", "Okafor", "Engineer", None), org)
        finally:
            await engine.dispose()

    asyncio.run(work())


def test_status_before_any_index(env: Settings) -> None:
    output = invoke("index", "status")
    assert f"index directory: {env.data_dir / 'index'}" in output
    assert "no index" in output


def test_rebuild_then_status(env: Settings) -> None:
    invoke("init")
    seed(env)
    output = invoke("index", "rebuild", "--heap-mb", "64")
    assert "indexed 2 people and 1 organizations" in output
    assert "docs/s" in output
    assert "change log position 3" in output
    assert "person: 2/2 (100%)" in output
    assert SearchIndex.open_current(env.resolved_index_dir).count("person") == 2
    status = invoke("index", "status")
    assert "documents: 2 people, 1 organizations" in status
    assert "change log: position 3 of 3 (lag 0)" in status
    assert "writer: none running" in status


def test_index_dir_setting(env: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERILUNE_INDEX_DIR", str(tmp_path / "elsewhere"))
    invoke("index", "rebuild")
    assert SearchIndex.open_current(tmp_path / "elsewhere").count("person") == 0


def test_help() -> None:
    for args in (["index"], ["index", "rebuild"], ["index", "status"]):
        assert "Usage" in runner.invoke(app, [*args, "--help"]).output
