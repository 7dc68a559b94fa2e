"""Plans as data: Apollo's published rate-limit tables and credit allowances per plan. A team on
the ``custom`` plan starts from ``professional`` and overrides any figure (``perilune plans set``).

Sources: docs.apollo.io rate-limits and api-pricing pages, and the legacy docs' rule that bulk
enrichment gets a tenth of the single endpoint's limits."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

WINDOWS: tuple[tuple[str, int], ...] = (("minute", 60), ("hour", 3600), ("day", 86400))

CREDIT_TYPES: tuple[str, ...] = (
    "lead_credit",
    "direct_dial_credit",
    "export_credit",
    "conversation_credit",
    "ai_credit",
    "power_up_credit",
    "inbound_website_visitor_credit",
    "dialer",
    "web_search_record_credit",
    "contact_website_visitor_credit",
)


class EndpointClass(StrEnum):
    default = "default"
    enrichment = "enrichment"
    bulk_enrichment = "bulk_enrichment"
    search = "search"
    report = "report"


ENRICHMENT_ENDPOINTS = frozenset({"api/v1/people/match", "api/v1/organizations/enrich"})
BULK_ENRICHMENT_ENDPOINTS = frozenset({"api/v1/people/bulk_match", "api/v1/organizations/bulk_enrich"})
SEARCH_ENDPOINTS = frozenset(
    {"api/v1/mixed_people/api_search", "api/v1/mixed_companies/search", "api/v1/news_articles/search"}
)
REPORT_ENDPOINTS = frozenset({"api/v1/reports/sync_report"})


def endpoint_class(endpoint: str) -> EndpointClass:
    if endpoint in ENRICHMENT_ENDPOINTS:
        return EndpointClass.enrichment
    if endpoint in BULK_ENRICHMENT_ENDPOINTS:
        return EndpointClass.bulk_enrichment
    if endpoint in SEARCH_ENDPOINTS:
        return EndpointClass.search
    if endpoint in REPORT_ENDPOINTS:
        return EndpointClass.report
    return EndpointClass.default


@dataclass(frozen=True)
class Limits:
    """Requests allowed per window; ``None`` is no limit for that window."""

    minute: int | None = None
    hour: int | None = None
    day: int | None = None

    def for_window(self, window: str) -> int | None:
        value: int | None = getattr(self, window)
        return value

    def tenth(self) -> Limits:
        return Limits(*(None if v is None else max(1, v // 10) for v in (self.minute, self.hour, self.day)))

    def as_dict(self) -> dict[str, int | None]:
        return {"minute": self.minute, "hour": self.hour, "day": self.day}


REPORT_LIMITS = Limits(hour=5)


@dataclass(frozen=True)
class Plan:
    name: str
    paid: bool
    limits: dict[EndpointClass, Limits]
    credits: dict[str, int] = field(default_factory=dict)

    def limits_for(self, endpoint: str) -> Limits:
        return self.limits[endpoint_class(endpoint)]

    def credit_limit(self, credit_type: str) -> int:
        return self.credits.get(credit_type, 0)


def _plan(
    name: str,
    paid: bool,
    default: Limits,
    enrichment: Limits,
    search: Limits,
    credits: dict[str, int],
    bulk: Limits | None = None,
) -> Plan:
    limits = {
        EndpointClass.default: default,
        EndpointClass.enrichment: enrichment,
        EndpointClass.bulk_enrichment: bulk or enrichment.tenth(),
        EndpointClass.search: search,
        EndpointClass.report: REPORT_LIMITS,
    }
    return Plan(name=name, paid=paid, limits=limits, credits=credits)


_FREE = Limits(50, 200, 600)
PLANS: dict[str, Plan] = {
    "free": _plan(
        "free",
        False,
        _FREE,
        _FREE,
        _FREE,
        {"lead_credit": 100, "export_credit": 10, "direct_dial_credit": 5, "ai_credit": 100},
        bulk=Limits(20, 100, 60),
    ),
    "basic": _plan(
        "basic",
        True,
        Limits(200, 400, 2000),
        Limits(minute=1000),
        Limits(200, 6000, 50000),
        {
            "lead_credit": 1000,
            "export_credit": 1000,
            "direct_dial_credit": 75,
            "ai_credit": 1000,
            "power_up_credit": 500,
        },
    ),
    "professional": _plan(
        "professional",
        True,
        Limits(200, 600, 6000),
        Limits(minute=1000),
        Limits(200, 6000, 50000),
        {
            "lead_credit": 10000,
            "export_credit": 5000,
            "direct_dial_credit": 1000,
            "ai_credit": 2000,
            "power_up_credit": 1000,
            "conversation_credit": 500,
            "dialer": 500,
            "inbound_website_visitor_credit": 1000,
            "web_search_record_credit": 1000,
            "contact_website_visitor_credit": 1000,
        },
    ),
}
PLAN_NAMES: tuple[str, ...] = (*PLANS, "custom")


class PlanError(ValueError):
    pass


def resolve_plan(name: str, overrides: dict[str, Any] | None = None) -> Plan:
    """The plan a team is on. ``overrides`` (only meaningful on ``custom``) has the shape
    ``{"limits": {"default": {"minute": 500, ...}, ...}, "credits": {"lead_credit": 50000}}``."""
    if name not in PLAN_NAMES:
        raise PlanError(f"unknown plan {name!r}; choose one of {', '.join(PLAN_NAMES)}")
    if name != "custom":
        return PLANS[name]
    base = PLANS["professional"]
    overrides = overrides or {}
    limits = dict(base.limits)
    for klass, figures in (overrides.get("limits") or {}).items():
        limits[EndpointClass(klass)] = replace(limits[EndpointClass(klass)], **figures)
    credits = {**base.credits, **(overrides.get("credits") or {})}
    return Plan(name="custom", paid=True, limits=limits, credits=credits)


def _whole(value: Any) -> bool:
    # bool is an int subclass: ``true`` must not pass for 1.
    return isinstance(value, int) and not isinstance(value, bool)


def validate_overrides(overrides: dict[str, Any]) -> dict[str, Any]:
    """Check a custom plan's overrides before they are stored; raise PlanError naming the fault."""
    if not isinstance(overrides, dict):
        raise PlanError("overrides must be a JSON object with 'limits' and/or 'credits'")
    unknown = set(overrides) - {"limits", "credits"}
    if unknown:
        raise PlanError(f"unknown keys {sorted(unknown)}; use 'limits' and 'credits'")
    limits = overrides.get("limits") or {}
    if not isinstance(limits, dict):
        raise PlanError("limits must be an object of endpoint class -> {minute, hour, day}")
    for klass, figures in limits.items():
        if klass not in EndpointClass.__members__:
            raise PlanError(f"unknown endpoint class {klass!r}; one of {', '.join(EndpointClass)}")
        if not isinstance(figures, dict):
            raise PlanError(f'limits.{klass} must be an object like {{"minute": 500}}')
        for window, value in figures.items():
            if window not in dict(WINDOWS) or not (value is None or (_whole(value) and value > 0)):
                raise PlanError(
                    f"limits.{klass}.{window} must be minute/hour/day with a positive integer or null"
                )
    credits = overrides.get("credits") or {}
    if not isinstance(credits, dict):
        raise PlanError("credits must be an object of credit type -> whole number")
    for credit_type, value in credits.items():
        if credit_type not in CREDIT_TYPES or not _whole(value) or value < 0:
            raise PlanError(f"credits.{credit_type}: a known credit type with a whole number >= 0")
    return overrides
