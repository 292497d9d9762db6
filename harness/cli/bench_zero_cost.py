"""`harness bench-zero-cost`: seconds per cell of each zero-cost proxy at its settings.

Cells are distinct isomorphism classes drawn under --seed from the benchmark's space; each
proxy first scores one warm-up cell (imports, image loading) that is not timed. Timings are
wall-clock on this machine: on a shared machine they say as much about the neighbours.
"""

from __future__ import annotations

import statistics
import time

import click

from harness import HarnessError


def _names(values: tuple[str, ...]) -> list[str]:
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


@click.command("bench-zero-cost")
@click.option("--proxy", "proxies", multiple=True, help="Zero-cost proxies; comma lists ok [all].")
@click.option("--benchmark", default="nb201-cifar10", show_default=True)
@click.option("--cells", type=int, default=5, show_default=True, help="Timed cells per proxy.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--threads", type=int, default=1, show_default=True, help="torch CPU threads.")
@click.option("--set", "sets", multiple=True, help="Setting override key=value (every proxy).")
def bench_zero_cost(
    proxies: tuple[str, ...],
    benchmark: str,
    cells: int,
    seed: int,
    threads: int,
    sets: tuple[str, ...],
) -> None:
    """Seconds per cell of each zero-cost proxy (default: reference settings, one thread)."""
    import torch

    from harness.cli.run import parse_set

    if cells < 1 or threads < 1:
        raise HarnessError(f"--cells and --threads must be >= 1, got {cells} and {threads}")
    names = _names(proxies)
    torch.set_num_threads(threads)
    rows = time_proxies(names, benchmark, cells, seed, parse_set(sets))
    click.echo(f"{'proxy':<10} {'cells':>5} {'median s':>9} {'mean s':>8} {'failed':>6}")
    for r in rows:
        click.echo(
            f"{r['proxy']:<10} {r['cells']:>5} {r['median_s']:>9.3f} {r['mean_s']:>8.3f} "
            f"{r['failed']:>6}"
        )
    click.echo(f"({threads} thread(s), {benchmark}; wall-clock on this machine)")
