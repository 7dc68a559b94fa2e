"""The synthetic repository generator: deterministic, streaming, unique where it must be, and
consistent with the normalisers and the importer's record rules."""

from __future__ import annotations

import gzip
import itertools
import random
import re
import statistics
import types
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import orjson
import phonenumbers
import pytest
from typer.testing import CliRunner

from perilune.cli.main import app
from perilune.db.ids import is_valid_id
from perilune.repository.generator import FILES, Generator, write_jsonl
from perilune.repository.generator.naming import Namer
from perilune.repository.generator.people import EMAIL_STATUSES
from perilune.repository.generator.picking import Weighted
from perilune.repository.generator.reference import LEADER_SENIORITIES, reference
from perilune.repository.normalize import (
    classify_title,
    fold,
    linkedin_company_slug,
    linkedin_slug,
    normalize_email,
    registrable_domain,
    resolve_country,
    resolve_location,
)
from perilune.repository.records import organization_record, person_record

Record = dict[str, Any]
PEOPLE = 2000
ORGANIZATIONS = 150
SEED = 11
_TRAILING_DIGITS = re.compile(r"\d+$")


class Sample:
    def __init__(self, generator: Generator) -> None:
        self.generator = generator
        self.organizations = list(generator.organizations())
        self.people = list(generator.people())
        self.by_id = {o["id"]: o for o in self.organizations}


@pytest.fixture(scope="module")
def sample() -> Sample:
    return Sample(Generator(people=PEOPLE, organizations=ORGANIZATIONS, seed=SEED))


def _read(path: Path) -> list[Record]:
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return [orjson.loads(line) for line in data.splitlines()]


# --- determinism and streaming -------------------------------------------------------------


def test_same_seed_gives_byte_identical_files_whatever_the_workers(tmp_path: Path) -> None:
    first = Generator(people=500, organizations=40, seed=5).write(tmp_path / "a", workers=1)
    Generator(people=500, organizations=40, seed=5).write(tmp_path / "b", workers=2)
    for kind in FILES.values():
        assert (tmp_path / "a" / kind).read_bytes() == (tmp_path / "b" / kind).read_bytes()
    assert (first.organization_count, first.people_count) == (40, 500)


def test_gzip_output_is_deterministic_and_holds_the_same_lines(tmp_path: Path) -> None:
    plain = Generator(people=300, organizations=25, seed=9).write(tmp_path / "plain")
    packed = [
        Generator(people=300, organizations=25, seed=9).write(tmp_path / d, compress=True) for d in "xy"
    ]
    assert packed[0].people.read_bytes() == packed[1].people.read_bytes()
    assert gzip.decompress(packed[0].people.read_bytes()) == plain.people.read_bytes()
    assert gzip.decompress(packed[0].organizations.read_bytes()) == plain.organizations.read_bytes()


def test_other_seeds_give_other_data() -> None:
    one = next(Generator(people=50, organizations=5, seed=1).people())
    two = next(Generator(people=50, organizations=5, seed=2).people())
    assert one["id"] != two["id"] and one["name"] != two["name"]


def test_ids_are_stable_for_a_seed_and_shaped_like_apollos(sample: Sample) -> None:
    again = Generator(people=PEOPLE, organizations=ORGANIZATIONS, seed=SEED)
    assert [p["id"] for p in again.people()][:50] == [p["id"] for p in sample.people[:50]]
    assert all(is_valid_id(r["id"]) for r in sample.organizations + sample.people)


def test_records_stream_company_by_company_in_exact_numbers(sample: Sample) -> None:
    generator = sample.generator
    assert isinstance(generator.people(), types.GeneratorType)
    assert len(sample.organizations) == ORGANIZATIONS
    assert len(sample.people) == PEOPLE
    assert sum(plan.people for plan in generator.plans) == PEOPLE
    chunks = generator.chunks("people")
    assert chunks[0][0] == 0 and chunks[-1][1] == ORGANIZATIONS
    assert all(a[1] == b[0] for a, b in itertools.pairwise(chunks))
    # people come grouped by employer, in company order
    order = [p["organization_id"] for p in sample.people]
    firsts = list(dict.fromkeys(order))
    assert firsts == [plan.id for plan in generator.plans if plan.people]


def test_write_jsonl_counts_what_it_writes(tmp_path: Path) -> None:
    records = list(Generator(people=120, organizations=10, seed=3).people())
    assert write_jsonl(tmp_path / "p.jsonl", iter(records)) == 120
    assert _read(tmp_path / "p.jsonl") == records


# --- uniqueness and references -------------------------------------------------------------


def test_ids_emails_slugs_and_domains_are_unique(sample: Sample) -> None:
    def unique(values: list[Any]) -> bool:
        return len(values) == len(set(values))

    assert unique([o["id"] for o in sample.organizations])
    assert unique([p["id"] for p in sample.people])
    assert unique([o["primary_domain"] for o in sample.organizations])
    assert unique(
        [linkedin_company_slug(o["linkedin_url"]) for o in sample.organizations if o["linkedin_url"]]
    )
    emails = [p["email"] for p in sample.people if p["email"]]
    personal = [e for p in sample.people for e in p["personal_emails"]]
    assert unique(emails) and unique(personal) and not set(emails) & set(personal)
    slugs = [linkedin_slug(p["linkedin_url"]) for p in sample.people if p["linkedin_url"]]
    assert None not in slugs and unique(slugs)
    assert len(slugs) > 0.9 * PEOPLE


def test_people_work_at_generated_companies_with_consistent_histories(sample: Sample) -> None:
    for person in sample.people:
        employer = sample.by_id[person["organization_id"]]
        history = person["employment_history"]
        current, past = history[0], history[1:]
        assert current["current"] and current["end_date"] is None
        assert (current["organization_id"], current["title"]) == (employer["id"], person["title"])
        assert current["organization_name"] == employer["name"]
        assert len(past) <= 4
        later_start = current["start_date"]
        for job in past:
            assert not job["current"]
            other = sample.by_id[job["organization_id"]]
            assert job["organization_name"] == other["name"] and other["id"] != employer["id"]
            assert job["start_date"] < job["end_date"] <= later_start
            assert other["founded_year"] is None or int(job["start_date"][:4]) >= other["founded_year"]
            later_start = job["start_date"]
    changes = Counter(len(p["employment_history"]) - 1 for p in sample.people)
    assert changes[0] and changes[1] and changes[2] and changes[3]


# --- realism -------------------------------------------------------------------------------


def test_company_sizes_are_heavy_tailed_and_people_follow_size(sample: Sample) -> None:
    sizes = [o["estimated_num_employees"] for o in sample.organizations]
    assert statistics.median(sizes) <= 60
    assert max(sizes) >= 100 * statistics.median(sizes)
    assert sum(1 for s in sizes if s <= 50) > len(sizes) / 2
    staff = Counter(p["organization_id"] for p in sample.people)
    big = max(sample.organizations, key=lambda o: o["estimated_num_employees"])
    assert staff[big["id"]] == max(staff.values())
    assert all(staff[o["id"]] >= 1 for o in sample.organizations)  # enough people for everyone
    assert all(staff[o["id"]] <= o["estimated_num_employees"] for o in sample.organizations)


def test_titles_carry_their_classification_and_every_company_has_a_leader(sample: Sample) -> None:
    for person in sample.people:
        found = classify_title(person["title"])
        assert person["seniority"] == found.seniority
        assert person["departments"] == list(found.departments)
        assert person["subdepartments"] == list(found.subdepartments)
        assert person["functions"] == list(found.functions)
    first: dict[str, Record] = {}
    for person in sample.people:
        first.setdefault(person["organization_id"], person)
    assert all(p["seniority"] in LEADER_SENIORITIES for p in first.values())
    seniority = Counter(p["seniority"] for p in sample.people)
    assert seniority["entry"] > seniority["manager"] > seniority["vp"]
    assert seniority["entry"] + seniority["senior"] > PEOPLE / 2


def test_every_leader_title_classifies_as_a_leader() -> None:
    ref = reference()
    leaders = [t for style, titles in ref.leaders.items() if style != "cofounder" for t in titles]
    leaders += [t for country in ref.by_code.values() for t in country.local_leaders]
    assert all(t.seniority in LEADER_SENIORITIES for t in leaders), [
        t.title for t in leaders if t.seniority not in LEADER_SENIORITIES
    ]


def test_work_emails_follow_one_pattern_per_company(sample: Sample) -> None:
    patterns = reference().words.email_patterns.items
    by_company: dict[str, set[str]] = defaultdict(set)
    for person in sample.people:
        if not person["email"]:
            continue
        local, domain = person["email"].split("@")
        company = sample.by_id[person["organization_id"]]
        assert domain == company["primary_domain"]
        assert normalize_email(person["email"]) == person["email"]
        first = _key(person["first_name"])
        last = _key(person["last_name"])
        fitting = {
            p
            for p in patterns
            if p.format(first=first, last=last, f=first[0], l=last[0]) == _TRAILING_DIGITS.sub("", local)
        }
        assert fitting, person["email"]
        by_company[company["id"]] = (
            by_company[company["id"]] & fitting if company["id"] in by_company else fitting
        )
    assert all(by_company.values())


def _key(name: str) -> str:
    return fold(name).replace(" ", "")


def test_email_statuses_come_in_realistic_shares(sample: Sample) -> None:
    shares = Counter(p["email_status"] for p in sample.people)
    assert set(shares) <= set(EMAIL_STATUSES)
    assert 0.6 < shares["verified"] / PEOPLE < 0.8
    assert 0.08 < shares["guessed"] / PEOPLE < 0.22
    assert all(p["email"] is None for p in sample.people if p["email_status"] == "unavailable")


def test_phones_are_valid_numbers_of_the_persons_country(sample: Sample) -> None:
    checked = 0
    for person in sample.people:
        country = resolve_country(person["country"])
        assert country is not None
        for phone in person["phone_numbers"]:
            number = phonenumbers.parse(phone["raw_number"])
            assert phonenumbers.is_valid_number(number), phone
            assert phone["type"] in ("mobile", "work_direct", "work_hq")
            if phone["type"] != "work_hq":
                assert phonenumbers.region_code_for_number(number) == country.code
            checked += 1
    assert checked > PEOPLE / 2


def test_companies_are_coherent_with_their_industry(sample: Sample) -> None:
    industries = {i.name: i for i in reference().industries.items}
    for company in sample.organizations:
        industry = industries[company["industry"]]
        assert set(company["keywords"]) <= set(industry.keywords) and company["keywords"]
        assert registrable_domain(company["primary_domain"]) == company["primary_domain"]
        words = [w for w in fold(company["name"]).split() if w not in ("the", "and", "of", "co")]
        assert words[0] in company["primary_domain"].replace("-", "")  # derived from the name
        assert company["website_url"] == f"http://www.{company['primary_domain']}"
        assert all(set(t) == {"uid", "name", "category"} for t in company["current_technologies"])
        assert company["technology_names"] == [t["name"] for t in company["current_technologies"]]
    hiring = [o for o in sample.organizations if o["job_postings"]]
    assert hiring and all(
        j["title"] and j["url"].startswith("https://www.linkedin.com/jobs/view/")
        for o in hiring
        for j in o["job_postings"]
    )
    assert any(o["news_articles"] for o in sample.organizations if o["estimated_num_employees"] >= 200)


def test_places_are_real_and_mostly_american(sample: Sample) -> None:
    places = Counter((p["city"], p["state"], p["country"]) for p in sample.people)
    places.update((o["city"], o["state"], o["country"]) for o in sample.organizations)
    for city, state, country in places:
        found = resolve_location(city, state, country)
        assert (found.city, found.state, found.country) == (city, state, country)
    countries = Counter(o["country"] for o in sample.organizations)
    assert countries.most_common(1)[0][0] == "United States"
    assert len(countries) >= 8


def test_names_are_diverse_with_accents(sample: Sample) -> None:
    names = [p["name"] for p in sample.people]
    assert len(set(names)) > 0.9 * len(names)
    assert any(not n.isascii() for n in names)


def test_every_line_is_accepted_by_the_importers_record_rules(sample: Sample) -> None:
    for company in sample.organizations:
        organization = organization_record(company)
        assert (organization.id, organization.primary_domain) == (company["id"], company["primary_domain"])
    for person in sample.people[:1000]:
        record = person_record(person)
        assert record.organization_id == person["organization_id"]
        assert record.seniority == person["seniority"]


# --- the command ---------------------------------------------------------------------------


def test_generate_command_writes_the_files(tmp_path: Path) -> None:
    args = ["generate", "--people", "200", "--organizations", "20", "--seed", "4", "--workers", "1"]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "wrote 20 organizations" in result.output and "wrote 200 people" in result.output
    people = _read(tmp_path / "out" / "people.jsonl")
    assert len(people) == 200 and len(_read(tmp_path / "out" / "organizations.jsonl")) == 20
    packed = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "gz"), "--gzip"])
    assert packed.exit_code == 0, packed.output
    assert _read(tmp_path / "gz" / "people.jsonl.gz") == people


def test_generate_command_loads_into_the_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERILUNE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PERILUNE_DATABASE_URL", raising=False)
    monkeypatch.delenv("PERILUNE_DATABASE_SCHEMA", raising=False)
    args = ["generate", "--people", "60", "--organizations", "6", "--seed", "4", "--workers", "1", "--load"]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "6 lines: 6 created" in result.output and "60 lines: 60 created" in result.output
    assert len(_read(tmp_path / "out" / "people.jsonl")) == 60


def test_company_domains_are_never_public_suffixes() -> None:
    # "reggiocalabria.it" is itself a public suffix (like "co.uk"): no company can own it, and the
    # importer rightly refuses it as a primary domain. The namer moves on to an ownable name.
    namer = Namer(reference())
    domain = namer._domain(random.Random(1), ["reggio", "calabria"], Weighted.of({"it": 1.0}))
    assert domain != "reggiocalabria.it"
    assert registrable_domain(domain) == domain
