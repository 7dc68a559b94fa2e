"""Scoring candidates and deciding: comparisons -> a weight in bits -> a confidence.

A candidate's weight is the prior (how unlikely it is that one given record is the one asked
for, before any evidence) plus the weights of its comparisons (``comparisons``). The weights of
all candidates of one query then become confidences that sum to at most 1:

    confidence_i = 2**w_i / (1 + sum_j 2**w_j)

the probability that candidate ``i`` is the one asked for, where the ``1`` stands for "none of
them" (the person may not be in the repository). Two candidates with the same strong evidence
share it (two John Smiths at one company: about 0.5 each), so a match must be both well
supported and clearly ahead of the runner-up, and the threshold (``DEFAULT_MIN_CONFIDENCE``)
guards both at once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from perilune.matching.comparisons import (
    DOMAIN,
    EMAIL,
    FIRST_NAME,
    HASHED_EMAIL,
    LAST_NAME,
    LINKEDIN_URL,
    LOOSE_NAME,
    ORGANIZATION,
    ORGANIZATION_ID,
    ORGANIZATION_LINKEDIN_URL,
    ORGANIZATION_NAME,
    PERSON_ID,
    SWAPPED_NAMES,
    EmailQuery,
    EmployerQuery,
    HashQuery,
    Outcome,
)
from perilune.matching.queries import OrganizationKeys, PersonKeys
from perilune.matching.records import OrganizationCandidate, PersonCandidate

C = TypeVar("C")

# A match is returned only at or above this confidence (a wrong person is worse than none).
DEFAULT_MIN_CONFIDENCE = 0.9
# log2 of the prior odds that one given person is the one asked for: about one in a million.
PERSON_PRIOR = -20.0
# Organizations: names are far more distinctive among ~100k organizations than among people,
# and a query usually names one that exists.
ORGANIZATION_PRIOR = -10.0
# Bits per doubling of headcount: between two organizations of one name, the bigger one is the
# likelier subject of a query (a popularity prior, small enough never to outweigh evidence).
SIZE_BITS = 0.25
# Comparisons of keys that belong to one record only. When two candidates each agree exactly on
# one of them (Tim's email, Robert's LinkedIn profile), the query contradicts itself: no match.
UNIQUE_KEYS = frozenset({"id", "email", "hashed_email", "linkedin_url", "domain"})


@dataclass(frozen=True, slots=True)
class Scored(Generic[C]):
    candidate: C
    weight: float
    outcomes: tuple[Outcome, ...]


@dataclass(frozen=True, slots=True)
class Ranked(Generic[C]):
    """A scored candidate with its confidence among the query's candidates."""

    candidate: C
    weight: float
    confidence: float
    outcomes: tuple[Outcome, ...]

    @property
    def reasons(self) -> tuple[str, ...]:
        """The fields that agreed, strongest first, e.g. ``("email", "first_name:nickname")``;
        ``"names:swapped"`` when the first and last names agreed crosswise."""
        agreed = sorted((o for o in self.outcomes if o.weight > 0), key=lambda o: -o.weight)
        reasons = [o.reason for o in agreed]
        if any(o is SWAPPED_NAMES for o in self.outcomes):
            reasons.append(SWAPPED_NAMES.reason)
        return tuple(reasons)


def score_person(keys: PersonKeys, candidate: PersonCandidate) -> Scored[PersonCandidate]:
    mailboxes = tuple(candidate.mailboxes)
    email = EmailQuery(keys.email) if keys.email else None
    hashed = HashQuery(keys.email_md5, keys.email_sha256) if keys.email_md5 or keys.email_sha256 else None
    employer = EmployerQuery(keys.domains, keys.organization_key) if keys.has_employer else None
    outcomes = (
        PERSON_ID.compare(keys.person_id, candidate.id),
        EMAIL.compare(email, mailboxes),
        HASHED_EMAIL.compare(hashed, mailboxes),
        LINKEDIN_URL.compare(keys.linkedin_slug, candidate.linkedin_slug),
        ORGANIZATION.compare(employer, tuple(candidate.employers)),
        *name_outcomes(keys, candidate),
    )
    return Scored(candidate, PERSON_PRIOR + _total(outcomes), outcomes)


def name_outcomes(keys: PersonKeys, candidate: PersonCandidate) -> tuple[Outcome, ...]:
    """First and last names compared as given and crosswise (a swap costs ``SWAPPED_NAMES``),
    the better kept; a one-word name against both the first and the last name."""
    if keys.loose:
        as_first = LOOSE_NAME.compare(keys.loose, candidate.first)
        as_last = LOOSE_NAME.compare(keys.loose, candidate.last)
        return (max(as_first, as_last, key=lambda o: o.weight),)
    direct = (FIRST_NAME.compare(keys.first, candidate.first), LAST_NAME.compare(keys.last, candidate.last))
    if not (keys.first or keys.last):
        return direct
    crosswise = (
        FIRST_NAME.compare(keys.last, candidate.first),
        LAST_NAME.compare(keys.first, candidate.last),
        SWAPPED_NAMES,
    )
    return crosswise if _total(crosswise) > _total(direct) else direct


def score_organization(
    keys: OrganizationKeys, candidate: OrganizationCandidate
) -> Scored[OrganizationCandidate]:
    outcomes = (
        ORGANIZATION_ID.compare(keys.organization_id, candidate.id),
        DOMAIN.compare(keys.domain, candidate.domain),
        ORGANIZATION_LINKEDIN_URL.compare(keys.linkedin_slug, candidate.linkedin_slug),
        ORGANIZATION_NAME.compare(keys.name_key, candidate.name_key),
    )
    size = SIZE_BITS * math.log2(1 + max(0, candidate.estimated_num_employees or 0))
    return Scored(candidate, ORGANIZATION_PRIOR + size + _total(outcomes), outcomes)


def rank(scored: Iterable[Scored[C]]) -> list[Ranked[C]]:
    """Candidates best first, each with its confidence (see the module docstring)."""
    ordered = sorted(scored, key=lambda s: -s.weight)
    if not ordered:
        return []
    top = max(0.0, ordered[0].weight)  # shift the exponents so nothing overflows
    denominator = 2.0**-top + sum(2.0 ** (s.weight - top) for s in ordered)
    return [Ranked(s.candidate, s.weight, 2.0 ** (s.weight - top) / denominator, s.outcomes) for s in ordered]


def decide(ranked: Sequence[Ranked[C]], min_confidence: float | None = None) -> Ranked[C] | None:
    """The best candidate when its confidence reaches the bar (``DEFAULT_MIN_CONFIDENCE``, or
    ``min_confidence`` when that is higher: a request may raise the bar, never lower it) and no
    other candidate holds a unique key of the query (``UNIQUE_KEYS``)."""
    bar = DEFAULT_MIN_CONFIDENCE if min_confidence is None else max(DEFAULT_MIN_CONFIDENCE, min_confidence)
    if not ranked or ranked[0].confidence < bar:
        return None
    if _identified(ranked[0]) and any(_identified(other) for other in ranked[1:]):
        return None
    return ranked[0]


def _identified(ranked: Ranked[C]) -> bool:
    return any(o.level == "exact" and o.comparison in UNIQUE_KEYS for o in ranked.outcomes)


def _total(outcomes: Iterable[Outcome]) -> float:
    return sum(o.weight for o in outcomes)
