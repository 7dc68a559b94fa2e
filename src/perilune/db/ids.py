"""24-hex-digit ids shaped like Apollo's: 4 bytes of seconds since the epoch, then 8 random bytes,
so ids sort roughly by creation time and clients that validate Apollo ids accept ours."""

from __future__ import annotations

import re
import secrets
import time

# \Z, not $: $ also matches before a trailing newline.
ID_PATTERN = re.compile(r"^[0-9a-f]{24}\Z")


def new_id(now: float | None = None) -> str:
    seconds = int(time.time() if now is None else now) & 0xFFFFFFFF
    return f"{seconds:08x}{secrets.token_hex(8)}"


def is_valid_id(value: str) -> bool:
    return bool(ID_PATTERN.match(value))
