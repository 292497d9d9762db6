"""Regularised evolution (Real et al. 2019) as NATS-Bench's `regularized_ea.py` runs it.

The population is filled with uniformly random cells, then each new cell is a mutant of the
best of `sample_size` members drawn uniformly *with replacement* (NATS-Bench draws with
`random.choice` in a loop), changed in one parameter to a different choice. Each told child
joins the population and the oldest member leaves once it exceeds `population_size` (ageing,
not fitness, removes members). A failed trial never joins, so filling the initial population
keeps asking random cells until `population_size` of them have succeeded, as NATS-Bench does.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np

from harness.spaces.base import Params, ParamSpace
from harness.strategies import STRATEGIES
from harness.strategies.base import Ledger, Suggestion


class RegularizedEvolution:
    """Age-based population; tournament selection of the lowest loss."""

    name = "rea"

    def __init__(self, space: ParamSpace, seed: int, population_size: int, sample_size: int):
        self.space = space
        self.settings: dict[str, Any] = {
            "population_size": population_size,
            "sample_size": sample_size,
        }
        self._rng = np.random.default_rng(seed)
        self._population: deque[tuple[Params, float]] = deque()  # oldest first
        self._ledger: Ledger[Params] = Ledger()

    def ask(self) -> Suggestion:
        pop = self._population
        if len(pop) < self.settings["population_size"]:
            params = self.space.sample(self._rng)
        else:
            picks = self._rng.integers(len(pop), size=self.settings["sample_size"])
            parent = min((pop[int(i)] for i in picks), key=lambda member: member[1])
            params = self.space.mutate(parent[0], self._rng)
        return Suggestion(self._ledger.open(params), params)

    def tell(self, number: int, loss: float | None) -> None:
        params = self._ledger.close(number)
        if loss is None or math.isnan(loss):
            return
        self._population.append((params, float(loss)))
        if len(self._population) > self.settings["population_size"]:
            self._population.popleft()


def regularized_evolution(space: ParamSpace, seed: int, **settings: Any) -> RegularizedEvolution:
    """NATS-Bench's REA settings for NB201: population_size 10, sample_size 3."""
    unknown = set(settings) - {"population_size", "sample_size"}
    if unknown:
        raise TypeError(f"unknown rea settings {sorted(unknown)}")
    population_size = int(settings.get("population_size", 10))
    sample_size = int(settings.get("sample_size", 3))
    if not 1 <= sample_size <= population_size:
        raise ValueError(f"need 1 <= sample_size ({sample_size}) <= population ({population_size})")
    return RegularizedEvolution(space, seed, population_size, sample_size)


STRATEGIES.register("rea", regularized_evolution)
