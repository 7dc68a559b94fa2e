"""Signed deliveries (an extension Apollo lacks; docs/webhooks.md). Each team has its own signing
secret, derived from the server's signing key and the team id, so nothing secret is stored in the
database: a stolen database yields no secret, and rotating the server key rotates every team's.

A delivery carries ``X-Perilune-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>``, the HMAC
keyed with the team's secret over ``"<t>." + body``."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from perilune.config import Settings

SIGNATURE_HEADER = "X-Perilune-Signature"
SECRET_PREFIX = "whsec_"  # noqa: S105 (a label, not a secret)
KEY_FILE_NAME = "webhook-signing-key"
# Receivers should refuse signatures older (or newer) than this: a replayed delivery is stale.
DEFAULT_TOLERANCE_SECONDS = 300
_DERIVATION_LABEL = b"perilune webhook signing secret v1\x00"


def signing_key(settings: Settings) -> bytes:
    """PERILUNE_WEBHOOK_SIGNING_KEY, or else a random key kept in $PERILUNE_DATA_DIR (created on
    first use, mode 0600). Servers and workers that share a database must share the key."""
    if settings.webhook_signing_key is not None:
        return settings.webhook_signing_key.get_secret_value().encode()
    return _key_file(settings.data_dir / KEY_FILE_NAME)


def _key_file(path: Path) -> bytes:
    if not path.exists():
        _create_key_file(path)
    return path.read_bytes().strip()


def _create_key_file(path: Path) -> None:
    """Write a new key under a temporary name and link it into place: two processes starting at
    once both end up reading the one key that won, never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
    finally:
        draft.unlink(missing_ok=True)


def team_secret(key: bytes, team_id: str) -> str:
    """The team's signing secret: HMAC-SHA256(server key, label + team id)."""
    digest = hmac.new(key, _DERIVATION_LABEL + team_id.encode(), hashlib.sha256).hexdigest()
    return SECRET_PREFIX + digest


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={_mac(secret, timestamp, body)}"


def verify_signature(
    secret: str, header: str, body: bytes, *, now: float, tolerance: float = DEFAULT_TOLERANCE_SECONDS
) -> bool:
    """What a receiver does: the header parses, its time is within ``tolerance`` of ``now`` and
    one of its ``v1`` values is the HMAC of this body (compared in constant time)."""
    parts = [item.partition("=") for item in header.split(",")]
    stamps = [value for name, _, value in parts if name.strip() == "t"]
    macs = [value.strip() for name, _, value in parts if name.strip() == "v1"]
    if len(stamps) != 1 or not stamps[0].strip().isdigit() or not macs:
        return False
    timestamp = int(stamps[0])
    if abs(now - timestamp) > tolerance:
        return False
    expected = _mac(secret, timestamp, body)
    return any(hmac.compare_digest(expected, mac) for mac in macs)


def team_signing_secret(settings: Settings, team_id: str) -> str:
    """The secret a team's receivers verify deliveries with."""
    return team_secret(signing_key(settings), team_id)
