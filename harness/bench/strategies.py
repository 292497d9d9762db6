"""`harness bench strategies`: each strategy's own cost per trial (ask + tell), measured.

A strategy's ask and tell, nothing else: the loss is NB201 CIFAR-10's 12-epoch validation
accuracy read straight from the table (no proxy object, no store, no runner), so the figure is
what the strategy costs a search whatever its proxy. Construction is timed apart (SMAC and the
optuna samplers build a study or a model there). Printed and never asserted: run it on a quiet
machine.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any

#: the strategies the optimizer track compares (harness.reference.optimizers)
DEFAULT = [
    "random", "rea", "tpe-hyperopt", "tpe-optuna", "gp", "gp-optuna", "smac", "reinforce",
    "local-search", "optuna:CmaEsSampler", "optuna:QMCSampler", "optuna:NSGAIISampler",
    "nevergrad:NGOpt", "nevergrad:DiscreteOnePlusOne", "nevergrad:PortfolioDiscreteOnePlusOne",
]  # fmt: skip


@dataclass(frozen=True)
class Cost:
    """One strategy's figures: medians over seeds, in milliseconds."""

    strategy: str
    build_ms: float
    per_trial_ms: float  # ask + tell, mean over the run's trials
    last_ms: float  # ask + tell, mean over the last tenth of the trials (model-based growth)


def time_strategy(name: str, trials: int, seeds: int) -> Cost:
    from harness.benchmarks import BENCHMARKS
    from harness.spaces import SPACES
    from harness.strategies import make_strategy

    bench: Any = BENCHMARKS.get("nb201-cifar10")  # an NB201 table benchmark (search_value)
    space = SPACES.get(bench.space)
    builds, means, lasts = [], [], []
    tail = max(1, trials // 10)
    for seed in range(seeds):
        t0 = time.perf_counter()
        strategy = make_strategy(name, space.param_space, seed)
        builds.append(time.perf_counter() - t0)
        steps: list[float] = []
        for _ in range(trials):
            t0 = time.perf_counter()
            suggestion = strategy.ask()
            t1 = time.perf_counter()
            loss = -bench.search_value(space.decode(suggestion.params), 12)
            t2 = time.perf_counter()
            strategy.tell(suggestion.number, loss)
            steps.append((t1 - t0) + (time.perf_counter() - t2))
        close = getattr(strategy, "close", None)
        if callable(close):
            close()
        means.append(statistics.fmean(steps))
        lasts.append(statistics.fmean(steps[-tail:]))
    ms = 1000.0
    return Cost(
        name,
        statistics.median(builds) * ms,
        statistics.median(means) * ms,
        statistics.median(lasts) * ms,
    )


def run_bench(names: list[str], trials: int, seeds: int) -> list[dict[str, Any]]:
    """Time each strategy and print a table; returns the rows."""
    from dataclasses import asdict

    print(f"strategy cost: ask + tell on nb201-cifar10 lookups, {trials} trials, median of "
          f"{seeds} seeds")  # fmt: skip
    print(f"{'strategy':40s} {'build ms':>9s} {'ms/trial':>9s} {'last 10% ms':>12s}")
    rows = []
    for name in names:
        cost = time_strategy(name, trials, seeds)
        print(f"{name:40s} {cost.build_ms:9.1f} {cost.per_trial_ms:9.2f} {cost.last_ms:12.2f}",
              flush=True)  # fmt: skip
        rows.append(asdict(cost))
    return rows
