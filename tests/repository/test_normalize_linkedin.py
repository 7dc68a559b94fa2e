"""LinkedIn slugs from every URL form circulating in CRM exports, and Apollo's URL forms."""

from __future__ import annotations

import pytest

from perilune.repository.normalize.linkedin import (
    linkedin_company_slug,
    linkedin_company_url,
    linkedin_slug,
    linkedin_url,
)


@pytest.mark.parametrize(
    ("url", "slug"),
    [
        ("https://www.linkedin.com/in/tim-zheng-677ba010/", "tim-zheng-677ba010"),
        ("http://www.linkedin.com/in/tim-zheng-677ba010", "tim-zheng-677ba010"),
        ("linkedin.com/in/Tim-Zheng-677ba010", "tim-zheng-677ba010"),
        ("www.linkedin.com/in/timzheng///", "timzheng"),
        ("https://uk.linkedin.com/in/john-smith-82a505", "john-smith-82a505"),
        ("https://de.linkedin.com/in/jürgen-müller", "jürgen-müller"),
        ("https://m.linkedin.com/in/foo-bar/", "foo-bar"),
        ("https://www.linkedin.com/mwlite/in/foo-bar", "foo-bar"),
        ("https://www.linkedin.com/in/foo-bar?originalSubdomain=uk", "foo-bar"),
        ("https://www.linkedin.com/in/foo-bar/?trk=public_profile#experience", "foo-bar"),
        ("https://www.linkedin.com/in/foo-bar/en", "foo-bar"),
        ("https://www.linkedin.com/in/foo-bar/details/experience/", "foo-bar"),
        ("https://www.linkedin.com/in/j%C3%B6rg-m%C3%BCller-1a2b3c", "jörg-müller-1a2b3c"),
        ("https://www.linkedin.com/in/J%C3%96RG", "jörg"),
        ("https://www.linkedin.com/in/jo\u0308rg", "jörg"),  # decomposed umlaut -> NFC
        ("HTTPS://WWW.LINKEDIN.COM/IN/FOO-BAR", "foo-bar"),
        ("http:/linkedin.com/in/foo-bar", "foo-bar"),
        ("//www.linkedin.com/in/foo-bar", "foo-bar"),
        ("https://cn.linkedin.com/in/wang-xiaoming", "wang-xiaoming"),
        # legacy public URLs map the way LinkedIn's redirect does
        ("https://sy.linkedin.com/pub/krzysztof-marzec/a7/576/b50?trk=biz", "krzysztof-marzec-b50576a7"),
        ("https://uk.linkedin.com/pub/abdi-ahmed/100/384/6b0", "abdi-ahmed-6b0384100"),
        ("http://www.linkedin.com/pub/jane-doe/1/2b/3", "jane-doe-00302b1"),
        ("http://www.linkedin.com/pub/jane-doe", "jane-doe"),
        # Sales Navigator member ids keep their case
        ("https://www.linkedin.com/sales/lead/ACwAAAbcDEF123,NAME_SEARCH,x1y2", "ACwAAAbcDEF123"),
        ("https://www.linkedin.com/sales/people/ACoAAAbcDEF123,name", "ACoAAAbcDEF123"),
        ("https://www.linkedin.com/in/ACoAAAbcDEF123", "ACoAAAbcDEF123"),
        # bare slugs and paths, when unambiguous
        ("tim-zheng-677ba010", "tim-zheng-677ba010"),
        ("in/tim-zheng", "tim-zheng"),
        ("/in/tim-zheng/", "tim-zheng"),
    ],
)
def test_linkedin_slug(url: str, slug: str) -> None:
    assert linkedin_slug(url) == slug


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "   ",
        "https://www.linkedin.com/",
        "https://www.linkedin.com/in/",
        "https://www.linkedin.com/company/apollo-io",
        "https://www.linkedin.com/pub/dir/john/smith",
        "https://www.linkedin.com/profile/view?id=12345",
        "https://www.linkedin.com/feed/",
        "https://www.linkedin.com/in/foo%2Fbar",
        "https://www.linkedin.com/in/foo%20bar",
        "https://twitter.com/in/foo",
        "https://evillinkedin.com/in/foo",
        "https://linkedin.com.evil.com/in/foo",
        "https://lnkd.in/abc123",
        "12345",
        "ab",
        "tim zheng",
        "tim@apollo.io",
        "x" * 10_000,
        "https://www.linkedin.com/in/" + "x" * 10_000,
    ],
)
def test_linkedin_slug_rejects(url: str | None) -> None:
    assert linkedin_slug(url) is None


@pytest.mark.parametrize(
    ("url", "slug"),
    [
        ("https://www.linkedin.com/company/apollo-io/", "apollo-io"),
        ("http://linkedin.com/company/Apollo-IO?trk=x", "apollo-io"),
        ("https://uk.linkedin.com/company/apollo-io/about/", "apollo-io"),
        ("https://www.linkedin.com/company/1234567/", "1234567"),
        ("https://www.linkedin.com/school/stanford-university/", "stanford-university"),
        ("https://www.linkedin.com/showcase/apollo-labs", "apollo-labs"),
        ("https://www.linkedin.com/company-beta/1234567", "1234567"),
        ("https://www.linkedin.com/companies/apollo-io", "apollo-io"),
        ("https://www.linkedin.com/sales/company/1234567", "1234567"),
        ("https://m.linkedin.com/company/soci%C3%A9t%C3%A9-g%C3%A9n%C3%A9rale", "société-générale"),
        ("apollo-io", "apollo-io"),
        ("company/apollo-io", "apollo-io"),
    ],
)
def test_linkedin_company_slug(url: str, slug: str) -> None:
    assert linkedin_company_slug(url) == slug


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "https://www.linkedin.com/in/tim-zheng",
        "https://www.linkedin.com/company/",
        "1234567",
        "x" * 10_000,
    ],
)
def test_linkedin_company_slug_rejects(url: str | None) -> None:
    assert linkedin_company_slug(url) is None


@pytest.mark.parametrize("slug", ["tim-zheng-677ba010", "jörg-müller", "ACwAAAbcDEF123", "王小明"])
def test_urls_round_trip(slug: str) -> None:
    url = linkedin_url(slug)
    assert url.startswith("http://www.linkedin.com/in/")
    assert url.isascii()
    assert linkedin_slug(url) == slug
    company = linkedin_company_url(slug)
    assert company.startswith("http://www.linkedin.com/company/")
    assert linkedin_company_slug(company) == slug


def test_apollo_form() -> None:
    assert linkedin_url("tim-zheng-677ba010") == "http://www.linkedin.com/in/tim-zheng-677ba010"
    assert linkedin_company_url("apollo-io") == "http://www.linkedin.com/company/apollo-io"
