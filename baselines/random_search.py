"""Random search: the floor every model-based strategy must beat."""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.spaces.base import ParamSpace
from harness.strategies import STRATEGIES
from harness.strategies.base import Ledger, Suggestion


class RandomSearch:
    """Uniform, independent per parameter, with replacement (repeats are possible, as in NATS)."""

    name = "random"

    def __init__(self, space: ParamSpace, seed: int) -> None:
        self.space = space
        self.settings: dict[str, Any] = {}
        self._rng = np.random.default_rng(seed)
        self._ledger: Ledger[None] = Ledger()

    def ask(self) -> Suggestion:
        params = self.space.sample(self._rng)
        return Suggestion(self._ledger.open(None), params)

    def tell(self, number: int, loss: float | None) -> None:
        self._ledger.close(number)  # losses teach random search nothing


def random_search(space: ParamSpace, seed: int, **settings: Any) -> RandomSearch:
    if settings:
        raise TypeError(f"random search has no settings, got {sorted(settings)}")
    return RandomSearch(space, seed)


STRATEGIES.register("random", random_search)
