"""Seconds per cell of each zero-cost proxy at its settings (`harness bench zero-cost`).

Cells are distinct isomorphism classes drawn under the seed from the benchmark's space; each
proxy first scores one warm-up cell (imports, image loading) that is not timed. Timings are
wall-clock on this machine: on a shared machine they say as much about the neighbours.
"""

from __future__ import annotations

import statistics
import time

from harness import HarnessError


def zero_cost_names(values: tuple[str, ...]) -> list[str]:
    from harness.proxies.zero_cost import ZERO_COST

    names = [n.strip() for v in values for n in v.split(",") if n.strip()] or list(ZERO_COST)
    unknown = [n for n in names if n not in ZERO_COST]
    if unknown:
        raise HarnessError(
            f"unknown zero-cost proxy {unknown[0]!r} (known: {', '.join(ZERO_COST)})"
        )
    return names


def time_proxies(
    names: list[str], benchmark: str, cells: int, seed: int, settings: dict
) -> list[dict]:
    """One row per proxy: cells timed, median and mean seconds per cell, failures."""
    import numpy as np

    from harness.benchmarks import BENCHMARKS
    from harness.proxies import make_proxy
    from harness.spaces import SPACES

    bench = BENCHMARKS.get(benchmark)
    space = SPACES.get(bench.space)
    archs = space.sample_unique(cells + 1, np.random.default_rng(seed))
    rows = []
    for name in names:
        proxy = make_proxy(name, **settings)
        proxy.evaluate(archs[0], bench, seed)  # warm-up, not timed
        walls, failed = [], 0
        for arch in archs[1:]:
            t0 = time.perf_counter()
            failed += proxy.evaluate(arch, bench, seed).status != "ok"
            walls.append(time.perf_counter() - t0)
        rows.append(
            dict(
                proxy=name,
                cells=len(walls),
                median_s=statistics.median(walls),
                mean_s=statistics.fmean(walls),
                failed=failed,
            )
        )
    return rows
