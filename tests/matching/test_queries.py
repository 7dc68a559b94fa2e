"""Query normalisation: every form a client sends becomes the key the repository stores."""

from __future__ import annotations

import hashlib

import pytest

from perilune.matching import OrganizationQuery, PersonQuery, organization_keys, person_keys


def test_emails_are_trimmed_lower_cased_and_name_the_employer() -> None:
    keys = person_keys(PersonQuery(email="  Tim@Mail.Apollo.IO "))
    assert keys.email == "tim@mail.apollo.io"
    assert keys.domains == ("apollo.io",)
    assert keys.has_email and keys.has_employer


def test_a_personal_address_names_no_employer() -> None:
    keys = person_keys(PersonQuery(email="tim.zheng@gmail.com", domain="yahoo.co.uk"))
    assert keys.email == "tim.zheng@gmail.com"
    assert keys.domains == ()
    assert not keys.has_employer


def test_invalid_values_are_dropped() -> None:
    keys = person_keys(
        PersonQuery(
            id="not-an-id",
            email="tim at apollo",
            hashed_email="xyz",
            linkedin_url="https://twitter.com/in/tim",
            domain="localhost",
        )
    )
    assert keys.is_empty


@pytest.mark.parametrize(
    ("given", "md5", "sha256"),
    [
        ("8D935115B9FF4489F2D1F9249503CADF ", "8d935115b9ff4489f2d1f9249503cadf", None),
        (
            hashlib.sha256(b"tim@apollo.io").hexdigest(),
            None,
            hashlib.sha256(b"tim@apollo.io").hexdigest(),
        ),
    ],
)
def test_hashed_emails_are_md5_or_sha256(given: str, md5: str | None, sha256: str | None) -> None:
    keys = person_keys(PersonQuery(hashed_email=given))
    assert (keys.email_md5, keys.email_sha256) == (md5, sha256)


@pytest.mark.parametrize(
    "url",
    [
        "http://www.linkedin.com/in/tim-zheng-677ba010",
        "https://uk.linkedin.com/in/Tim-Zheng-677ba010/?originalSubdomain=uk",
        "linkedin.com/in/tim-zheng-677ba010/details/experience/",
        "www.linkedin.com/mwlite/in/tim-zheng-677ba010",
        "tim-zheng-677ba010",
    ],
)
def test_every_linkedin_form_gives_the_slug(url: str) -> None:
    assert person_keys(PersonQuery(linkedin_url=url)).linkedin_slug == "tim-zheng-677ba010"


def test_domains_from_urls_and_organization_names() -> None:
    keys = person_keys(PersonQuery(domain="https://www.Apollo.io/about", organization_name="Apollo Inc."))
    assert keys.domains == ("apollo.io",)
    assert keys.organization_key == "apollo"
    # A company name that is a domain is tried as both.
    dotted = person_keys(PersonQuery(organization_name="Braingenie.com"))
    assert dotted.domains == ("braingenie.com",)
    assert dotted.organization_key == "braingenie com"


def test_names_fold_to_keys_with_nicknames_and_sound() -> None:
    keys = person_keys(PersonQuery(first_name=" Bob ", last_name="Müller-Lüdenscheidt"))
    assert (keys.first, keys.last) == ("bob", "muller ludenscheidt")
    assert {"bob", "robert"} <= keys.first_variants
    assert keys.last_phonetic


@pytest.mark.parametrize(
    ("name", "first", "last", "loose"),
    [
        ("Tim Zheng", "tim", "zheng", ""),
        ("Zheng, Tim", "tim", "zheng", ""),
        ("Dr. José García Jr.", "jose", "garcia", ""),
        ("Zheng", "", "", "zheng"),
    ],
)
def test_a_full_name_is_split(name: str, first: str, last: str, loose: str) -> None:
    keys = person_keys(PersonQuery(name=name))
    assert (keys.first, keys.last, keys.loose) == (first, last, loose)


def test_given_parts_win_over_the_full_name() -> None:
    keys = person_keys(PersonQuery(first_name="Robert", name="Bob Mueller"))
    assert (keys.first, keys.last) == ("robert", "mueller")


def test_overlong_values_are_cut_not_parsed_whole() -> None:
    keys = person_keys(PersonQuery(first_name="a" * 100_000, email="x" * 100_000 + "@apollo.io"))
    assert len(keys.first) <= 2048
    assert keys.email is None


def test_organization_keys() -> None:
    keys = organization_keys(
        OrganizationQuery(
            website="https://blog.apollo.io/x", linkedin_url="https://www.linkedin.com/company/apolloio/"
        )
    )
    assert (keys.domain, keys.linkedin_slug, keys.name_key) == ("apollo.io", "apolloio", "")
    assert organization_keys(OrganizationQuery(domain="gmail.com")).is_empty
    assert organization_keys(OrganizationQuery(name="Apollo GmbH")).name_key == "apollo"
