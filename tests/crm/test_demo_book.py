"""The demo team's book of business (perilune.crm.demo) made from a generated repository in a
real database (SQLite and PostgreSQL): records linked to the repository, stages, deals, tasks and
lists, what the API then shows, determinism for the seed, nothing without a repository, and
``perilune serve``'s call after loading the demo repository."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from perilune.auth import admin
from perilune.cli.main import ensure_demo, ensure_demo_book, ensure_demo_repository
from perilune.clock import FrozenClock
from perilune.config import Settings
from perilune.crm.demo import CONTACTS, create_demo_book
from perilune.db.engine import create_engine, session_factory
from perilune.models import (
    Account,
    Contact,
    ContactStage,
    Label,
    LabelMembership,
    Opportunity,
    OpportunityContactRole,
    OpportunityStage,
    Organization,
    Person,
    Task,
)
from perilune.repository.generator import Generator
from perilune.repository.generator.loading import load_into
from perilune.runtime import Runtime
from tests.crm.crm_client import call, ok

# Apollo-like proportions (about twelve people a company), as the demo repository has them.
PEOPLE = 1500
ORGANIZATIONS = 120


async def demo_team(runtime: Runtime, clock: FrozenClock) -> tuple[str, str]:
    """The demo team as ``perilune serve`` makes it: its id and master key."""
    async with runtime.sessions() as session, session.begin():
        issued = await admin.create_demo_team(session, clock.now())
        return issued.key.team_id, issued.secret


async def load_repository(runtime: Runtime) -> None:
    await load_into(runtime.engine, Generator(people=PEOPLE, organizations=ORGANIZATIONS, seed=1))


async def make_book(runtime: Runtime, clock: FrozenClock, team_id: str, seed: int = 1) -> Any:
    async with runtime.sessions() as session, session.begin():
        return await create_demo_book(session, team_id, clock.now(), rng_seed=seed)


async def rows(runtime: Runtime, model: Any, team_id: str) -> list[Any]:
    async with runtime.sessions() as session:
        return list((await session.execute(select(model).where(model.team_id == team_id))).scalars())


async def by_id(runtime: Runtime, model: Any) -> dict[str, Any]:
    async with runtime.sessions() as session:
        return {row.id: row for row in (await session.execute(select(model))).scalars()}


async def test_the_book_is_drawn_from_the_repository(runtime: Runtime, clock: FrozenClock) -> None:
    team_id, _ = await demo_team(runtime, clock)
    await load_repository(runtime)

    book = await make_book(runtime, clock, team_id)

    contacts = await rows(runtime, Contact, team_id)
    accounts = {account.id: account for account in await rows(runtime, Account, team_id)}
    assert (book.contacts, book.accounts) == (len(contacts), len(accounts))
    assert 150 <= len(contacts) <= CONTACTS and len(accounts) >= 40
    people = await by_id(runtime, Person)
    organizations = await by_id(runtime, Organization)
    assert len({contact.person_id for contact in contacts}) == len(contacts)
    for contact in contacts:
        person = people[contact.person_id]
        account = accounts[contact.account_id]
        organization = organizations[account.organization_id]
        assert (contact.email, contact.name, contact.title) == (person.email, person.name, person.title)
        assert contact.organization_id == person.organization_id == organization.id
        assert (account.name, account.domain) == (organization.name, organization.primary_domain)
        assert contact.organization_name == organization.name and contact.city == person.city
        assert contact.owner_id is not None and contact.contact_stage_id is not None
        assert contact.created_at <= clock.now() and contact.phone_numbers == []


async def test_the_book_has_stages_deals_tasks_and_lists(runtime: Runtime, clock: FrozenClock) -> None:
    team_id, _ = await demo_team(runtime, clock)
    await load_repository(runtime)
    book = await make_book(runtime, clock, team_id)
    today = clock.now().date()

    stage_names = {stage.id: stage.name for stage in await rows(runtime, ContactStage, team_id)}
    contact_stages = Counter(stage_names[c.contact_stage_id] for c in await rows(runtime, Contact, team_id))
    assert len(contact_stages) >= 5 and contact_stages["New"] > 0

    deal_stages = {stage.id: stage for stage in await rows(runtime, OpportunityStage, team_id)}
    deals = await rows(runtime, Opportunity, team_id)
    assert len(deals) == book.deals >= 20
    for deal in deals:
        stage = deal_stages[deal.opportunity_stage_id]
        assert (deal.is_closed, deal.is_won) == (stage.is_closed, stage.is_won)
        assert deal.amount is not None and deal.amount >= 5000 and deal.amount % 500 == 0
        assert deal.closed_date is not None
        assert (deal.closed_date < today) if deal.is_closed else (deal.closed_date > today)
        assert deal.created_at <= clock.now()
    assert {deal.is_closed for deal in deals} == {True, False}
    assert any(deal.is_won for deal in deals)
    roles = await rows(runtime, OpportunityContactRole, team_id)
    assert {role.opportunity_id for role in roles} <= {deal.id for deal in deals} and roles

    tasks = await rows(runtime, Task, team_id)
    assert len(tasks) == book.tasks >= 60
    statuses = Counter(task.status for task in tasks)
    assert statuses["scheduled"] > 0 and statuses["completed"] > 0
    assert all(task.completed_at is not None for task in tasks if task.status == "completed")
    assert all(task.completed_at is None for task in tasks if task.status == "scheduled")

    labels = await rows(runtime, Label, team_id)
    assert len(labels) == book.lists >= 4
    assert {label.modality for label in labels} == {"contacts", "accounts"}
    async with runtime.sessions() as session:
        members = dict(
            (
                await session.execute(
                    select(LabelMembership.label_id, func.count())
                    .where(LabelMembership.team_id == team_id)
                    .group_by(LabelMembership.label_id)
                )
            ).all()
        )
    assert all(members.get(label.id, 0) > 0 for label in labels)


async def test_the_api_shows_the_book(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    team_id, key = await demo_team(runtime, clock)
    await load_repository(runtime)
    book = await make_book(runtime, clock, team_id)
    contact = sorted(await rows(runtime, Contact, team_id), key=lambda c: c.id)[0]

    found = await ok(
        await call(client, "POST", "/api/v1/contacts/search", key, {"q_keywords": contact.last_name})
    )
    assert contact.id in {item["id"] for item in found["contacts"]}
    everyone = await ok(await call(client, "POST", "/api/v1/contacts/search", key, {"per_page": 5}))
    assert everyone["pagination"]["total_entries"] == book.contacts
    deals = await ok(await call(client, "POST", "/api/v1/opportunities/search", key, {"per_page": 100}))
    assert len(deals["opportunities"]) == book.deals
    lists = await ok(await call(client, "GET", "/api/v1/labels", key))
    assert len(lists) == book.lists and all(item["cached_count"] > 0 for item in lists)


async def test_the_book_is_the_same_for_the_same_seed(runtime: Runtime, clock: FrozenClock) -> None:
    first, _ = await demo_team(runtime, clock)
    await load_repository(runtime)
    async with runtime.sessions() as session, session.begin():
        second = (await admin.create_team(session, "Second", "professional", clock.now())).id
        third = (await admin.create_team(session, "Third", "professional", clock.now())).id
    await make_book(runtime, clock, first)
    await make_book(runtime, clock, second)
    await make_book(runtime, clock, third, seed=2)

    async def fingerprint(team_id: str) -> tuple[list[Any], list[Any]]:
        stages = {s.id: s.name for s in await rows(runtime, ContactStage, team_id)}
        contacts = sorted(
            (c.person_id, stages[c.contact_stage_id]) for c in await rows(runtime, Contact, team_id)
        )
        deals = sorted(
            (d.name, d.amount, d.closed_date, d.is_won) for d in await rows(runtime, Opportunity, team_id)
        )
        return contacts, deals

    assert await fingerprint(first) == await fingerprint(second)
    assert await fingerprint(first) != await fingerprint(third)


async def test_without_a_repository_nothing_is_made(runtime: Runtime, clock: FrozenClock) -> None:
    team_id, _ = await demo_team(runtime, clock)
    assert await make_book(runtime, clock, team_id) is None
    for model in (Contact, Account, Opportunity, Task, Label):
        assert await rows(runtime, model, team_id) == []


def test_serve_makes_the_book_once_after_the_demo_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PERILUNE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PERILUNE_DATABASE_URL", raising=False)
    monkeypatch.delenv("PERILUNE_DATABASE_SCHEMA", raising=False)
    monkeypatch.setenv("PERILUNE_DEMO_PEOPLE", "0")
    settings = Settings()
    assert ensure_demo(settings) is not None
    # An empty repository: no book, and not a word about it.
    assert not ensure_demo_repository(settings)
    capsys.readouterr()
    assert ensure_demo_book(settings) is None
    assert capsys.readouterr().out == ""

    monkeypatch.setenv("PERILUNE_DEMO_PEOPLE", "400")
    settings = Settings()
    assert ensure_demo_repository(settings)
    book = ensure_demo_book(settings)
    assert book is not None and book.contacts > 0
    assert f"Filled the demo team's CRM: {book.contacts} contacts" in capsys.readouterr().out
    # The CRM is not empty any more: a second serve adds nothing.
    assert ensure_demo_book(settings) is None
    assert count_contacts(settings) == book.contacts


def count_contacts(settings: Settings) -> int:
    async def count() -> int:
        engine = create_engine(settings.resolved_database_url)
        try:
            async with session_factory(engine)() as session:
                return int(await session.scalar(select(func.count()).select_from(Contact)) or 0)
        finally:
            await engine.dispose()

    return asyncio.run(count())
