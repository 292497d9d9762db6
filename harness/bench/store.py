"""`harness bench store`: how run, report and page cost grow with the trials in a store.

Each size is a real lookup study, `harness run --method random,rea` on the three NB201
benchmarks, 100 trials a run, with as many seeds as the size needs (10,000 trials: 17 seeds,
10,200 trials). Every step runs as its own `harness` process, timed from outside with its
peak resident memory (`os.wait4`), exactly as a user runs it: `run` (searches, then the
closing summary), `report` (every table, terminal format), `page` (`report --format html`,
with its size) and `export` (every trial row as CSV). A store already holding the size's runs
is reused and its `run` row left out: the run's time is only measured when it fills the store.
Printed, and written as JSON with `--out`; never asserted.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

METHODS = "random,rea"
BENCHMARKS = "nb201-cifar10,nb201-cifar100,nb201-imagenet16"
TRIALS_PER_RUN = 100
RUNS_PER_SEED = 2 * 3  # methods x benchmarks
STEPS = ("run", "report", "page", "export")


@dataclass(frozen=True)
class Step:
    backend: str
    trials: int
    step: str
    seconds: float
    peak_mb: float
    output_mb: float | None = None


def seeds_for(trials: int) -> int:
    """Seeds whose runs hold at least `trials` trials (10,000 -> 17: 10,200)."""
    per_seed = RUNS_PER_SEED * TRIALS_PER_RUN
    return -(-trials // per_seed)


def timed(args: list[str], stdout: Any = subprocess.DEVNULL) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of `python -m harness.cli ARGS` as its own process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", *args], stdout=stdout)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"harness {' '.join(args[:3])} ... exited {proc.returncode}")
    return seconds, usage.ru_maxrss / 1024  # Linux: KB


def _stored(url: str) -> int:
    from harness.store import open_store

    store = open_store(url)
    try:
        return int(store.counts()["trials"])
    finally:
        store.close()


def measure_size(
    url: str, backend: str, trials: int, folder: Path, steps: tuple[str, ...] = STEPS
) -> list[Step]:
    """Fill `url` with the size's study (unless it holds it already) and time each of
    `steps` (`run` only where it fills the store)."""
    seeds = seeds_for(trials)
    n = seeds * RUNS_PER_SEED * TRIALS_PER_RUN
    out: list[Step] = []
    have = _stored(url)
    if have not in (0, n):
        raise RuntimeError(f"{url} holds {have:,} trials, neither none nor this size's {n:,}")
    if have == 0 and "run" not in steps:
        raise RuntimeError(f"{url} holds no trials and the steps leave out run: nothing to time")
    if have == 0:
        args = ["run", "--method", METHODS, "--benchmark", BENCHMARKS, "--seeds", str(seeds),
                "--trials", str(TRIALS_PER_RUN), "--storage", url, "--quiet"]  # fmt: skip
        out.append(Step(backend, n, "run", *timed(args)))
    if "report" in steps:
        out.append(Step(backend, n, "report", *timed(["report", "--storage", url])))
    if "page" in steps:
        page = folder / f"page-{backend}-{n}.html"
        s, mb = timed(["report", "--storage", url, "--format", "html", "--out", str(page)])
        out.append(Step(backend, n, "page", s, mb, page.stat().st_size / 1e6))
    if "export" in steps:
        export = folder / f"export-{backend}-{n}.csv"
        s, mb = timed(["export", "--storage", url, "--out", str(export)])
        out.append(Step(backend, n, "export", s, mb, export.stat().st_size / 1e6))
        export.unlink()
    return out


def table(steps: list[Step]) -> list[str]:
    lines = [
        f"{'backend':<10} {'trials':>10} {'step':<7} {'seconds':>8} {'peak MB':>8} {'file MB':>8}"
    ]
    for s in steps:
        size = f"{s.output_mb:8.2f}" if s.output_mb is not None else f"{'':>8}"
        lines.append(
            f"{s.backend:<10} {s.trials:>10,} {s.step:<7} {s.seconds:8.1f} {s.peak_mb:8.0f} {size}"
        )
    return lines


@contextmanager
def _databases(postgres: str | None) -> Iterator[Any]:
    """name -> URL of a database on `postgres`: kept and reused on a given server (a size's
    study is filled once), fresh on a throwaway one ('auto')."""
    if postgres is None or postgres == "auto":
        from harness.bench.grid import postgres_server

        with postgres_server(postgres) as fresh:
            yield fresh
        return
    import sqlalchemy as sa

    admin = sa.create_engine(postgres, isolation_level="AUTOCOMMIT")

    def kept(name: str) -> str:
        with admin.connect() as conn:
            found = conn.exec_driver_sql(
                "SELECT 1 FROM pg_database WHERE datname = %(n)s", {"n": name}
            ).first()
            if found is None:
                conn.exec_driver_sql(f"CREATE DATABASE {name}")
        return str(sa.engine.make_url(postgres).set(database=name))

    try:
        yield kept
    finally:
        admin.dispose()


def run_bench(
    sizes: tuple[int, ...],
    postgres: str | None,
    pg_sizes: tuple[int, ...],
    folder: str | None,
    steps: tuple[str, ...] = STEPS,
    pg_steps: tuple[str, ...] = STEPS,
) -> list[dict[str, Any]]:
    """Every size on SQLite, and `pg_sizes` on PostgreSQL (`postgres`: a server URL whose
    databases bench_store_<n> are created if missing, 'auto' for a throwaway server)."""
    rows: list[Step] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(folder) if folder else Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        for n in sizes:
            url = f"sqlite:///{root / f'store-{n}.db'}"
            new = measure_size(url, "sqlite", n, root, steps)
            rows += new
            print("\n".join(table(new)), flush=True)
        with _databases(postgres if pg_sizes else None) as database:
            for n in pg_sizes:
                url = database(f"bench_store_{n}")
                new = measure_size(url, "postgres", n, root, pg_steps)
                rows += new
                print("\n".join(table(new)), flush=True)
    print("\n".join(table(rows)))
    return [asdict(s) for s in rows]
