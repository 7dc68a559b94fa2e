"""Settings, read from the environment (prefix ``PERILUNE_``) and documented in docs/configuration.md."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

RateLimitStoreName = Literal["auto", "memory", "database", "redis"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PERILUNE_", extra="ignore")

    data_dir: Path = Field(
        default=Path(".perilune"), description="Where the embedded database and demo key live."
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default SQLite at $PERILUNE_DATA_DIR/perilune.db. "
        "postgresql:// URLs use asyncpg.",
    )
    database_schema: str | None = Field(
        default=None, description="PostgreSQL only: the schema Perilune's tables live in."
    )
    redis_url: str | None = Field(default=None, description="Redis URL for shared rate-limit counters.")
    rate_limit_store: RateLimitStoreName = Field(
        default="auto",
        description="auto: redis if PERILUNE_REDIS_URL is set, the database when serving with "
        "several workers, otherwise memory.",
    )
    strict: bool = Field(default=False, description="Reject unknown parameters with a 422 naming them.")
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = Field(default=1, ge=1)
    demo: bool = Field(default=True, description="Create the demo team on first serve.")
    demo_people: int = Field(
        default=50_000,
        ge=0,
        description="People in the demo repository generated on the first serve of an empty "
        "repository (0: none).",
    )
    auth_cache_seconds: float = Field(
        default=5.0, ge=0, description="How long an authenticated key is remembered (0: not at all)."
    )
    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "console"
    run_worker: bool = Field(
        default=True, description="Run a background-job worker inside each server process."
    )
    index_dir: Path | None = Field(
        default=None, description="The repository search index; default $PERILUNE_DATA_DIR/index."
    )
    index_writer: bool = Field(
        default=True,
        description="This server process may keep the search index in step with the database "
        "(one process at a time does: the others only read).",
    )
    index_follow_seconds: float = Field(
        default=1.0, gt=0, description="How often the index writer applies repository changes."
    )
    index_heap_mb: int = Field(
        default=256, ge=64, description="Memory the index writer may use while rebuilding."
    )
    webhook_allow_private_networks: bool = Field(
        default=False,
        description="Deliver webhooks to private, loopback and link-local addresses too "
        "(refused by default: a webhook_url must not reach the server's own network).",
    )
    webhook_signing_key: SecretStr | None = Field(
        default=None,
        min_length=16,
        description="The key each team's webhook signing secret is derived from; default a "
        "random key kept in $PERILUNE_DATA_DIR/webhook-signing-key.",
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, le=60, description="How long one webhook delivery attempt may take."
    )
    webhook_max_attempts: int = Field(
        default=8, ge=1, le=20, description="Delivery attempts before a webhook is marked failed."
    )

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return normalize_database_url(self.database_url)
        return f"sqlite+aiosqlite:///{self.data_dir.resolve() / 'perilune.db'}"

    @property
    def resolved_index_dir(self) -> Path:
        return self.index_dir or self.data_dir / "index"

    @property
    def demo_key_path(self) -> Path:
        return self.data_dir / "demo-api-key"

    def effective_rate_limit_store(self) -> RateLimitStoreName:
        if self.rate_limit_store != "auto":
            return self.rate_limit_store
        if self.redis_url:
            return "redis"
        return "database" if self.workers > 1 else "memory"


def normalize_database_url(url: str) -> str:
    """Accept the URLs users paste (``postgres://``, ``postgresql://``, ``sqlite:///``) and pick
    the async driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    return url
