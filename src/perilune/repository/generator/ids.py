"""Deterministic 24-hex-digit ids shaped like Apollo's (see perilune.db.ids): 8 hex digits of a
plausible creation time, then 16 from a bijection of the record's index keyed by the seed, so the
same seed always gives the same ids and two records of one kind never share one.

Per-record values use an affine map modulo 2**64 (or 2**32) with an odd multiplier, which is a
bijection and costs one multiplication; seeds for random streams use SplitMix64's finalizer
(xor-shifts and odd multiplications, also invertible), which mixes better and runs rarely."""

from __future__ import annotations

_MASK64 = (1 << 64) - 1
_MASK32 = (1 << 32) - 1
# Creation times between 2016-01 and 2024-12, as in ids of records Apollo has held for years.
_EPOCH_START = 0x56860000
_EPOCH_SPAN = 0x0DA00000

ORGANIZATION = 1
PERSON = 2


def mix64(value: int) -> int:
    x = value & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def stream_seed(seed: int, stream: int, index: int = 0) -> int:
    """An independent integer seed for one stream (organizations, one company's people, ...)."""
    return mix64(mix64(seed * 0x9E3779B97F4A7C15 + stream) + index)


_ODD64 = 0x9E3779B97F4A7C15
_ODD32 = 0x9E3779B1


class IdMaker:
    """Ids for one kind of record under one seed."""

    __slots__ = ("_key",)

    def __init__(self, seed: int, kind: int) -> None:
        self._key = mix64(seed * _ODD64 + kind)

    def __call__(self, index: int) -> str:
        low = (index * _ODD64 + self._key) & _MASK64
        seconds = _EPOCH_START + (low >> 36) % _EPOCH_SPAN
        return f"{seconds:08x}{low:016x}"


class SlugSuffix:
    """LinkedIn-style 8-hex-digit profile suffixes ("tim-zheng-677ba010"), unique per index
    below 2**32."""

    __slots__ = ("_key",)

    def __init__(self, seed: int) -> None:
        self._key = mix64(seed + 0x51) & _MASK32

    def __call__(self, index: int) -> str:
        return f"{(index * _ODD32 + self._key) & _MASK32:08x}"


class NumberTag:
    """A number unique per index below 10**7 (an affine map modulo 10**7 with a multiplier prime
    to 10 is a bijection), for personal email addresses."""

    _MODULUS = 10_000_000
    _MULTIPLIER = 3_716_741

    __slots__ = ("_offset",)

    def __init__(self, seed: int) -> None:
        self._offset = mix64(seed + 0x77) % self._MODULUS

    def __call__(self, index: int) -> int:
        return (index * self._MULTIPLIER + self._offset) % self._MODULUS
