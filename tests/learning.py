"""Test helper: does a strategy learn on the NB201 table (cifar10-valid accuracy at 12 epochs)?"""

from __future__ import annotations

import numpy as np

from harness.benchmarks import BENCHMARKS
from harness.spaces import NB201Space
from harness.strategies import make_strategy

SPACE = NB201Space()
BENCH = BENCHMARKS.get("nb201-cifar10")


def top_quartile_fraction(name: str, seed: int, n: int = 60, skip: int = 20) -> float:
    """Share of suggestions after the first `skip` of `n` that land in the best quarter of all
    15,625 cells."""
    losses = -np.asarray(BENCH.table["c10valid_valid_acc_12"], dtype=float)
    threshold = np.quantile(losses, 0.25)
    strategy = make_strategy(name, SPACE.param_space, seed)
    hits = []
    for i in range(n):
        s = strategy.ask()
        loss = -BENCH.search_value(SPACE.decode(s.params), 12)
        strategy.tell(s.number, loss)
        if i >= skip:
            hits.append(loss <= threshold)
    return float(np.mean(hits))
