"""The people/organization repository: what Perilune knows about the world, shared by every team
(a team's own records are the CRM's contacts and accounts).

Each record keeps its normalised keys in indexed columns (what matching and look-ups need) and
the whole Apollo-shaped object in ``data`` (what responses render), so an import writes one row
per record and a response reads one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from perilune.models.base import Base, CreatedAtMixin, IdMixin, utcnow


class UpdatedAtMixin:
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Organization(IdMixin, CreatedAtMixin, UpdatedAtMixin, Base):
    __tablename__ = "organizations"

    name: Mapped[str] = mapped_column(String(500))
    # name_key: the legal-form-free, ASCII, lower-case name ("Apollo Inc." -> "apollo").
    name_key: Mapped[str] = mapped_column(String(500), index=True)
    primary_domain: Mapped[str | None] = mapped_column(String(255), index=True)
    linkedin_slug: Mapped[str | None] = mapped_column(String(255), index=True)
    industry: Mapped[str | None] = mapped_column(String(255))
    estimated_num_employees: Mapped[int | None] = mapped_column(Integer)
    annual_revenue: Mapped[float | None] = mapped_column(Float)
    founded_year: Mapped[int | None] = mapped_column(Integer)
    city: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str | None] = mapped_column(String(255))
    country: Mapped[str | None] = mapped_column(String(255))
    country_code: Mapped[str | None] = mapped_column(String(2))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Person(IdMixin, CreatedAtMixin, UpdatedAtMixin, Base):
    __tablename__ = "people"
    __table_args__ = (
        Index("ix_people_last_first", "last_name_key", "first_name_key"),
        Index("ix_people_org_last", "organization_id", "last_name_key"),
        # Matching looks people up within their organization by first name (a typo'd last name)
        # and by the sound of the last name (a typo'd or respelled one): perilune.matching.
        Index("ix_people_org_first", "organization_id", "first_name_key"),
        Index("ix_people_org_last_phonetic", "organization_id", "last_name_phonetic"),
    )

    organization_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id", ondelete="SET NULL"))
    first_name: Mapped[str | None] = mapped_column(String(255))
    last_name: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(500))
    first_name_key: Mapped[str | None] = mapped_column(String(255))
    last_name_key: Mapped[str | None] = mapped_column(String(255))
    # phonetic_key(last_name): "Smith" and "Smyth" share "SM0", so matching finds respellings.
    last_name_phonetic: Mapped[str | None] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(500))
    seniority: Mapped[str | None] = mapped_column(String(32))
    # The work email, lower-case, and its hashes (clients match on MD5 or SHA-256 of it).
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    email_md5: Mapped[str | None] = mapped_column(String(32), index=True)
    email_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    email_status: Mapped[str | None] = mapped_column(String(32))
    linkedin_slug: Mapped[str | None] = mapped_column(String(255), index=True)
    city: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str | None] = mapped_column(String(255))
    country: Mapped[str | None] = mapped_column(String(255))
    country_code: Mapped[str | None] = mapped_column(String(2))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class EmploymentHistory(IdMixin, Base):
    """One job a person held, current or past (matching finds people through former employers)."""

    __tablename__ = "employment_history"

    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[str | None] = mapped_column(String(24), index=True)
    organization_name: Mapped[str | None] = mapped_column(String(500))
    organization_name_key: Mapped[str | None] = mapped_column(String(500), index=True)
    title: Mapped[str | None] = mapped_column(String(500))
    start_date: Mapped[str | None] = mapped_column(String(10))
    end_date: Mapped[str | None] = mapped_column(String(10))
    current: Mapped[bool] = mapped_column(default=False)


class PersonPhoneNumber(IdMixin, Base):
    __tablename__ = "person_phone_numbers"

    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    raw_number: Mapped[str] = mapped_column(String(64))
    sanitized_number: Mapped[str | None] = mapped_column(String(32), index=True)
    type: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str | None] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer, default=0)


class PersonalEmail(IdMixin, Base):
    __tablename__ = "personal_emails"

    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    email_md5: Mapped[str] = mapped_column(String(32), index=True)
    email_sha256: Mapped[str] = mapped_column(String(64), index=True)


class JobPosting(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "job_postings"

    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(500))
    url: Mapped[str | None] = mapped_column(String(2000))
    city: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str | None] = mapped_column(String(255))
    country: Mapped[str | None] = mapped_column(String(255))
    posted_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]


class NewsArticle(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "news_articles"

    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(1000))
    url: Mapped[str | None] = mapped_column(String(2000))
    domain: Mapped[str | None] = mapped_column(String(255))
    snippet: Mapped[str | None] = mapped_column(Text)
    event_categories: Mapped[list[str]] = mapped_column(default=list)
    published_at: Mapped[datetime | None] = mapped_column(index=True)


class Suppression(IdMixin, CreatedAtMixin, Base):
    """A person erased on request: later imports skip anyone matching these hashes."""

    __tablename__ = "suppressions"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    kind: Mapped[str] = mapped_column(String(32))  # email_sha256 | linkedin_slug_sha256
    value: Mapped[str] = mapped_column(String(64))


class PersonReveal(Base):
    """A team has unlocked a person's email (enrichment does this; search shows it afterwards),
    and which other kinds of data it paid for or asked for. A row only ever gains kinds: the
    team keeps what it revealed once."""

    __tablename__ = "person_reveals"

    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    revealed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The direct numbers (beyond the company switchboard) were revealed and charged for.
    phone_numbers: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The personal emails were asked for, and the person lived outside GDPR regions then.
    personal_emails: Mapped[bool] = mapped_column(default=False, server_default=false())


class RepositoryChange(Base):
    """An append-only log of repository writes, in commit order. The search index follows it
    (``seq`` past the last one applied), so one writer keeps the index in step with imports made
    by any process, and another machine can build its own index and follow the same log."""

    __tablename__ = "repository_changes"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(16))  # person | organization
    record_id: Mapped[str] = mapped_column(String(24))
    op: Mapped[str] = mapped_column(String(8))  # upsert | delete
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
