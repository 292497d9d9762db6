"""`local-search`: seeded first-improvement hill climbing over a space's parameters.

Start from random samples; from the best cell seen so far, propose one single-parameter
mutation at a time (the space's own `mutate`); move when a mutation improves the loss. Pending
suggestions (several asks before their tells) mutate the same incumbent.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from harness.spaces.base import Params, ParamSpace
from harness.strategies.base import Ledger, Suggestion


class LocalSearch:
    name = "local-search"

    def __init__(self, space: ParamSpace, seed: int, start: int) -> None:
        self.space = space
        self.settings: dict[str, Any] = {"start": start}
        self._rng = np.random.default_rng(seed)
        self._ledger: Ledger[Params] = Ledger()
        self._best: tuple[float, Params] | None = None

    def ask(self) -> Suggestion:
        if self._best is None or self._ledger.asked < self.settings["start"]:
            params = self.space.sample(self._rng)
        else:
            params = self.space.mutate(self._best[1], self._rng)
        return Suggestion(self._ledger.open(params), params)

    def tell(self, number: int, loss: float | None) -> None:
        params = self._ledger.close(number)
        if loss is not None and math.isfinite(loss):
            if self._best is None or loss < self._best[0]:
                self._best = (loss, params)


def local_search(space: ParamSpace, seed: int, start: int = 10, **settings: Any) -> LocalSearch:
    if settings:
        raise TypeError(f"local-search takes only `start`, got {sorted(settings)}")
    if not isinstance(start, int) or start < 1:
        raise ValueError(f"local-search start must be a positive integer, got {start!r}")
    return LocalSearch(space, seed, start)
