"""`harness bench`: harness overhead per lookup trial and lookup-grid throughput.

Figures printed (not asserted): a bare ask/tell + table-lookup loop against the same runs
through the full harness (store writes included) as a ratio in one process; the wall time of
the full lookup grid (4 methods x 3 benchmarks x seeds x trials) with worker processes; and
GP-BO's seconds per trial at 100 trials.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from harness.benchmarks import BENCHMARKS
from harness.methods import METHODS
from harness.proxies import make_proxy
from harness.runner import execute_plan, make_plan
from harness.spaces import SPACES
from harness.strategies import make_strategy

GRID_METHODS = ["random", "rea", "tpe", "tpe-optuna"]
GRID_BENCHMARKS = ["nb201-cifar10", "nb201-cifar100", "nb201-imagenet16"]


def bare_loop(plan: Any) -> float:
    """The same runs with no harness: strategy ask/tell and table lookups only."""
    t0 = time.perf_counter()
    for spec in plan.runs:
        benchmark = BENCHMARKS.get(spec.benchmark)
        space = SPACES.get(benchmark.space)
        strategy = make_strategy(spec.strategy, space.param_space, spec.seed)
        proxy = make_proxy(spec.proxy)
        for _ in range(spec.trials):
            s = strategy.ask()
            arch = space.decode(s.params)
            ev = proxy.evaluate(arch, benchmark, spec.proxy_seed)
            strategy.tell(s.number, ev.loss)
            benchmark.report(arch)
    return time.perf_counter() - t0


def run_bench(seeds: int = 10, trials: int = 100, workers: int = 2, gp_trials: int = 100) -> dict:
    lines: list[str] = []
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        # 1. overhead: one seed of each grid method on one benchmark, in-process
        small = make_plan(GRID_METHODS, ["nb201-cifar10"], seeds=2, trials=trials, master_seed=1)
        n_small = sum(r.trials or 0 for r in small.runs)
        make_plan(GRID_METHODS, ["nb201-cifar10"], seeds=1, trials=2)  # warm imports/caches
        bare_loop(make_plan(GRID_METHODS, ["nb201-cifar10"], seeds=1, trials=25, master_seed=9))
        bare = bare_loop(small)
        url = f"sqlite:///{Path(tmp) / 'overhead.db'}"
        t0 = time.perf_counter()
        execute_plan(small, url, workers=1, progress=False)
        full = time.perf_counter() - t0
        out["overhead"] = {
            "trials": n_small,
            "bare_s": bare,
            "harness_s": full,
            "ratio": full / bare,
            "overhead_ms_per_trial": 1e3 * (full - bare) / n_small,
        }
        lines.append(
            f"overhead: {n_small} lookup trials, bare loop {bare:.2f} s, harness {full:.2f} s "
            f"(ratio {full / bare:.2f}x, +{out['overhead']['overhead_ms_per_trial']:.2f} ms/trial)"
        )
        # 2. the full grid with worker processes, store writes included
        grid = make_plan(GRID_METHODS, GRID_BENCHMARKS, seeds=seeds, trials=trials)
        n_grid = sum(r.trials or 0 for r in grid.runs)
        url = f"sqlite:///{Path(tmp) / 'grid.db'}"
        t0 = time.perf_counter()
        execute_plan(grid, url, workers=workers, progress=False)
        grid_s = time.perf_counter() - t0
        out["grid"] = {"trials": n_grid, "runs": len(grid.runs), "workers": workers, "s": grid_s}
        lines.append(
            f"grid: {len(GRID_METHODS)} methods x {len(GRID_BENCHMARKS)} benchmarks x {seeds} "
            f"seeds x {trials} trials = {n_grid} trials in {grid_s:.1f} s with {workers} workers "
            f"({n_grid / grid_s:.0f} trials/s; goal < 60 s for 12,000)"
        )
        # 3. GP-BO cost per trial
        gp = make_plan(["bo-gp"], ["nb201-cifar10"], seeds=1, trials=gp_trials)
        t0 = time.perf_counter()
        bare_loop(gp)
        gp_s = time.perf_counter() - t0
        out["bo_gp"] = {"trials": gp_trials, "s": gp_s, "s_per_trial": gp_s / gp_trials}
        lines.append(f"bo-gp: {gp_trials} trials in {gp_s:.1f} s ({gp_s / gp_trials:.3f} s/trial)")
    for name in GRID_METHODS:
        METHODS.get(name)
    out["lines"] = lines
    return out
