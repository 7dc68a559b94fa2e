"""Upserting people within one batch transaction.

Matching, in order: the ``id`` when the line gives one (an unknown id creates the person with
that id); else the work email; else the LinkedIn profile. A line with none of the three matches
a person with the same name at the same employer who has none of them either, so re-importing a
file of such people does not duplicate them. Several candidates: the oldest id wins.

People erased on request (``suppressions``: SHA-256 of a normalised email or of a LinkedIn slug)
are skipped before anything is written, their employer included."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from perilune.db.ids import new_id
from perilune.repository.importer import tables
from perilune.repository.importer.organizations import OrganizationBatch
from perilune.repository.importer.report import Counts, Outcome
from perilune.repository.records import (
    MISSING_PERSON_NAME,
    PERSON_GROUPS,
    PersonRecord,
    Raw,
    RecordError,
    merged_raw,
    person_record,
)

EMAIL_SUPPRESSION = "email_sha256"
LINKEDIN_SUPPRESSION = "linkedin_slug_sha256"


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def suppression_keys(record: PersonRecord) -> list[tuple[str, str]]:
    """The (kind, value) suppression entries that would cover this person."""
    keys = [(EMAIL_SUPPRESSION, sha256(email)) for email in record.personal_emails]
    if record.email_sha256:
        keys.append((EMAIL_SUPPRESSION, record.email_sha256))
    if record.linkedin_slug:
        keys.append((LINKEDIN_SUPPRESSION, sha256(record.linkedin_slug)))
    return keys


@dataclass(slots=True)
class StoredPerson:
    id: str
    email: str | None
    linkedin_slug: str | None
    organization_id: str | None
    first_name_key: str | None
    last_name_key: str | None
    data: dict[str, Any]

    @property
    def keyless(self) -> bool:
        return self.email is None and self.linkedin_slug is None


# (employer id, last name key, first name key): how people without id, email or LinkedIn match.
_NameKey = tuple[str | None, str | None, str | None]


class PeopleBatch:
    """The people one batch reads and writes (see ``OrganizationBatch`` for the protocol)."""

    def __init__(self, connection: AsyncConnection, now: datetime, organizations: OrganizationBatch) -> None:
        self.connection = connection
        self.now = now
        self.organizations = organizations
        self.organization_counts = Counts()
        self.suppressed: set[tuple[str, str]] = set()
        self.stored: dict[str, StoredPerson] = {}
        self.by_email: dict[str, list[str]] = defaultdict(list)
        self.by_slug: dict[str, list[str]] = defaultdict(list)
        self.by_name: dict[_NameKey, list[str]] = defaultdict(list)
        self.inserts: dict[str, PersonRecord] = {}
        self.updates: dict[str, PersonRecord] = {}

    # -- reading -------------------------------------------------------------------------------

    async def prefetch(self, records: list[PersonRecord]) -> None:
        await self._load_suppressions(records)
        await self._load_people(records)
        await self._load_organizations(records)

    async def _load_suppressions(self, records: list[PersonRecord]) -> None:
        values = sorted({value for record in records for _, value in suppression_keys(record)})
        table = tables.suppressions
        for chunk in tables.chunks(values):
            statement = sa.select(table.c.kind, table.c.value).where(table.c.value.in_(chunk))
            self.suppressed.update((row.kind, row.value) for row in await self.connection.execute(statement))

    async def _load_people(self, records: list[PersonRecord]) -> None:
        table = tables.people
        await self._load_where(table.c.id, {r.id for r in records if r.id})
        keyed = [r for r in records if not r.id and (r.email or r.linkedin_slug)]
        await self._load_where(table.c.email, {r.email for r in keyed if r.email})
        # Most people are found by email; only the others are looked up by LinkedIn profile.
        await self._load_where(
            table.c.linkedin_slug,
            {
                r.linkedin_slug
                for r in keyed
                if r.linkedin_slug and not (r.email and r.email in self.by_email)
            },
        )
        keyless = [r for r in records if not (r.id or r.email or r.linkedin_slug)]
        without_keys = sa.and_(table.c.email.is_(None), table.c.linkedin_slug.is_(None))
        await self._load_where(
            table.c.last_name_key, {r.last_name_key for r in keyless if r.last_name_key}, without_keys
        )
        await self._load_where(
            table.c.first_name_key,
            {r.first_name_key for r in keyless if r.first_name_key and not r.last_name_key},
            sa.and_(without_keys, table.c.last_name_key.is_(None)),
        )

    async def _load_where(
        self, column: sa.ColumnElement[Any], values: set[str], condition: sa.ColumnElement[bool] | None = None
    ) -> None:
        for chunk in tables.chunks(sorted(values)):
            where = column.in_(chunk)
            await self._load(where if condition is None else sa.and_(condition, where))

    async def _load(self, condition: sa.ColumnElement[bool]) -> None:
        table = tables.people
        statement = sa.select(
            table.c.id,
            table.c.email,
            table.c.linkedin_slug,
            table.c.organization_id,
            table.c.first_name_key,
            table.c.last_name_key,
            tables.data_text(table),
        ).where(condition)
        for row in await self.connection.execute(statement):
            if row.id not in self.stored:
                self._remember(
                    StoredPerson(
                        row.id,
                        row.email,
                        row.linkedin_slug,
                        row.organization_id,
                        row.first_name_key,
                        row.last_name_key,
                        tables.parse_data(row.data),
                    )
                )

    async def _load_organizations(self, records: list[PersonRecord]) -> None:
        """The employers the batch names: nested objects not yet applied in this import, ids not
        yet known, and the stored employers of the people it may update (for their headline)."""
        organizations = self.organizations
        nested = [
            r.organization
            for r in records
            if r.organization is not None
            and r.organization_fingerprint is not None
            and organizations.already_applied(r.organization_fingerprint) is None
        ]
        ids = {r.organization_id for r in records if r.organization_id and r.organization is None}
        ids.update(p.organization_id for p in self.stored.values() if p.organization_id)
        await organizations.prefetch(nested, [i for i in ids if organizations.needs_lookup(i)])

    def _remember(self, stored: StoredPerson) -> None:
        self.stored[stored.id] = stored
        if stored.email:
            self.by_email[stored.email].append(stored.id)
        if stored.linkedin_slug:
            self.by_slug[stored.linkedin_slug].append(stored.id)
        if stored.keyless:
            self.by_name[stored.organization_id, stored.last_name_key, stored.first_name_key].append(
                stored.id
            )

    # -- matching and merging ------------------------------------------------------------------

    def is_suppressed(self, record: PersonRecord) -> bool:
        return bool(self.suppressed) and any(key in self.suppressed for key in suppression_keys(record))

    def match(self, record: PersonRecord, organization_id: str | None) -> StoredPerson | None:
        if record.id:
            return self.stored.get(record.id)
        email, slug = record.email, record.linkedin_slug
        if email:
            found = self._first(self.by_email.get(email), lambda s: s.email == email)
            if found is not None:
                return found
        if slug:
            return self._first(self.by_slug.get(slug), lambda s: s.linkedin_slug == slug)
        if email:
            return None
        key: _NameKey = (organization_id, record.last_name_key, record.first_name_key)
        return self._first(
            self.by_name.get(key),
            lambda s: s.keyless and (s.organization_id, s.last_name_key, s.first_name_key) == key,
        )

    def _first(self, ids: list[str] | None, accept: Callable[[StoredPerson], bool]) -> StoredPerson | None:
        if not ids:
            return None
        found = [self.stored[i] for i in ids if accept(self.stored[i])]
        return min(found, key=lambda s: s.id) if found else None

    def employer(self, record: PersonRecord, *, strict: bool = True) -> tuple[str | None, str | None]:
        """The id and name of the person's employer, upserting a nested organization. With
        ``strict``, an ``organization_id`` that is not in the repository is an error; otherwise
        (a stored value, merged into an update) it is dropped."""
        organizations = self.organizations
        if record.organization is not None and record.organization_raw is not None:
            fingerprint = record.organization_fingerprint
            applied = organizations.already_applied(fingerprint) if fingerprint else None
            if applied is not None:
                return applied, organizations.name_of(applied)
            outcome, stored = organizations.upsert(
                record.organization, record.organization_raw, fill_only=True
            )
            self.organization_counts.add(outcome)
            if fingerprint:
                organizations.mark_applied(fingerprint, stored.id)
            return stored.id, stored.name
        organization_id = record.organization_id
        if organization_id is None:
            return None, None
        name = organizations.name_of(organization_id)
        if name is None:
            if strict:
                raise RecordError(
                    f"organization_id '{organization_id}' is not in the repository "
                    "(import the organization first, or give the employer as a nested organization)"
                )
            return None, None
        return organization_id, name

    def upsert(self, record: PersonRecord, raw: Raw) -> Outcome:
        try:
            organization_id, organization_name = self.employer(record)
        except RecordError as exc:
            if record.organization is not None:
                raise RecordError(f"organization: {exc.reason}") from None
            raise
        stored = self.match(record, organization_id)
        if stored is None:
            if not record.complete:
                raise RecordError(f"no person matches this line, and {MISSING_PERSON_NAME}")
            record.bind(record.id or new_id(), organization_id, organization_name)
            self._write(record, created=True)
            return "created"
        record.bind(stored.id, organization_id, organization_name)
        if record.data == stored.data:
            return "unchanged"
        merged = person_record(merged_raw(stored.data, raw, PERSON_GROUPS))
        organization_id, organization_name = self.employer(merged, strict=False)
        merged.bind(stored.id, organization_id, organization_name)
        if merged.data == stored.data:
            return "unchanged"
        self._write(merged, created=False)
        return "updated"

    def _write(self, record: PersonRecord, *, created: bool) -> None:
        assert record.id is not None
        if created or record.id in self.inserts:
            self.inserts[record.id] = record
        else:
            self.updates[record.id] = record
        self._remember(
            StoredPerson(
                record.id,
                record.email,
                record.linkedin_slug,
                record.organization_id,
                record.first_name_key,
                record.last_name_key,
                record.data,
            )
        )

    # -- writing -------------------------------------------------------------------------------

    async def flush(self) -> list[dict[str, Any]]:
        """Write the batch's people and their child rows (an updated person's are replaced);
        returns their change-log rows."""
        now, connection = self.now, self.connection
        inserts = [
            {"id": i, "created_at": now, "updated_at": now, **r.columns()} for i, r in self.inserts.items()
        ]
        updates = [{"id": i, "updated_at": now, **r.columns()} for i, r in self.updates.items()]
        await tables.insert_rows(connection, tables.people, inserts)
        await tables.update_rows(connection, tables.people, updates)
        updated_ids = list(self.updates)
        for table in tables.PERSON_CHILDREN:
            await tables.delete_where_in(connection, table, "person_id", updated_ids)
        written = [*self.inserts.values(), *self.updates.values()]
        await tables.insert_rows(
            connection, tables.employment_history, [row for r in written for row in r.employment_rows()]
        )
        await tables.insert_rows(
            connection, tables.person_phone_numbers, [row for r in written for row in r.phone_rows()]
        )
        await tables.insert_rows(
            connection, tables.personal_emails, [row for r in written for row in r.personal_email_rows()]
        )
        return [{"entity": "person", "record_id": r.id, "op": "upsert", "created_at": now} for r in written]
