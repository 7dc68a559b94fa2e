"""People, generated company by company from each company's own random stream, so memory stays
flat however many there are and a company's people do not depend on the ones before it.

This is the hot loop (the target is tens of thousands of people a second): every pool (names,
titles with their classification, cities, phone prefixes) is built beforehand, picks are plain
``random.Random`` calls, and nothing here parses, validates or classifies.

Uniqueness holds by construction: work email local parts are unique within the company and
domains are unique; LinkedIn slugs and personal email addresses end in a tag that is a bijection
of the person's global index (ids.SlugSuffix, ids.NumberTag)."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

from perilune.repository.generator import ids
from perilune.repository.generator.organizations import OrgPlan
from perilune.repository.generator.picking import Weighted, skewed
from perilune.repository.generator.reference import Country, Reference, TitleRef

Record = dict[str, Any]

PEOPLE_STREAM = 2
EMAIL_STATUSES: dict[str, float] = {
    "verified": 70,
    "guessed": 15,
    "unavailable": 10,
    "bounced": 3,
    "pending_manual_fulfillment": 2,
}
_NO_EMAIL = frozenset({"unavailable", "pending_manual_fulfillment"})
_STEP_DOWN = {
    "c_suite": "vp", "vp": "director", "head": "director", "director": "manager", "manager": "senior",
    "senior": "entry", "entry": "entry", "intern": "intern", "partner": "director",
    "founder": "director", "owner": "manager",
}  # fmt: skip
# How many earlier jobs a person has, by seniority: (fewest, most).
_PAST_JOBS = {
    "intern": (0, 1), "entry": (0, 2), "senior": (1, 3), "manager": (1, 4), "director": (2, 4),
    "head": (2, 4), "vp": (2, 4), "c_suite": (2, 4), "partner": (2, 4), "founder": (1, 4),
    "owner": (0, 3),
}  # fmt: skip
_NO_PAST_JOBS = (0, 2)
_TECH_GROUPS = frozenset({"engineering", "data", "security"})
_EARLIEST_JOB = 1990 * 12
_FOUNDER_YEARS = 30


def month_text(month: int) -> str:
    return f"{month // 12:04d}-{month % 12 + 1:02d}-01"


_FIRST_MONTH = 1900 * 12
_MONTHS = tuple(month_text(m) for m in range(_FIRST_MONTH, 2101 * 12))


class PeopleMaker:
    def __init__(self, ref: Reference, plans: list[OrgPlan], seed: int, as_of: date) -> None:
        self._ref = ref
        self._plans = plans
        self._seed = seed
        self._now = as_of.year * 12 + as_of.month - 1
        self._as_of_year = as_of.year
        self._person_id = ids.IdMaker(seed, ids.PERSON)
        self._slug_suffix = ids.SlugSuffix(seed)
        self._number_tag = ids.NumberTag(seed)
        self._statuses = Weighted.of(EMAIL_STATUSES)
        self._seniorities: dict[tuple[int, bool], Weighted[str]] = {}
        self._by_industry: dict[str, list[OrgPlan]] = {}
        for plan in plans:
            self._by_industry.setdefault(plan.industry.name, []).append(plan)

    def people(self, plan: OrgPlan) -> Iterator[Record]:
        """The people who work at ``plan`` now, its leader first."""
        rng = random.Random(ids.stream_seed(self._seed, PEOPLE_STREAM, plan.index))
        used: set[str] = set()
        seniority = self._seniority_choice(plan)
        for k in range(plan.people):
            yield self._person(rng, plan, k, used, seniority)

    def _seniority_choice(self, plan: OrgPlan) -> Weighted[str]:
        """Seniority shares for a company's staff: chief executives and VPs are rarer the
        larger the company; partners only in partnerships."""
        size = plan.employees
        partnership = plan.industry.kind.leader == "partnership"
        key = (size.bit_length(), partnership)
        found = self._seniorities.get(key)
        if found is None:
            size = 1 << (size.bit_length() - 1)
            weights = {
                "intern": 0.02 if size >= 50 else 0.005,
                "entry": 0.44,
                "senior": 0.22,
                "manager": 0.15,
                "director": 0.06 if size >= 50 else 0.03,
                "head": 0.02,
                "vp": min(0.06, 0.004 + 15 / size),
                "c_suite": min(0.05, 4 / size),
                "partner": 0.06 if partnership else 0.0,
            }
            found = self._seniorities[key] = Weighted.of(weights)
        return found

    def _person(
        self, rng: random.Random, plan: OrgPlan, k: int, used: set[str], seniority: Weighted[str]
    ) -> Record:
        index = plan.first_person + k
        random_ = rng.random
        city = plan.city
        at_hq = True
        r = random_()
        if r >= (0.9 if plan.employees < 50 else 0.7):
            at_hq = False
            city = plan.country.cities.pick(rng)
            if r > 0.95 and plan.employees >= 1000:
                city = self._ref.countries.pick(rng).cities.pick(rng)
        country = self._ref.by_code[city.country_code]
        pool = country.names.pick(rng)
        u = random_()
        first = pool.first[int(len(pool.first) * u * u)]
        u = random_()
        last = pool.last[int(len(pool.last) * u * u)]
        last_text, last_key = last.text, last.key
        if pool.double_surname and random_() < pool.double_surname:
            u = random_()
            second = pool.last[int(len(pool.last) * u * u)]
            if second is not last:
                last_text, last_key = f"{last.text} {second.text}", last.key + second.key
        fk = first.key
        group, title = self._title(rng, plan, k, seniority)
        status = self._statuses.pick(rng)
        email = None
        if status not in _NO_EMAIL:
            local = plan.email_pattern.format(first=fk, last=last_key, f=fk[0], l=last_key[0])
            if local in used:
                number = 2
                while f"{local}{number}" in used:
                    number += 1
                local = f"{local}{number}"
            used.add(local)
            email = f"{local}@{plan.domain}"
        return {
            "id": self._person_id(index),
            "first_name": first.text,
            "last_name": last_text,
            "name": f"{first.text} {last_text}",
            "title": title.title,
            "headline": self._headline(random_, plan, title.title),
            "email": email,
            "email_status": status,
            "personal_emails": self._personal_emails(rng, country, fk, last_key, index)
            if random_() < 0.2
            else [],
            "phone_numbers": self._phones(random_, plan, country, at_hq),
            "linkedin_url": f"http://www.linkedin.com/in/{fk}-{last_key}-{self._slug_suffix(index)}"
            if random_() < 0.97
            else None,
            "twitter_url": f"https://twitter.com/{(fk + last_key)[:15]}" if random_() < 0.05 else None,
            "github_url": f"https://github.com/{fk[0]}{last_key}"
            if group in _TECH_GROUPS and random_() < 0.3
            else None,
            "photo_url": self._photo(rng) if random_() < 0.7 else None,
            "city": city.name,
            "state": city.state,
            "country": city.country,
            "seniority": title.seniority,
            "departments": list(title.departments),
            "subdepartments": list(title.subdepartments),
            "functions": list(title.functions),
            "organization_id": plan.id,
            "employment_history": self._history(random_, plan, k, group, title),
        }

    def _title(
        self, rng: random.Random, plan: OrgPlan, k: int, seniority: Weighted[str]
    ) -> tuple[str, TitleRef]:
        ref = self._ref
        group = plan.industry.groups.pick(rng)
        if k == 0:
            return group, self._leader(rng, plan)
        kind = plan.industry.kind
        if (
            k <= 2
            and kind.leader == "startup"
            and plan.employees <= 200
            and plan.founded >= self._as_of_year - 15
            and rng.random() < 0.5
        ):
            return group, skewed(rng, ref.leaders["cofounder"])
        return group, skewed(rng, ref.titles[group][seniority.pick(rng)])

    def _leader(self, rng: random.Random, plan: OrgPlan) -> TitleRef:
        """The founder, owner or chief executive; a company older than a career has no founder
        at its head any more."""
        local = plan.country.local_leaders
        style = plan.industry.kind.leader
        if plan.employees >= 1000 and style in ("startup", "small"):
            style = "established"
        title = rng.choice(local) if local and rng.random() < 0.3 else skewed(rng, self._ref.leaders[style])
        if title.seniority == "founder" and self._as_of_year - plan.founded > _FOUNDER_YEARS:
            title = skewed(rng, self._ref.leaders["established"])
        return title

    def _headline(self, random_: Callable[[], float], plan: OrgPlan, title: str) -> str:
        r = random_()
        if r < 0.7:
            return f"{title} at {plan.name}"
        if r < 0.85:
            return title
        keywords = plan.industry.keywords
        first = keywords[int(random_() * len(keywords))].title()
        return f"{title} | {first} | {keywords[int(random_() * len(keywords))].title()}"

    def _personal_emails(
        self, rng: random.Random, country: Country, fk: str, lk: str, index: int
    ) -> list[str]:
        tag = self._number_tag(index)
        style = rng.random()
        if style < 0.4:
            local = f"{fk}.{lk}{tag}"
        elif style < 0.7:
            local = f"{fk}{lk}{tag}"
        elif style < 0.9:
            local = f"{fk[0]}{lk}{tag}"
        else:
            local = f"{fk}{tag}"
        return [f"{local}@{country.personal_domains.pick(rng)}"]

    def _phones(
        self, random_: Callable[[], float], plan: OrgPlan, country: Country, at_hq: bool
    ) -> list[Record]:
        phones = []
        if random_() < 0.45:
            prefixes = country.mobile or country.landline
            number = f"{prefixes[int(random_() * len(prefixes))]}{int(random_() * 10000):04d}"
            phones.append({"raw_number": number, "type": "mobile"})
        if random_() < 0.2:
            prefixes = country.landline or country.mobile
            number = f"{prefixes[int(random_() * len(prefixes))]}{int(random_() * 10000):04d}"
            phones.append({"raw_number": number, "type": "work_direct"})
        if at_hq and plan.phone and random_() < 0.3:
            phones.append({"raw_number": plan.phone, "type": "work_hq"})
        return phones

    def _photo(self, rng: random.Random) -> str:
        token = rng.getrandbits(64)
        stamp = 1_500_000_000_000 + rng.getrandbits(37)
        return f"https://media.licdn.com/dms/image/C4E03AQ{token:016X}/profile-displayphoto-shrink_200_200/0/{stamp}"

    def _history(
        self, random_: Callable[[], float], plan: OrgPlan, k: int, group: str, title: TitleRef
    ) -> list[Record]:
        """The current job at ``plan``, then 0-4 earlier ones at other generated companies
        (of the same industry 40% of the time), each ending before the next began and starting
        after its company was founded; earlier titles are often a step less senior."""
        now = self._now
        founded = plan.founded * 12
        seniority = title.seniority
        if k == 0 and seniority == "founder":
            start = founded + int(random_() * 12)
        elif k == 0 and seniority == "owner":
            start = max(founded, now - int(random_() * 360))
        else:
            start = max(founded, now - 1 + int(math.log(1.0 - random_()) * 30))
        if start >= now:
            start = now - 1
        jobs = [
            {
                "organization_id": plan.id,
                "organization_name": plan.name,
                "title": title.title,
                "start_date": _MONTHS[start - _FIRST_MONTH],
                "end_date": None,
                "current": True,
            }
        ]
        fewest, most = _PAST_JOBS.get(seniority, _NO_PAST_JOBS)
        count = fewest + int(random_() * (most - fewest + 1))
        if not count:
            return jobs
        titles = self._ref.titles[group]
        same = self._by_industry[plan.industry.name]
        everyone = self._plans
        log = math.log
        cursor = start
        for _ in range(count):
            end = cursor - int(random_() * 5)
            begin = end - 8 + int(log(1.0 - random_()) * 30)
            if begin < _EARLIEST_JOB:
                break
            year = begin // 12
            pool = same if random_() < 0.4 else everyone
            employer = pool[int(random_() * len(pool))]
            if employer is plan or employer.founded > year:
                employer = everyone[int(random_() * len(everyone))]
                if employer is plan or employer.founded > year:
                    break
            if random_() < 0.55:
                seniority = _STEP_DOWN.get(seniority, "entry")
            choices = titles.get(seniority) or titles["entry"]
            u = random_()
            jobs.append(
                {
                    "organization_id": employer.id,
                    "organization_name": employer.name,
                    "title": choices[int(len(choices) * u * u)].title,
                    "start_date": _MONTHS[begin - _FIRST_MONTH],
                    "end_date": _MONTHS[end - _FIRST_MONTH],
                    "current": False,
                }
            )
            cursor = begin
        return jobs
