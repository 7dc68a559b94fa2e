"""Phone numbers to E.164, and proof that the E.164 fast path agrees with a full parse."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from perilune.repository.normalize.phones import _E164, _fast_e164, _parsed_e164, to_e164


@pytest.mark.parametrize(
    ("raw", "hint", "expected"),
    [
        ("+14155552671", None, "+14155552671"),
        ("+1 415-555-2671", None, "+14155552671"),
        ("+1 (650) 253-0000", "DE", "+16502530000"),  # "+" numbers ignore the hint
        ("(415) 555-2671", "US", "+14155552671"),
        ("415.555.2671", "us", "+14155552671"),
        ("415-555-2671", "United States", "+14155552671"),
        ("415-555-2671", "USA", "+14155552671"),
        ("1-800-FLOWERS", "US", "+18003569377"),
        ("+44 (0)20 7946 0018", None, "+442079460018"),
        ("020 7946 0018", "GB", "+442079460018"),
        ("020 7946 0018", "United Kingdom", "+442079460018"),
        ("0044 20 7946 0018", "DE", "+442079460018"),
        ("011 44 20 7946 0958", "US", "+442079460958"),
        ("030 901820", "Deutschland", "+4930901820"),
        ("+49 30 901820", None, "+4930901820"),
        ("+4915112345678", None, "+4915112345678"),
        ("06 1234 5678", "IT", "+390612345678"),  # Italian leading zero kept
        ("+39 06 1234 5678", None, "+390612345678"),
        ("+33 1 42 68 53 00", None, "+33142685300"),
        ("+86 10 6552 9988", None, "+861065529988"),
        ("+8613800138000", None, "+8613800138000"),
        ("+1 415 555 2671 ext. 23", None, "+14155552671"),
        ("+14155552671;ext=3", None, "+14155552671"),
        ("tel:+1-415-555-2671", None, "+14155552671"),
        ("  +1 415 555 2671  ", None, "+14155552671"),
        ("+11 4155552671", None, "+14155552671"),  # national prefix after the country code
    ],
)
def test_to_e164(raw: str, hint: str | None, expected: str) -> None:
    assert to_e164(raw, hint) == expected


@pytest.mark.parametrize(
    ("raw", "hint"),
    [
        (None, "US"),
        ("", "US"),
        ("   ", "US"),
        ("415-555-2671", None),  # national form, no hint
        ("415-555-2671", "Narnia"),
        ("+1415555267", None),  # too short
        ("+1 555 555 5555 5555", None),
        ("+0 123 4567", None),
        ("+999 1234567", None),
        ("not a number", "US"),
        ("12", "US"),
        ("x" * 10_000, "US"),
        ("+" + "1" * 10_000, None),
        ("☎️ +1 415", None),
    ],
)
def test_to_e164_rejects(raw: str | None, hint: str | None) -> None:
    assert to_e164(raw, hint) is None


def _example_numbers() -> list[str]:
    numbers = set()
    for region in phonenumbers.SUPPORTED_REGIONS:
        for number_type in range(12):
            example = phonenumbers.example_number_for_type(region, number_type)
            if example is not None:
                numbers.add(phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164))
    for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
        example = phonenumbers.example_number_for_non_geo_entity(code)
        if example is not None:
            numbers.add(phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164))
    return sorted(numbers)


def _random_numbers(count_per_code: int) -> list[str]:
    rng = random.Random(7)
    numbers = []
    for code in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE):
        for _ in range(count_per_code):
            length = rng.randint(4, 15 - len(str(code)))
            numbers.append(f"+{code}" + "".join(rng.choice("0123456789") for _ in range(length)))
    return numbers


def test_fast_path_agrees_with_full_parse() -> None:
    examples = _example_numbers()
    assert len(examples) > 1_000
    used = 0
    for number in examples + _random_numbers(25):
        fast = _fast_e164(number) if _E164.fullmatch(number) else None
        if fast is not None:
            used += 1
            assert (fast or None) == _parsed_e164(number, None), number
        assert to_e164(number) == _parsed_e164(number, None), number
    assert used > 3_000  # the fast path really ran


def test_every_example_number_is_its_own_e164() -> None:
    for number in _example_numbers():
        assert to_e164(number) == number
