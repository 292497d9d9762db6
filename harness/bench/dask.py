"""`harness bench dask`: a local Dask cluster's throughput against its number of workers.

Two workloads, each a fresh SQLite store per worker count: table lookups (random and REA on
the three NB201 benchmarks: milliseconds a trial, no proxy to compute) and a computed proxy
(naswot-tpe at its `quick` profile: about a second a trial). Throughput is trials per wall
second from the plan's start to its last trial, the cluster's start-up included (it is part
of a user's run). Printed, and written as JSON with `--out`; never asserted.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

WORKLOADS: dict[str, dict[str, Any]] = {
    "lookup": {
        "methods": ["random", "rea"],
        "benchmarks": ["nb201-cifar10", "nb201-cifar100", "nb201-imagenet16"],
        "seeds": 10,
        "trials": 100,
    },
    "naswot": {
        "methods": ["naswot-tpe"],
        "benchmarks": ["nb201-cifar10"],
        "seeds": 4,
        "trials": 20,
    },
}


def throughput(workload: str, workers: int, folder: Path) -> dict[str, Any]:
    """One workload on a local Dask cluster of `workers` single-threaded workers."""
    from harness.executors import execute_plan
    from harness.runner import make_plan

    w = WORKLOADS[workload]
    plan = make_plan(w["methods"], w["benchmarks"], seeds=w["seeds"], trials=w["trials"])
    trials = sum(r.trials or 0 for r in plan.runs)
    url = f"sqlite:///{folder / f'{workload}-{workers}.db'}"
    t0 = time.perf_counter()
    execute_plan(plan, url, executor="dask", workers=workers, progress=False)
    seconds = time.perf_counter() - t0
    return {
        "workload": workload,
        "workers": workers,
        "trials": trials,
        "seconds": seconds,
        "trials_per_s": trials / seconds,
    }


def run_bench(workers: tuple[int, ...], workloads: tuple[str, ...]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in workloads:
            for n in workers:
                row = throughput(name, n, Path(tmp))
                base = next((r for r in rows if r["workload"] == name), row)
                row["speedup"] = row["trials_per_s"] / base["trials_per_s"]
                rows.append(row)
                print(
                    f"{name:<7} workers {n:>2}: {row['trials']:>5} trials in "
                    f"{row['seconds']:6.1f} s = {row['trials_per_s']:7.1f} trials/s "
                    f"({row['speedup']:.2f}x the first)",
                    flush=True,
                )
    return rows
