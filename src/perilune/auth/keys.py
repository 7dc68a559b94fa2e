"""API key material. A key is 22 URL-safe random characters (Apollo's length); only its SHA-256
is stored. Keys carry 128 bits of entropy, so a fast unsalted hash is safe to look them up by."""

from __future__ import annotations

import hashlib
import secrets

KEY_BYTES = 16


def generate_key() -> str:
    return secrets.token_urlsafe(KEY_BYTES)


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()
