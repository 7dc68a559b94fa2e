"""Declarative comparisons, in the style of splink (Fellegi-Sunter).

A ``Comparison`` compares one field of a query with the same field of a candidate. It is an
ordered list of ``Level``s (exact, then looser and looser agreement); the first level whose
predicate holds decides, and when none does the comparison's ``otherwise`` level applies (the
values disagree). When either side has no value the comparison says nothing (weight 0).

Each level carries two probabilities: ``m``, how often a true match lands on this level, and
``u``, how often two different people do. Its weight is ``log2(m / u)`` bits of evidence:
positive when the level is more typical of a match, negative when more typical of a non-match.
A candidate's score is the prior plus the sum of its comparisons' weights (see ``scoring``).

Where the numbers come from: ``u`` of the name levels starts from the share of random pairs of
people in a generated repository (``perilune.repository.generator``) landing on the level, raised
toward real-world name frequencies (see the comment above ``FIRST_NAME``); ``m`` is the share of
true matches expected on the level given how often names are misspelt, nicknamed, swapped or
abbreviated in CRM data. Unique identifiers (email, LinkedIn profile, id) get ``u`` near zero;
an organization's ``u`` is the share of people one organization employs (about 1 in 10,000).
``bench/match_accuracy.py`` measures the outcome.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from rapidfuzz.distance import OSA, JaroWinkler

from perilune.matching.records import Employer, Mailbox
from perilune.repository.normalize import first_name_variants, is_personal_domain, phonetic_key

V = TypeVar("V")
W = TypeVar("W")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one comparison concluded: the level reached and its weight in bits."""

    comparison: str
    level: str
    weight: float

    @property
    def reason(self) -> str:
        """``"email"`` for exact agreement, ``"first_name:nickname"`` for a looser level."""
        return self.comparison if self.level == "exact" else f"{self.comparison}:{self.level}"


@dataclass(frozen=True, slots=True)
class Level(Generic[V, W]):
    label: str
    m: float
    u: float
    agrees: Callable[[V, W], bool]
    weight: float = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "weight", math.log2(self.m / self.u))


def _always(_left: object, _right: object) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class Comparison(Generic[V, W]):
    name: str
    levels: tuple[Level[V, W], ...]
    otherwise_m: float
    otherwise_u: float
    otherwise: Level[V, W] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "otherwise", Level("disagree", self.otherwise_m, self.otherwise_u, _always))

    def compare(self, left: V | None, right: W | None) -> Outcome:
        """The outcome for a query value and a candidate value; "missing" (0 bits) when either
        is absent or empty."""
        if not left or not right:
            return Outcome(self.name, "missing", 0.0)
        for level in self.levels:
            if level.agrees(left, right):
                return Outcome(self.name, level.label, level.weight)
        return Outcome(self.name, self.otherwise.label, self.otherwise.weight)


# --- predicates on name keys -------------------------------------------------------------------


def exact(left: str, right: str) -> bool:
    return left == right


def nickname(left: str, right: str) -> bool:
    """One is a nickname of the other, or both of one name ("Bob" ~ "Robert" ~ "Rob")."""
    return not first_name_variants(left).isdisjoint(first_name_variants(right))


def initial(left: str, right: str) -> bool:
    """One side is a lone initial of the other ("t" ~ "tim")."""
    return (len(left) == 1 and right.startswith(left)) or (len(right) == 1 and left.startswith(right))


def within_edits(edits: int, shortest: int) -> Callable[[str, str], bool]:
    """At most ``edits`` insertions, deletions, substitutions or swaps of neighbours (optimal
    string alignment), on names of at least ``shortest`` letters: one typo."""

    def agrees(left: str, right: str) -> bool:
        if min(len(left), len(right)) < shortest:
            return False
        return OSA.distance(left, right, score_cutoff=edits) <= edits

    return agrees


def jaro_winkler(threshold: float) -> Callable[[str, str], bool]:
    def agrees(left: str, right: str) -> bool:
        return JaroWinkler.similarity(left, right, score_cutoff=threshold) >= threshold

    return agrees


def same_sound(left: str, right: str) -> bool:
    """The same Metaphone key ("smith" ~ "smyth", "catherine" ~ "kathryn")."""
    code = _phonetic(left)
    return bool(code) and code == _phonetic(right)


def shares_words(left: str, right: str) -> bool:
    """The words of one are some of the other's: a double surname given once ("garcia" ~
    "garcia lopez"), a middle name kept or dropped ("mary ann" ~ "mary")."""
    if " " not in left and " " not in right:
        return False
    ours, theirs = set(left.split()), set(right.split())
    return ours <= theirs or theirs <= ours


@functools.lru_cache(maxsize=65536)
def _phonetic(key: str) -> str:
    return phonetic_key(key)


# --- predicates on identifiers -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EmailQuery:
    email: str


def mailbox_exact(query: EmailQuery, mailboxes: tuple[Mailbox, ...]) -> bool:
    return any(box.email == query.email for box in mailboxes)


def personal_unknown(query: EmailQuery, mailboxes: tuple[Mailbox, ...]) -> bool:
    """A personal address (gmail.com ...) for someone whose personal addresses are not on file:
    the repository cannot tell, so this is no evidence either way."""
    return is_personal_domain(query.email) and not any(box.personal for box in mailboxes)


def same_domain(query: EmailQuery, mailboxes: tuple[Mailbox, ...]) -> bool:
    """Another address at the domain of the candidate's work address: an alias, or as often a
    colleague's (``pkulkarni2@`` where the candidate is ``pkulkarni@``)."""
    domain = query.email.rpartition("@")[2]
    return any(not box.personal and box.email.rpartition("@")[2] == domain for box in mailboxes)


@dataclass(frozen=True, slots=True)
class HashQuery:
    md5: str | None
    sha256: str | None


def hash_exact(query: HashQuery, mailboxes: tuple[Mailbox, ...]) -> bool:
    return any(
        (query.md5 is not None and box.md5 == query.md5)
        or (query.sha256 is not None and box.sha256 == query.sha256)
        for box in mailboxes
    )


@dataclass(frozen=True, slots=True)
class EmployerQuery:
    domains: tuple[str, ...]
    name_key: str


def _employs(query: EmployerQuery, employer: Employer) -> bool:
    return (employer.domain is not None and employer.domain in query.domains) or (
        bool(query.name_key) and employer.name_key == query.name_key
    )


def current_employer(query: EmployerQuery, employers: tuple[Employer, ...]) -> bool:
    return any(e.current and _employs(query, e) for e in employers)


def former_employer(query: EmployerQuery, employers: tuple[Employer, ...]) -> bool:
    return any(not e.current and _employs(query, e) for e in employers)


def employer_name_close(query: EmployerQuery, employers: tuple[Employer, ...]) -> bool:
    """An organization name a little off ("acme logistic" ~ "acme logistics")."""
    if not query.name_key:
        return False
    close = jaro_winkler(0.93)
    return any(e.name_key and close(query.name_key, e.name_key) for e in employers)


# --- the person comparisons ----------------------------------------------------------------

# u measured on 400,000 random pairs of a generated repository (20,000 people), first name:
# exact 0.0008, nickname 0.0001, typo 0.0004, sound 0.0008, similar 0.0004; last name: exact
# 0.0011, typo 0.0003, words 0.00004, sound 0.0004, similar 0.0002. The values used are
# higher: real populations concentrate on fewer names than the generator's many countries.
FIRST_NAME: Comparison[str, str] = Comparison(
    "first_name",
    (
        Level("exact", 0.86, 0.006, exact),
        Level("nickname", 0.05, 0.001, nickname),
        Level("initial", 0.01, 0.0008, initial),
        Level("typo", 0.035, 0.002, within_edits(1, 3)),
        Level("words", 0.01, 0.0005, shares_words),
        Level("sound", 0.02, 0.003, same_sound),
        Level("similar", 0.01, 0.004, jaro_winkler(0.88)),
    ),
    otherwise_m=0.02,
    otherwise_u=0.98,
)
LAST_NAME: Comparison[str, str] = Comparison(
    "last_name",
    (
        Level("exact", 0.88, 0.002, exact),
        Level("typo", 0.04, 0.0006, within_edits(1, 4)),
        Level("words", 0.03, 0.0003, shares_words),
        Level("sound", 0.015, 0.001, same_sound),
        Level("similar", 0.01, 0.002, jaro_winkler(0.88)),
    ),
    otherwise_m=0.025,
    otherwise_u=0.99,
)
# A one-word name (first or last, nobody can tell) is compared with both the first and the last
# name and the better outcome kept (see ``scoring``), so it is weighed like the weaker of the two.
LOOSE_NAME: Comparison[str, str] = Comparison(
    "name",
    (
        Level("exact", 0.8, 0.006, exact),
        Level("nickname", 0.05, 0.004, nickname),
        Level("typo", 0.04, 0.002, within_edits(1, 4)),
    ),
    otherwise_m=0.1,
    otherwise_u=0.9,
)
# A query whose first and last names agree only crosswise (given in each other's fields): about
# 7 % of the queries that give both names, log2(P(swapped | match) / P(in order | match)).
SWAPPED_NAMES = Outcome("names", "swapped", math.log2(0.07 / 0.93))

PERSON_ID: Comparison[str, str] = Comparison(
    "id", (Level("exact", 0.999, 1e-9, exact),), otherwise_m=0.001, otherwise_u=1.0
)
# No "typo" level for emails or LinkedIn slugs: both are derived from names, so an address one
# letter off at the same company is more often a colleague's (nour.haddad@ for nour.haddadi@)
# than a misspelling.
EMAIL: Comparison[EmailQuery, tuple[Mailbox, ...]] = Comparison(
    "email",
    (
        Level("exact", 0.9, 1e-9, mailbox_exact),
        Level("unknown", 1.0, 1.0, personal_unknown),
        Level("same_domain", 0.04, 1.0, same_domain),
    ),
    otherwise_m=0.1,
    otherwise_u=1.0,
)
HASHED_EMAIL: Comparison[HashQuery, tuple[Mailbox, ...]] = Comparison(
    "hashed_email", (Level("exact", 0.9, 1e-9, hash_exact),), otherwise_m=0.15, otherwise_u=1.0
)
# One person, one profile: a different one is strong evidence of a different person (profile
# URLs do change, rarely). Addresses and hashes disagree more often: people have several.
LINKEDIN_URL: Comparison[str, str] = Comparison(
    "linkedin_url", (Level("exact", 0.95, 1e-9, exact),), otherwise_m=0.01, otherwise_u=1.0
)
ORGANIZATION: Comparison[EmployerQuery, tuple[Employer, ...]] = Comparison(
    "organization",
    (
        Level("current", 0.8, 1e-4, current_employer),
        Level("former", 0.12, 2e-4, former_employer),
        Level("similar", 0.02, 2e-4, employer_name_close),
    ),
    otherwise_m=0.08,
    otherwise_u=1.0,
)

# --- the organization comparisons ------------------------------------------------------------

ORGANIZATION_ID: Comparison[str, str] = Comparison(
    "id", (Level("exact", 0.999, 1e-9, exact),), otherwise_m=0.001, otherwise_u=1.0
)
# A domain is the organization's primary key in Apollo: another one outweighs an agreeing name.
DOMAIN: Comparison[str, str] = Comparison(
    "domain", (Level("exact", 0.95, 1e-6, exact),), otherwise_m=0.02, otherwise_u=1.0
)
ORGANIZATION_LINKEDIN_URL: Comparison[str, str] = Comparison(
    "linkedin_url", (Level("exact", 0.95, 1e-6, exact),), otherwise_m=0.05, otherwise_u=1.0
)
ORGANIZATION_NAME: Comparison[str, str] = Comparison(
    "name",
    (
        Level("exact", 0.85, 1e-5, exact),
        Level("words", 0.05, 1e-4, shares_words),
        Level("similar", 0.03, 1e-4, jaro_winkler(0.93)),
    ),
    otherwise_m=0.2,
    otherwise_u=1.0,
)
