"""The demo team's book of business: contacts drawn from the repository's people (linked by
``person_id``, with their data), accounts for their organizations (``organization_id``), deals at
every stage, open and done tasks and a few lists, so that a new user's first contacts or deals
search shows real-looking records.

``perilune serve`` makes it once, after loading the demo repository, while the demo team's CRM is
empty (``ensure_demo_book``). The content is fixed by the repository, ``now`` and the seed; the
rows are added directly (no events: this is the team's starting state, not a change to it)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from perilune.auth.admin import DEMO_ADMIN_EMAIL, DEMO_TEAM_NAME
from perilune.crm import labels as crm_labels
from perilune.crm.linking import fill_account_from_organization, link_contact
from perilune.crm.search_text import refresh_keywords
from perilune.crm.stages import ensure_default_stages
from perilune.db.ids import new_id
from perilune.models import (
    Account,
    AccountStage,
    Contact,
    ContactStage,
    Opportunity,
    OpportunityContactRole,
    OpportunityStage,
    Organization,
    Person,
    Task,
    Team,
    User,
)
from perilune.repository.normalize import fold

T = TypeVar("T")

# Organizations the accounts are drawn from (the first by id), and the book's size.
ORGANIZATION_POOL = 600
ACCOUNTS = 100
CONTACTS = 300
CONTACTS_PER_ACCOUNT = (2, 6)
DEALS = 36
TASKS = 90
# Weights of each stage among the book's records (Apollo's default stage names).
CONTACT_STAGES = (
    ("New", 30),
    ("Approaching", 24),
    ("Replied", 12),
    ("Interested", 10),
    ("Not Interested", 7),
    ("Unresponsive", 10),
    ("Do Not Contact", 2),
    ("Bad Data", 3),
    ("Changed Job", 2),
)
DEAL_STAGES = (
    ("Qualify", 6),
    ("Educate", 5),
    ("Validate", 5),
    ("Proposal", 4),
    ("Commit", 3),
    ("Closed Won", 6),
    ("Closed Lost", 4),
)
PRODUCTS = ("Annual platform license", "Pilot", "Team plan", "Enterprise plan", "Expansion", "Renewal")
ROLES = ("Decision Maker", "Champion", "Economic Buyer", "Influencer", "Technical Evaluator")
TASK_TYPES = (("call", 40), ("outreach_manual_email", 35), ("action_item", 15), ("linkedin_step_connect", 10))
TASK_TITLES = {
    "call": "Call {name}",
    "outreach_manual_email": "Email {name}",
    "action_item": "Prepare the account plan for {company}",
    "linkedin_step_connect": "Connect with {name} on LinkedIn",
}
TASK_NOTES = (
    "Follow up on the pricing questions from the last call.",
    "Share the case study from a customer in the same industry.",
    "Ask who else should join the evaluation.",
    "Confirm the timeline for the decision.",
    "Send the recap and the proposed next steps.",
    None,
)
PRIORITIES = (("high", 25), ("medium", 50), ("low", 25))
DECISION_MAKERS = frozenset({"founder", "owner", "c_suite", "partner", "vp"})
CONTACT_LISTS = ("Conference Leads", "Decision Makers", "Warm Introductions")
ACCOUNT_LISTS = ("Target Accounts", "Expansion Opportunities")


@dataclass(frozen=True)
class DemoBook:
    contacts: int
    accounts: int
    deals: int
    tasks: int
    lists: int

    def summary(self) -> str:
        return (
            f"{self.contacts} contacts, {self.accounts} accounts, {self.deals} deals, "
            f"{self.tasks} tasks and {self.lists} lists"
        )


@dataclass
class _Book:
    """What is being made: the team, its users, the clock, the seeded randomness and the
    records so far."""

    session: AsyncSession
    team_id: str
    owners: list[str]
    now: datetime
    rng: random.Random
    accounts: list[tuple[Account, Organization]]
    contacts: list[tuple[Contact, Person]]
    deals: list[Opportunity]

    def owner(self, index: int) -> str | None:
        return self.owners[index % len(self.owners)] if self.owners else None

    def days_ago(self, low: float, high: float) -> datetime:
        return self.now - timedelta(days=self.rng.uniform(low, high))


def _weighted(rng: random.Random, choices: Sequence[tuple[T, int]]) -> T:
    return rng.choices([value for value, _ in choices], weights=[weight for _, weight in choices])[0]


async def ensure_demo_book(session: AsyncSession, now: datetime, rng_seed: int = 1) -> DemoBook | None:
    """The demo team's book, if there is a demo team and its CRM is still empty."""
    team_id = await _demo_team_id(session)
    if team_id is None or not await _crm_is_empty(session, team_id):
        return None
    return await create_demo_book(session, team_id, now, rng_seed)


async def _demo_team_id(session: AsyncSession) -> str | None:
    found: str | None = await session.scalar(
        select(Team.id)
        .join(User, and_(User.team_id == Team.id, User.email == DEMO_ADMIN_EMAIL))
        .where(Team.name == DEMO_TEAM_NAME)
        .limit(1)
    )
    return found


async def _crm_is_empty(session: AsyncSession, team_id: str) -> bool:
    for model in (Contact, Account, Opportunity):
        table: Any = model
        if await session.scalar(select(table.id).where(table.team_id == team_id).limit(1)) is not None:
            return False
    return True


async def create_demo_book(
    session: AsyncSession, team_id: str, now: datetime, rng_seed: int = 1
) -> DemoBook | None:
    """Make the team's book from the repository (None, and nothing made, when the repository
    has no organizations with people)."""
    rng = random.Random(rng_seed)
    picked = await _pick_people(session, rng)
    if not picked:
        return None
    await ensure_default_stages(session, team_id, now)
    book = _Book(session, team_id, await _owners(session, team_id), now, rng, [], [], [])
    await _add_accounts_and_contacts(book, picked)
    await _add_deals(book)
    tasks = _add_tasks(book)
    lists = await _add_lists(book)
    await session.flush()
    return DemoBook(len(book.contacts), len(book.accounts), len(book.deals), tasks, lists)


async def _owners(session: AsyncSession, team_id: str) -> list[str]:
    rows = await session.execute(
        select(User.id)
        .where(User.team_id == team_id, User.deleted.is_(False))
        .order_by(User.created_at, User.id)
    )
    return list(rows.scalars())


async def _pick_people(session: AsyncSession, rng: random.Random) -> list[tuple[Organization, list[Person]]]:
    """Organizations (from the first ORGANIZATION_POOL by id, those where several people work
    first, as in a real book) and a few of each one's people with an email: at most ACCOUNTS
    organizations and CONTACTS people."""
    first = select(Organization).order_by(Organization.id).limit(ORGANIZATION_POOL)
    pool = list((await session.execute(first)).scalars())
    counts = await _staff_counts(session, [org.id for org in pool])
    candidates = [org for org in pool if counts.get(org.id)]
    rng.shuffle(candidates)
    candidates.sort(key=lambda org: counts[org.id] < CONTACTS_PER_ACCOUNT[0])
    plan: list[tuple[Organization, int]] = []
    room = CONTACTS
    for org in candidates[:ACCOUNTS]:
        count = min(counts[org.id], rng.randint(*CONTACTS_PER_ACCOUNT), room)
        if count == 0:
            break
        plan.append((org, count))
        room -= count
    staff = await _staff(session, [org.id for org, _ in plan])
    return [(org, rng.sample(staff[org.id], count)) for org, count in plan]


async def _staff_counts(session: AsyncSession, organization_ids: list[str]) -> dict[str, int]:
    if not organization_ids:
        return {}
    rows = await session.execute(
        select(Person.organization_id, func.count())
        .where(Person.organization_id.in_(organization_ids), Person.email.is_not(None))
        .group_by(Person.organization_id)
    )
    return {str(org_id): int(number) for org_id, number in rows}


async def _staff(session: AsyncSession, organization_ids: list[str]) -> dict[str, list[Person]]:
    """The organizations' people with an email, by organization, in id order."""
    staff: dict[str, list[Person]] = {}
    if not organization_ids:
        return staff
    rows = await session.execute(
        select(Person)
        .where(Person.organization_id.in_(organization_ids), Person.email.is_not(None))
        .order_by(Person.id)
    )
    for person in rows.scalars():
        staff.setdefault(person.organization_id or "", []).append(person)
    return staff


async def _stage_ids(session: AsyncSession, model: Any, team_id: str) -> dict[str, Any]:
    rows = await session.execute(select(model).where(model.team_id == team_id))
    return {stage.name: stage for stage in rows.scalars()}


async def _add_accounts_and_contacts(book: _Book, picked: list[tuple[Organization, list[Person]]]) -> None:
    account_stages = await _stage_ids(book.session, AccountStage, book.team_id)
    contact_stages = await _stage_ids(book.session, ContactStage, book.team_id)
    for index, (org, people) in enumerate(picked):
        account = _account(book, org, index, account_stages["Cold"].id)
        book.session.add(account)
        book.accounts.append((account, org))
        for person in people:
            stage = contact_stages[_weighted(book.rng, CONTACT_STAGES)]
            contact = await _contact(book, account, person, stage)
            book.session.add(contact)
            book.contacts.append((contact, person))
    await book.session.flush()


def _account(book: _Book, org: Organization, index: int, stage_id: str) -> Account:
    created = book.days_ago(60, 240)
    account = Account(
        id=new_id(created.timestamp()),
        team_id=book.team_id,
        owner_id=book.owner(index),
        creator_id=book.owner(index),
        organization_id=org.id,
        account_stage_id=stage_id,
        name=org.name,
        name_key=fold(org.name) or None,
        domain=org.primary_domain,
        source="search",
        original_source="search",
        typed_custom_fields={},
        data={},
        created_at=created,
        updated_at=created,
    )
    fill_account_from_organization(account, org)
    return account


async def _contact(book: _Book, account: Account, person: Person, stage: ContactStage) -> Contact:
    created = max(account.created_at, book.days_ago(1, 200))
    contact = Contact(
        id=new_id(created.timestamp()),
        team_id=book.team_id,
        owner_id=account.owner_id,
        creator_id=account.owner_id,
        account_id=account.id,
        organization_id=account.organization_id,
        organization_name=account.name,
        contact_stage_id=stage.id,
        email=person.email,
        email_status=person.email_status,
        linkedin_slug=person.linkedin_slug,
        source="search",
        original_source="search",
        phone_numbers=[],
        typed_custom_fields={},
        data={},
        keywords="",
        created_at=created,
        updated_at=created,
    )
    # The repository fills names, title, place and profile data (and the person link).
    await link_contact(book.session, contact)
    contact.person_id = person.id
    if stage.name != "New":
        contact.last_activity_date = created + (book.now - created) * book.rng.uniform(0.2, 1.0)
        contact.updated_at = contact.last_activity_date
    if stage.name in ("Replied", "Interested"):
        contact.email_last_opened_at = contact.last_activity_date
    refresh_keywords(contact)
    return contact


async def _add_deals(book: _Book) -> None:
    stages = await _stage_ids(book.session, OpportunityStage, book.team_id)
    account_stages = await _stage_ids(book.session, AccountStage, book.team_id)
    chosen = book.rng.sample(book.accounts, min(DEALS, len(book.accounts)))
    contacts_of: dict[str, list[Contact]] = {}
    for contact, _person in book.contacts:
        contacts_of.setdefault(contact.account_id or "", []).append(contact)
    for account, org in chosen:
        stage = stages[_weighted(book.rng, DEAL_STAGES)]
        deal = _deal(book, account, org, stage)
        book.session.add(deal)
        book.deals.append(deal)
        account.account_stage_id = account_stages[_account_stage_after(stage)].id
        people = contacts_of.get(account.id, [])
        if people:
            book.session.add(
                OpportunityContactRole(
                    id=new_id(deal.created_at.timestamp()),
                    team_id=book.team_id,
                    opportunity_id=deal.id,
                    contact_id=book.rng.choice(people).id,
                    role=book.rng.choice(ROLES),
                    created_at=deal.created_at,
                )
            )
    await book.session.flush()


def _account_stage_after(stage: OpportunityStage) -> str:
    if stage.is_won:
        return "Current Client"
    return "Dead Opportunity" if stage.is_closed else "Active Opportunity"


def _deal(book: _Book, account: Account, org: Organization, stage: OpportunityStage) -> Opportunity:
    rng = book.rng
    today = book.now.date()
    if stage.is_closed:
        closed = today - timedelta(days=rng.randint(3, 150))
        created = datetime.combine(closed, book.now.timetz()) - timedelta(days=rng.randint(20, 90))
    else:
        closed = today + timedelta(days=rng.randint(7, 120))
        created = book.days_ago(5, 120)
    created = max(created, account.created_at)
    moved = created + (book.now - created) * rng.uniform(0.3, 1.0)
    return Opportunity(
        id=new_id(created.timestamp()),
        team_id=book.team_id,
        owner_id=account.owner_id,
        creator_id=account.owner_id,
        account_id=account.id,
        opportunity_stage_id=stage.id,
        opportunity_pipeline_id=stage.opportunity_pipeline_id,
        name=f"{account.name} - {rng.choice(PRODUCTS)}",
        amount=_amount(rng, org.estimated_num_employees),
        closed_date=closed,
        is_closed=stage.is_closed,
        is_won=stage.is_won,
        source="api",
        typed_custom_fields={},
        stage_updated_at=moved,
        last_activity_date=moved,
        data={},
        created_at=created,
        updated_at=moved,
    )


def _amount(rng: random.Random, employees: int | None) -> float:
    """Bigger companies, bigger deals; rounded to 500 as people quote them."""
    size = employees or 50
    low, high = (5_000, 25_000) if size < 50 else (20_000, 90_000) if size < 500 else (60_000, 250_000)
    return float(round(rng.uniform(low, high) / 500) * 500)


def _add_tasks(book: _Book) -> int:
    chosen = book.rng.sample(book.contacts, min(TASKS, len(book.contacts)))
    for index, (contact, person) in enumerate(chosen):
        book.session.add(_task(book, contact, person, index))
    return len(chosen)


def _task(book: _Book, contact: Contact, person: Person, index: int) -> Task:
    rng = book.rng
    kind = _weighted(rng, TASK_TYPES)
    created = max(contact.created_at, book.days_ago(1, 60))
    status = _weighted(rng, (("scheduled", 60), ("completed", 35), ("skipped", 5)))
    if status == "scheduled":
        due = book.now + timedelta(days=rng.uniform(-5, 21))  # a few are overdue
        done_at = None
    else:
        due = created + timedelta(days=rng.uniform(1, 21))
        done_at = min(due, book.now)
    name, company = contact.name or "the contact", contact.organization_name or "the account"
    title = TASK_TITLES[kind].format(name=name, company=company)
    return Task(
        id=new_id(created.timestamp()),
        team_id=book.team_id,
        user_id=contact.owner_id,
        creator_id=contact.owner_id,
        contact_id=contact.id,
        account_id=contact.account_id,
        person_id=person.id,
        organization_id=contact.organization_id,
        type=kind,
        priority=_weighted(rng, PRIORITIES),
        status=status,
        title=title,
        note=rng.choice(TASK_NOTES),
        due_at=due,
        completed_at=done_at if status == "completed" else None,
        skipped_at=done_at if status == "skipped" else None,
        data={},
        created_at=created,
        updated_at=done_at or created,
    )


async def _add_lists(book: _Book) -> int:
    contacts = [contact for contact, _ in book.contacts]
    deciders = [contact for contact, person in book.contacts if person.seniority in DECISION_MAKERS]
    accounts = [account for account, _ in book.accounts]
    won = {deal.account_id for deal in book.deals if deal.is_won}
    members: dict[str, list[Any]] = {
        CONTACT_LISTS[0]: book.rng.sample(contacts, min(40, len(contacts))),
        CONTACT_LISTS[1]: deciders[:60],
        CONTACT_LISTS[2]: book.rng.sample(contacts, min(15, len(contacts))),
        ACCOUNT_LISTS[0]: book.rng.sample(accounts, min(20, len(accounts))),
        ACCOUNT_LISTS[1]: [account for account in accounts if account.id in won],
    }
    made = 0
    for name, records in members.items():
        if not records:
            continue
        modality = "contacts" if name in CONTACT_LISTS else "accounts"
        labels = await crm_labels.labels_named(
            book.session, book.team_id, modality, [name], user_id=book.owner(0), now=book.now
        )
        entity_type = crm_labels.ENTITY_OF[modality]
        await crm_labels.add_members(
            book.session, book.team_id, entity_type, [record.id for record in records], labels, book.now
        )
        made += 1
    return made
