"""Fast draws from a random.Random for the seeder's hot loops (millions of calls per city)."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from itertools import accumulate
from typing import TypeVar

T = TypeVar("T")


def cumulative(weights: Iterable[float]) -> tuple[float, ...]:
    """Normalized cumulative weights, for bisect(cum, r.random())."""
    cum = tuple(accumulate(weights))
    return tuple(c / cum[-1] for c in cum)


def pick(r: random.Random, seq: Sequence[T]) -> T:
    """r.choice without its rejection sampling (uniform up to float resolution)."""
    return seq[int(r.random() * len(seq))]


def below(r: random.Random, k: int) -> int:
    """An int in [0, k), like r.randrange(k)."""
    return int(r.random() * k)
