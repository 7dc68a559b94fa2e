"""The entry points: normalise the query, block, score, decide (see the package docstring)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from perilune.matching.blocking import Executor, organization_candidates, person_candidates
from perilune.matching.queries import OrganizationQuery, PersonQuery, organization_keys, person_keys
from perilune.matching.records import OrganizationCandidate, PersonCandidate
from perilune.matching.scoring import Ranked, decide, rank, score_organization, score_person

# Confidence is reported to four decimals (0.9999 is as sure as the engine gets), rounded
# down: a reported confidence given back as ``min_confidence`` must match again.
_SCALE = 10_000


def _reported(confidence: float) -> float:
    return math.floor(confidence * _SCALE) / _SCALE


@dataclass(frozen=True, slots=True)
class PersonMatch:
    """The person found: the repository id, the confidence (0-1) that it is the one asked for,
    and the fields that agreed (``("email", "first_name:nickname", "organization:former")``)."""

    person_id: str
    confidence: float
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OrganizationMatch:
    organization_id: str
    confidence: float
    reasons: tuple[str, ...]


async def match_person(
    executor: Executor, query: PersonQuery, *, min_confidence: float | None = None
) -> PersonMatch | None:
    """The person ``query`` describes, or None when the evidence is too weak or another person
    fits almost as well. ``min_confidence`` raises the bar above ``DEFAULT_MIN_CONFIDENCE``."""
    best = decide(await rank_people(executor, query, min_confidence=min_confidence), min_confidence)
    if best is None:
        return None
    return PersonMatch(best.candidate.id, _reported(best.confidence), best.reasons)


async def rank_people(
    executor: Executor, query: PersonQuery, *, min_confidence: float | None = None
) -> list[Ranked[PersonCandidate]]:
    """Every candidate scored, best first (for diagnostics and the accuracy bench). The looser
    blocking tier runs only when the exact one finds nobody at ``min_confidence``."""
    keys = person_keys(query)
    if keys.is_empty:
        return []
    candidates = await person_candidates(executor, keys, 1)
    ranked = rank(score_person(keys, c) for c in candidates)
    if decide(ranked, min_confidence) is not None:
        return ranked
    seen = {c.id for c in candidates}
    more = [c for c in await person_candidates(executor, keys, 2) if c.id not in seen]
    if not more:
        return ranked
    return rank(score_person(keys, c) for c in [*candidates, *more])


async def match_organization(
    executor: Executor, query: OrganizationQuery, *, min_confidence: float | None = None
) -> OrganizationMatch | None:
    """The organization ``query`` names by id, domain (or website), LinkedIn URL or name."""
    best = decide(await rank_organizations(executor, query), min_confidence)
    if best is None:
        return None
    return OrganizationMatch(best.candidate.id, _reported(best.confidence), best.reasons)


async def rank_organizations(
    executor: Executor, query: OrganizationQuery
) -> list[Ranked[OrganizationCandidate]]:
    keys = organization_keys(query)
    if keys.is_empty:
        return []
    return rank(score_organization(keys, c) for c in await organization_candidates(executor, keys))
