"""Seeded picks on the hot path: weighted choice by bisection over cumulative weights, and a
skewed pick that makes the first entries of a list the most common (name and title lists are
ordered, or shuffled once, so that a few entries dominate as they do in real data)."""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")


class Weighted(Generic[T]):
    """Items with weights; ``pick`` costs one ``random()`` and one bisection."""

    __slots__ = ("_cumulative", "_total", "_weights", "items")

    def __init__(self, pairs: Iterable[tuple[T, float]]) -> None:
        items: list[T] = []
        cumulative: list[float] = []
        total = 0.0
        for item, weight in pairs:
            if weight > 0:
                total += weight
                items.append(item)
                cumulative.append(total)
        if not items:
            raise ValueError("a weighted choice needs at least one item with a positive weight")
        self.items: tuple[T, ...] = tuple(items)
        self._weights = [b - a for a, b in zip([0.0, *cumulative], cumulative, strict=False)]
        # random() < 1, but random() * total may round up to total: the last bound is infinite
        cumulative[-1] = math.inf
        self._cumulative = cumulative
        self._total = total

    @classmethod
    def of(cls, weights: Mapping[T, float]) -> Weighted[T]:
        return cls(weights.items())

    def weights(self) -> list[float]:
        """The weights, in the order of ``items``."""
        return list(self._weights)

    def pick(self, rng: random.Random) -> T:
        return self.items[bisect_right(self._cumulative, rng.random() * self._total)]

    def picks(self, rng: random.Random, count: int) -> list[T]:
        """``count`` independent picks."""
        random_, cumulative, total, items = rng.random, self._cumulative, self._total, self.items
        return [items[bisect_right(cumulative, random_() * total)] for _ in range(count)]


def skewed(rng: random.Random, items: Sequence[T]) -> T:
    """An item with probability falling off from the first to the last (index ~ n·u²)."""
    u = rng.random()
    return items[int(len(items) * u * u)]


def sample(rng: random.Random, items: Sequence[T], count: int) -> list[T]:
    """Up to ``count`` distinct items in a seeded order (a partial Fisher-Yates shuffle; cheaper
    than ``random.sample``)."""
    pool = list(items)
    size = len(pool)
    random_ = rng.random
    for i in range(min(count, size)):
        j = i + int(random_() * (size - i))
        pool[i], pool[j] = pool[j], pool[i]
    return pool[:count]
