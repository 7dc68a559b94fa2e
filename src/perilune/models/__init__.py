"""ORM tables, one module per table family. Importing this package registers every table on
``Base.metadata`` (Alembic's autogenerate and ``alembic check`` rely on that)."""

from perilune.models.base import Base
from perilune.models.jobs import Job
from perilune.models.metering import CreditLedgerEntry, RateLimitCounter
from perilune.models.repository import (
    EmploymentHistory,
    JobPosting,
    NewsArticle,
    Organization,
    Person,
    PersonalEmail,
    PersonPhoneNumber,
    PersonReveal,
    RepositoryChange,
    Suppression,
)
from perilune.models.tenancy import ApiKey, Team, User
from perilune.models.webhooks import WebhookRequest

__all__ = [
    "ApiKey",
    "Base",
    "CreditLedgerEntry",
    "EmploymentHistory",
    "Job",
    "JobPosting",
    "NewsArticle",
    "Organization",
    "Person",
    "PersonPhoneNumber",
    "PersonReveal",
    "PersonalEmail",
    "RateLimitCounter",
    "RepositoryChange",
    "Suppression",
    "Team",
    "User",
    "WebhookRequest",
]
