"""What an import did: counts per outcome and the lines it could not take, with reasons."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NamedTuple

Kind = Literal["organizations", "people"]
Outcome = Literal["created", "updated", "unchanged"]


class LineError(NamedTuple):
    """A line that was skipped: its number (1-based; in CSV the header is line 1) and why."""

    line: int
    reason: str


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, outcome: Outcome) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass
class ImportReport:
    """``created``/``updated``/``unchanged`` count records of ``kind``; ``suppressed`` counts
    people skipped because they were erased on request; ``errors`` are the lines skipped for
    a reason. In a people import, ``organizations`` counts the nested employers upserted."""

    kind: Kind
    lines: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    suppressed: int = 0
    errors: list[LineError] = field(default_factory=list)
    organizations: Counts = field(default_factory=Counts)
    seconds: float = 0.0

    def add(self, outcome: Outcome) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    @property
    def skipped(self) -> int:
        return self.suppressed + len(self.errors)

    @property
    def rows_per_second(self) -> float:
        return self.lines / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        parts = [
            f"{self.lines:,} lines: {self.created:,} created, {self.updated:,} updated, "
            f"{self.unchanged:,} unchanged, {self.skipped:,} skipped"
        ]
        if self.suppressed:
            parts.append(f"{self.suppressed:,} erased on request (suppressed)")
        if self.errors:
            parts.append(f"{len(self.errors):,} with errors")
        if self.kind == "people" and self.organizations.total:
            orgs = self.organizations
            parts.append(
                f"organizations: {orgs.created:,} created, {orgs.updated:,} updated, "
                f"{orgs.unchanged:,} unchanged"
            )
        if self.seconds > 0:
            parts.append(f"{self.rows_per_second:,.0f} rows/s")
        return "; ".join(parts)
