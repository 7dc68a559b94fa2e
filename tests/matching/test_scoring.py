"""Comparisons and scoring on plain records, without a database."""

from __future__ import annotations

import pytest

from perilune.matching import (
    DEFAULT_MIN_CONFIDENCE,
    Employer,
    Mailbox,
    PersonCandidate,
    PersonQuery,
    person_keys,
    rank,
    score_person,
)
from perilune.matching.comparisons import FIRST_NAME, LAST_NAME, Comparison, Level, exact
from perilune.matching.scoring import Scored, decide, name_outcomes

TIM = PersonCandidate(
    id="a" * 24,
    first="tim",
    last="zheng",
    linkedin_slug="tim-zheng-677ba010",
    employers=[
        Employer("apollo.io", "apollo", current=True),
        Employer("braingenie.com", "braingenie", current=False),
    ],
    mailboxes=[
        Mailbox("tim@apollo.io", "md5-work", "sha-work", personal=False),
        Mailbox("tim.zheng@gmail.com", "md5-home", "sha-home", personal=True),
    ],
)


@pytest.mark.parametrize(
    ("comparison", "query", "candidate", "level"),
    [
        (FIRST_NAME, "tim", "tim", "exact"),
        (FIRST_NAME, "bob", "robert", "nickname"),
        (FIRST_NAME, "t", "tim", "initial"),
        (FIRST_NAME, "catherien", "catherine", "typo"),
        (FIRST_NAME, "mary", "mary ann", "words"),
        (FIRST_NAME, "kaitlyn", "caitlin", "sound"),
        (FIRST_NAME, "tim", "priya", "disagree"),
        (FIRST_NAME, "", "tim", "missing"),
        (LAST_NAME, "zheng", "zheng", "exact"),
        (LAST_NAME, "zhneg", "zheng", "typo"),
        (LAST_NAME, "garcia", "garcia lopez", "words"),
        (LAST_NAME, "smythe", "smith", "sound"),
        (LAST_NAME, "zheng", "kowalski", "disagree"),
        (LAST_NAME, "zheng", "", "missing"),
    ],
)
def test_name_levels(comparison: Comparison[str, str], query: str, candidate: str, level: str) -> None:
    assert comparison.compare(query, candidate).level == level


def test_levels_are_ordered_from_strong_to_weak_and_disagreement_is_negative() -> None:
    for comparison in (FIRST_NAME, LAST_NAME):
        weights = [level.weight for level in comparison.levels]
        assert weights[0] == max(weights)
        assert all(w > 0 for w in weights)
        assert comparison.otherwise.weight < -4


def test_a_level_weight_is_log2_of_m_over_u() -> None:
    comparison = Comparison("x", (Level("exact", 0.8, 0.1, exact),), otherwise_m=0.2, otherwise_u=0.8)
    assert comparison.compare("a", "a").weight == pytest.approx(3.0)
    assert comparison.compare("a", "b").weight == pytest.approx(-2.0)
    assert comparison.compare(None, "b").weight == 0.0


def test_swapped_names_agree_crosswise_at_a_cost() -> None:
    direct = name_outcomes(person_keys(PersonQuery(first_name="Tim", last_name="Zheng")), TIM)
    swapped = name_outcomes(person_keys(PersonQuery(first_name="Zheng", last_name="Tim")), TIM)
    assert [o.level for o in direct] == ["exact", "exact"]
    assert [o.level for o in swapped] == ["exact", "exact", "swapped"]
    assert 0 < sum(o.weight for o in swapped) < sum(o.weight for o in direct)


def test_a_one_word_name_is_tried_as_first_and_last() -> None:
    keys = person_keys(PersonQuery(name="Zheng"))
    (outcome,) = name_outcomes(keys, TIM)
    assert (outcome.comparison, outcome.level) == ("name", "exact")


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        (PersonQuery(email="TIM@apollo.io"), "email"),
        (PersonQuery(email="tim.zheng@gmail.com"), "email"),
        (PersonQuery(hashed_email="md5-home"), None),  # not hex: no hash at all
        (PersonQuery(linkedin_url="linkedin.com/in/tim-zheng-677ba010"), "linkedin_url"),
        (PersonQuery(domain="braingenie.com"), "organization:former"),
        (PersonQuery(organization_name="Apollo, Inc."), "organization:current"),
    ],
)
def test_identifier_and_employer_comparisons(query: PersonQuery, reason: str | None) -> None:
    scored = score_person(person_keys(query), TIM)
    reasons = rank([scored])[0].reasons
    if reason is None:
        assert reasons == ()
    else:
        assert reasons[0] == reason


def test_a_personal_address_the_repository_does_not_know_is_no_evidence() -> None:
    stranger = PersonCandidate(id="b" * 24, first="tim", last="zheng")
    stranger.mailboxes.append(Mailbox("tim@apollo.io", None, None, personal=False))
    keys = person_keys(PersonQuery(email="timz@gmail.com"))
    email = next(o for o in score_person(keys, stranger).outcomes if o.comparison == "email")
    assert (email.level, email.weight) == ("unknown", 0.0)
    work = person_keys(PersonQuery(email="timz@microsoft.com"))
    other = next(o for o in score_person(work, stranger).outcomes if o.comparison == "email")
    assert other.level == "disagree" and other.weight < 0
    # Another mailbox at the candidate's own company is more often a colleague's than an alias.
    alias = person_keys(PersonQuery(email="tim2@apollo.io"))
    colleague = next(o for o in score_person(alias, stranger).outcomes if o.comparison == "email")
    assert colleague.level == "same_domain" and colleague.weight < other.weight


def _scored(name: str, weight: float) -> Scored[str]:
    return Scored(name, weight, ())


def test_confidences_share_the_mass_with_no_match() -> None:
    alone = rank([_scored("a", 10.0)])
    assert alone[0].confidence == pytest.approx(1024 / 1025)
    twins = rank([_scored("a", 10.0), _scored("b", 10.0)])
    assert [r.confidence for r in twins] == pytest.approx([1024 / 2049] * 2)
    weak = rank([_scored("b", -3.0), _scored("a", 2.0)])
    assert [r.candidate for r in weak] == ["a", "b"]
    assert sum(r.confidence for r in weak) < 1
    huge = rank([_scored("a", 5000.0), _scored("b", -5000.0)])  # no overflow
    assert huge[0].confidence == pytest.approx(1.0)


def test_decide_needs_the_bar_and_a_clear_lead() -> None:
    assert decide(rank([_scored("a", 10.0)])) is not None
    assert decide(rank([_scored("a", 2.0)])) is None  # 0.8 < DEFAULT_MIN_CONFIDENCE
    assert decide(rank([_scored("a", 10.0), _scored("b", 9.0)])) is None
    assert decide(rank([_scored("a", 10.0)]), min_confidence=0.9999) is None
    assert decide(rank([_scored("a", 2.0)]), min_confidence=0.1) is None
    assert DEFAULT_MIN_CONFIDENCE == 0.9
    assert decide([]) is None


def test_two_candidates_holding_unique_keys_of_one_query_contradict_it() -> None:
    robert = PersonCandidate(id="c" * 24, first="robert", last="mueller", linkedin_slug="robert-mueller")
    keys = person_keys(PersonQuery(email="tim@apollo.io", linkedin_url="linkedin.com/in/robert-mueller"))
    ranked = rank([score_person(keys, TIM), score_person(keys, robert)])
    assert ranked[0].candidate is TIM and ranked[0].confidence > DEFAULT_MIN_CONFIDENCE
    assert decide(ranked) is None
