"""Seconds per cell of each zero-cost proxy at its settings (`harness bench zero-cost`).

Cells are distinct isomorphism classes drawn under the seed from the benchmark's space; each
proxy first scores one warm-up cell (imports, image loading) that is not timed. Timings are
wall-clock on this machine: on a shared machine they say as much about the neighbours.
"""

from __future__ import annotations

import statistics
import time
from functools import partial

from harness import HarnessError
from harness.bench.peak import count_flops


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
    names: list[str], benchmark: str, cells: int, seed: int, settings: dict, threads: int = 1
) -> list[dict]:
    """One row per proxy: cells timed, median and mean seconds per cell, failures, and the
    FLOPs of its convolutions and matrix products per cell (bench.peak.count_flops, counted
    on the first timed cell in one more, untimed evaluation). `threads` goes to each proxy's
    `threads` setting where it has one (and to torch for the others)."""
    import numpy as np

    from harness.benchmarks import BENCHMARKS
    from harness.proxies import make_proxy
    from harness.spaces import SPACES

    bench = BENCHMARKS.get(benchmark)
    space = SPACES.get(bench.space)
    archs = space.sample_unique(cells + 1, np.random.default_rng(seed))
    rows = []
    for name in names:
        pinned = "threads" in make_proxy(name).settings()
        proxy = make_proxy(name, **settings, **({"threads": threads} if pinned else {}))
        proxy.evaluate(archs[0], bench, seed)  # warm-up, not timed
        walls, failed = [], 0
        for arch in archs[1:]:
            t0 = time.perf_counter()
            failed += proxy.evaluate(arch, bench, seed).status != "ok"
            walls.append(time.perf_counter() - t0)
        flops = count_flops(partial(proxy.evaluate, archs[1], bench, seed))
        rows.append(
            dict(
                proxy=name,
                cells=len(walls),
                median_s=statistics.median(walls),
                mean_s=statistics.fmean(walls),
                failed=failed,
                flops=flops,
            )
        )
    return rows


def format_rows(rows: list[dict], peak: dict[str, dict[str, float]], threads: int) -> str:
    """The table `harness bench zero-cost` prints: the peak, then per proxy its seconds, its
    counted GFLOP per cell, the time those need at the peak (floor) and the share reached."""
    from harness.bench.peak import fraction_of_peak

    lines = [
        f"measured peak ({threads} thread(s), GFLOP/s): "
        + "; ".join(
            f"{d}: " + ", ".join(f"{k} {v:.1f}" for k, v in r.items()) for d, r in peak.items()
        ),
        f"{'proxy':<10} {'cells':>5} {'median s':>9} {'mean s':>8} {'failed':>6} "
        f"{'GFLOP':>8} {'dtype':>8} {'floor s':>8} {'of peak':>8}",
    ]
    for r in rows:
        gflop = sum(r["flops"].values()) / 1e9
        dtypes = "+".join(sorted(r["flops"])) or "-"
        floor = fraction_of_peak(r["flops"], 1.0, peak)
        frac = fraction_of_peak(r["flops"], r["median_s"], peak)
        lines.append(
            f"{r['proxy']:<10} {r['cells']:>5} {r['median_s']:>9.3f} {r['mean_s']:>8.3f} "
            f"{r['failed']:>6} {gflop:>8.2f} {dtypes:>8} {floor:>8.3f} {100 * frac:>7.1f}%"
        )
    return "\n".join(lines)
