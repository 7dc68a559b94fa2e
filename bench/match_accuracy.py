"""How well the matching engine finds people: precision, recall and false matches on labelled,
noisy queries against a generated repository.

    .venv/bin/python -m bench.match_accuracy [--people 20000] [--queries 6000] [--absent 1500]

A repository of ``--people`` generated people (``perilune.repository.generator``) is imported into
a temporary SQLite database through the real importer. Queries are built from those people with
realistic noise, each naming 1 to 4 identifying fields (name, employer, email or its hash,
LinkedIn URL, id) and 0 to 3 kinds of noise, alone and combined:

- names: a typo (one edit), a nickname ("Robert" -> "Bob"), first and last swapped, one of
  them missing, accents dropped or added, the full name in ``name`` instead of its parts;
- email: upper-case and padded, a personal address instead of the work one, an MD5 or
  SHA-256 hash instead of the address;
- LinkedIn: every URL form that circulates (country hosts, mobile, query strings, trailing
  paths, bare slugs);
- employer: a domain written as a URL or with a subdomain, the company by name only (with or
  without its legal form), a former employer (from the employment history) instead of the
  current one.

Another ``--absent`` queries describe people generated with a different seed: they are not in
the repository, so any match is a false one. Half of them are newcomers at a company of the
repository (its employer, its email domain), the hard case: colleagues of theirs are there, some
with a shared first or last name. The queries are built without looking at the matcher.

Reported per group: queries, matched, correct, wrong, precision (correct/matched), recall
(correct/queries for people present) and false-match rate (wrong/queries). Targets over queries
with at least two identifying fields: precision >= 0.995, recall >= 0.95; false matches for
absent people <= 0.5 %. Then the engine's speed (matches/s, one connection, sequential) and
some confusion cases (wrong matches first, then misses).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import shutil
import statistics
import tempfile
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from nicknames import NickNamer
from sqlalchemy.ext.asyncio import AsyncEngine

from perilune.db import migrate
from perilune.db.engine import create_engine
from perilune.matching import DEFAULT_MIN_CONFIDENCE, PersonMatch, PersonQuery, match_person, rank_people
from perilune.repository.generator import Generator
from perilune.repository.generator.loading import load_into

REPOSITORY_SEED = 101
ABSENT_SEED = 202
QUERY_SEED = 303
TARGET_PRECISION = 0.995
TARGET_RECALL = 0.95
TARGET_ABSENT_FALSE_MATCHES = 0.005

Record = dict[str, Any]


# --- who the queries describe --------------------------------------------------------------------


@dataclass(frozen=True)
class Company:
    name: str
    domain: str | None


@dataclass(frozen=True)
class Subject:
    """A generated person and what a query may say about them."""

    id: str
    first: str
    last: str
    work_email: str | None
    personal_emails: tuple[str, ...]
    linkedin_url: str | None
    employer: Company | None
    former: tuple[Company, ...]


def subjects(generator: Generator) -> Iterator[Subject]:
    companies = {o["id"]: Company(o["name"], o.get("primary_domain")) for o in generator.organizations()}
    for person in generator.people():
        history = person.get("employment_history") or []
        former = tuple(
            companies.get(job.get("organization_id") or "", Company(job["organization_name"], None))
            for job in history
            if not job.get("current") and job.get("organization_name")
        )
        yield Subject(
            id=person["id"],
            first=person["first_name"],
            last=person["last_name"],
            work_email=person.get("email"),
            personal_emails=tuple(person.get("personal_emails") or ()),
            linkedin_url=person.get("linkedin_url"),
            employer=companies.get(person.get("organization_id") or ""),
            former=former,
        )


# --- noisy queries ---------------------------------------------------------------------------------

FIELDS: dict[str, float] = {"name": 0.95, "employer": 0.8, "email": 0.45, "linkedin_url": 0.35, "id": 0.05}
FIELD_COUNTS: dict[int, float] = {1: 0.2, 2: 0.4, 3: 0.25, 4: 0.15}
NOISE_COUNTS: dict[int, float] = {0: 0.3, 1: 0.45, 2: 0.2, 3: 0.05}
NOISE_FIELD: dict[str, str] = {
    "typo": "name",
    "nickname": "name",
    "swapped_names": "name",
    "missing_name_part": "name",
    "accents": "name",
    "full_name": "name",
    "email_case_padding": "email",
    "personal_email": "email",
    "hashed_email": "email",
    "linkedin_url_form": "linkedin_url",
    "domain_form": "employer",
    "company_name_only": "employer",
    "former_employer": "employer",
}
CONFLICTS = ({"swapped_names", "missing_name_part"}, {"domain_form", "company_name_only"})
LEGAL_FORMS = ("Inc.", "LLC", "Ltd", "GmbH", "Corp.", "S.A.")
KEYBOARD = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]


@dataclass
class LabelledQuery:
    query: PersonQuery
    expected: str | None  # the person's id; None for people not in the repository
    fields: tuple[str, ...]
    noise: tuple[str, ...]


@dataclass
class QueryMaker:
    rng: random.Random
    namer: NickNamer = field(default_factory=NickNamer)

    def make(self, subject: Subject, expected: str | None) -> LabelledQuery | None:
        fields = self._fields(subject)
        if not fields:
            return None
        noise = self._noise(subject, fields)
        values: dict[str, str] = {}
        for name in fields:
            RENDERERS[name](self, subject, noise, values)
        return LabelledQuery(PersonQuery(**values), expected, fields, noise)

    def _fields(self, subject: Subject) -> tuple[str, ...]:
        available = {
            "name": True,
            "employer": subject.employer is not None,
            "email": bool(subject.work_email or subject.personal_emails),
            "linkedin_url": subject.linkedin_url is not None,
            "id": True,
        }
        names = [n for n, ok in available.items() if ok]
        count = min(_pick(self.rng, FIELD_COUNTS), len(names))
        chosen: list[str] = []
        while len(chosen) < count:
            name = _pick(self.rng, {n: FIELDS[n] for n in names if n not in chosen})
            if count == 1 and name == "employer":
                continue  # an employer alone names no person
            chosen.append(name)
        return tuple(sorted(chosen))

    def _noise(self, subject: Subject, fields: tuple[str, ...]) -> tuple[str, ...]:
        possible = [k for k, f in NOISE_FIELD.items() if f in fields and self._applies(k, subject)]
        wanted = _pick(self.rng, NOISE_COUNTS)
        chosen: set[str] = set()
        for kind in self.rng.sample(possible, len(possible)):
            if len(chosen) >= wanted:
                break
            if not any(kind in group and chosen & group for group in CONFLICTS):
                chosen.add(kind)
        return tuple(sorted(chosen))

    def _applies(self, kind: str, subject: Subject) -> bool:
        if kind == "nickname":
            return bool(self._nicknames(subject.first))
        if kind == "personal_email":
            return bool(subject.personal_emails)
        if kind == "email_case_padding":
            return True
        if kind == "former_employer":
            return bool(subject.former)
        if kind in ("domain_form", "company_name_only"):
            return subject.employer is not None or bool(subject.former)
        return True

    def _nicknames(self, first: str) -> list[str]:
        key = first.lower()
        return sorted(self.namer.nicknames_of(key) or self.namer.canonicals_of(key))

    # -- renderers: one per field, each applying the noise that concerns it

    def name(self, subject: Subject, noise: tuple[str, ...], values: dict[str, str]) -> None:
        first, last = subject.first, subject.last
        if "nickname" in noise:
            first = self.rng.choice(self._nicknames(first)).title()
        if "accents" in noise:
            first, last = self._accents(first), self._accents(last)
        if "typo" in noise:
            if self.rng.random() < 0.5 and len(first) >= 3:
                first = self._typo(first)
            else:
                last = self._typo(last)
        if "swapped_names" in noise:
            first, last = last, first
        if "missing_name_part" in noise:
            first, last = ("", last) if self.rng.random() < 0.7 else (first, "")
        if "full_name" in noise:
            values["name"] = " ".join(p for p in (first, last) if p)
            return
        if first:
            values["first_name"] = first
        if last:
            values["last_name"] = last

    def email(self, subject: Subject, noise: tuple[str, ...], values: dict[str, str]) -> None:
        personal = "personal_email" in noise or subject.work_email is None
        address = self.rng.choice(subject.personal_emails) if personal else subject.work_email
        assert address is not None
        if "hashed_email" in noise:
            digest = hashlib.md5 if self.rng.random() < 0.5 else hashlib.sha256
            values["hashed_email"] = digest(address.encode()).hexdigest()
            return
        if "email_case_padding" in noise:
            address = self.rng.choice((address.upper(), address.title(), address.capitalize()))
            address = f"{' ' * self.rng.randint(0, 2)}{address}{' ' * self.rng.randint(1, 2)}"
        values["email"] = address

    def linkedin_url(self, subject: Subject, noise: tuple[str, ...], values: dict[str, str]) -> None:
        url = subject.linkedin_url
        assert url is not None
        if "linkedin_url_form" in noise:
            url = self._linkedin_form(url.rsplit("/", 1)[1])
        values["linkedin_url"] = url

    def employer(self, subject: Subject, noise: tuple[str, ...], values: dict[str, str]) -> None:
        company = subject.employer
        if "former_employer" in noise or company is None:
            company = self.rng.choice(subject.former)
        by_name = "company_name_only" in noise or company.domain is None
        if not by_name and "former_employer" in noise and "domain_form" not in noise:
            by_name = self.rng.random() < 0.6  # CRM exports name past employers more than domains
        if by_name:
            values["organization_name"] = self._company_name(company.name)
            return
        assert company.domain is not None
        domain = self._domain_form(company.domain) if "domain_form" in noise else company.domain
        values["domain"] = domain

    def id(self, subject: Subject, noise: tuple[str, ...], values: dict[str, str]) -> None:
        values["id"] = subject.id

    # -- noise

    def _typo(self, text: str) -> str:
        i = self.rng.randrange(len(text))
        op = self.rng.choice(("substitute", "delete", "insert", "transpose"))
        if op == "delete" and len(text) > 3:
            return text[:i] + text[i + 1 :]
        if op == "transpose" and i < len(text) - 1 and text[i] != text[i + 1]:
            return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
        letter = self._neighbour(text[i])
        if op == "insert":
            return text[: i + 1] + letter + text[i + 1 :]
        return text[:i] + letter + text[i + 1 :]

    def _neighbour(self, char: str) -> str:
        lower = char.lower()
        for row in KEYBOARD:
            at = row.find(lower)
            if at >= 0:
                near = [row[j] for j in (at - 1, at + 1) if 0 <= j < len(row)]
                return self.rng.choice(near)
        return self.rng.choice("aeiou")

    def _accents(self, text: str) -> str:
        stripped = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
        if stripped != text:
            return stripped
        marks = {"e": "é", "a": "á", "o": "ö", "u": "ü", "i": "í", "n": "ñ", "c": "ç"}
        spots = [i for i, c in enumerate(text) if c in marks]
        if not spots:
            return text
        i = self.rng.choice(spots)
        return text[:i] + marks[text[i]] + text[i + 1 :]

    def _linkedin_form(self, slug: str) -> str:
        forms = (
            f"https://www.linkedin.com/in/{slug}/",
            f"https://uk.linkedin.com/in/{slug.title()}?originalSubdomain=uk",
            f"linkedin.com/in/{slug}",
            f"http://m.linkedin.com/in/{slug}",
            f"https://www.linkedin.com/in/{slug}/details/experience/",
            f"www.linkedin.com/mwlite/in/{slug}",
            f"https://www.linkedin.com/in/{slug}?trk=public_profile",
            slug,
            f"HTTPS://WWW.LINKEDIN.COM/IN/{slug.upper()}",
        )
        return self.rng.choice(forms)

    def _domain_form(self, domain: str) -> str:
        forms = (
            f"https://www.{domain}/",
            f"http://{domain}/about-us",
            f"WWW.{domain.upper()}",
            f"https://blog.{domain}/2024/news",
            f"{domain}.",
            f"www.{domain}:443",
            f"info@{domain}",
        )
        return self.rng.choice(forms)

    def _company_name(self, name: str) -> str:
        words = name.split()
        if words and words[-1] in LEGAL_FORMS and len(words) > 1 and self.rng.random() < 0.6:
            name = " ".join(words[:-1])
        elif self.rng.random() < 0.3:
            name = f"{name} {self.rng.choice(LEGAL_FORMS)}"
        return name.lower() if self.rng.random() < 0.2 else name


RENDERERS: dict[str, Callable[[QueryMaker, Subject, tuple[str, ...], dict[str, str]], None]] = {
    "name": QueryMaker.name,
    "email": QueryMaker.email,
    "linkedin_url": QueryMaker.linkedin_url,
    "employer": QueryMaker.employer,
    "id": QueryMaker.id,
}


def _pick(rng: random.Random, weights: dict[Any, float]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def newcomers(absent: list[Subject], present: list[Subject], rng: random.Random) -> list[Subject]:
    """Half of the absent people moved to a repository company (chosen the way a random
    repository person's employer is, so bigger companies more often), with an address there that
    no repository person has (as a mail server would: ``jsmith`` taken, ``jsmith2``)."""
    taken = {s.work_email for s in present if s.work_email}
    moved = []
    for subject in absent:
        host = rng.choice(present).employer
        if rng.random() < 0.5 or host is None or host.domain is None:
            moved.append(subject)
            continue
        email = (
            _free_address(subject.work_email.partition("@")[0], host.domain, taken)
            if subject.work_email
            else None
        )
        moved.append(replace(subject, employer=host, work_email=email))
    return moved


def _free_address(local: str, domain: str, taken: set[str]) -> str:
    address, number = f"{local}@{domain}", 2
    while address in taken:
        address, number = f"{local}{number}@{domain}", number + 1
    taken.add(address)
    return address


def labelled_queries(
    present: list[Subject], absent: list[Subject], queries: int, absents: int
) -> list[LabelledQuery]:
    rng = random.Random(QUERY_SEED)
    maker = QueryMaker(rng)
    absent = newcomers(absent, present, rng)
    out: list[LabelledQuery] = []
    for pool, count, label in ((present, queries, True), (absent, absents, False)):
        made = 0
        while made < count:
            subject = rng.choice(pool)
            query = maker.make(subject, subject.id if label else None)
            if query is not None:
                out.append(query)
                made += 1
    return out


# --- running and reporting -------------------------------------------------------------------------


@dataclass
class Result:
    query: LabelledQuery
    match: PersonMatch | None
    seconds: float

    @property
    def correct(self) -> bool:
        return self.match is not None and self.match.person_id == self.query.expected

    @property
    def wrong(self) -> bool:
        return self.match is not None and self.match.person_id != self.query.expected


@dataclass
class Tally:
    queries: int = 0
    present: int = 0
    matched: int = 0
    correct: int = 0
    wrong: int = 0

    def add(self, result: Result) -> None:
        self.queries += 1
        self.present += result.query.expected is not None
        self.matched += result.match is not None
        self.correct += result.correct
        self.wrong += result.wrong

    @property
    def precision(self) -> float:
        return self.correct / self.matched if self.matched else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.present if self.present else float("nan")

    @property
    def false_match_rate(self) -> float:
        return self.wrong / self.queries if self.queries else 0.0


async def build_repository(engine: AsyncEngine, people: int) -> list[Subject]:
    generator = Generator(people=people, seed=REPOSITORY_SEED)
    await load_into(engine, generator)
    return list(subjects(generator))


async def run(engine: AsyncEngine, queries: list[LabelledQuery]) -> list[Result]:
    results = []
    async with engine.connect() as connection:
        for labelled in queries:
            start = time.perf_counter()
            match = await match_person(connection, labelled.query)
            results.append(Result(labelled, match, time.perf_counter() - start))
    return results


def groups(result: Result) -> Iterable[str]:
    """The groups a result counts in; noise kinds over present people with >= 2 fields (one
    field is often a bare name, which no matcher should accept)."""
    query = result.query
    yield "all queries"
    if query.expected is None:
        yield "absent people"
        return
    fields = len(query.fields)
    yield f"present, {fields} field{'s' if fields > 1 else ''}"
    if fields < 2:
        return
    yield "present, >=2 fields"
    for kind in query.noise or ("clean",):
        yield f">=2 fields, noise: {kind}"
    if len(query.noise) >= 2:
        yield ">=2 fields, noise: 2+ kinds combined"


def report(results: list[Result]) -> dict[str, Tally]:
    tallies: dict[str, Tally] = defaultdict(Tally)
    for result in results:
        for group in groups(result):
            tallies[group].add(result)
    print(
        f"{'group':<34}{'queries':>8}{'matched':>9}{'correct':>9}{'wrong':>7}{'precision':>11}{'recall':>8}{'false':>8}"
    )
    for name in sorted(tallies, key=_group_order):
        t = tallies[name]
        print(
            f"{name:<34}{t.queries:>8}{t.matched:>9}{t.correct:>9}{t.wrong:>7}"
            f"{t.precision:>11.4f}{t.recall:>8.4f}{t.false_match_rate:>8.4f}"
        )
    return tallies


def _group_order(name: str) -> tuple[int, str]:
    order = ("all", "present, >=2 fields", "absent people", "present, ", ">=2 fields, noise: clean")
    for rank, prefix in enumerate(order):
        if name.startswith(prefix):
            return rank, name
    return len(order), name


def check_targets(tallies: dict[str, Tally]) -> bool:
    two = tallies["present, >=2 fields"]
    absent = tallies["absent people"]
    checks = (
        ("precision, >=2 fields", two.precision, two.precision >= TARGET_PRECISION, f">= {TARGET_PRECISION}"),
        ("recall, >=2 fields", two.recall, two.recall >= TARGET_RECALL, f">= {TARGET_RECALL}"),
        (
            "false matches, absent people",
            absent.false_match_rate,
            absent.false_match_rate <= TARGET_ABSENT_FALSE_MATCHES,
            f"<= {TARGET_ABSENT_FALSE_MATCHES}",
        ),
    )
    print()
    for name, value, ok, target in checks:
        print(f"{name:<34}{value:>8.4f}  target {target:<9} {'met' if ok else 'MISSED'}")
    return all(ok for *_, ok, _ in checks)


def report_speed(results: list[Result]) -> None:
    times = sorted(r.seconds for r in results)
    total = sum(times)
    p50 = statistics.median(times) * 1000
    p99 = times[int(len(times) * 0.99)] * 1000
    print(
        f"\nspeed (SQLite, one connection, sequential, warm): {len(times) / total:,.0f} matches/s, "
        f"p50 {p50:.2f} ms, p99 {p99:.2f} ms"
    )


async def absent_margins(engine: AsyncEngine, results: list[Result]) -> None:
    """How close absent people came to a false match: their best candidate's confidence."""
    tops = []
    async with engine.connect() as connection:
        for result in results:
            if result.query.expected is None:
                ranked = await rank_people(connection, result.query.query)
                tops.append(ranked[0].confidence if ranked else 0.0)
    bars = (0.1, 0.5, 0.8, 0.9)
    counts = ", ".join(f">= {bar}: {sum(t >= bar for t in tops)}" for bar in bars)
    with_candidate = sum(t > 0 for t in tops)
    print(
        f"absent people, best candidate's confidence: {len(tops)} queries, {with_candidate} with a candidate"
    )
    print(f"  {counts} (a false match needs {DEFAULT_MIN_CONFIDENCE})")


async def confusion(
    engine: AsyncEngine, results: list[Result], subjects_by_id: dict[str, Subject], shown: int
) -> None:
    wrong = [r for r in results if r.wrong]
    missed = [
        r for r in results if r.match is None and r.query.expected is not None and len(r.query.fields) >= 2
    ]
    print(f"\nconfusion cases: {len(wrong)} wrong matches, {len(missed)} misses with >=2 fields;", end=" ")
    print("the first of each:")
    async with engine.connect() as connection:
        for title, cases in (("wrong", wrong[:shown]), ("missed", missed[:shown])):
            for result in cases:
                await _explain(connection, title, result, subjects_by_id)


async def _explain(connection: Any, title: str, result: Result, subjects_by_id: dict[str, Subject]) -> None:
    query = result.query
    given = {k: v for k, v in vars_of(query.query).items() if v}
    expected = subjects_by_id.get(query.expected or "")
    print(f"- {title} [{'+'.join(query.noise) or 'clean'}] query {given}")
    if expected is not None:
        print(f"    expected {expected.first} {expected.last} at {expected.employer}")
    ranked = await rank_people(connection, query.query)
    for candidate in ranked[:2]:
        person = subjects_by_id.get(candidate.candidate.id)
        label = f"{person.first} {person.last}" if person else "?"
        print(
            f"    candidate {label}: confidence {candidate.confidence:.3f} reasons {list(candidate.reasons)}"
        )


def vars_of(query: PersonQuery) -> dict[str, str | None]:
    return {name: getattr(query, name) for name in PersonQuery.__dataclass_fields__}


async def main_async(args: argparse.Namespace, workdir: Path) -> bool:
    url = f"sqlite+aiosqlite:///{workdir / 'repository.db'}"
    await migrate.upgrade_async(url)
    engine = create_engine(url)
    try:
        started = time.perf_counter()
        present = await build_repository(engine, args.people)
        absent = list(subjects(Generator(people=max(args.absent * 2, 1000), seed=ABSENT_SEED)))
        print(f"repository: {len(present):,} people imported in {time.perf_counter() - started:.0f} s")
        queries = labelled_queries(present, absent, args.queries, args.absent)
        print(
            f"queries: {args.queries:,} for people in the repository, {args.absent:,} for people not in it\n"
        )
        results = await run(engine, queries)
        tallies = report(results)
        met = check_targets(tallies)
        # Timed again, warm: the first pass compiled each statement shape once, as a server does.
        report_speed(await run(engine, queries))
        await absent_margins(engine, results)
        by_id = {s.id: s for s in [*present, *absent]}
        await confusion(engine, results, by_id, args.show)
        return met
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--people", type=int, default=20_000, help="people in the generated repository")
    parser.add_argument("--queries", type=int, default=6_000, help="queries for people in the repository")
    parser.add_argument("--absent", type=int, default=1_500, help="queries for people not in it")
    parser.add_argument("--show", type=int, default=8, help="confusion cases shown of each kind")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="perilune-bench-"))
    try:
        asyncio.run(main_async(args, workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
