"""Title classification in Apollo's vocabulary, and title search semantics."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from perilune.repository.normalize.titles import (
    DEPARTMENT_FUNCTION,
    DEPARTMENT_RULES,
    DEPARTMENTS,
    EXECUTIVE_RULES,
    SENIORITIES,
    SENIORITY_RULES,
    UNCLASSIFIED,
    TitleClass,
    classify_title,
    stem,
    title_key,
    title_matches,
)

ROOT = Path(__file__).resolve().parents[2]

CASES: list[tuple[str, str, tuple[str, ...], tuple[str, ...]]] = [
    # title, seniority, departments, subdepartments
    ("Founder & CEO", "founder", ("c_suite",), ("executive", "founder")),
    ("VP of Sales", "vp", ("sales",), ()),
    ("Senior Software Engineer", "senior", ("engineering_technical",), ("software_development",)),
    ("Head of Growth Marketing", "head", ("marketing",), ("demand_generation",)),
    ("Sales Development Representative", "entry", ("sales",), ("inside_sales",)),
    ("Chief Revenue Officer", "c_suite", ("c_suite",), ("sales_executive",)),
    ("Director, Human Resources", "director", ("human_resources",), ()),
    ("Marketing Intern", "intern", ("marketing",), ()),
    # abbreviations
    ("CEO", "c_suite", ("c_suite",), ("executive",)),
    ("CTO", "c_suite", ("c_suite",), ("information_technology_executive",)),
    ("CFO", "c_suite", ("c_suite",), ("finance_executive",)),
    ("COO", "c_suite", ("c_suite",), ("operations_executive",)),
    ("CMO", "c_suite", ("c_suite",), ("marketing_executive",)),
    ("CRO", "c_suite", ("c_suite",), ("sales_executive",)),
    ("SVP, Engineering", "vp", ("engineering_technical",), ()),
    ("EVP Global Sales", "vp", ("sales",), ()),
    ("SDR", "entry", ("sales",), ("inside_sales",)),
    ("BDR", "entry", ("sales",), ("business_development",)),
    ("Sr. AE", "senior", ("sales",), ()),
    ("HR Manager", "manager", ("human_resources",), ()),
    ("IT Director", "director", ("information_technology",), ()),
    # case, punctuation, spelling
    ("vice-president, FINANCE", "vp", ("finance",), ()),
    ("V.P. Marketing", "vp", ("marketing",), ()),
    ("sr. software eng.", "senior", ("engineering_technical",), ("software_development",)),
    ("CTO & Co-Founder", "founder", ("c_suite",), ("founder", "information_technology_executive")),
    (
        "Co-founder / Head of Product",
        "founder",
        ("c_suite", "product_management"),
        ("founder", "product_management"),
    ),
    ("Chief Marketing Officer", "c_suite", ("c_suite",), ("marketing_executive",)),
    ("Chief Executive Officer", "c_suite", ("c_suite",), ("executive",)),
    ("President", "c_suite", ("c_suite",), ("executive",)),
    ("Managing Director", "c_suite", ("c_suite",), ("executive",)),
    ("General Counsel", "c_suite", ("c_suite",), ("legal_executive",)),
    ("Owner", "owner", ("c_suite",), ("executive",)),
    # words that do not mean what they mean alone
    ("Product Owner", "entry", ("product_management",), ("product_management",)),
    ("HR Business Partner", "entry", ("human_resources",), ("hr_business_partner",)),
    ("Partner Manager, EMEA", "entry", ("sales",), ("partnerships",)),
    ("Partner", "partner", (), ()),
    ("Executive Assistant to the CEO", "entry", ("operations",), ("office_operations",)),
    ("Deputy General Counsel", "director", ("legal",), ("legal_counsel",)),
    ("Account Executive", "entry", ("sales",), ()),
    ("Sales Operations Manager", "manager", ("sales",), ("sales_operations",)),
    ("Information Security Officer", "entry", ("information_technology",), ("information_security",)),
    ("Data Protection Officer", "entry", ("legal",), ("privacy",)),
    ("Staff Software Engineer", "senior", ("engineering_technical",), ("software_development",)),
    ("Staff Accountant", "entry", ("finance",), ("accounting",)),
    ("Team Lead, Customer Support", "manager", ("support",), ("customer_service_support",)),
    ("Chief Engineer", "head", ("engineering_technical",), ()),
    # more departments
    ("Data Scientist", "entry", ("engineering_technical",), ("data_science",)),
    ("UX Designer", "entry", ("design",), ("product_or_ui_ux_design",)),
    ("Technical Recruiter", "entry", ("human_resources",), ("recruiting_talent_acquisition",)),
    ("Registered Nurse", "entry", ("medical_health",), ("nursing",)),
    ("Professor of Economics", "entry", ("education",), ("professor",)),
    ("Management Consultant", "entry", ("consulting",), ("consultant",)),
    ("Customer Service Representative", "entry", ("support",), ("customer_service_support",)),
    ("Project Manager", "manager", ("operations",), ("project_management",)),
    ("Solutions Engineer", "entry", ("sales",), ("sales_engineering",)),
    ("Paralegal", "entry", ("legal",), ()),
    ("Revenue Accountant", "entry", ("finance",), ("accounting",)),
    # non-English
    ("Geschäftsführer", "c_suite", ("c_suite",), ("executive",)),
    ("Gerente de Ventas", "manager", ("sales",), ()),
    ("Directeur Commercial", "director", ("sales",), ()),
    ("Jefe de Ventas", "head", ("sales",), ()),
    ("Werkstudent Marketing", "intern", ("marketing",), ()),
    # noise
    ("🚀 Senior Engineer 🚀 (Remote) #hiring", "senior", ("engineering_technical",), ()),
    ("Make it happen", "entry", (), ()),
]


@pytest.mark.parametrize(("title", "seniority", "departments", "subdepartments"), CASES)
def test_classify_title(
    title: str, seniority: str, departments: tuple[str, ...], subdepartments: tuple[str, ...]
) -> None:
    result = classify_title(title)
    assert (result.seniority, result.departments, result.subdepartments) == (
        seniority,
        departments,
        subdepartments,
    )


def test_functions() -> None:
    assert classify_title("Founder & CEO").functions == ("entrepreneurship",)
    assert classify_title("VP of Sales").functions == ("sales",)
    assert classify_title("Senior Software Engineer").functions == ("engineering",)
    assert classify_title("Accountant").functions == ("accounting",)
    assert classify_title("Business Development Manager").functions == ("business_development",)
    assert classify_title("UX Designer").functions == ("arts_and_design",)
    assert classify_title("CEO").functions == ()


@pytest.mark.parametrize("title", [None, "", "   ", "---", "&&&"])
def test_empty_titles_are_unclassified(title: str | None) -> None:
    assert classify_title(title) == UNCLASSIFIED


@pytest.mark.parametrize("title", ["x" * 10_000, "Senior " * 2_000, "王经理", "Δ", "\x00\x01"])
def test_nasty_titles_never_crash(title: str) -> None:
    result = classify_title(title)
    assert isinstance(result, TitleClass)


def test_any_case_gives_the_same_class() -> None:
    for title in ["VP of Sales", "Founder & CEO", "Senior Software Engineer", "Director, Human Resources"]:
        assert classify_title(title.upper()) == classify_title(title) == classify_title(title.lower())


def test_vocabulary_is_apollos() -> None:
    assert {s for s, _ in SENIORITY_RULES} <= set(SENIORITIES)
    for rule in EXECUTIVE_RULES + DEPARTMENT_RULES:
        assert rule.department in DEPARTMENTS
        assert rule.phrases
        for phrase in rule.phrases:
            assert phrase == title_key(phrase) or "*" in phrase, phrase
    assert set(DEPARTMENT_FUNCTION) == set(DEPARTMENTS) - {"c_suite"}


def test_docs_describe_every_value_the_rules_can_give() -> None:
    text = (ROOT / "docs" / "data-formats.md").read_text()
    section = text.split("## Title classification", 1)[1].split("\n## ", 1)[0]
    values = set(SENIORITIES + DEPARTMENTS) | {"founder", "entrepreneurship"}
    for rule in EXECUTIVE_RULES + DEPARTMENT_RULES:
        values |= {v for v in (rule.subdepartment, rule.function) if v}
    values |= set(DEPARTMENT_FUNCTION.values())
    missing = sorted(v for v in values if not re.search(rf"`{v}`", section))
    assert missing == []


@pytest.mark.parametrize(
    ("query", "title", "matches"),
    [
        ("sales manager", "Senior Sales Manager, EMEA", True),
        ("manager sales", "Senior Sales Manager, EMEA", True),
        ("managers", "manager", True),
        ("manager", "Managers", True),
        ("vp sales", "Vice President of Sales", True),
        ("vice president sales", "VP, Sales", True),
        ("head of sales", "Sales Head", True),
        ("vps of sales", "VP Sales", True),
        ("sr engineer", "Senior Engineer", True),
        ("SOFTWARE engineers", "software engineer", True),
        ("companies", "Company Secretary", True),
        ("josé", "Jose Specialist", True),
        ("", "anything", True),
        ("sales manager", "Sales Director", False),
        ("engineer", "Engineering Manager", False),
        ("sales", "Salesforce Admin", False),
        ("x", "", False),
        ("x", None, False),
    ],
)
def test_title_matches(query: str, title: str | None, matches: bool) -> None:
    assert title_matches(query, title) is matches


@pytest.mark.parametrize(
    ("word", "stemmed"),
    [
        ("managers", "manager"),
        ("companies", "company"),
        ("coaches", "coach"),
        ("boxes", "box"),
        ("sales", "sales"),
        ("business", "business"),
        ("analytics", "analytics"),
        ("status", "status"),
        ("ops", "ops"),
        ("vps", "vp"),
        ("ceos", "ceo"),
    ],
)
def test_stem(word: str, stemmed: str) -> None:
    assert stem(word) == stemmed


def test_title_key() -> None:
    assert title_key("Sr. V.P., Sales & Marketing (EMEA)") == "sr v p sales marketing emea"
    assert title_key("Directeur Général") == "directeur general"
    assert title_key(None) == ""
