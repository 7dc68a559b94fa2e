"""Blocking: the few repository records worth scoring, fetched with indexed look-ups.

A blocking rule is one indexed query for person ids, each with its own ``LIMIT`` so that a
common name at a big company cannot pull in thousands of rows. All rules of a tier, the
candidates' columns, their employment history (when the query names an employer) and their
personal emails (when it gives an email or a hash) come back in one statement: one round trip
per tier. The statement depends only on which keys the query has (its ``Shape``), so it is
built once per shape, with bound parameters, and SQLAlchemy's compiled cache does the rest.

Tier 1 holds the exact keys: person id, work or personal email, MD5 or SHA-256 of either,
LinkedIn slug; and the current people of the organizations the query names (by domain, a work
email's domain or the organization name key) by last name (the whole name first, so a common
last name's limit never hides it), or by the first name's variants when no last name is given.
Tier 2 runs only when tier 1 finds no confident match (``engine``): within those
organizations, the first name's variants ("Bob" finds "Robert"), the last name's Metaphone key
("Smyth" finds "Smith"), first and last names swapped; people of the whole name who worked
there before (their employment history); and across the whole repository, the whole name
(both orders), when the query has more than a name to score it with.

Indexes used (``perilune.models.repository``): ``people`` by id, email, email_md5,
email_sha256, linkedin_slug, (organization_id, last_name_key), (organization_id,
first_name_key), (organization_id, last_name_phonetic), (last_name_key, first_name_key);
``personal_emails`` by email, its hashes and person_id; ``employment_history`` by person_id,
organization_id and organization_name_key; ``organizations`` by primary_domain, name_key,
linkedin_slug.
"""

from __future__ import annotations

import functools
from typing import Any, Literal, NamedTuple, TypeAlias

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql import ColumnElement, CompoundSelect, Select

from perilune.matching.queries import OrganizationKeys, PersonKeys
from perilune.matching.records import Employer, Mailbox, OrganizationCandidate, PersonCandidate
from perilune.models import EmploymentHistory, Organization, Person, PersonalEmail
from perilune.repository.normalize import first_name_variants

Executor: TypeAlias = AsyncConnection | AsyncSession
Tier = Literal[1, 2]

# Rows per rule. Unique keys return one row; the limits bound what a common name returns.
KEY_LIMIT = 5
NAME_LIMIT = 20
GLOBAL_NAME_LIMIT = 25
# Index entries one side of a two-ended search may visit (see ``_former_rules``).
SCAN_LIMIT = 50
# Organizations one domain or name key may resolve to (one, in a deduplicated repository).
ORGANIZATION_LIMIT = 5

_people = Person.__table__
_organizations = Organization.__table__
_history = EmploymentHistory.__table__
_personal = PersonalEmail.__table__


class Shape(NamedTuple):
    """Which keys a query has, for one tier: all that the statement's form depends on."""

    tier: int
    person_id: bool
    email: bool
    md5: bool
    sha256: bool
    slug: bool
    first: bool
    last: bool
    loose: bool
    phonetic: bool
    domains: bool
    organization_key: bool

    @property
    def employer(self) -> bool:
        return self.domains or self.organization_key

    @property
    def mailbox(self) -> bool:
        return self.email or self.md5 or self.sha256


def shape_of(keys: PersonKeys, tier: Tier) -> Shape:
    return Shape(
        tier,
        keys.person_id is not None,
        keys.email is not None,
        keys.email_md5 is not None,
        keys.email_sha256 is not None,
        keys.linkedin_slug is not None,
        bool(keys.first),
        bool(keys.last),
        bool(keys.loose),
        bool(keys.last_phonetic),
        bool(keys.domains),
        bool(keys.organization_key),
    )


def parameters(keys: PersonKeys) -> dict[str, Any]:
    """The bound values every statement of ``keys``'s shapes reads."""
    return {
        "person_id": keys.person_id,
        "email": keys.email,
        "md5": keys.email_md5,
        "sha256": keys.email_sha256,
        "slug": keys.linkedin_slug,
        "first": keys.first,
        "last": keys.last,
        "loose": keys.loose,
        "first_variants": sorted(keys.first_variants),
        "last_variants": sorted(first_name_variants(keys.last) or {keys.last}),
        "phonetic": keys.last_phonetic,
        "domains": list(keys.domains),
        "organization_key": keys.organization_key,
    }


async def person_candidates(executor: Executor, keys: PersonKeys, tier: Tier) -> list[PersonCandidate]:
    """The candidates the rules of ``tier`` find for ``keys`` (none when it has no rule)."""
    statement = person_statement(shape_of(keys, tier))
    if statement is None:
        return []
    rows = (await executor.execute(statement, parameters(keys))).all()
    candidates = {row.person_id: _person(row) for row in rows if row.kind == "p"}
    for row in rows:
        if row.kind != "p" and row.person_id in candidates:
            _add_detail(candidates[row.person_id], row)
    return list(candidates.values())


@functools.lru_cache(maxsize=1024)
def person_statement(shape: Shape) -> CompoundSelect[Any] | None:
    """One statement for a shape: the candidates' people rows (kind "p"), then their
    employment history ("h") and personal emails ("e"), each in the same columns."""
    rules = person_rules(shape)
    if not rules:
        return None
    # A CTE used three times: both databases evaluate the rules once and keep the ids.
    found = sa.union_all(*(sa.select(rule.subquery().c.id) for rule in rules)).cte("candidate_ids")
    ids = sa.select(found.c.id)
    parts: list[Select[Any]] = [_people_rows(ids)]
    if shape.employer:
        parts.append(_history_rows(ids))
    if shape.mailbox:
        parts.append(_personal_rows(ids))
    return sa.union_all(*parts)


def person_rules(shape: Shape) -> list[Select[Any]]:
    """The blocking rules of a shape, each a limited query of person ids."""
    if shape.tier == 1:
        return [*_key_rules(shape), *_employer_rules(shape, _exact_name_conditions(shape))]
    rules = [*_employer_rules(shape, _loose_name_conditions(shape)), *_former_rules(shape)]
    if shape.first and shape.last and (shape.employer or shape.mailbox or shape.slug):
        rules += _global_name_rules()
    return rules


def _p(name: str, *, expanding: bool = False) -> sa.BindParameter[Any]:
    return sa.bindparam(name, expanding=expanding)


def _key_rules(shape: Shape) -> list[Select[Any]]:
    people, personal = _people.c, _personal.c
    rules: list[Select[Any]] = []
    if shape.person_id:
        rules.append(_ids(people.id == _p("person_id")))
    for wanted, name, work, home in (
        (shape.email, "email", people.email, personal.email),
        (shape.md5, "md5", people.email_md5, personal.email_md5),
        (shape.sha256, "sha256", people.email_sha256, personal.email_sha256),
    ):
        if wanted:
            rules.append(_ids(work == _p(name), limit=KEY_LIMIT))
            rules.append(sa.select(personal.person_id.label("id")).where(home == _p(name)).limit(KEY_LIMIT))
    if shape.slug:
        rules.append(_ids(people.linkedin_slug == _p("slug"), limit=KEY_LIMIT))
    return rules


def _exact_name_conditions(shape: Shape) -> list[ColumnElement[bool]]:
    """Tier 1 within an organization: the whole name, then every bearer of the last name (so a
    misspelt first name is still found), or the first name when no last name is given."""
    people = _people.c
    first = people.first_name_key.in_(_p("first_variants", expanding=True))
    if shape.loose:
        return [people.last_name_key == _p("loose"), people.first_name_key == _p("loose")]
    if shape.last and shape.first:
        # The exact pair first: a common last name's limit never cuts the person asked for off.
        # lower() (a no-op on keys) keeps planners without statistics off the (last, first)
        # index, which would visit every bearer of a common name in the repository, and on the
        # (organization, last) one.
        first_at = sa.func.lower(people.first_name_key, type_=sa.String).in_(
            _p("first_variants", expanding=True)
        )
        return [sa.and_(people.last_name_key == _p("last"), first_at), people.last_name_key == _p("last")]
    if shape.last:
        return [people.last_name_key == _p("last")]
    if shape.first:
        return [first]
    return []


def _loose_name_conditions(shape: Shape) -> list[ColumnElement[bool]]:
    """Tier 2 within an organization: what a misspelt last name or swapped names leave."""
    people = _people.c
    conditions: list[ColumnElement[bool]] = []
    if shape.first and shape.last:
        conditions.append(people.first_name_key.in_(_p("first_variants", expanding=True)))
    if shape.phonetic:
        conditions.append(people.last_name_phonetic == _p("phonetic"))
    if shape.first:
        conditions.append(people.last_name_key == _p("first"))
    if shape.last:
        conditions.append(people.first_name_key.in_(_p("last_variants", expanding=True)))
    return conditions


def _employer_rules(shape: Shape, conditions: list[ColumnElement[bool]]) -> list[Select[Any]]:
    """Each name condition among the current people of the organizations the query names (one
    composite index each)."""
    if not conditions or not shape.employer:
        return []
    organizations = _organization_ids(shape)
    return [_ids(_people.c.organization_id.in_(organizations), condition) for condition in conditions]


def _former_rules(shape: Shape) -> list[Select[Any]]:
    """People of the query's whole name, in either order, who had a job at the organizations
    the query names (their employment history). Found from both ends, each scan bounded by
    ``SCAN_LIMIT``: the people of that name, then their history (a common name can have
    thousands of bearers), and the organizations' history, then the names (a big organization
    has thousands of employees, past and present). A person is missed only when both are big."""
    if not (shape.first and shape.last and shape.employer):
        return []
    people, history = _people.c, _history.c
    employed: ColumnElement[bool] = history.organization_id.in_(_organization_ids(shape))
    if shape.organization_key:
        employed = sa.or_(employed, history.organization_name_key == _p("organization_key"))
    pairs = (_name_pair("last", "first_variants"), _name_pair("first", "last_variants"))
    rules = []
    for pair in pairs:
        namesakes = sa.select(people.id).where(pair).limit(SCAN_LIMIT).subquery()
        worked_there = sa.exists().where(history.person_id == namesakes.c.id, employed)
        rules.append(sa.select(namesakes.c.id).where(worked_there).limit(NAME_LIMIT))
    staff = sa.select(history.person_id).where(employed).limit(SCAN_LIMIT).subquery()
    rules.append(
        sa.select(staff.c.person_id.label("id"))
        .join(_people, people.id == staff.c.person_id)
        .where(sa.or_(*pairs))
        .limit(NAME_LIMIT)
    )
    return rules


def _name_pair(last: str, first: str) -> ColumnElement[bool]:
    people = _people.c
    return sa.and_(people.last_name_key == _p(last), people.first_name_key.in_(_p(first, expanding=True)))


def _organization_ids(shape: Shape) -> Select[Any]:
    organizations = _organizations.c
    named: list[ColumnElement[bool]] = []
    if shape.domains:
        named.append(organizations.primary_domain.in_(_p("domains", expanding=True)))
    if shape.organization_key:
        named.append(organizations.name_key == _p("organization_key"))
    return sa.select(organizations.id).where(sa.or_(*named)).limit(ORGANIZATION_LIMIT)


def _global_name_rules() -> list[Select[Any]]:
    """The whole name, in either order, across the repository."""
    pairs = (_name_pair("last", "first_variants"), _name_pair("first", "last_variants"))
    return [_ids(pair, limit=GLOBAL_NAME_LIMIT) for pair in pairs]


def _ids(*conditions: ColumnElement[bool], limit: int = NAME_LIMIT) -> Select[Any]:
    return sa.select(_people.c.id).where(*conditions).limit(limit)


# --- the rows of one statement: (kind, person_id, v1..v6, domain, name_key, flag) ---------------


def _text(value: Any = None) -> ColumnElement[Any]:
    return sa.cast(sa.null() if value is None else value, sa.String)


def _people_rows(ids: Select[Any]) -> Select[Any]:
    people, organizations = _people.c, _organizations.c
    return (
        sa.select(
            sa.literal("p", sa.String).label("kind"),
            people.id.label("person_id"),
            people.first_name_key.label("v1"),
            people.last_name_key.label("v2"),
            people.email.label("v3"),
            people.email_md5.label("v4"),
            people.email_sha256.label("v5"),
            people.linkedin_slug.label("v6"),
            organizations.primary_domain.label("domain"),
            organizations.name_key.label("name_key"),
            people.organization_id.is_not(None).label("flag"),
        )
        .select_from(_people.outerjoin(_organizations, organizations.id == people.organization_id))
        .where(people.id.in_(ids))
    )


def _history_rows(ids: Select[Any]) -> Select[Any]:
    history, organizations = _history.c, _organizations.c
    return (
        sa.select(
            sa.literal("h", sa.String).label("kind"),
            history.person_id,
            *(_text().label(f"v{n}") for n in range(1, 7)),
            organizations.primary_domain.label("domain"),
            history.organization_name_key.label("name_key"),
            history.current.label("flag"),
        )
        .select_from(_history.outerjoin(_organizations, organizations.id == history.organization_id))
        .where(history.person_id.in_(ids))
    )


def _personal_rows(ids: Select[Any]) -> Select[Any]:
    personal = _personal.c
    return sa.select(
        sa.literal("e", sa.String).label("kind"),
        personal.person_id,
        _text().label("v1"),
        _text().label("v2"),
        personal.email.label("v3"),
        personal.email_md5.label("v4"),
        personal.email_sha256.label("v5"),
        _text().label("v6"),
        _text().label("domain"),
        _text().label("name_key"),
        sa.false().label("flag"),
    ).where(personal.person_id.in_(ids))


def _person(row: sa.Row[Any]) -> PersonCandidate:
    candidate = PersonCandidate(id=row.person_id, first=row.v1 or "", last=row.v2 or "", linkedin_slug=row.v6)
    if row.flag:
        candidate.employers.append(Employer(row.domain, row.name_key or "", current=True))
    if row.v3:
        candidate.mailboxes.append(Mailbox(row.v3, row.v4, row.v5, personal=False))
    return candidate


def _add_detail(candidate: PersonCandidate, row: sa.Row[Any]) -> None:
    if row.kind == "h":
        candidate.employers.append(Employer(row.domain, row.name_key or "", current=bool(row.flag)))
    else:
        candidate.mailboxes.append(Mailbox(row.v3, row.v4, row.v5, personal=True))


# --- organizations -----------------------------------------------------------------------------


async def organization_candidates(executor: Executor, keys: OrganizationKeys) -> list[OrganizationCandidate]:
    """Organizations with the query's id, domain, LinkedIn slug or name key."""
    given = (keys.organization_id is not None, keys.domain is not None, keys.linkedin_slug is not None)
    statement = organization_statement((*given, bool(keys.name_key)))
    if statement is None:
        return []
    values = {
        "organization_id": keys.organization_id,
        "domain": keys.domain,
        "slug": keys.linkedin_slug,
        "name_key": keys.name_key,
    }
    rows = (await executor.execute(statement, values)).all()
    return [
        OrganizationCandidate(
            row.id, row.primary_domain, row.linkedin_slug, row.name_key, row.estimated_num_employees
        )
        for row in rows
    ]


@functools.lru_cache(maxsize=16)
def organization_statement(given: tuple[bool, ...]) -> Select[Any] | None:
    organizations = _organizations.c
    columns = (
        organizations.id,
        organizations.primary_domain,
        organizations.linkedin_slug,
        organizations.name_key,
    )
    rules = [
        sa.select(organizations.id).where(column == _p(name)).limit(ORGANIZATION_LIMIT)
        for wanted, column, name in zip(
            given, columns, ("organization_id", "domain", "slug", "name_key"), strict=True
        )
        if wanted
    ]
    if not rules:
        return None
    ids = sa.union_all(*(sa.select(rule.subquery().c.id) for rule in rules)).scalar_subquery()
    return sa.select(*columns, organizations.estimated_num_employees).where(organizations.id.in_(ids))
