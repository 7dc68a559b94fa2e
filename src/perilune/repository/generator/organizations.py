"""Organizations: a plan for every company first (what people and employment histories need to
know about it, ~200 bytes each), then the people are shared out in proportion to company size,
then each company's full Apollo-shaped record is built from its own seeded stream.

Sizes are heavy-tailed like real company registers: most companies have 1-50 employees and a
few have tens of thousands (SIZE_BUCKETS, reweighted per kind of industry: restaurants are
small, hospitals and universities large)."""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from perilune.repository.generator import ids
from perilune.repository.generator.naming import Namer
from perilune.repository.generator.picking import Weighted, sample, skewed
from perilune.repository.generator.reference import (
    City,
    Country,
    FundingStage,
    Industry,
    Reference,
    log_uniform,
)
from perilune.repository.normalize import fold

Record = dict[str, Any]

# (smallest, largest, size class, weight): the share of companies in each employee range.
SIZE_BUCKETS: tuple[tuple[int, int, str, float], ...] = (
    (1, 10, "tiny", 38.0),
    (11, 50, "small", 30.0),
    (51, 200, "small", 16.0),
    (201, 500, "mid", 7.0),
    (501, 1000, "mid", 3.5),
    (1001, 5000, "mid", 3.5),
    (5001, 10000, "large", 1.0),
    (10001, 50000, "large", 0.7),
    (50001, 300000, "large", 0.2),
)
ORGANIZATION_STREAM = 1
PLAN_STREAM = 3
_HQ_PHONE_SHARE = 0.9
_MAX_JOB_POSTINGS = 40
_MAX_NEWS = 8


@dataclass(slots=True)
class OrgPlan:
    """What the rest of the generator needs to know about a company."""

    index: int
    id: str
    name: str
    domain: str
    linkedin_slug: str
    industry: Industry
    country: Country
    city: City
    employees: int
    founded: int
    email_pattern: str
    phone: str | None
    people: int = 0  # how many generated people work here now
    first_person: int = 0  # the global index of the first of them


def plan_organizations(ref: Reference, count: int, seed: int, as_of: date) -> list[OrgPlan]:
    rng = random.Random(ids.stream_seed(seed, PLAN_STREAM))
    namer = Namer(ref)
    make_id = ids.IdMaker(seed, ids.ORGANIZATION)
    sizes = {
        name: Weighted(((lo, hi), w * spec.sizes.get(cls, 1.0)) for lo, hi, cls, w in SIZE_BUCKETS)
        for name, spec in {i.kind.name: i.kind for i in ref.industries.items}.items()
    }
    plans = []
    for index in range(count):
        industry = ref.industries.pick(rng)
        country = ref.countries.pick(rng)
        city = country.cities.pick(rng)
        low, high = sizes[industry.kind.name].pick(rng)
        employees = log_uniform(rng, low, high)
        company = namer.company(rng, industry, country, city)
        plans.append(
            OrgPlan(
                index=index,
                id=make_id(index),
                name=company.name,
                domain=company.domain,
                linkedin_slug=company.linkedin_slug,
                industry=industry,
                country=country,
                city=city,
                employees=employees,
                founded=_founded(rng, industry, employees, as_of),
                email_pattern=ref.words.email_patterns.pick(rng),
                phone=_phone(rng, country.landline or country.mobile)
                if rng.random() < _HQ_PHONE_SHARE
                else None,
            )
        )
    return plans


def _founded(rng: random.Random, industry: Industry, employees: int, as_of: date) -> int:
    """Bigger companies are older: the median age grows with log(size)."""
    kind = industry.kind
    median = kind.age_median * (1 + math.log10(employees) / 2)
    age = int(rng.lognormvariate(math.log(median), 0.6))
    earliest, latest = kind.founded
    return max(earliest, min(latest, as_of.year - 1, as_of.year - age))


def _phone(rng: random.Random, prefixes: tuple[str, ...]) -> str | None:
    if not prefixes:
        return None
    return f"{rng.choice(prefixes)}{rng.randrange(10000):04d}"


def allocate_people(plans: list[OrgPlan], people: int, seed: int) -> None:
    """Share ``people`` out over the companies in proportion to their size (largest remainder,
    so the total is exact): every company gets one (its founder or chief executive) while there
    are enough people to go round. A company's estimated employee count is raised where fewer
    employees were drawn than people allocated."""
    if not plans:
        return
    floor = 1 if people >= len(plans) else 0
    rest = people - floor * len(plans)
    total = sum(p.employees for p in plans)
    quotas = [rest * p.employees / total for p in plans]
    counts = [floor + int(q) for q in quotas]
    short = people - sum(counts)
    by_remainder = sorted(range(len(plans)), key=lambda i: (-(quotas[i] - int(quotas[i])), i))
    for i in by_remainder[:short]:
        counts[i] += 1
    first = 0
    for plan, count in zip(plans, counts, strict=True):
        plan.people = count
        plan.first_person = first
        first += count
        if count:
            # the people found are a sample of the staff: 1.2-2.2 employees per person at least
            spread = 1.2 + (ids.mix64(seed + plan.index) % 1000) / 1000
            plan.employees = max(plan.employees, math.ceil(count * spread))


class OrganizationMaker:
    """Builds each company's full record from its plan and its own random stream."""

    def __init__(self, ref: Reference, plans: list[OrgPlan], seed: int, as_of: date) -> None:
        self._ref = ref
        self._plans = plans
        self._seed = seed
        self._as_of = as_of
        self._as_of_ordinal = as_of.toordinal()
        self._news_roles = ref.titles["operations"]["c_suite"] + ref.titles["sales"]["c_suite"]

    def record(self, plan: OrgPlan) -> Record:
        rng = random.Random(ids.stream_seed(self._seed, ORGANIZATION_STREAM, plan.index))
        industry = plan.industry
        size = plan.employees
        funding = self._funding(rng, plan)
        handle = plan.domain.split(".")[0].replace("-", "")[:15]
        return {
            "id": plan.id,
            "name": plan.name,
            "website_url": f"http://www.{plan.domain}",
            "primary_domain": plan.domain,
            "linkedin_url": f"http://www.linkedin.com/company/{plan.linkedin_slug}"
            if rng.random() < 0.95
            else None,
            "twitter_url": f"https://twitter.com/{handle}" if rng.random() < 0.45 else None,
            "facebook_url": f"https://www.facebook.com/{handle}" if rng.random() < 0.4 else None,
            "phone": plan.phone,
            "industry": industry.name,
            "keywords": sample(
                rng, industry.keywords, min(len(industry.keywords), 4 + int(math.log2(size + 1)))
            ),
            "estimated_num_employees": size,
            "founded_year": plan.founded if rng.random() < 0.9 else None,
            "annual_revenue": self._revenue(rng, plan),
            **self._address(rng, plan),
            "short_description": self._description(rng, plan) if rng.random() < 0.85 else None,
            **self._technologies(rng, plan),
            "total_funding": funding[0] if funding else None,
            "latest_funding_stage": funding[1] if funding else None,
            "latest_funding_round_date": funding[2] if funding else None,
            "job_postings": self._job_postings(rng, plan),
            "news_articles": self._news(rng, plan, funding),
        }

    def _revenue(self, rng: random.Random, plan: OrgPlan) -> float | None:
        if rng.random() < 0.2:
            return None
        value = plan.employees * plan.industry.revenue * rng.lognormvariate(0, 0.45)
        digits = max(0, int(math.log10(value)) - 2)
        return float(round(value / 10**digits) * 10**digits)

    def _address(self, rng: random.Random, plan: OrgPlan) -> Record:
        country = plan.country
        street = None
        postal = None
        if rng.random() < 0.85:
            suffix = country.street_suffixes.pick(rng) if country.street_suffixes else ""
            street = country.street_format.format(
                num=log_uniform(rng, 1, country.street_numbers),
                name=rng.choice(country.street_names),
                suffix=suffix,
            )
            postal = _fill(country.postal, rng.random)
        return {
            "street_address": street,
            "city": plan.city.name,
            "state": plan.city.state,
            "postal_code": postal,
            "country": country.name,
        }

    def _description(self, rng: random.Random, plan: OrgPlan) -> str:
        words = self._ref.words
        size_word = next(w for low, w in reversed(words.size_words) if plan.employees >= low)
        return rng.choice(words.descriptions).format(
            name=plan.name,
            offer=rng.choice(plan.industry.offers),
            audience=rng.choice(plan.industry.audiences),
            size_word=size_word,
            industry=plan.industry.name,
            city=plan.city.name,
            country=plan.country.name,
            founded=plan.founded,
        )

    def _technologies(self, rng: random.Random, plan: OrgPlan) -> Record:
        """Apollo's ``current_technologies`` (uid, name, category) and ``technology_names``."""
        wanted = min(25, 2 + int(math.log2(plan.employees + 1)) + int(rng.random() * 5))
        seen: dict[str, Record] = {}
        for tech in plan.industry.technologies.picks(rng, wanted + wanted // 2):
            if tech.uid not in seen:
                seen[tech.uid] = {"uid": tech.uid, "name": tech.name, "category": tech.category}
                if len(seen) >= wanted:
                    break
        return {
            "technology_names": [t["name"] for t in seen.values()],
            "current_technologies": list(seen.values()),
        }

    def _funding(self, rng: random.Random, plan: OrgPlan) -> tuple[int, str, str] | None:
        kind = plan.industry.kind
        if plan.founded < 1995 or rng.random() >= kind.funded:
            return None
        stages = [s for s in self._ref.words.funding if s.min_size <= plan.employees <= s.max_size]
        if not stages:
            return None
        stage: FundingStage = rng.choice(stages)
        latest = rng.randint(stage.low, stage.high)
        total = int(latest * rng.uniform(1.0, 2.4) / 100_000) * 100_000
        earliest = max(date(plan.founded, 1, 1).toordinal(), self._as_of_ordinal - 4 * 365)
        day = date.fromordinal(rng.randint(min(earliest, self._as_of_ordinal - 30), self._as_of_ordinal - 30))
        return total, stage.name, f"{day.year:04d}-{day.month:02d}-01T00:00:00.000+00:00"

    def _job_postings(self, rng: random.Random, plan: OrgPlan) -> list[Record]:
        size = plan.employees
        if rng.random() >= min(0.85, 0.08 + 0.15 * math.log10(size + 1)):
            return []
        count = min(_MAX_JOB_POSTINGS, 1 + int(rng.expovariate(1.0) * max(1.0, math.sqrt(size) / 3)))
        titles = self._ref.titles
        postings = []
        for _ in range(count):
            group = titles[plan.industry.groups.pick(rng)]
            title = skewed(rng, group[_POSTING_SENIORITY.pick(rng)]).title
            city = plan.city if rng.random() < 0.6 else plan.country.cities.pick(rng)
            job = 1_000_000_000 + rng.getrandbits(31)
            posted = self._moment(rng, days=60)
            postings.append(
                {
                    "title": title,
                    "url": f"https://www.linkedin.com/jobs/view/{_slug(title)}-at-{plan.linkedin_slug}-{job}",
                    "city": city.name,
                    "state": city.state,
                    "country": city.country,
                    "posted_at": posted,
                }
            )
        return postings

    def _news(self, rng: random.Random, plan: OrgPlan, funding: tuple[int, str, str] | None) -> list[Record]:
        size = plan.employees
        if size >= 2000:
            count = rng.randint(2, _MAX_NEWS) if rng.random() < 0.9 else 0
        elif size >= 200:
            count = rng.randint(1, 4) if rng.random() < 0.5 else 0
        else:
            count = 1 if funding and rng.random() < 0.3 else 0
        words = self._ref.words
        articles = []
        for _ in range(count):
            event = words.news_events.pick(rng)
            values = _NewsValues(self, rng, plan, funding)
            title = rng.choice(event.titles).format_map(values)
            site = words.news_sites.pick(rng)
            articles.append(
                {
                    "title": title,
                    "url": f"https://www.{site}/news/{_slug(title)[:90]}-{rng.randrange(10**8, 10**9)}",
                    "snippet": event.snippet.format_map(values),
                    "published_at": self._moment(rng, days=3 * 365),
                    "event_categories": [event.category],
                }
            )
        return articles

    def news_value(
        self, rng: random.Random, plan: OrgPlan, funding: tuple[int, str, str] | None, key: str
    ) -> Any:
        """One placeholder of a news template, drawn when the template first asks for it."""
        words = self._ref.words
        if key == "org":
            return plan.name
        if key == "person":
            pool = plan.country.names.pick(rng)
            return f"{skewed(rng, pool.first).text} {skewed(rng, pool.last).text}"
        if key == "role":
            return rng.choice(self._news_roles).title
        if key == "amount":
            amount = funding[0] if funding else rng.randint(2, 80) * 1_000_000
            return f"{amount / 1_000_000:.0f}M" if amount >= 1_000_000 else f"{amount // 1000}K"
        if key == "round":
            return funding[1] if funding else "Series A"
        if key == "partner":
            partner = self._plans[rng.randrange(len(self._plans))]
            return partner.name if partner is not plan else "a Fortune 500 Company"
        if key == "place":
            return plan.country.cities.pick(rng).name
        if key == "year":
            return self._as_of.year - rng.randint(0, 2)
        choices = {
            "investor": words.investors,
            "product": words.products,
            "audience": plan.industry.audiences,
            "offer": plan.industry.offers,
        }[key]
        return rng.choice(choices)

    def _moment(self, rng: random.Random, days: int) -> str:
        """An ISO time within ``days`` before the as-of date, as Apollo writes times."""
        day = date.fromordinal(self._as_of_ordinal - int(rng.random() * days))
        millis = int(rng.random() * 86_400_000)
        seconds = millis // 1000
        return (
            f"{day.isoformat()}T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
            f".{millis % 1000:03d}+00:00"
        )


_POSTING_SENIORITY: Weighted[str] = Weighted.of(
    {"entry": 45, "senior": 30, "manager": 15, "director": 5, "intern": 3, "head": 1, "vp": 1}
)


class _NewsValues(dict[str, Any]):
    """Template values drawn on first use, so a template pays only for the placeholders it has."""

    def __init__(
        self,
        maker: OrganizationMaker,
        rng: random.Random,
        plan: OrgPlan,
        funding: tuple[int, str, str] | None,
    ) -> None:
        super().__init__()
        self._draw = (maker, rng, plan, funding)

    def __missing__(self, key: str) -> Any:
        maker, rng, plan, funding = self._draw
        value = self[key] = maker.news_value(rng, plan, funding, key)
        return value


@functools.lru_cache(maxsize=4096)
def _slug(text: str) -> str:
    return fold(text).replace(" ", "-")


def _fill(pattern: str, random_: Callable[[], float]) -> str:
    """A postal code from its pattern: "#" a digit, "@" a capital letter."""
    return "".join(
        _DIGITS[int(random_() * 10)]
        if c == "#"
        else _LETTERS[int(random_() * len(_LETTERS))]
        if c == "@"
        else c
        for c in pattern
    )


_DIGITS = "0123456789"
_LETTERS = "ABCDEFGHJKLMNPRSTUVWXY"
