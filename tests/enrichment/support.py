"""Helpers shared by the enrichment tests: calls through the HTTP interface, and the ledger,
reveals and webhook requests read back from the database."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
from sqlalchemy import select

from perilune.models import CreditLedgerEntry, PersonReveal, WebhookRequest
from perilune.runtime import Runtime

PREFIXES = ("/api/v1", "/v1")
# The fields of an employment history item, as Apollo writes them.
EMPLOYMENT_KEYS = {
    "_id", "created_at", "current", "degree", "description", "emails", "end_date", "grade_level",
    "kind", "major", "organization_id", "organization_name", "raw_address", "start_date", "title",
    "updated_at", "id", "key",
}  # fmt: skip


def md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def call(
    client: httpx.AsyncClient,
    key: str,
    path: str,
    body: dict[str, Any] | None = None,
    *,
    method: str = "POST",
    prefix: str = "/api/v1",
) -> httpx.Response:
    return await client.request(method, f"{prefix}{path}", headers={"x-api-key": key}, json=body)


async def answer(
    client: httpx.AsyncClient, key: str, path: str, body: dict[str, Any] | None = None, **kw: Any
) -> Any:
    """The JSON of a call that must succeed."""
    response = await call(client, key, path, body, **kw)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


async def matched(client: httpx.AsyncClient, key: str, body: dict[str, Any]) -> dict[str, Any]:
    """The person ``POST /people/match`` answers with ({} for nobody)."""
    result = await answer(client, key, "/people/match", body)
    person: dict[str, Any] = result["person"]
    return person


async def ledger(runtime: Runtime, team_id: str) -> list[tuple[str, int, str | None]]:
    """The team's spends: (credit type, credits, endpoint), oldest first (in no set order
    within one instant: compare those sorted)."""
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(CreditLedgerEntry.credit_type, CreditLedgerEntry.amount, CreditLedgerEntry.endpoint)
            .where(CreditLedgerEntry.team_id == team_id, CreditLedgerEntry.amount < 0)
            .order_by(CreditLedgerEntry.created_at, CreditLedgerEntry.id)
        )
        return [(kind, -amount, endpoint) for kind, amount, endpoint in rows]


async def consumed(client: httpx.AsyncClient, key: str) -> dict[str, int]:
    """``consumed`` of every credit type, as ``credit_usage_stats`` reports it."""
    stats = (await answer(client, key, "/usage_stats/credit_usage_stats"))["credit_usage_stats"]
    return {kind: figures["consumed"] for kind, figures in stats.items()}


async def reveals(runtime: Runtime, team_id: str) -> set[str]:
    async with runtime.sessions() as session:
        rows = await session.execute(select(PersonReveal.person_id).where(PersonReveal.team_id == team_id))
        return set(rows.scalars())


async def reveal_kinds(runtime: Runtime, team_id: str) -> dict[str, tuple[bool, bool]]:
    """The team's reveals: person id -> (phone_numbers, personal_emails) revealed."""
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(PersonReveal.person_id, PersonReveal.phone_numbers, PersonReveal.personal_emails).where(
                PersonReveal.team_id == team_id
            )
        )
        return {person_id: (phones, personal) for person_id, phones, personal in rows}


async def webhook_requests(runtime: Runtime, team_id: str) -> list[WebhookRequest]:
    async with runtime.sessions() as session:
        rows = await session.execute(select(WebhookRequest).where(WebhookRequest.team_id == team_id))
        return list(rows.scalars())
