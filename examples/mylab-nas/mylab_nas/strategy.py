"""`mylab-hillclimb`: seeded first-improvement hill climbing over a space's parameters.

Start from `start` random samples; then, from the best cell seen so far, propose one
single-parameter mutation at a time (the `ParamSpace`'s own `mutate`); move when a mutation
improves the loss. Pending suggestions (several asks before their tells) mutate the same
incumbent. A failed trial (`tell(n, None)` or a NaN loss) teaches nothing.

What the harness relies on, and `harness.testing.StrategyConformance` checks
(`examples/mylab-nas/tests/`): every random draw comes from the one generator seeded in
`__init__`, so the same seed and the same tells give the same suggestions in any process,
and a fresh object told a stored run's trials (resume) continues exactly as the
uninterrupted run; `settings` is JSON and rebuilds the same strategy.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from harness.contracts import Ledger, Params, ParamSpace, Suggestion


class HillClimb:
    name = "mylab-hillclimb"

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


def hill_climb(space: ParamSpace, seed: int, start: int = 10, **settings: Any) -> HillClimb:
    if settings:
        raise TypeError(f"mylab-hillclimb takes only `start`, got {sorted(settings)}")
    if not isinstance(start, int) or isinstance(start, bool) or start < 1:
        raise ValueError(f"mylab-hillclimb start must be a positive integer, got {start!r}")
    return HillClimb(space, seed, start)
