"""POST /accounts/search, /accounts/bulk_create, /accounts/bulk_update and /accounts/update_owners
on records whose right answers are known, with Apollo's errors and team isolation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from perilune.app import job_handlers
from perilune.clock import FrozenClock
from perilune.config import Settings
from perilune.jobs.worker import Worker
from perilune.models import Account, AccountStage, User
from perilune.models.jobs import DONE
from perilune.runtime import Runtime
from tests.conftest import Tenant, make_tenant
from tests.crm.crm_client import DIALECTS, PREFIXES, call, events, jobs_of, ok

COMPANIES = ("Google", "NY Marketing Unlimited", "NY Market Analysts", "Googleplex Foods")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The tests run the worker themselves, with the test clock."""
    return settings.model_copy(update={"run_worker": False})


async def seed(client: httpx.AsyncClient, clock: FrozenClock, key: str) -> list[dict[str, Any]]:
    created = []
    for name in COMPANIES:
        clock.advance(60)
        created.append(
            (await ok(await call(client, "POST", "/api/v1/accounts", key, {"name": name})))["account"]
        )
    return created


async def search(client: httpx.AsyncClient, key: str, dialect: str = "json", **params: Any) -> dict[str, Any]:
    body: dict[str, Any] = await ok(
        await call(client, "POST", "/api/v1/accounts/search", key, params, dialect=dialect)
    )
    return body


def names(body: dict[str, Any]) -> list[str]:
    return [account["name"] for account in body["accounts"]]


async def stages(runtime: Runtime, team_id: str) -> dict[str, str]:
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(AccountStage.name, AccountStage.id).where(AccountStage.team_id == team_id)
        )
        return {str(name): str(stage_id) for name, stage_id in rows}


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("prefix", PREFIXES)
async def test_the_legacy_search_example(
    client: httpx.AsyncClient, clock: FrozenClock, tenant: Tenant, prefix: str, dialect: str
) -> None:
    await seed(client, clock, tenant.master_key)
    params = {
        "q_organization_name": "Google",
        "sort_by_field": "account_last_activity_date",
        "sort_ascending": False,
    }
    body = await ok(
        await call(client, "POST", f"{prefix}/accounts/search", tenant.master_key, params, dialect=dialect)
    )
    assert names(body) == ["Googleplex Foods", "Google"]
    assert body["breadcrumbs"] == [
        {
            "label": "Company Name",
            "signal_field_name": "q_organization_name",
            "value": "Google",
            "display_name": "Google",
        }
    ]
    assert body["pagination"] == {"page": 1, "per_page": 25, "total_entries": 2, "total_pages": 1}
    assert (body["partial_results_only"], body["disable_eu_prospecting"], body["num_fetch_result"]) == (
        False,
        False,
        None,
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("marketing", ["NY Marketing Unlimited"]),  # the spec's own example
        ("market", ["NY Market Analysts", "NY Marketing Unlimited"]),
        ("ny analysts", ["NY Market Analysts"]),
        ("oogle", []),
    ],
)
async def test_q_organization_name_matches_words_of_the_name(
    client: httpx.AsyncClient, clock: FrozenClock, tenant: Tenant, query: str, expected: list[str]
) -> None:
    await seed(client, clock, tenant.master_key)
    assert names(await search(client, tenant.master_key, q_organization_name=query)) == expected


async def test_stage_and_list_filters_and_sorts(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    google, marketing, analysts, foods = await seed(client, clock, tenant.master_key)
    ids = await stages(runtime, tenant.team_id)
    await ok(
        await call(
            client, "POST", "/api/v1/accounts/bulk_update", tenant.master_key,
            {"account_ids": [google["id"], analysts["id"]], "account_stage_id": ids["Current Client"]},
        )
    )  # fmt: skip
    tagged = await ok(
        await call(
            client, "PATCH", f"/api/v1/accounts/{foods['id']}", tenant.master_key, {"label_names": ["bob"]}
        )
    )
    body = await search(client, tenant.master_key, account_stage_ids=[ids["Current Client"]], dialect="query")
    assert names(body) == ["NY Market Analysts", "Google"]
    assert body["breadcrumbs"][0]["display_name"] == "Current Client"
    assert names(
        await search(client, tenant.master_key, account_label_ids=tagged["account"]["label_ids"])
    ) == ["Googleplex Foods"]
    async with runtime.sessions() as session, session.begin():
        base = clock.now()
        await session.execute(
            update(Account).where(Account.id == marketing["id"]).values(last_activity_date=base)
        )
        await session.execute(
            update(Account)
            .where(Account.id == google["id"])
            .values(last_activity_date=base - timedelta(days=1))
        )
    by_activity = names(await search(client, tenant.master_key, sort_by_field="account_last_activity_date"))
    assert by_activity[:2] == ["NY Marketing Unlimited", "Google"]
    oldest = names(
        await search(client, tenant.master_key, sort_by_field="account_created_at", sort_ascending=True)
    )
    assert oldest == list(COMPANIES)
    response = await call(
        client, "POST", "/api/v1/accounts/search", tenant.master_key, {"sort_by_field": "name"}
    )
    assert (response.status_code, response.json()) == (
        422,
        {"error": "Invalid sort criteria", "skip_alert_dialog": True},
    )


async def test_search_sees_only_the_callers_team(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    await seed(client, clock, tenant.master_key)
    other = await make_tenant(runtime, clock, name="Other")
    body = await search(client, other.master_key, q_organization_name="Google")
    assert body["accounts"] == [] and body["pagination"]["total_entries"] == 0


async def test_num_contacts_counts_the_accounts_contacts(client: httpx.AsyncClient, tenant: Tenant) -> None:
    account = (
        await ok(await call(client, "POST", "/api/v1/accounts", tenant.master_key, {"name": "Apollo"}))
    )["account"]
    for first in ("Tim", "Ray"):
        params = {"first_name": first, "account_id": account["id"]}
        await ok(await call(client, "POST", "/api/v1/contacts", tenant.master_key, params))
    [found] = (await search(client, tenant.master_key, q_organization_name="apollo"))["accounts"]
    assert found["num_contacts"] == 2


# ---------------------------------------------------------------------------------------------
# bulk_create


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_bulk_create_the_spec_example(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, dialect: str
) -> None:
    accounts = [
        {"name": "Acme Corporation", "domain": "acme.com", "phone": "+1-555-0135"},
        {
            "name": "TechStart Inc",
            "domain": "example.com",
            "linkedin_url": "https://linkedin.com/company/techstart",
        },
    ]
    body = await ok(
        await call(
            client, "POST", "/api/v1/accounts/bulk_create", tenant.master_key,
            {"accounts": accounts, "append_label_names": ["imported"]}, dialect=dialect,
        )
    )  # fmt: skip
    assert set(body) == {"created_accounts", "existing_accounts"}
    acme, techstart = body["created_accounts"]
    assert (acme["name"], acme["domain"], acme["phone"]) == ("Acme Corporation", "acme.com", "+1-555-0135")
    assert techstart["linkedin_url"] == "https://linkedin.com/company/techstart"
    assert acme["owner_id"] == tenant.user_id and len(acme["label_ids"]) == 1
    assert len(await events(runtime, tenant.team_id, "account.created")) == 2


async def test_bulk_create_dedupes_on_crm_ids_always_and_on_domain_with_run_dedupe(
    client: httpx.AsyncClient, clock: FrozenClock, tenant: Tenant
) -> None:
    first = await ok(
        await call(
            client, "POST", "/api/v1/accounts/bulk_create", tenant.master_key,
            {"accounts": [{"name": "Acme", "domain": "acme.com", "salesforce_id": "001A"}]},
        )
    )  # fmt: skip
    [acme] = first["created_accounts"]
    clock.advance(60)
    twins = [{"name": "Renamed", "salesforce_id": "001A"}, {"name": "Acme", "domain": "acme.com"}]
    by_crm = await ok(
        await call(client, "POST", "/api/v1/accounts/bulk_create", tenant.master_key, {"accounts": twins})
    )
    assert [a["id"] for a in by_crm["existing_accounts"]] == [acme["id"]]
    assert by_crm["existing_accounts"][0]["name"] == "Acme"  # never modified
    assert len(by_crm["created_accounts"]) == 1  # domain alone matches only with run_dedupe
    lookalikes = [{"name": "Other name", "domain": "acme.com"}, {"name": "ACME"}]
    by_domain = await ok(
        await call(
            client, "POST", "/api/v1/accounts/bulk_create", tenant.master_key,
            {"accounts": lookalikes, "run_dedupe": True},
        )
    )  # fmt: skip
    # The oldest account on the domain, and the oldest of the name.
    assert by_domain["created_accounts"] == []
    assert [a["id"] for a in by_domain["existing_accounts"]] == [acme["id"]]


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({}, 'Please provide an array of account attributes in the "accounts" parameter.'),
        ({"accounts": ["x"]}, 'Please provide an array of account attributes in the "accounts" parameter.'),
        (
            {"accounts": [{"name": f"A{n}"} for n in range(101)]},
            "Please limit your array to 100 accounts or fewer.",
        ),
    ],
)
async def test_bulk_create_errors(
    client: httpx.AsyncClient, tenant: Tenant, params: dict[str, Any], error: str
) -> None:
    response = await call(client, "POST", "/api/v1/accounts/bulk_create", tenant.master_key, params)
    assert response.status_code == 422
    assert response.json() == {"error": error}


# ---------------------------------------------------------------------------------------------
# bulk_update and update_owners


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_bulk_update_the_legacy_stage_example(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, dialect: str
) -> None:
    google, marketing, *_ = await seed(client, clock, tenant.master_key)
    stage = (await stages(runtime, tenant.team_id))["Dead Opportunity"]
    params = {"account_ids": [google["id"], marketing["id"]], "account_stage_id": stage}
    body = await ok(
        await call(client, "POST", "/v1/accounts/bulk_update", tenant.master_key, params, dialect=dialect)
    )
    assert [(a["id"], a["account_stage_id"]) for a in body["accounts"]] == [
        (google["id"], stage),
        (marketing["id"], stage),
    ]
    assert len(await events(runtime, tenant.team_id, "account.updated")) == 2


async def test_bulk_update_with_account_attributes(
    client: httpx.AsyncClient, clock: FrozenClock, tenant: Tenant
) -> None:
    google, marketing, *_ = await seed(client, clock, tenant.master_key)
    attributes = [
        {"id": google["id"], "name": "Alphabet"},
        {"id": marketing["id"], "typed_custom_fields": {}},
    ]
    body = await ok(
        await call(
            client,
            "POST",
            "/api/v1/accounts/bulk_update",
            tenant.master_key,
            {"account_attributes": attributes},
        )
    )
    assert [a["name"] for a in body["accounts"]] == ["Alphabet", "NY Marketing Unlimited"]


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({}, "Please provide either account_ids or account_attributes"),
        (
            {"account_attributes": [{"id": "66e9abf95ac32901b20d1a0d"}], "async": True},
            "Async processing is not permitted.",
        ),
        ({"account_ids": [f"{n:024x}" for n in range(1001)]}, "Please limit your array to fewer than 1000."),
        ({"account_ids": ["66e9abf95ac32901b20d1a0d"], "owner_id": "78977"}, None),
    ],
)
async def test_bulk_update_errors(
    client: httpx.AsyncClient, clock: FrozenClock, tenant: Tenant, params: dict[str, Any], error: str | None
) -> None:
    if error is None:
        [google, *_] = await seed(client, clock, tenant.master_key)
        params = {**params, "account_ids": [google["id"]]}
        error = "Parameters misconfigured. 78977 is not a valid ID"
    response = await call(client, "POST", "/api/v1/accounts/bulk_update", tenant.master_key, params)
    assert response.status_code == 422
    assert response.json() == {"error": error}


async def test_async_bulk_update_runs_in_the_background(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, settings: Settings, tenant: Tenant
) -> None:
    accounts = await seed(client, clock, tenant.master_key)
    params = {"account_ids": [a["id"] for a in accounts], "name": "Same Name", "async": True}
    body = await ok(await call(client, "POST", "/api/v1/accounts/bulk_update", tenant.master_key, params))
    assert body["entity_progress_job"]["job_type"] == "account_bulk_update"
    worker = Worker(runtime.engine, clock, job_handlers(settings), worker_id="test", poll_interval=0.01)
    assert await worker.run_once() >= 1
    [job] = await jobs_of(runtime, "crm.accounts.bulk_update")
    assert job.status == DONE
    async with runtime.sessions() as session:
        stored = (
            (await session.execute(select(Account.name).where(Account.team_id == tenant.team_id)))
            .scalars()
            .all()
        )
    assert set(stored) == {"Same Name"}


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_update_owners_example(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, dialect: str
) -> None:
    google, marketing, *_ = await seed(client, clock, tenant.master_key)
    async with runtime.sessions() as session, session.begin():
        colleague = User(
            team_id=tenant.team_id, email="sam@acme.test", first_name="Sam", created_at=clock.now()
        )
        session.add(colleague)
    params = {"account_ids": [google["id"], marketing["id"]], "owner_id": colleague.id}
    body = await ok(
        await call(client, "POST", "/v1/accounts/update_owners", tenant.master_key, params, dialect=dialect)
    )
    assert [(a["id"], a["owner_id"], a["crm_owner_id"]) for a in body["accounts"]] == [
        (google["id"], colleague.id, None),
        (marketing["id"], colleague.id, None),
    ]


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"owner_id": "66302798d03b9601c7934ebf"}, "Required parameter 'account_ids' missing"),
        ({"account_ids": ["66e9abf95ac32901b20d1a0d"]}, "Required parameter 'owner_id' missing"),
    ],
)
async def test_update_owners_errors(
    client: httpx.AsyncClient, tenant: Tenant, params: dict[str, Any], error: str
) -> None:
    response = await call(client, "POST", "/api/v1/accounts/update_owners", tenant.master_key, params)
    assert (response.status_code, response.json()) == (422, {"error": error})


async def test_owner_and_stage_changes_leave_other_teams_alone(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    mine = await seed(client, clock, tenant.master_key)
    other = await make_tenant(runtime, clock, name="Other")
    ids = [a["id"] for a in mine]
    their_stage = (await stages(runtime, other.team_id))["Cold"]
    body = await ok(
        await call(
            client,
            "POST",
            "/api/v1/accounts/update_owners",
            other.master_key,
            {"account_ids": ids, "owner_id": other.user_id},
        )
    )
    assert body == {"accounts": []}
    body = await ok(
        await call(
            client,
            "POST",
            "/api/v1/accounts/bulk_update",
            other.master_key,
            {"account_ids": ids, "account_stage_id": their_stage},
        )
    )
    assert body == {"accounts": []}
    async with runtime.sessions() as session:
        owners = (await session.execute(select(Account.owner_id).where(Account.id.in_(ids)))).scalars().all()
    assert set(owners) == {tenant.user_id}
    assert await events(runtime, other.team_id) == []
