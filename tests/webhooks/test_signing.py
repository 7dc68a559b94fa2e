"""Per-team signing secrets derived from the server key, and the signature receivers check."""

from __future__ import annotations

import hashlib
import hmac
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from perilune.config import Settings
from perilune.webhooks import team_signing_secret, verify_signature
from perilune.webhooks.signing import KEY_FILE_NAME, signature_header, signing_key

BODY = b'{"status":"success","people":[]}'
NOW = 1_768_478_400


def test_each_team_has_its_own_stable_secret() -> None:
    settings = Settings(webhook_signing_key=SecretStr("k" * 32))
    first = team_signing_secret(settings, "64a7ff0cc4dfae00013df1a5")
    assert first.startswith("whsec_")
    assert len(first) == len("whsec_") + 64
    assert team_signing_secret(settings, "64a7ff0cc4dfae00013df1a5") == first
    assert team_signing_secret(settings, "64a7ff0cc4dfae00013df1a6") != first
    rotated = Settings(webhook_signing_key=SecretStr("r" * 32))
    assert team_signing_secret(rotated, "64a7ff0cc4dfae00013df1a5") != first


def test_a_short_configured_key_is_rejected() -> None:
    with pytest.raises(ValidationError):
        Settings(webhook_signing_key=SecretStr("short"))


def test_the_key_is_never_shown_in_settings() -> None:
    settings = Settings(webhook_signing_key=SecretStr("do-not-print-this-key-0123"))
    assert "do-not-print-this-key" not in repr(settings)
    assert "do-not-print-this-key" not in str(settings.model_dump())


def test_without_a_configured_key_one_is_made_once_and_kept_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    key = signing_key(settings)
    path = tmp_path / "data" / KEY_FILE_NAME
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(key) == 64
    assert signing_key(settings) == key
    assert team_signing_secret(settings, "t1") == team_signing_secret(
        Settings(data_dir=tmp_path / "data"), "t1"
    )
    assert list((tmp_path / "data").iterdir()) == [path]


def test_another_data_dir_gets_another_key(tmp_path: Path) -> None:
    one = signing_key(Settings(data_dir=tmp_path / "one"))
    two = signing_key(Settings(data_dir=tmp_path / "two"))
    assert one != two


def test_the_header_is_hmac_sha256_over_timestamp_dot_body() -> None:
    secret = "whsec_" + "ab" * 32
    header = signature_header(secret, NOW, BODY)
    expected = hmac.new(secret.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert header == f"t={NOW},v1={expected}"


def test_verify_accepts_a_fresh_genuine_signature() -> None:
    secret = "whsec_" + "cd" * 32
    header = signature_header(secret, NOW, BODY)
    assert verify_signature(secret, header, BODY, now=NOW + 30)
    # Rotation: a receiver may be sent several v1 values and needs one to match.
    assert verify_signature(secret, f"t={NOW},v1={'0' * 64},{header.split(',')[1]}", BODY, now=NOW)


@pytest.mark.parametrize(
    ("header", "body", "now"),
    [
        ("tampered body", b'{"status":"success","people":[1]}', NOW),
        ("stale", BODY, NOW + 301),
        ("from the future", BODY, NOW - 301),
        ("t=abc,v1=00", BODY, NOW),
        ("v1=00", BODY, NOW),
        ("", BODY, NOW),
    ],
)
def test_verify_refuses(header: str, body: bytes, now: int) -> None:
    secret = "whsec_" + "ef" * 32
    genuine = signature_header(secret, NOW, BODY)
    given = genuine if header in ("tampered body", "stale", "from the future") else header
    assert not verify_signature(secret, given, body, now=now)


def test_verify_refuses_another_teams_secret() -> None:
    header = signature_header("whsec_" + "01" * 32, NOW, BODY)
    assert not verify_signature("whsec_" + "02" * 32, header, BODY, now=NOW)
