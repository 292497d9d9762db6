"""Random search: the floor every model-based strategy must beat."""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.spaces.base import ParamSpace
from harness.strategies import STRATEGIES
from harness.strategies.base import Suggestion


class RandomSearch:
    """Uniform, independent per parameter, with replacement (repeats are possible, as in NATS)."""

    name = "random"

    def __init__(self, space: ParamSpace, seed: int) -> None:
        self.space = space
        self.settings: dict[str, Any] = {}
        self._rng = np.random.default_rng(seed)
        self._pending: set[int] = set()
        self._n_asked = 0

    def ask(self) -> Suggestion:
        number = self._n_asked
        self._n_asked += 1
        self._pending.add(number)
        return Suggestion(number, self.space.sample(self._rng))

    def tell(self, number: int, loss: float | None) -> None:
        if number not in self._pending:
            raise ValueError(f"trial {number} was not asked or was already told")
        self._pending.remove(number)  # losses teach random search nothing


def random_search(space: ParamSpace, seed: int, **settings: Any) -> RandomSearch:
    if settings:
        raise TypeError(f"random search has no settings, got {sorted(settings)}")
    return RandomSearch(space, seed)


STRATEGIES.register("random", random_search)
