"""Upserting organizations within one batch transaction: find the stored organization a record
means, merge the line into it, and collect the rows to write.

Matching, in order: the ``id`` when the line gives one (an unknown id creates the organization
with that id); else the primary domain; else the LinkedIn company page, among organizations whose
domain does not differ; else the normalised name, among organizations whose domain and LinkedIn
page do not differ. Several candidates: the oldest id wins."""

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

    # -- reading -------------------------------------------------------------------------------

    async def prefetch(self, records: Iterable[OrganizationRecord], ids: Iterable[str] = ()) -> None:
        """Load every stored organization the records could match, and the names of the
        organizations ``ids`` refers to (an employer given by id needs only its name)."""
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
            return "created", self._write(record, created=True)
        record.bind(stored.id)
        if record.data == stored.data:
            return "unchanged", stored
        merge = filled_raw if fill_only else merged_raw
        merged = organization_record(merge(stored.data, raw, ORGANIZATION_GROUPS))
        merged.bind(stored.id)
        if merged.data == stored.data:
            return "unchanged", stored
        return "updated", self._write(merged, created=False)

    def _write(self, record: OrganizationRecord, *, created: bool) -> StoredOrganization:
        assert record.id is not None
        if created or record.id in self.inserts:
            self.inserts[record.id] = record
        else:
            self.updates[record.id] = record
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
        return [
            {"entity": "organization", "record_id": i, "op": "upsert", "created_at": now}
            for i in [*self.inserts, *self.updates]
        ]

    def commit(self) -> None:
        """After the transaction committed: remember what later batches may reuse."""
        cache = self.cache
        cache.names.update(self.names)
        for organization_id, stored in self.stored.items():
            if stored.name is not None:
                cache.names[organization_id] = stored.name
        cache.versions.update(self.versions)
        cache.applied.update(self.applied)
