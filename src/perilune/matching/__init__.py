"""Entity resolution for enrichment: which repository person (or organization) a query means.

Usage (``executor`` is an ``AsyncConnection`` or ``AsyncSession`` on the repository; matching
only reads)::

    match = await match_person(session, PersonQuery(first_name="Timothy", last_name="Zheng",
                                                     domain="https://www.apollo.io"))
    if match is not None:
        match.person_id, match.confidence, match.reasons
        # "6453e9bd8f50d40001f1e348", 0.9941, ("organization:current", "last_name",
        #                                      "first_name:nickname")

    org = await match_organization(session, OrganizationQuery(domain="apollo.io"))

``match_person`` and ``match_organization`` return None when there is no match: when the
evidence is too weak, when two candidates fit nearly as well, or when the query's unique keys
(email, LinkedIn URL, id ...) belong to two different records (a wrong person is worse than
none). ``min_confidence`` raises the bar for one call above ``DEFAULT_MIN_CONFIDENCE`` (0.9);
it never lowers it. ``confidence`` is rounded to four decimals; ``reasons`` name the fields that
agreed, strongest first: ``"email"``, ``"hashed_email"``, ``"linkedin_url"``, ``"id"``,
``"first_name"``, ``"last_name"``, ``"name"`` (a one-word name), ``"organization:current"``,
with the looser levels as ``"<field>:<level>"`` (``"first_name:nickname"``,
``"last_name:typo"``, ``"organization:former"``, ``"names:swapped"`` ...); for organizations
``"domain"``, ``"linkedin_url"``, ``"name"``, ``"id"``. ``rank_people``/``rank_organizations``
return every candidate scored, best first, for diagnostics.

``PersonQuery`` and ``OrganizationQuery`` use Apollo's parameter names (``first_name``,
``hashed_email``, ``organization_name``, ``domain``, ``website`` ...), so an endpoint passes a
request's values straight through; values are normalised here, never by the caller.

How it works, in the splink (Fellegi-Sunter) style, in three separate steps:

1. **Normalise** (``queries``): every query value goes through
   ``perilune.repository.normalize``, the same code the importer stores keys with: emails
   lower-cased and trimmed, MD5/SHA-256 hashes recognised, LinkedIn slugs from every URL form,
   registrable domains from URLs, hosts or a work email, organization names without legal forms,
   names folded to ASCII keys with nickname variants and a Metaphone key; a full ``name`` is
   split by nameparser.
2. **Block** (``blocking``): indexed look-ups, each bounded by a ``LIMIT``, fetch a small
   candidate set in one statement: exact email or hash (work or personal), LinkedIn slug,
   person id, and name keys among the current people of the organizations the query names. A
   second tier (nicknames, phonetic keys, swapped names, former employers, the name across the
   repository) runs only when the first finds no confident match.
3. **Score and decide** (``comparisons``, ``scoring``): each field is a declarative comparison,
   an ordered list of levels (exact, nickname, one typo, same sound, ...) each worth
   ``log2(m/u)`` bits; the prior plus the bits gives each candidate a weight, and the weights of
   all candidates become confidences that share the probability mass, so ambiguity lowers them.

The repository is shared by every team, so matching takes no team; what a team may see of the
matched person (reveals, credits) is the caller's business. ``bench/match_accuracy.py`` measures
precision and recall on a generated repository with noisy queries.
"""

from perilune.matching.blocking import Executor
from perilune.matching.engine import (
    OrganizationMatch,
    PersonMatch,
    match_organization,
    match_person,
    rank_organizations,
    rank_people,
)
from perilune.matching.queries import (
    OrganizationKeys,
    OrganizationQuery,
    PersonKeys,
    PersonQuery,
    organization_keys,
    person_keys,
)
from perilune.matching.records import Employer, Mailbox, OrganizationCandidate, PersonCandidate
from perilune.matching.scoring import DEFAULT_MIN_CONFIDENCE, Ranked, rank, score_organization, score_person

__all__ = [
    "DEFAULT_MIN_CONFIDENCE",
    "Employer",
    "Executor",
    "Mailbox",
    "OrganizationCandidate",
    "OrganizationKeys",
    "OrganizationMatch",
    "OrganizationQuery",
    "PersonCandidate",
    "PersonKeys",
    "PersonMatch",
    "PersonQuery",
    "Ranked",
    "match_organization",
    "match_person",
    "organization_keys",
    "person_keys",
    "rank",
    "rank_organizations",
    "rank_people",
    "score_organization",
    "score_person",
]
