"""Upserting organizations within one batch transaction: find the stored organization a record
means, merge the line into it, and collect the rows to write.

Matching, in order: the ``id`` when the line gives one (an unknown id creates the organization
with that id); else the primary domain; else the LinkedIn company page, among organizations whose
domain does not differ; else the normalised name, among organizations whose domain and LinkedIn
page do not differ. Several candidates: the oldest id wins.

An organization's job postings and news articles are rows of their own tables. A line that gives
``job_postings`` or ``news_articles`` replaces the stored ones when they differ (the line is then
``updated`` even if nothing else changed); a line without the key keeps them. Child ids derive
from the organization id and position, so the stored rows of a matched organization are compared
with the line's by id (they are read only for matched organizations that a line gives lists for,
so a first load of an empty repository reads none)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from perilune.db.ids import new_id
from perilune.repository.importer import tables
from perilune.repository.importer.report import Outcome
from perilune.repository.records import (
    MISSING_ORGANIZATION_NAME,
    ORGANIZATION_GROUPS,
    OrganizationRecord,
    Raw,
    RecordError,
    filled_raw,
    merged_raw,
    organization_record,
)
from perilune.repository.records.organizations import ORGANIZATION_CHILDREN, Row

# Child rows of one organization, by row id (ids are positional, so equal maps = equal lists).
_Children = dict[str, Row]


@dataclass(slots=True)
class StoredOrganization:
    id: str
    primary_domain: str | None
    linkedin_slug: str | None
    name_key: str
    data: dict[str, Any]

    @property
    def name(self) -> str | None:
        name = self.data.get("name")
        return name if isinstance(name, str) else None


@dataclass
class OrganizationCache:
    """What one import remembers between batches (committed state only): organization names by
    id, and which nested organization objects were already applied to which organization.
    Applying a line twice changes nothing (merging is idempotent), so a nested object seen before
    needs no work until its organization changes again (``versions``)."""

    names: dict[str, str] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    applied: dict[bytes, tuple[str, int]] = field(default_factory=dict)


def _compatible(mine: str | None, theirs: str | None) -> bool:
    return mine is None or theirs is None or mine == theirs


class OrganizationBatch:
    """The organizations one batch reads and writes. Call ``prefetch`` with everything the batch
    may touch, then ``upsert`` line by line, then ``flush`` and, after commit, ``commit``."""

    def __init__(self, connection: AsyncConnection, now: datetime, cache: OrganizationCache) -> None:
        self.connection = connection
        self.now = now
        self.cache = cache
        self.stored: dict[str, StoredOrganization] = {}
        self.by_domain: dict[str, list[str]] = defaultdict(list)
        self.by_slug: dict[str, list[str]] = defaultdict(list)
        self.by_name: dict[str, list[str]] = defaultdict(list)
        self.inserts: dict[str, OrganizationRecord] = {}
        self.updates: dict[str, OrganizationRecord] = {}
        self.applied: dict[bytes, tuple[str, int]] = {}
        self.versions: dict[str, int] = {}
        self.names: dict[str, str] = {}
        # kind -> organization id -> the rows it holds: as stored (read for matched
        # organizations) or as written in this batch. An organization missing is unknown.
        self.children: dict[str, dict[str, _Children]] = {kind: {} for kind in ORGANIZATION_CHILDREN}
        # kind -> organizations whose rows this batch writes (replacing any stored ones).
        self.replaced: dict[str, set[str]] = {kind: set() for kind in ORGANIZATION_CHILDREN}

    # -- reading -------------------------------------------------------------------------------

    async def prefetch(self, records: Iterable[OrganizationRecord], ids: Iterable[str] = ()) -> None:
        """Load every stored organization the records could match, and the names of the
        organizations ``ids`` refers to (an employer given by id needs only its name)."""
        records = list(records)
        wanted: dict[str, set[str]] = {
            "id": set(),
            "primary_domain": set(),
            "linkedin_slug": set(),
            "name_key": set(),
        }
        for record in records:
            if record.id:
                wanted["id"].add(record.id)
                continue
            if record.primary_domain:
                wanted["primary_domain"].add(record.primary_domain)
            if record.linkedin_slug:
                wanted["linkedin_slug"].add(record.linkedin_slug)
            if record.name_key:
                wanted["name_key"].add(record.name_key)
        wanted["id"] -= self.stored.keys()
        table = tables.organizations
        columns = (table.c.id, table.c.primary_domain, table.c.linkedin_slug, table.c.name_key)
        for column, values in wanted.items():
            for chunk in tables.chunks(sorted(values)):
                statement = sa.select(*columns, tables.data_text(table)).where(table.c[column].in_(chunk))
                for row in await self.connection.execute(statement):
                    if row.id not in self.stored:
                        data = tables.parse_data(row.data)
                        self._remember(
                            StoredOrganization(
                                row.id, row.primary_domain, row.linkedin_slug, row.name_key, data
                            )
                        )
        names = sorted(set(ids) - self.stored.keys() - self.names.keys())
        for chunk in tables.chunks(names):
            statement = sa.select(table.c.id, table.c.name).where(table.c.id.in_(chunk))
            self.names.update((row.id, row.name) for row in await self.connection.execute(statement))
        await self._load_children(records)

    async def _load_children(self, records: list[OrganizationRecord]) -> None:
        """The stored job postings and news of the organizations that records giving those lists
        match now (a match that changes later in the batch is treated as a change)."""
        for kind, table in tables.ORGANIZATION_CHILDREN.items():
            known = self.children[kind]
            matched = {
                stored.id
                for record in records
                if record.child_items(kind) is not None and (stored := self.match(record)) is not None
            }
            wanted = sorted(matched - known.keys())
            known.update((organization_id, {}) for organization_id in wanted)
            for chunk in tables.chunks(wanted):
                statement = sa.select(*(table.c[name] for name in _child_columns(kind))).where(
                    table.c.organization_id.in_(chunk)
                )
                for row in await self.connection.execute(statement):
                    known[row.organization_id][row.id] = dict(row._mapping)

    def _remember(self, stored: StoredOrganization) -> None:
        self.stored[stored.id] = stored
        if stored.primary_domain:
            self.by_domain[stored.primary_domain].append(stored.id)
        if stored.linkedin_slug:
            self.by_slug[stored.linkedin_slug].append(stored.id)
        if stored.name_key:
            self.by_name[stored.name_key].append(stored.id)

    def get(self, organization_id: str) -> StoredOrganization | None:
        return self.stored.get(organization_id)

    def name_of(self, organization_id: str) -> str | None:
        """The name of an organization known to exist (in this batch or committed), else None."""
        stored = self.stored.get(organization_id)
        if stored is not None:
            return stored.name
        return self.names.get(organization_id) or self.cache.names.get(organization_id)

    def needs_lookup(self, organization_id: str) -> bool:
        return not (
            organization_id in self.stored
            or organization_id in self.names
            or organization_id in self.cache.names
        )

    def already_applied(self, fingerprint: bytes) -> str | None:
        """The organization a nested object was applied to, if that organization has not changed
        since."""
        entry = self.applied.get(fingerprint) or self.cache.applied.get(fingerprint)
        if entry is None:
            return None
        organization_id, version = entry
        return organization_id if self._version(organization_id) == version else None

    def mark_applied(self, fingerprint: bytes, organization_id: str) -> None:
        self.applied[fingerprint] = (organization_id, self._version(organization_id))

    def _version(self, organization_id: str) -> int:
        return self.versions.get(organization_id, self.cache.versions.get(organization_id, 0))

    # -- matching and merging ------------------------------------------------------------------

    def match(self, record: OrganizationRecord) -> StoredOrganization | None:
        if record.id:
            return self.stored.get(record.id)
        domain, slug = record.primary_domain, record.linkedin_slug
        if domain:
            found = self._first(self.by_domain.get(domain), lambda s: s.primary_domain == domain)
            if found is not None:
                return found
        if slug:
            found = self._first(
                self.by_slug.get(slug),
                lambda s: s.linkedin_slug == slug and _compatible(domain, s.primary_domain),
            )
            if found is not None:
                return found
        key = record.name_key
        if key:
            return self._first(
                self.by_name.get(key),
                lambda s: (
                    s.name_key == key
                    and _compatible(domain, s.primary_domain)
                    and _compatible(slug, s.linkedin_slug)
                ),
            )
        return None

    def _first(
        self, ids: list[str] | None, accept: Callable[[StoredOrganization], bool]
    ) -> StoredOrganization | None:
        # Index lists may hold ids whose keys changed in this batch; ``accept`` rechecks.
        if not ids:
            return None
        found = [self.stored[i] for i in ids if accept(self.stored[i])]
        return min(found, key=lambda s: s.id) if found else None

    def upsert(
        self, record: OrganizationRecord, raw: Raw, *, fill_only: bool = False
    ) -> tuple[Outcome, StoredOrganization]:
        """Create the organization a line describes, or merge the line into the one it matches
        (with ``fill_only``, as for an employer nested in a person line, the line only fills
        fields the stored organization lacks). Raises RecordError for an update-only line that
        matches nothing."""
        stored = self.match(record)
        if stored is None:
            if not record.complete:
                raise RecordError(f"no organization matches this line, and {MISSING_ORGANIZATION_NAME}")
            record.bind(record.id or new_id())
            children = {kind: record.child_rows(kind) or [] for kind in ORGANIZATION_CHILDREN}
            return "created", self._write(record, children, created=True)
        record.bind(stored.id)
        # A nested employer never replaces a stored organization's postings or news.
        children = {} if fill_only else self._changed_children(record)
        if record.data == stored.data:
            if not children:
                return "unchanged", stored
            return "updated", self._write(record, children, created=False)
        merge = filled_raw if fill_only else merged_raw
        merged = organization_record(merge(stored.data, _without_children(raw), ORGANIZATION_GROUPS))
        merged.bind(stored.id)
        if merged.data == stored.data and not children:
            return "unchanged", stored
        return "updated", self._write(merged, children, created=False)

    def _changed_children(self, record: OrganizationRecord) -> dict[str, list[Row]]:
        """The child lists the (bound) record gives that differ from what its organization
        holds, by kind."""
        changed = {}
        for kind in ORGANIZATION_CHILDREN:
            rows = record.child_rows(kind)
            if rows is None:
                continue
            assert record.id is not None
            held = self.children[kind].get(record.id)
            if held is None or held != {row["id"]: row for row in rows}:
                changed[kind] = rows
        return changed

    def _write(
        self, record: OrganizationRecord, children: dict[str, list[Row]], *, created: bool
    ) -> StoredOrganization:
        """Queue the organization's row, and the child lists in ``children`` (each replaces
        the organization's rows of its kind)."""
        assert record.id is not None
        if created or record.id in self.inserts:
            self.inserts[record.id] = record
        else:
            self.updates[record.id] = record
        for kind, rows in children.items():
            self.children[kind][record.id] = {row["id"]: row for row in rows}
            if rows or not created:
                self.replaced[kind].add(record.id)
        self.versions[record.id] = self._version(record.id) + 1
        stored = StoredOrganization(
            record.id, record.primary_domain, record.linkedin_slug, record.name_key, record.data
        )
        self._remember(stored)
        return stored

    # -- writing -------------------------------------------------------------------------------

    async def flush(self) -> list[dict[str, Any]]:
        """Write the batch's organizations; returns their change-log rows."""
        now = self.now
        inserts = [
            {"id": i, "created_at": now, "updated_at": now, **r.columns()} for i, r in self.inserts.items()
        ]
        updates = [{"id": i, "updated_at": now, **r.columns()} for i, r in self.updates.items()]
        await tables.insert_rows(self.connection, tables.organizations, inserts)
        await tables.update_rows(self.connection, tables.organizations, updates)
        await self._flush_children()
        return [
            {"entity": "organization", "record_id": i, "op": "upsert", "created_at": now}
            for i in [*self.inserts, *self.updates]
        ]

    async def _flush_children(self) -> None:
        """Replace the child rows of every organization whose lists changed: one delete (of
        the rows of organizations stored before this batch) and one insert per table."""
        for kind, table in tables.ORGANIZATION_CHILDREN.items():
            replaced = self.replaced[kind]
            stored_before = sorted(i for i in replaced if i not in self.inserts)
            await tables.delete_where_in(self.connection, table, "organization_id", stored_before)
            held = self.children[kind]
            rows = [{**row, "created_at": self.now} for i in replaced for row in held[i].values()]
            await tables.insert_rows(self.connection, table, rows)

    def commit(self) -> None:
        """After the transaction committed: remember what later batches may reuse."""
        cache = self.cache
        cache.names.update(self.names)
        for organization_id, stored in self.stored.items():
            if stored.name is not None:
                cache.names[organization_id] = stored.name
        cache.versions.update(self.versions)
        cache.applied.update(self.applied)


def _child_columns(kind: str) -> tuple[str, ...]:
    """The columns a child row is compared on: all but ``created_at``."""
    return tuple(c.name for c in tables.ORGANIZATION_CHILDREN[kind].columns if c.name != "created_at")


def _without_children(raw: Raw) -> Raw:
    """The line without its child lists (already read into the record; not part of ``data``)."""
    if not any(kind in raw for kind in ORGANIZATION_CHILDREN):
        return raw
    return {key: value for key, value in raw.items() if key not in ORGANIZATION_CHILDREN}
