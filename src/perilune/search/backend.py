"""The search interface resources use, and its in-memory twin.

``SearchBackend`` answers "which people (organizations) match this filter, a page at a time, and
how many are there". ``search.index.SearchIndex`` is the tantivy implementation;
``MemorySearchBackend`` holds the same documents (built from the database by the same code) in a
list and evaluates the same clauses in Python, so tests can check the index against a plain
reading of the data.

Order: newest record first (``sort_key``: ids begin with their creation time), which keeps pages
stable while relevance ranking is not asked for."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from perilune.search import source
from perilune.search.documents import (
    ORGANIZATION,
    PERSON,
    Document,
    organization_document,
    organization_fields,
    person_document,
)
from perilune.search.filters import Clause, OrganizationFilter, PeopleFilter, Within, matches, resolve_within


@dataclass(frozen=True, slots=True)
class SearchHits:
    total: int
    ids: list[str]


class SearchBackend(Protocol):
    def search_people(self, filters: PeopleFilter, *, offset: int = 0, limit: int = 25) -> SearchHits: ...

    def search_organizations(
        self, filters: OrganizationFilter, *, offset: int = 0, limit: int = 25
    ) -> SearchHits: ...


class MemorySearchBackend:
    """Every document in a list; each search scans them all. For tests and tiny data sets."""

    def __init__(self, documents: Iterable[Document] = ()) -> None:
        self.documents = list(documents)

    @classmethod
    async def load(cls, engine: AsyncEngine, batch_size: int = 1000) -> MemorySearchBackend:
        """The documents of every record in the database, built as the index builds them."""
        documents: list[Document] = []
        fields_by_org: dict[str, Document] = {}
        async for organizations in source.stream_organizations(engine, batch_size):
            for org in organizations:
                fields_by_org[org.id] = organization_fields(org)
                documents.append(organization_document(org))
        async for people in source.stream_people(engine, batch_size):
            for person in people:
                org_fields = fields_by_org.get(person.organization_id or "")
                documents.append(person_document(person, org_fields))
        return cls(documents)

    def search_people(self, filters: PeopleFilter, *, offset: int = 0, limit: int = 25) -> SearchHits:
        return self._search(PERSON, filters.clauses(), offset, limit)

    def search_organizations(
        self, filters: OrganizationFilter, *, offset: int = 0, limit: int = 25
    ) -> SearchHits:
        return self._search(ORGANIZATION, filters.clauses(), offset, limit)

    def _search(self, kind: str, clauses: list[Clause], offset: int, limit: int) -> SearchHits:
        resolved = resolve_within(clauses, self._organization_ids)
        found = [doc for doc in self.documents if doc["kind"] == kind and matches(resolved, doc)]
        found.sort(key=lambda doc: (doc["sort_key"], doc["id"]), reverse=True)
        ids = [doc["id"] for doc in found]
        return SearchHits(total=len(ids), ids=ids[offset : offset + max(0, limit)])

    def _organization_ids(self, within: Within) -> list[str]:
        return [
            doc["id"]
            for doc in self.documents
            if doc["kind"] == ORGANIZATION and matches(within.clauses, doc)
        ]
