"""Helpers for the CRM tests: calls in each of Apollo's dialects, and reads of what the database
holds (events, jobs, rows) to check that an answer matched what was stored."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import select

from perilune.models import Contact, CrmEvent, Job
from perilune.runtime import Runtime

PREFIXES = ("/api/v1", "/v1")
DIALECTS = ("json", "query", "form")
OBJECT_ID_LENGTH = 24


def _flatten(prefix: str, value: Any) -> list[tuple[str, str]]:
    """Rack-style form fields: lists as ``k[]``, objects as ``k[name]``, lists of objects as
    ``k[0][name]``."""
    if isinstance(value, dict):
        return [pair for name, item in value.items() for pair in _flatten(f"{prefix}[{name}]", item)]
    if isinstance(value, list):
        if value and all(isinstance(item, dict) for item in value):
            return [pair for i, item in enumerate(value) for pair in _flatten(f"{prefix}[{i}]", item)]
        return [(f"{prefix}[]", _scalar(item)) for item in value]
    return [(prefix, _scalar(value))]


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def encode(params: dict[str, Any]) -> str:
    return urlencode([pair for name, value in params.items() for pair in _flatten(name, value)])


async def call(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    key: str,
    params: dict[str, Any] | None = None,
    *,
    dialect: str = "json",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """One request with ``params`` sent as a JSON body (with the key in it, as the legacy docs
    do), a query string, or a form body."""
    params = dict(params or {})
    sent = dict(headers or {})
    if dialect == "json":
        return await client.request(method, path, json={"api_key": key, **params}, headers=sent)
    if dialect == "query":
        return await client.request(method, f"{path}?{encode({'api_key': key, **params})}", headers=sent)
    if dialect == "form":
        sent["content-type"] = "application/x-www-form-urlencoded"
        sent["x-api-key"] = key
        return await client.request(method, path, content=encode(params).encode(), headers=sent)
    raise ValueError(dialect)


async def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


async def events(runtime: Runtime, team_id: str, prefix: str = "") -> list[CrmEvent]:
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(CrmEvent)
            .where(CrmEvent.team_id == team_id, CrmEvent.type.startswith(prefix))
            .order_by(CrmEvent.seq)
        )
        return list(rows.scalars())


async def jobs_of(runtime: Runtime, kind: str) -> list[Job]:
    async with runtime.sessions() as session:
        return list((await session.execute(select(Job).where(Job.kind == kind))).scalars())


async def team_contacts(runtime: Runtime, team_id: str) -> list[Contact]:
    async with runtime.sessions() as session:
        rows = await session.execute(select(Contact).where(Contact.team_id == team_id).order_by(Contact.id))
        return list(rows.scalars())
