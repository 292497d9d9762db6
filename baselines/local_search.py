"""Local search (White, Nolen and Savani 2020) as NASLib's `optimizers/discrete/ls` runs it.

Each NASLib search epoch is one ask and its tell:

1. The first `num_init` trials are uniformly random cells; the best (lowest loss; NASLib: the
   highest validation accuracy, a later one replacing it only when strictly better) is kept.
2. Then the best cell becomes the centre ("chosen") and its whole neighbourhood is proposed,
   one neighbour per trial, in a random order: NASLib's `get_nbhd` lists every cell that
   differs in exactly one parameter (parameter by parameter, choices in order, the current one
   skipped; NB201: 6 x 4 = 24), shuffles the list and pops from its end. A neighbour strictly
   better than the best so far becomes the best, but the walk does not move until the whole
   neighbourhood has been evaluated: it moves to the *best* improving neighbour, not the first.
3. When a neighbourhood is used up, the best cell is the new centre if it beats the old centre;
   otherwise the centre is a local optimum and the search restarts: one uniformly random cell
   is proposed, becomes both centre and best (whatever its loss), and its neighbourhood is
   next. The restart forgets the best cell so far (NASLib keeps it only in its history, for
   reporting, as the harness keeps every trial).

Cells are not deduplicated (NASLib re-queries a neighbour it has seen, e.g. the old centre).
The neighbourhood is computed from the `ParamSpace` alone, so it works for any space.

Differences from NASLib:

- NASLib queries a cell's validation accuracy inside the same epoch; here the loss arrives
  with the tell, and a trial is "better" when its loss is strictly lower.
- Randomness comes from one `numpy.random.Generator` seeded by the factory (NASLib uses
  numpy's global `np.random.randint` to sample and Python's global `random.shuffle` to order a
  neighbourhood; numpy's shuffle is another algorithm, so the orders differ for equal seeds).
- Failed trials (`tell(n, None)` or NaN; NASLib's lookups never fail): a failed initial or
  neighbour trial never becomes the best; a failed restart cell still becomes the centre (as
  NASLib assigns it before any comparison), with an infinite loss, so any finite neighbour
  improves on it. If every initial trial failed there is no best cell to centre on, so asks stay
  uniformly random until one succeeds.
- Pending asks: each ask acts on what has been told so far. A restart or initial cell asked but
  not yet told counts as an infinite loss; a neighbourhood is never left before it is used up,
  so several pending asks are simply the next neighbours. Told in ask order one at a time (the
  runner's loop), this is NASLib's algorithm exactly.
- NASLib's default `num_init` is 20 (its `create_configs.py` and NB201 benchmark script); its
  bundled `discrete_config.yaml` says 10.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.spaces.base import Params, ParamSpace
from harness.strategies import STRATEGIES
from harness.strategies.base import Ledger, Suggestion

DEFAULTS: dict[str, Any] = {"num_init": 20}


@dataclass
class Cell:
    """A proposed cell and its loss (infinite until told, or when it failed)."""

    params: Params
    loss: float = math.inf


def neighbourhood(space: ParamSpace, params: Params) -> list[Params]:
    """Every assignment that differs from `params` in exactly one parameter, in NASLib's
    `get_nbhd` order before its shuffle: parameter by parameter, choices in order."""
    out = []
    for p in space.params:
        for choice in p.choices:
            if choice != params[p.name]:
                out.append({**params, p.name: choice})
    return out


class LocalSearch:
    """NASLib's local search: random start, best-improvement moves, random restarts."""

    name = "local-search"

    def __init__(self, space: ParamSpace, seed: int, num_init: int) -> None:
        self.space = space
        self.settings: dict[str, Any] = {"num_init": num_init}
        self._rng = np.random.default_rng(seed)
        self.best: Cell | None = None
        self.chosen: Cell | None = None
        self.nbhd: list[Params] = []
        self._ledger: Ledger[tuple[Cell, str]] = Ledger()

    def _random(self) -> Params:
        return self.space.sample(self._rng)

    def _neighbours(self, centre: Params) -> list[Params]:
        nbrs = neighbourhood(self.space, centre)
        return [nbrs[int(i)] for i in self._rng.permutation(len(nbrs))]

    def ask(self) -> Suggestion:
        if self._ledger.asked < self.settings["num_init"] or self.best is None:
            cell, role = Cell(self._random()), "init"
        elif not self.nbhd and self.chosen is not None and self.best.loss >= self.chosen.loss:
            cell, role = Cell(self._random()), "restart"  # a local optimum: start afresh
            self.chosen = self.best = cell
            self.nbhd = self._neighbours(cell.params)
        else:
            if not self.nbhd:
                self.chosen = self.best  # move to the best neighbour (or start from init's best)
                self.nbhd = self._neighbours(self.best.params)
            cell, role = Cell(self.nbhd.pop()), "neighbour"
        return Suggestion(self._ledger.open((cell, role)), dict(cell.params))

    def tell(self, number: int, loss: float | None) -> None:
        cell, role = self._ledger.close(number)
        if loss is None or math.isnan(loss):
            return  # stays at an infinite loss: never better than anything
        cell.loss = float(loss)
        if role != "restart" and (self.best is None or cell.loss < self.best.loss):
            self.best = cell


def local_search(space: ParamSpace, seed: int, **overrides: Any) -> LocalSearch:
    """NASLib's local search; `num_init` random cells first (NASLib's default 20)."""
    unknown = set(overrides) - set(DEFAULTS)
    if unknown:
        raise TypeError(
            f"unknown local-search settings {sorted(unknown)} (known: {list(DEFAULTS)})"
        )
    num_init = int({**DEFAULTS, **overrides}["num_init"])
    if num_init < 1:
        raise ValueError(f"num_init must be at least 1, got {num_init}")
    if not any(len(p.choices) > 1 for p in space.params):
        raise ValueError("local search needs a parameter with at least two choices")
    return LocalSearch(space, seed, num_init)


STRATEGIES.register("local-search", local_search)
